"""Loading consolidated records into a database through SQLAlchemy: SQLite by default (a file, no server),
PostgreSQL or MySQL by URL.

One table per register, created from its definition (real column types; primary key store_code + the
record key). Each register is loaded as upserts in one transaction: a rerun, or a store's corrected
workbook, updates rows instead of adding them again, and a failure leaves that register's table as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from .definitions import Field, Register
from .export import clock, export_frame
from .records import SOURCE_COLUMNS, key_complete

CHUNK = 1000
KEY_TEXT_LENGTH = 191  # an indexed VARCHAR fits MySQL's utf8mb4 key limit


class DatabaseError(RuntimeError):
    """The database cannot take the records as they are (another table of the same name, a failed load)."""


@dataclass
class LoadResult:
    register: str
    table: str
    loaded: int = 0  # rows inserted or updated
    not_loaded: pd.DataFrame = field(default_factory=pd.DataFrame)  # source rows with their reason
    error: str = ""


def _column_type(f: Field, in_key: bool) -> sa.types.TypeEngine:
    return {"date": sa.Date(), "datetime": sa.DateTime(), "time": sa.Time(), "integer": sa.BigInteger(),
            "decimal": sa.Double()}.get(f.type, sa.String(KEY_TEXT_LENGTH) if in_key else sa.Text())


def register_table(register: Register, metadata: sa.MetaData) -> sa.Table:
    """The register's table: source columns, then every field with its type; key store_code + record key."""
    columns = [sa.Column("store_code", sa.String(64), primary_key=True, comment="门店编号")]
    columns += [sa.Column(f.key, _column_type(f, True), primary_key=True, comment=f.label_zh)
                for f in register.fields if f.key in register.key]
    columns += [sa.Column("store_name", sa.Text(), comment="门店名称"), sa.Column("source_file", sa.Text()),
                sa.Column("source_sheet", sa.Text()), sa.Column("source_row", sa.Integer())]
    columns += [sa.Column(f.key, _column_type(f, False), comment=f.label_zh)
                for f in register.fields if f.key not in register.key]
    return sa.Table(register.id, metadata, *columns, comment=register.name_zh)


def _python_rows(frame: pd.DataFrame, register: Register) -> list[dict]:
    """Rows as the database driver wants them: date, datetime, time, int, float, str or None."""
    out = pd.DataFrame(index=frame.index)
    types = {f.key: f.type for f in register.fields}
    for column in frame.columns:
        values, kind = frame[column], types.get(column)
        if kind == "date":
            converted = values.dt.date
        elif kind == "datetime":
            converted = values.astype(object)  # pandas Timestamps are datetimes
        elif kind == "time":
            converted = clock(values).dt.time
        elif column == "source_row" or kind == "integer":
            converted = values.astype("Int64").astype(object)
        elif kind == "decimal":
            converted = values.astype("Float64").astype(object)
        else:
            converted = values.astype("string").astype(object)
        out[column] = pd.Series(converted, index=values.index, dtype=object).where(values.notna(), None)
    return out.to_dict(orient="records")


def _upsert(engine: sa.Engine, table: sa.Table) -> sa.sql.dml.Insert:
    keys = [c.name for c in table.primary_key.columns]
    name = engine.dialect.name
    if name in ("sqlite", "postgresql"):
        module = sa.dialects.sqlite if name == "sqlite" else sa.dialects.postgresql
        stmt = module.insert(table)
        return stmt.on_conflict_do_update(index_elements=keys,
                                          set_={c.name: stmt.excluded[c.name] for c in table.columns
                                                if c.name not in keys})
    if name in ("mysql", "mariadb"):
        stmt = sa.dialects.mysql.insert(table)
        return stmt.on_duplicate_key_update({c.name: stmt.inserted[c.name] for c in table.columns
                                             if c.name not in keys})
    raise DatabaseError(f"不支持的数据库 {name}（支持 SQLite、PostgreSQL、MySQL）/ unsupported database {name}")


def _check_existing(engine: sa.Engine, table: sa.Table) -> None:
    inspector = sa.inspect(engine)
    if not inspector.has_table(table.name):
        return
    present = {c["name"] for c in inspector.get_columns(table.name)}
    missing = [c.name for c in table.columns if c.name not in present]
    if missing:
        raise DatabaseError(f"表 {table.name} 已存在但缺少列 {', '.join(missing)}（登记表定义已改变？）/ table "
                            f"{table.name} exists without columns {', '.join(missing)} (the definition changed?)")


def load_register(engine: sa.Engine, records: pd.DataFrame, register: Register) -> LoadResult:
    """Upsert one register's records in one transaction. Records without a complete key cannot be matched
    on a rerun: they are returned as not loaded, each with its reason, never dropped silently."""
    table = register_table(register, sa.MetaData())
    result = LoadResult(register.id, table.name)
    complete = key_complete(records, register) & records["store_code"].notna()
    result.not_loaded = records.loc[~complete, SOURCE_COLUMNS].assign(
        reason_zh="编号（" + "、".join(f.label_zh for f in register.fields if f.key in register.key) + "）不完整，无法写入数据库",
        reason_en="the record key is incomplete, so the row cannot be loaded")
    frame = export_frame(records[complete], register)
    keys = ["store_code", *register.key]
    repeated = frame.duplicated(keys, keep=False)
    if repeated.any():
        raise DatabaseError(f"{register.id}: {int(repeated.sum())} 行的门店+编号重复 / rows repeat store + key")
    _check_existing(engine, table)
    rows = _python_rows(frame, register)
    with engine.begin() as conn:
        table.create(conn, checkfirst=True)
        statement = _upsert(engine, table)
        for start in range(0, len(rows), CHUNK):
            conn.execute(statement, rows[start:start + CHUNK])
    result.loaded = len(rows)
    return result


def load_records(url: str, records: dict[str, pd.DataFrame], registers: dict[str, Register],
                 register_ids: list[str] | None = None) -> list[LoadResult]:
    """Every chosen register into the database at ``url``; one register's failure does not stop the others."""
    engine = sa.create_engine(url)
    results = []
    try:
        for reg_id in register_ids or list(registers):
            try:
                results.append(load_register(engine, records[reg_id], registers[reg_id]))
            except (DatabaseError, sa.exc.SQLAlchemyError) as e:
                message = str(e).splitlines()[0]
                results.append(LoadResult(reg_id, reg_id, error=message))
    finally:
        engine.dispose()
    return results
