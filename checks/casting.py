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


def typed_expr(spec: ColumnSpec, tables: dict[str, dict[str, str]]) -> pl.Expr:
    col = spec.name
    if spec.codes:
        return to_code(col, tables[spec.codes])
    converters = {
        "str": clean_text,
        "int": to_int,
        "float": to_float,
        "date": to_date,
        "datetime": to_datetime,
        "period": to_period,
    }
    return converters[spec.type](col)


def check_name(spec: ColumnSpec) -> str:
    return f"code_table:{spec.codes}" if spec.codes else f"cast:{spec.type}"


def cast_frame(raw: pl.DataFrame, mapping: KindMapping) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(typed frame with every canonical column + _source_row, failures in long form)."""
    tables = code_tables()
    present = [s for s in mapping.columns.values() if s.name in raw.columns]
    typed = raw.select(
        pl.col(SOURCE_ROW),
        *[typed_expr(s, tables).cast(POLARS_TYPES[s.type]).alias(s.name) for s in present],
        *[pl.lit(None, dtype=POLARS_TYPES[s.type]).alias(s.name)
          for s in mapping.columns.values() if s.name not in raw.columns],
    )
    flags = pl.DataFrame(
        {s.name: (raw[s.name].is_not_null() & raw.select(clean_text(s.name)).to_series().is_not_null()
                  & typed[s.name].is_null()) for s in present}
    ) if present else pl.DataFrame()
    failures = []
    for spec in present:
        mask = flags[spec.name]
        if mask.any():
            failures.append(
                raw.filter(mask).select(
                    pl.col(SOURCE_ROW),
                    pl.lit(spec.name).alias("column_name"),
                    pl.lit(check_name(spec)).alias("check_name"),
                    pl.col(spec.name).alias("raw_value"),
                )
            )
    failure_frame = (
        pl.concat(failures)
        if failures
        else pl.DataFrame(schema={SOURCE_ROW: pl.Int64, "column_name": pl.String, "check_name": pl.String,
                                  "raw_value": pl.String})
    )
    return typed, failure_frame
