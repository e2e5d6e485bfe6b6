"""Supersession by what a delivery covers.

Each kind names a grain column in its mapping (`grain`: the segment 抄表段 for readings, the team
for the other kinds, none = the whole centre). A delivery covers the grain values its rows hold,
recorded per value in `ops.delivery_grains`. For each (kind, month, grain value) the rows in force
come from the latest delivery holding that value: a later file for other segments hides nothing (a
month sent as one file per segment is held whole), a corrected re-export of the same segments
replaces them wholly (rows it drops included), and a partial overlap replaces only the segments
both hold. An earlier delivery is then `partly superseded` or `superseded`; its rows stay in raw
and quarantine (marked), its core rows of the replaced values leave core.

Everything here runs inside the delivery's transaction (see `deliver.py`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb

from checks.casting import quote
from checks.mappings import KindMapping

LOADED, PARTLY, SUPERSEDED = "loaded", "partly superseded", "superseded"
SHOWN_VALUES = 5  # grain values named in a message before "+N more"


def grain_expr(mapping: KindMapping, column: str | None = None) -> str:
    """SQL for a row's grain value from its canonical column (or the expression `column`): '' when empty."""
    if mapping.grain is None:
        return "''"
    return f"coalesce({column or quote(mapping.grain)}, '')"


def describe_values(mapping: KindMapping, values: list[str]) -> str:
    """'抄表段编号 070, 071' (at most SHOWN_VALUES named), or 'the whole centre'."""
    if mapping.grain is None:
        return "the whole centre"
    shown = [v or "(none)" for v in sorted(values)[:SHOWN_VALUES]]
    more = f" +{len(values) - SHOWN_VALUES} more" if len(values) > SHOWN_VALUES else ""
    return f"{mapping.columns[mapping.grain].header_zh} {', '.join(shown)}{more}"


@dataclass
class Replacement:
    """What a new delivery replaced of one earlier delivery."""

    delivery_id: str
    file_name: str
    values: list[str]      # the grain values replaced
    status: str            # the earlier delivery's status now: partly superseded | superseded
    keys_before: int       # distinct keys the earlier delivery had in core for those values
    keys_shared: int       # of which the new delivery holds too

    @property
    def shared_share(self) -> float:
        return self.keys_shared / self.keys_before if self.keys_before else 1.0

    def to_dict(self) -> dict:
        return asdict(self)


def _key_select(mapping: KindMapping) -> str:
    return ", ".join(quote(c) for c in mapping.row_key) or "1"


def _key_match(mapping: KindMapping) -> str:
    return " and ".join(f"o.{quote(c)} is not distinct from n.{quote(c)}" for c in mapping.row_key) or "true"


def supersede(conn: duckdb.DuckDBPyConnection, mapping: KindMapping, *, period: str,
              delivery_id: str) -> list[Replacement]:
    """Replace, for every grain value the new delivery holds (already in ops.delivery_grains), the rows
    of earlier deliveries still in force; mark them; return what was replaced, per earlier delivery."""
    kind, grain = mapping.kind, grain_expr(mapping)
    earlier = conn.execute(
        """select g.delivery_id, any_value(d.file_name), list(g.grain_value order by g.grain_value)
           from ops.delivery_grains g join ops.deliveries d using (delivery_id)
           where g.kind = ? and g.period = ? and g.superseded_by is null and g.delivery_id <> ?
             and g.grain_value in (select grain_value from ops.delivery_grains where delivery_id = ?)
           group by g.delivery_id order by min(d.seq)""", [kind, period, delivery_id, delivery_id]).fetchall()
    replaced = []
    for old, file_name, values in earlier:
        keys = _key_select(mapping)
        before, shared = conn.execute(
            f"""select count(*), count(n.hit) from
                  (select distinct {keys} from core.{kind} where delivery_id = ? and period = ?
                     and list_contains(?, {grain})) o
                left join (select distinct {keys}, true as hit from core.{kind} where delivery_id = ?
                     and list_contains(?, {grain})) n on {_key_match(mapping)}""",
            [old, period, values, delivery_id, values]).fetchall()[0]
        conn.execute(f"delete from core.{kind} where delivery_id = ? and period = ? and list_contains(?, {grain})",
                     [old, period, values])
        conn.execute("update ops.delivery_grains set superseded_by = ?, superseded_at = now() "
                     "where delivery_id = ? and list_contains(?, grain_value)", [delivery_id, old, values])
        conn.execute("update quarantine.rows set superseded_by = ? where delivery_id = ? and superseded_by is null "
                     "and list_contains(?, grain_value)", [delivery_id, old, values])
        standing = conn.execute("select count(*) from ops.delivery_grains where delivery_id = ? "
                                "and superseded_by is null", [old]).fetchall()[0][0]
        status = PARTLY if standing else SUPERSEDED
        if not standing:  # its unreadable lines (no grain value) go with the last of its values
            conn.execute("update quarantine.rows set superseded_by = ? where delivery_id = ? "
                         "and superseded_by is null", [delivery_id, old])
        conn.execute(
            """update ops.deliveries set status = ?,
                      superseded_by = concat_ws(', ', nullif(superseded_by, ''), ?) where delivery_id = ?""",
            [status, delivery_id, old])
        replaced.append(Replacement(old, file_name, list(values), status, int(before), int(shared)))
    return replaced


def shared_elsewhere(conn: duckdb.DuckDBPyConnection, mapping: KindMapping, *, period: str,
                     delivery_id: str) -> list[tuple[str, int]]:
    """Keys of the new delivery that rows of other deliveries in force also hold (e.g. a meter listed
    under two segments of the month): [(file name, keys)]. The marts count such a key once."""
    if not mapping.row_key:
        return []
    keys = _key_select(mapping)
    return [(f, int(n)) for f, n in conn.execute(
        f"""select d.file_name, count(*) from
              (select distinct {keys} from core.{mapping.kind} where delivery_id = ?) n
            join (select distinct delivery_id, {keys} from core.{mapping.kind} where period = ? and delivery_id <> ?) o
              on {_key_match(mapping)}
            join ops.deliveries d on d.delivery_id = o.delivery_id
            group by d.file_name order by 2 desc, 1""", [delivery_id, period, delivery_id]).fetchall()]
