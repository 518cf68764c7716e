"""Register definitions: the nine built-in registers, checked loading, and a company's own folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import main
from toolkit.definitions import DefinitionError, Duration, load_definition, load_registers

EXAMPLES = Path(__file__).parents[1] / "examples" / "company-definitions"

# field keys from REGISTERS.md that other systems rely on
EXPECTED_KEYS = {
    "customers": ["customer_id", "name", "customer_type", "contact_person", "phone", "email", "address", "id_number",
                  "industry", "source", "grade", "credit_rating", "owner", "first_contact_date", "created_date",
                  "last_contact_date", "updated_date", "birthday", "notes"],
    "service": ["service_no", "request_date", "customer_name", "phone", "product", "service_type", "location",
                "content", "status", "staff", "staff_title", "completed_date", "result", "rating", "feedback",
                "last_follow_up_date", "parts", "parts_qty", "parts_sales", "remarks"],
    "complaints": ["complaint_no", "received_date", "category", "channel", "subject", "content", "complainant",
                   "phone", "region", "owner", "responsible_dept", "status", "resolution", "resolved_date",
                   "compensation", "approver_level", "return_visit_date", "return_visit_result"],
    "repairs": ["repair_no", "reported_at", "reporter", "location", "phone", "description", "category", "scope",
                "chargeable", "fee", "technician", "dispatched_at", "arrived_at", "completed_at", "materials",
                "result", "customer_signed", "satisfaction", "return_visit_at", "return_visit_by"],
    "visits": ["visit_date", "customer_id", "customer_name", "visit_type", "method", "purpose", "content", "result",
               "intent_level", "next_visit_date", "staff", "remarks"],
    "property": ["record_no", "customer_name", "phone", "email", "property_type", "description", "quantity",
                 "estimated_value", "received_date", "condition_in", "expected_return_date", "returned_date",
                 "condition_out", "custodian", "status", "feedback"],
    "referrals": ["registered_date", "project", "referrer_name", "referrer_phone", "referred_name", "referred_phone",
                  "relationship", "staff", "status", "deal_amount", "reward", "reward_paid_date"],
    "incidents": ["event_no", "occurred_date", "reported_date", "description", "category", "impact", "cause",
                  "corrective_action", "owner", "status", "closed_date"],
    "duty": ["date", "staff", "start", "handover", "work", "hours", "remarks"],
}


def test_all_nine_registers_carry_the_field_keys_of_the_domain_brief(registers):
    assert set(EXPECTED_KEYS) <= set(registers)
    for reg_id, keys in EXPECTED_KEYS.items():
        assert set(keys) <= set(registers[reg_id].field_keys), reg_id


def test_seed_figures_are_in_the_definitions(registers):
    complaints = registers["complaints"]
    assert complaints.field("category").option_values == ["咨询", "建议", "投诉"]
    ladder = next(r for r in complaints.rules if r.kind == "ladder")
    assert [s.get("up_to") for s in ladder.params["steps"]] == [100000, 150000, None]
    close = next(d for d in complaints.deadlines if d.id == "complaint_close")
    assert close.limit_for("国内") == Duration(13, "days") and close.limit_for("国外") == Duration(17, "days")
    answer = next(d for d in complaints.deadlines if d.id == "enquiry_answer")
    assert answer.limit == Duration(24, "hours")
    assert registers["service"].field("rating").min == 1 and registers["service"].field("rating").max == 10
    assert registers["customers"].field("phone").sensitive and registers["customers"].field("id_number").sensitive
    cadence = next(d for d in registers["customers"].deadlines if d.id == "contact_cadence")
    assert {k: str(v) for k, v in cadence.limit_by.items()} == {"A": "1 days", "B": "4 days", "C": "15 days",
                                                               "D": "90 days"}


def _definition(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """id: gifts
name_zh: 礼品登记
name_en: Gifts
key: gift_no
fields:
  - key: gift_no
    label_zh: 编号
    label_en: No.
  - key: issued
    label_zh: 日期
    label_en: Date
    type: {type}
"""


def test_a_typo_in_a_field_type_names_the_file_the_line_and_the_key(tmp_path):
    path = _definition(tmp_path, GOOD.format(type="dat"))
    with pytest.raises(DefinitionError) as err:
        load_definition(path)
    assert err.value.line == 12  # the "type: dat" line
    assert "broken.yaml" in str(err.value) and "fields.issued.type" in str(err.value)
    assert "不是有效类型" in str(err.value) and "is not a field type" in str(err.value)


def test_a_rule_that_names_a_missing_field_is_refused(tmp_path):
    text = GOOD.format(type="date") + "rules:\n  - kind: order\n    fields: [issued, returned]\n"
    with pytest.raises(DefinitionError, match="returned"):
        load_definition(_definition(tmp_path, text))


def test_an_unknown_rule_kind_and_an_unreadable_deadline_are_refused(tmp_path):
    with pytest.raises(DefinitionError, match="not a rule kind"):
        load_definition(_definition(tmp_path, GOOD.format(type="date") + "rules:\n  - kind: sometimes\n"))
    text = GOOD.format(type="date") + "deadlines:\n  - id: late\n    name_zh: 逾期\n    name_en: Late\n" \
        "    from: issued\n    limit: a fortnight\n"
    with pytest.raises(DefinitionError, match="cannot read the duration"):
        load_definition(_definition(tmp_path, text))


def test_a_deadline_done_in_another_register_must_name_a_register_and_fields_that_exist(tmp_path):
    """``done_in`` reads another register: a misspelt register or field is refused with the file and the line,
    once every register is loaded."""
    deadline = ("deadlines:\n  - id: late\n    name_zh: 逾期\n    name_en: Late\n    from: issued\n"
                "    limit: 3 days\n    done_in: {{register: {register}, match: {{gift_no: {field}}}, date: visit_date}}\n")
    (tmp_path / "gifts.yaml").write_text(GOOD.format(type="date") + deadline.format(register="vistis",
                                                                                   field="customer_name"), "utf-8")
    with pytest.raises(DefinitionError, match="vistis") as err:
        load_registers([tmp_path])
    assert err.value.line == 19 and "gifts.yaml" in str(err.value)
    (tmp_path / "gifts.yaml").write_text(GOOD.format(type="date") + deadline.format(register="visits",
                                                                                   field="customer"), "utf-8")
    with pytest.raises(DefinitionError, match="register visits has no field 'customer'"):
        load_registers([tmp_path])
    (tmp_path / "gifts.yaml").write_text(GOOD.format(type="date") + deadline.format(register="visits",
                                                                                   field="customer_name"), "utf-8")
    assert load_registers([tmp_path])["gifts"].deadlines[0].done_in["register"] == "visits"


def test_yaml_syntax_errors_name_the_line(tmp_path):
    with pytest.raises(DefinitionError) as err:
        load_definition(_definition(tmp_path, "id: x\nfields: [\n  - key: a\n"))
    assert err.value.line is not None


def test_a_company_folder_adds_a_register_and_overrides_options_and_deadlines(registers):
    company = load_registers([EXAMPLES])
    assert "vip_gifts" in company
    assert company["complaints"].field("channel").option_values[-1] == "微信"
    close = next(d for d in company["complaints"].deadlines if d.id == "complaint_close")
    assert close.limit_for("国内") == Duration(10, "days")
    # the built-in definition is untouched
    assert "微信" not in registers["complaints"].field("channel").option_values


def test_an_override_of_a_field_that_does_not_exist_is_refused(tmp_path):
    (tmp_path / "c.yaml").write_text("id: complaints\noverride: true\nfields:\n  chanel: {options: [电话]}\n",
                                     encoding="utf-8")
    with pytest.raises(DefinitionError, match="chanel"):
        load_registers([tmp_path])


def test_registers_lists_and_shows_a_definition_readably():
    runner = CliRunner()
    listing = runner.invoke(main, ["registers"])
    assert listing.exit_code == 0
    assert "complaints" in listing.output and "客户投诉登记表" in listing.output
    shown = runner.invoke(main, ["registers", "show", "complaints"])
    assert shown.exit_code == 0
    assert "投诉编号" in shown.output and "核决权限" in shown.output and "13天" in shown.output
    missing = runner.invoke(main, ["registers", "show", "nonesuch"])
    assert missing.exit_code != 0 and "nonesuch" in missing.output


def test_a_broken_company_folder_gives_a_clear_cli_error(tmp_path):
    (tmp_path / "x.yaml").write_text(GOOD.format(type="dat"), encoding="utf-8")
    result = CliRunner().invoke(main, ["--definitions", str(tmp_path), "registers"])
    assert result.exit_code == 1
    assert "登记表定义有误" in result.output and "x.yaml" in result.output
