"""Stage 1 of validation: cast text to types without coercion hiding failures.

Each canonical column's type comes from config/mappings/<kind>.toml; the SQL below applies the
normalisers of `checks.values` to the delivered text. Every present value that cannot be read
as its column's type (or is not in its code table) becomes a quarantine reason with the raw
value; the row then skips stage 2 (pandera).
"""

from __future__ import annotations

import polars as pl

from checks.mappings import ColumnSpec, KindMapping
from checks.values import FIELD_SEPARATOR, ROW_NEEDS_CLEANING, sql_literal

POLARS_TYPES: dict[str, pl.DataType] = {
    "str": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "period": pl.String(),
}
DUCKDB_TYPES = {
    "str": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "period": "VARCHAR",
}
CONVERTERS = {"str": "rq_text_of({})", "int": "rq_int_of({})", "float": "rq_float_of({})",
              "date": "rq_date_of({})", "datetime": "rq_datetime_of({})", "period": "rq_period_of({})"}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def typed_name(column: str) -> str:
    """The typed value of a canonical column inside a delivery's working table."""
    return quote(f"_t_{column}")


def typed_sql(spec: ColumnSpec, text: str) -> str:
    """SQL for the typed value of `spec` from the text expression `text`. Text columns are cleaned
    only in rows whose `_dirty` flag (see `row_columns`) says some text value needs it."""
    if spec.codes:
        return f"rq_code_{spec.codes}_of({text})"
    if spec.type == "str":
        return f"case when _dirty then rq_text_of({text}) else {text} end"
    return CONVERTERS[spec.type].format(text)


def row_columns(mapping: KindMapping, text_of: dict[str, str]) -> list[str]:
    """Per-row values computed once, while the rows are read: `_dirty` (some text value of the row
    needs cleaning: one regex over the row instead of one per value) and `_hash` (of the mapped
    values, to find exact repeats)."""
    texts = [text_of[c.name] for c in mapping.columns.values()
             if c.name in text_of and c.type == "str" and not c.codes]
    dirty = (f"coalesce(regexp_matches(concat_ws({sql_literal(FIELD_SEPARATOR)}, {', '.join(texts)}), "
             f"{sql_literal(ROW_NEEDS_CLEANING)}), false)" if texts else "false")
    mapped = [text_of[c] for c in mapping.columns if c in text_of]
    return [f"{dirty} as _dirty", f"hash({', '.join(mapped)}) as _hash"]


def check_name(spec: ColumnSpec) -> str:
    return f"code_table:{spec.codes}" if spec.codes else f"cast:{spec.type}"


def can_fail(spec: ColumnSpec) -> bool:
    return bool(spec.codes) or spec.type != "str"


def typed_columns(mapping: KindMapping, text_of: dict[str, str]) -> dict[str, str]:
    """column -> `typed AS _t_<column>`, for every canonical column; `text_of` maps the columns the
    file has to their text expression (absent columns are NULL of their type)."""
    out = {}
    for spec in mapping.columns.values():
        text = text_of.get(spec.name)
        value = typed_sql(spec, text) if text is not None else "null"
        out[spec.name] = f"cast({value} as {DUCKDB_TYPES[spec.type]}) as {typed_name(spec.name)}"
    return out


def castable_columns(mapping: KindMapping, text_of: dict[str, str]) -> list[str]:
    """The columns the file has whose cast can fail (typed, or through a code table)."""
    return [spec.name for spec in mapping.columns.values() if spec.name in text_of and can_fail(spec)]


def cast_failures_sql(mapping: KindMapping, text_of: dict[str, str], source: str) -> str:
    """Long-form cast failures (_pos, column_name, check_name, raw_value) of the rows in `source`:
    text present after cleaning, typed value NULL. One scan: each row gets the list of its failed
    columns (cleaning runs only where a typed value is NULL), and only failing rows are unnested."""
    specs = [mapping.columns[c] for c in castable_columns(mapping, text_of)]
    if not specs:
        return "select null::bigint as _pos, null as column_name, null as check_name, null as raw_value limit 0"
    failed = [f"case when {typed_name(s.name)} is null and {text_of[s.name]} is not null "
              f"then rq_clean({text_of[s.name]}) is not null else false end" for s in specs]
    entries = ", ".join(f"{{'column_name': '{s.name}', 'check_name': '{check_name(s)}', "
                        f"'raw_value': {text_of[s.name]}, 'failed': {f}}}" for s, f in zip(specs, failed, strict=True))
    return (f"select _pos, f.column_name, f.check_name, f.raw_value from (select _pos, "
            f"unnest(list_filter([{entries}], lambda e: e.failed)) as f from {source} "
            f"where {' or '.join(failed)})")

