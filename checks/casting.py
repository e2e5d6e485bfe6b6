"""Stage 1 of validation: cast text to types without coercion hiding failures.

Every present value that cannot be read as its column's type (or is not in its code table)
becomes a quarantine reason with the raw value; the row then skips stage 2 (pandera).
"""

from __future__ import annotations

import polars as pl

from checks.mappings import ColumnSpec, KindMapping, code_tables
from checks.values import clean_text, to_code, to_date, to_datetime, to_float, to_int, to_period

SOURCE_ROW = "_source_row"

POLARS_TYPES: dict[str, pl.DataType] = {
    "str": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "period": pl.String(),
}


CONVERTERS = {"str": lambda s: s, "int": to_int, "float": to_float, "date": to_date, "datetime": to_datetime,
              "period": to_period}


def typed_series(spec: ColumnSpec, cleaned: pl.Series, tables: dict[str, dict[str, str]]) -> pl.Series:
    if spec.codes:
        return to_code(cleaned, tables[spec.codes])
    return CONVERTERS[spec.type](cleaned)


def check_name(spec: ColumnSpec) -> str:
    return f"code_table:{spec.codes}" if spec.codes else f"cast:{spec.type}"


def cast_frame(raw: pl.DataFrame, mapping: KindMapping) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(typed frame with every canonical column + _source_row, failures in long form)."""
    tables = code_tables()
    columns = [raw[SOURCE_ROW]]
    failures = []
    for spec in mapping.columns.values():
        dtype = POLARS_TYPES[spec.type]
        if spec.name not in raw.columns:
            columns.append(pl.Series(spec.name, [None] * raw.height, dtype=dtype))
            continue
        cleaned = clean_text(raw[spec.name])
        typed = typed_series(spec, cleaned, tables).cast(dtype).alias(spec.name)
        columns.append(typed)
        unread = cleaned.is_not_null() & typed.is_null()
        if unread.any():
            failures.append(raw.filter(unread).select(
                pl.col(SOURCE_ROW),
                pl.lit(spec.name).alias("column_name"),
                pl.lit(check_name(spec)).alias("check_name"),
                pl.col(spec.name).alias("raw_value"),
            ))
    failure_frame = (
        pl.concat(failures)
        if failures
        else pl.DataFrame(schema={SOURCE_ROW: pl.Int64, "column_name": pl.String, "check_name": pl.String,
                                  "raw_value": pl.String})
    )
    return pl.DataFrame(columns), failure_frame
