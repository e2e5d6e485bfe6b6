"""Prepare step of marts.meters_due: the ingest's value macros (checks.values: rq_text_of, rq_int_of,
rq_code_<table>_of …) on the connection, so the quarantined rows' raw text is read exactly as the
ingest reads a delivered value (trimmed, full-width folded, codes looked up) — a quarantined row's
customer, segment and meter are the ones it would have had if it had loaded."""

from __future__ import annotations

import duckdb

from checks.mappings import code_tables
from checks.values import code_macro, macros


def prepare(conn: duckdb.DuckDBPyConnection, values: dict[str, object]) -> dict[str, object]:
    # not checks.values.install_macros: its probe for an existing set fails inside the build's
    # transaction (a failed statement aborts it), and the macros are temporary anyway
    conn.execute(macros() + "\n".join(code_macro(table, lookup) for table, lookup in code_tables().items()))
    return {}
