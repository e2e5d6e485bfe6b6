"""Personal data is masked the way config/readq.toml [privacy] says."""

import polars as pl

from checks.masking import mask_by_column, mask_line, mask_text


def test_names_phones_and_addresses_are_masked() -> None:
    assert mask_text("customer_name", "张三丰") == "张***"
    assert mask_text("phone", "138-1234-5678") == "138****5678"
    assert mask_text("phone", "12345") == "***"
    assert mask_text("address", "城关镇人民路88号") == "城关镇人民路***"
    assert mask_text("meter_no", "M0001") == "M0001"


def test_long_form_failures_mask_only_personal_columns() -> None:
    frame = pl.DataFrame({"column_name": ["customer_name", "this_read", None], "raw_value": ["李四", "abc", None]})
    masked = frame.select(mask_by_column(pl.col("raw_value"), pl.col("column_name"))).to_series().to_list()
    assert masked == ["李***", "abc", None]


def test_a_raw_line_is_masked_by_the_position_of_personal_columns() -> None:
    columns = ["customer_no", "customer_name", "phone", "this_read"]
    assert mask_line("3100000001,王小明,13800000001,150,多余", columns) == "3100000001,王***,138****0001,150,多余"
