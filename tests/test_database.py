"""Loading consolidated records into a database: SQLite (a file) and a real PostgreSQL server.

PostgreSQL runs when TAIZHANG_POSTGRES_URL names a server (.ci/run starts one); CI sets
TAIZHANG_REQUIRE_POSTGRES=1 so that its absence fails instead of skipping.
"""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import COMPLAINT_HEADER, complaint, write_workbook
from toolkit.config import Config
from toolkit.consolidate import consolidate
from toolkit.database import load_records, load_register


def postgres_url() -> str | None:
    url = os.environ.get("TAIZHANG_POSTGRES_URL")
    if not url and os.environ.get("TAIZHANG_REQUIRE_POSTGRES") == "1":
        pytest.fail("PostgreSQL is required here (TAIZHANG_REQUIRE_POSTGRES=1) but TAIZHANG_POSTGRES_URL is not set")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path, registers) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'taizhang.db'}"
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server (set TAIZHANG_POSTGRES_URL)")
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # each test starts from an empty database
        for reg_id in registers:
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{reg_id}"'))
    engine.dispose()
    return url


def october(tmp_path, registers, subject="安装延误", rows=2):
    folder = tmp_path / "in" / "001_朝阳店"
    folder.mkdir(parents=True, exist_ok=True)
    write_workbook(folder / "投诉.xlsx", {"客户投诉登记表": [COMPLAINT_HEADER] + [
        complaint(no=f"26110{i:02d}", subject=subject, compensation=12.5 * i, approver="部门经理")
        for i in range(1, rows + 1)]})
    result = consolidate(tmp_path / "in", registers, Config(), 2026, 1)
    assert len(result.records["complaints"]) == rows, result.rejected
    return result


def table(url: str, name: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text(f'SELECT * FROM "{name}" ORDER BY complaint_no'), conn)
    engine.dispose()
    return frame


def test_october_is_loaded_with_real_types_and_a_rerun_does_not_duplicate(database, tmp_path, registers):
    result = october(tmp_path, registers)
    for _ in range(2):
        loaded = {r.register: r for r in load_records(database, result.records, registers)}
        assert loaded["complaints"].loaded == 2 and not loaded["complaints"].error
    rows = table(database, "complaints")
    assert rows["complaint_no"].tolist() == ["2611001", "2611002"]
    assert rows["compensation"].tolist() == [12.5, 25.0]
    assert pd.Timestamp(rows["received_date"][0]).date() == dt.date(2026, 11, 3)
    assert rows["store_code"].tolist() == ["001", "001"]


def test_a_stores_corrected_workbook_updates_the_rows_instead_of_adding_them(database, tmp_path, registers):
    load_records(database, october(tmp_path, registers).records, registers, ["complaints"])
    corrected = october(tmp_path, registers, subject="安装延误（已更正）")
    load_records(database, corrected.records, registers, ["complaints"])
    rows = table(database, "complaints")
    assert rows["subject"].tolist() == ["安装延误（已更正）"] * 2 and len(rows) == 2


def test_a_record_without_its_key_is_listed_as_not_loaded_with_the_reason(database, tmp_path, registers):
    records = october(tmp_path, registers).records["complaints"].copy()
    records["complaint_no"] = records["complaint_no"].where(records.index != 1, None)
    engine = sa.create_engine(database)
    result = load_register(engine, records, registers["complaints"])
    engine.dispose()
    assert result.loaded == 1
    assert result.not_loaded["source_row"].tolist() == [3]
    assert "不完整" in result.not_loaded["reason_zh"].iloc[0]


def test_a_table_of_the_same_name_with_other_columns_is_left_alone_with_a_clear_error(database, tmp_path, registers):
    engine = sa.create_engine(database)
    with engine.begin() as conn:
        conn.execute(sa.text('CREATE TABLE complaints (id INTEGER PRIMARY KEY, note TEXT)'))
        conn.execute(sa.text("INSERT INTO complaints VALUES (1, 'their data')"))
    engine.dispose()
    results = {r.register: r for r in load_records(database, october(tmp_path, registers).records, registers)}
    assert "缺少列" in results["complaints"].error and "store_code" in results["complaints"].error
    assert results["duty"].error == ""  # the other registers are loaded regardless
    engine = sa.create_engine(database)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT note FROM complaints")).fetchall() == [("their data",)]
    engine.dispose()


def test_a_failure_half_way_through_leaves_the_table_as_it_was(tmp_path, registers):
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server (set TAIZHANG_POSTGRES_URL)")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text('DROP TABLE IF EXISTS "complaints"'))
    first = october(tmp_path, registers).records["complaints"]
    load_register(engine, first, registers["complaints"])
    many = pd.concat([first.iloc[[0]]] * 1500, ignore_index=True)
    many["complaint_no"] = [f"K{i:05d}" for i in range(1500)]
    many.loc[1200, "complaint_no"] = "X" * 300  # longer than the key column: the second chunk fails
    with pytest.raises(sa.exc.DataError):
        load_register(engine, many, registers["complaints"])
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM complaints")).scalar() == 2
    engine.dispose()


def test_export_with_a_database_file_loads_every_register_and_reruns_cleanly(tmp_path, registers):
    from click.testing import CliRunner

    from toolkit.cli import main

    october(tmp_path, registers)
    db = tmp_path / "台账.db"
    for _ in range(2):
        done = CliRunner().invoke(main, ["export", str(tmp_path / "in"), "-o", str(tmp_path / "out"),
                                         "--database", str(db)])
        assert done.exit_code == 0, done.output
        assert "complaints: 2 行写入或更新" in done.output
    assert len(table(f"sqlite:///{db}", "complaints")) == 2
