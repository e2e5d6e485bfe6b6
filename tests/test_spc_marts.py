"""The control-limit marts (marts.spc_*) built by the real mart SQL on a hand-built month: the numbers
the Overview's "above limit" and the Errors page's funnel rest on."""

from __future__ import annotations

import math

import pytest

from tests.test_kpi_marts import READINGS, deliver, reading, wh  # noqa: F401  (wh is a fixture)
from warehouse.marts import marts, replace_month

SPC = {"spc_p_chart", "spc_funnel", "spc_funnel_limits", "spc_cusum"}


def _month(wh) -> None:  # noqa: F811
    rows, findings = [], []
    teams = {"甲队": (40, 4), "乙队": (40, 0), "丙队": (400, 4)}
    for team, (customers, errors) in teams.items():
        for i in range(customers):
            reader = f"{team}{i % 2}"
            rows.append(reading("2024-03", team, f"{team}S", reader, f"{team}C{i}", f"{team}M{i}"))
            if i < errors:
                findings.append([f"F{team}{i}", "2024-03", f"{team}C{i}", f"{team}M{i}", "错抄", "5"])
    rows.append(reading("2024-03", "", "S9", "", "X1", "XM1"))       # nobody attributed: never charted
    deliver(wh, "readings_2024-03.csv", READINGS, rows)
    deliver(wh, "findings_2024-03.csv", ["finding_no", "period", "customer_no", "meter_no", "error_type",
                                         "kwh_impact"], findings)
    conn, _ = wh
    for m in marts():                                                 # in dependency order
        conn.execute("begin")
        replace_month(conn, m.name, "2024-03")
        conn.execute("commit")


def test_p_chart_limits_come_from_each_teams_volume(wh) -> None:  # noqa: F811
    _month(wh)
    conn, _ = wh
    got = {r[0]: r[1:] for r in conn.execute(
        "select team, numerator, denominator, centre_rate, ucl, signal from marts.spc_p_chart "
        "where period = '2024-03' and metric = 'error_rate'").fetchall()}
    assert set(got) == {"甲队", "乙队", "丙队"}                          # '(未指定)' is not charted
    p = 8 / 480
    for team, n in (("甲队", 40), ("丙队", 400)):
        assert got[team][1] == n and got[team][2] == pytest.approx(p)
        assert got[team][3] == pytest.approx(p + 3 * math.sqrt(p * (1 - p) / n))
    assert got["甲队"][4] == "above"                                 # 10 % on 40 customers
    assert got["丙队"][4] == "in_control" and got["乙队"][4] == "in_control"


def test_funnel_judges_teams_and_readers_and_tabulates_its_curves(wh) -> None:  # noqa: F811
    _month(wh)
    conn, _ = wh
    levels = dict(conn.execute("select level, count(*) from marts.spc_funnel where period = '2024-03' "
                               "and metric = 'error_rate' group by level").fetchall())
    assert levels == {"team": 3, "reader": 6}
    team = dict(conn.execute("select team, signal from marts.spc_funnel where period = '2024-03' "
                             "and metric = 'error_rate' and level = 'team'").fetchall())
    assert team["甲队"].startswith("above_")
    curve = conn.execute("select min(volume), max(volume), count(*), bool_and(lower_outer <= lower_inner "
                         "and upper_inner <= upper_outer) from marts.spc_funnel_limits where period = '2024-03' "
                         "and level = 'team' and metric = 'error_rate'").fetchall()[0]
    assert curve[0] == 40 and curve[1] == 400 and curve[2] > 10 and curve[3]
    cusum = conn.execute("select count(*), bool_and(signal = 'too_few_months') from marts.spc_cusum "
                         "where period = '2024-03'").fetchall()[0]
    assert cusum == (2 * (3 + 6), True)                              # one month: no change point yet
