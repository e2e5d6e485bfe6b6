"""Stage 2 of validation: one pandera schema per input kind, vectorised checks only.

Types, required (not nullable) columns and code-table membership come from
config/mappings/<kind>.toml and config/codes.toml; the value checks below are the rules a
row must meet to enter the warehouse. (Suspicious-but-possible values are not rejected
here: they are plausibility flags, computed later on every reading.)
"""

from __future__ import annotations

from functools import cache

import pandera.polars as pa
import polars as pl

from checks.casting import POLARS_TYPES
from checks.errors import FileRejected
from checks.mappings import load_mapping
from readq.config import load_toml

PERIOD_PATTERN = r"^(19|20)\d{2}-(0[1-9]|1[0-2])$"
DIGITS_PATTERN = r"^\d{1,2}(\.\d)?$"   # 抄表位数 such as 6.2

# Rules beyond type/required/code table, per kind and column. Calendar facts and physics
# (registers and counts are never negative), not tunable thresholds.
EXTRA_CHECKS: dict[str, dict[str, list[pa.Check]]] = {
    "readings": {
        "period": [pa.Check.str_matches(PERIOD_PATTERN)],
        "last_read": [pa.Check.ge(0)],
        "this_read": [pa.Check.ge(0)],
        "multiplier": [pa.Check.gt(0)],
        "plan_day": [pa.Check.in_range(1, 31)],
        "route_seq": [pa.Check.ge(0)],
        "digits": [pa.Check.str_matches(DIGITS_PATTERN)],
        "customer_no": [pa.Check.str_length(min_value=1)],
        "meter_no": [pa.Check.str_length(min_value=1)],
    },
    "review_findings": {"period": [pa.Check.str_matches(PERIOD_PATTERN)]},
    "field_anomalies": {"period": [pa.Check.str_matches(PERIOD_PATTERN)]},
    "assignments": {
        "period": [pa.Check.str_matches(PERIOD_PATTERN)],
        "held_since": [pa.Check.str_matches(PERIOD_PATTERN)],
        "plan_day": [pa.Check.in_range(1, 31)],
        "customer_count": [pa.Check.ge(0)],
    },
    "customers": {
        "period": [pa.Check.str_matches(PERIOD_PATTERN)],
        "multiplier": [pa.Check.gt(0)],
        "contract_capacity": [pa.Check.ge(0)],
        "digits": [pa.Check.str_matches(DIGITS_PATTERN)],
    },
}


def validated_columns(kind: str) -> list[str]:
    """The columns stage 2 looks at: those with a rule, a code table, or required. (The others
    have no rule beyond their type, which stage 1's SQL cast guarantees by construction.)"""
    mapping = load_mapping(kind)
    extra = EXTRA_CHECKS.get(kind, {})
    return [c.name for c in mapping.columns.values()
            if c.name in extra or c.codes or c.required or c.name == "period"]


@cache
def _schema(kind: str, codes_version: int) -> pa.DataFrameSchema:
    mapping = load_mapping(kind)
    codes = load_toml("codes.toml")
    columns = {}
    for name in validated_columns(kind):
        spec = mapping.columns[name]
        checks = list(EXTRA_CHECKS.get(kind, {}).get(spec.name, []))
        if spec.codes:
            checks.append(pa.Check.isin(sorted(codes[spec.codes])))
        required = spec.required or spec.name == "period"   # period is filled from the delivery
        columns[spec.name] = pa.Column(POLARS_TYPES[spec.type], checks=checks, nullable=not required)
    return pa.DataFrameSchema(columns, name=f"{kind}_schema", strict=False, coerce=False)


def schema_for(kind: str) -> pa.DataFrameSchema:
    return _schema(kind, id(load_toml("codes.toml")))


POSITION = "_pos"


def validate(kind: str, typed: pl.DataFrame) -> pl.DataFrame:
    """Failures in long form (_pos, column_name, check_name, raw_value) of `typed`, which holds the
    validated columns and `_pos` (the row's position in the delivery's working table).

    Schema-level failures (a null index) mean the table as a whole does not fit: the file is rejected.
    """
    try:
        schema_for(kind).validate(typed, lazy=True)
        return _empty_failures()
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    schema_level = cases.filter(pl.col("index").is_null())
    if schema_level.height:
        reasons = "; ".join(f"{r['column']}: {r['check']}" for r in schema_level.head(5).to_dicts())
        raise FileRejected(f"the file does not fit the {kind} schema ({reasons})")
    index = cases["index"].cast(pl.Int64)
    return pl.DataFrame({
        POSITION: typed[POSITION].gather(index).cast(pl.Int64),
        "column_name": cases["column"],
        "check_name": cases["check"],
        "raw_value": cases["failure_case"].cast(pl.String),
    })


def _empty_failures() -> pl.DataFrame:
    return pl.DataFrame(schema={POSITION: pl.Int64, "column_name": pl.String, "check_name": pl.String,
                                "raw_value": pl.String})
