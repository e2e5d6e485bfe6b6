"""Personal data is masked the way config/mappings (`personal`, `mask`) and config/readq.toml [privacy] say."""

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from checks.mappings import load_mapping
from checks.masking import mask_by_column, mask_line, mask_text, personal_columns
from readq.config import Home

CONFIG = Path(__file__).parents[1] / "config"


def test_names_phones_and_addresses_are_masked() -> None:
    assert mask_text("readings", "customer_name", "张三丰") == "张***"
    assert mask_text("readings", "phone", "138-1234-5678") == "138****5678"
    assert mask_text("readings", "phone", "12345") == "***"
    assert mask_text("readings", "address", "城关镇人民路88号") == "城关镇人民路***"
    assert mask_text("readings", "meter_no", "M0001") == "M0001"
    assert mask_text("readings", "customer_name", None) is None


def test_the_shipped_mappings_declare_the_customers_personal_data_and_nothing_else() -> None:
    """Customers' names, phones and addresses; readers, reporters and responsible staff are employees."""
    assert personal_columns("readings") == personal_columns("customers") == {
        "customer_name": "name", "phone": "phone", "address": "address"}
    for kind in ("review_findings", "field_anomalies", "assignments"):
        assert personal_columns(kind) == {}, kind
    assert mask_text("field_anomalies", "reporter", "张三") == "张三"


def test_long_form_failures_mask_only_personal_columns() -> None:
    frame = pl.DataFrame({"column_name": ["customer_name", "this_read", None], "raw_value": ["李四", "abc", None]})
    masked = frame.select(mask_by_column("readings", pl.col("raw_value"), pl.col("column_name"))).to_series()
    assert masked.to_list() == ["李***", "abc", None]


def test_a_raw_line_is_masked_by_the_position_of_personal_columns() -> None:
    columns = ["customer_no", "customer_name", "phone", "this_read"]
    assert mask_line("readings", "3100000001,王小明,13800000001,150,多余", columns) == (
        "3100000001,王***,138****0001,150,多余")


def _config_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of config/ in which readings gain a personal 身份证号 column (masked like a phone) and the
    field-anomaly reporter becomes personal (default style), selected with READQ_CONFIG."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    readings = config / "mappings" / "readings.toml"
    readings.write_text(readings.read_text(encoding="utf-8") + (
        '[columns.id_card]\ntype = "str"\npersonal = true\nmask = "phone"\naliases = ["身份证号", "id_card"]\n'),
        encoding="utf-8")
    anomalies = config / "mappings" / "field_anomalies.toml"
    text = anomalies.read_text(encoding="utf-8")
    head, rest = text.split("[columns.reporter]\n", 1)
    anomalies.write_text(head + "[columns.reporter]\npersonal = true\n" + rest, encoding="utf-8")
    monkeypatch.setenv("READQ_CONFIG", str(config))
    return config


def test_a_column_marked_personal_in_a_mapping_is_masked_with_no_code_change(tmp_path, monkeypatch) -> None:
    assert mask_text("readings", "id_card", "110101199001011234") == "110101199001011234"
    _config_copy(tmp_path, monkeypatch)
    assert load_mapping("readings").columns["id_card"].mask == "phone"
    assert mask_text("readings", "id_card", "110101199001011234") == "110****1234"
    assert mask_text("field_anomalies", "reporter", "张三") == "张***"
    # personal in one kind only: the same column name elsewhere, and other employees, pass through
    assert mask_text("review_findings", "reporter", "张三") == "张三"
    assert mask_text("readings", "reader", "张三") == "张三"
    frame = pl.DataFrame({"column_name": ["reporter", "outcome"], "raw_value": ["李四", "已处理"]})
    masked = frame.select(mask_by_column("field_anomalies", pl.col("raw_value"), pl.col("column_name")))
    assert masked.to_series().to_list() == ["李***", "已处理"]


def test_the_quarantine_masks_a_newly_personal_column(data_home: Home, tmp_path, monkeypatch, capsys) -> None:
    """End to end: a line that cannot be loaded is kept masked by the positions of the mapping's personal columns."""
    from readq.cli import main

    _config_copy(tmp_path, monkeypatch)
    source = tmp_path / "抄表明细_2024-03_城北.csv"
    source.write_text("抄表段编号,抄表员,用户编号,用户名称,身份证号,电能表编号,上次示数,本次示数,抄表状态\n"
                      "0101,李抄表,3100000001,王小明,110101199001011234,M0001,100,150,已抄\n"
                      "0101,李抄表,3100000002,赵大力,110101199202024321,M0002,100,150,已抄,多余\n", encoding="utf-8")
    assert main(["ingest", str(source), "--json"]) == 0
    capsys.readouterr()
    assert main(["quarantine", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["value"] == "0101,李抄表,3100000002,赵***,110****4321,M0002,100,150,已抄,多余"


def test_a_mask_style_the_code_does_not_know_is_a_config_error(tmp_path, monkeypatch) -> None:
    config = _config_copy(tmp_path, monkeypatch)
    readings = config / "mappings" / "readings.toml"
    readings.write_text(readings.read_text(encoding="utf-8").replace('mask = "phone"\naliases = ["身份证号"',
                                                                      'mask = "shred"\naliases = ["身份证号"'),
                        encoding="utf-8")
    with pytest.raises(ValueError, match="unknown mask 'shred'"):
        load_mapping("readings")
