"""Render docs/data-contract.md from config/mappings/*.toml and config/codes.toml.

The contract is generated so it cannot drift from what the pipeline enforces:
`uv run python -m checks.contract > docs/data-contract.md` (a test keeps them equal).
"""

from __future__ import annotations

import sys

from checks.casting import DUCKDB_TYPES
from checks.mappings import KINDS, load_mapping
from checks.schemas import EXTRA_CHECKS
from readq.config import load_toml

INTRO = """# Data contract

Generated from `config/mappings/*.toml` and `config/codes.toml` by `python -m checks.contract`;
do not edit by hand — edit the config and regenerate (a test fails while they differ).

Five input kinds land as files (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030; XLSX/XLS). For each
kind: the canonical columns, their warehouse types, whether a row needs them, and every header
alias recognised (matching ignores case, spaces, underscores, brackets and full-width forms).
A header that matches no alias is kept in `raw.<kind>.extras` (JSON), never dropped.

**Lineage.** Every row in `raw.<kind>` and `core.<kind>` carries `delivery_id` (the file: see
`ops.deliveries`), `sheet` (workbooks) and `source_row` (1-based line of the CSV / row of the sheet),
so any number can be traced to the line it came from.

**Period.** The billing month (电费年月, `YYYY-MM`) of a delivery comes from its period column or, failing
that, its date column (the month most rows carry); else from `YYYY-MM`/`YYYYMM` in the file name; else
from an explicit `--period`; else the file is rejected. A row stating another month is quarantined.

**Supersession by grain.** A delivery covers the values of its kind's grain column that its rows hold
(e.g. the segments 抄表段 of a readings file). For each grain value of a month the rows in force come from
the latest delivery holding it: a month delivered as one file per segment is held whole, a corrected
re-export replaces exactly the segments it holds (rows it drops included), and an earlier delivery is
`loaded`, `partly superseded` or `superseded` (`ops.delivery_grains` says which of its values still
stand). Rows without a grain value count as one more value. The history stays in `ops.deliveries`,
`raw` and `quarantine`.

**Keys.** Within one delivery the kind's key is unique: an exact repeat of a row is dropped and counted
(`rows_duplicate`, listed in `ops.skipped_rows`); rows sharing a key with different values are all
quarantined (`duplicate_key`).

**Validation.** Stage 1 casts text to the column type (numbers with thousands separators and
full-width digits; dates as `2024-01-05`, `2024/1/5`, `20240105`, `2024年1月5日` or Excel serials; codes
through the code tables below); a present value that cannot be read quarantines the row. Stage 2 is
the kind's pandera schema (`checks/schemas.py`): required columns not null, code-table membership and
the value checks listed. Failing rows go to `quarantine.rows` with file, sheet, row, column, check and
raw value.
"""


def _checks_text(kind: str, column: str) -> str:
    parts = []
    for check in EXTRA_CHECKS.get(kind, {}).get(column, []):
        stats = {k: v for k, v in (check.statistics or {}).items() if v is not None and not k.startswith("include")}
        args = ", ".join(str(v) for v in stats.values())
        parts.append(f"`{check.name}({args})`".replace("|", "\\|"))
    return ", ".join(parts)


def render() -> str:
    out = [INTRO]
    for kind in KINDS:
        m = load_mapping(kind)
        out.append(f"\n## {m.label_zh} — {m.label_en} (`{kind}`)\n")
        out.append(f"- warehouse tables: `raw.{kind}`, `core.{kind}`")
        out.append(f"- key: {', '.join(f'`{k}`' for k in m.key)}")
        grain = f"`{m.grain}`" if m.grain else "the whole centre (one delivery per period)"
        out.append(f"- supersession grain: {grain}")
        out.append(f"- period from: {', '.join(f'`{c}`' for c in m.period_columns)}, then the file name")
        out.append(f"- file-name keywords (a hint only): {', '.join(m.filename_keywords)}\n")
        out.append("| column | type | required | code table | personal | checks | aliases |")
        out.append("|---|---|---|---|---|---|---|")
        for c in m.columns.values():
            out.append(
                f"| `{c.name}` | {DUCKDB_TYPES[c.type]}{' (YYYY-MM)' if c.type == 'period' else ''} | "
                f"{'yes' if c.required else ''} | {c.codes or ''} | {f'masked ({c.mask})' if c.personal else ''} | "
                f"{_checks_text(kind, c.name)} | {' · '.join(c.aliases)} |"
            )
    out.append("\n## Code tables (`config/codes.toml`)\n")
    out.append("Raw words and codes (after trimming and full-width normalisation) → canonical code.\n")
    for table, codes in load_toml("codes.toml").items():
        out.append(f"\n### `{table}`\n")
        out.append("| code | accepted words and codes |")
        out.append("|---|---|")
        for code, words in codes.items():
            out.append(f"| `{code}` | {' · '.join(str(w) for w in words)} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
