"""`readq ingest` and `readq quarantine` as a statistician uses them: per-file outcome, exit status."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from readq.cli import main
from readq.config import Home

CORPUS = Path(__file__).parent / "corpus" / "files"


def copy(names: list[str], folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(CORPUS / name, folder / name)
    return [str(folder / n) for n in names]


def test_ingest_json_lists_every_file_and_exits_2_when_one_is_rejected(data_home: Home, tmp_path, capsys) -> None:
    paths = copy(["01_gbk_抄表明细_2024-03_城东.csv", "06_missing_column_抄表明细_2024-03.csv",
                  "24_复核差错记录_2024-03.xlsx"], tmp_path / "in")
    code = main(["ingest", *paths, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 2
    assert [(r["file"], r["kind"], r["period"], r["status"], r["rows_read"], r["rows_loaded"],
             r["rows_quarantined"]) for r in out] == [
        ("01_gbk_抄表明细_2024-03_城东.csv", "readings", "2024-03", "loaded", 3, 3, 0),
        ("06_missing_column_抄表明细_2024-03.csv", None, "2024-03", "rejected", 0, 0, 0),
        ("24_复核差错记录_2024-03.xlsx", "review_findings", "2024-03", "loaded", 3, 2, 1),
    ]
    assert "this_read (本次示数" in out[1]["message"]
    # the marts of the month were rebuilt and published for the dashboards
    with duckdb.connect(str(data_home.published), read_only=True) as con:
        assert con.sql("select team, customers_due from marts.kpi_team_month").fetchall() == [("城东", 3)]


def test_ingest_progress_says_what_each_file_is_doing(data_home: Home, tmp_path) -> None:
    """A big export takes a while: the progress line names the file and its stage, not just a count."""
    from readq.ingest import ingest_files

    paths = copy(["02_utf8_bom_抄表明细_2024-03_城西.csv", "12_empty_抄表明细_2024-03.csv"], tmp_path / "in")
    seen: list[tuple[str, int, int]] = []
    ingest_files(data_home, [Path(p) for p in paths], progress=lambda *step: seen.append(step))
    name = "02_utf8_bom_抄表明细_2024-03_城西.csv"
    assert [s for s in seen if s[0].startswith(name)] == [
        (name, 0, 2), (f"{name}: reading", 0, 2), (f"{name}: checking", 0, 2), (f"{name}: writing", 0, 2)]
    assert seen[-2:] == [("12_empty_抄表明细_2024-03.csv", 1, 2), ("done", 2, 2)]  # rejected before reading rows


def test_ingest_exits_0_when_everything_loads_and_again_for_a_duplicate(data_home: Home, tmp_path, capsys) -> None:
    [path] = copy(["02_utf8_bom_抄表明细_2024-03_城西.csv"], tmp_path / "in")
    assert main(["ingest", path]) == 0
    table = capsys.readouterr().out
    assert "loaded" in table and "02_utf8_bom" in table
    assert main(["ingest", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "duplicate"


def test_ingest_of_landing_files_archives_them_but_leaves_rejected_ones(data_home: Home, capsys) -> None:
    copy(["01_gbk_抄表明细_2024-03_城东.csv", "22_no_period_抄表明细.csv"], data_home.landing)
    assert main(["ingest", str(data_home.landing), "--json"]) == 2
    capsys.readouterr()
    assert [p.name for p in data_home.landing.iterdir()] == ["22_no_period_抄表明细.csv"]
    assert (data_home.archive / "2024-03" / "01_gbk_抄表明细_2024-03_城东.csv").exists()
    # told the month, the same file loads
    assert main(["ingest", str(data_home.landing / "22_no_period_抄表明细.csv"), "--period", "2024-03",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["period"] == "2024-03"


def test_quarantine_lists_rows_with_their_reasons(data_home: Home, tmp_path, capsys) -> None:
    paths = copy(["14_wrong_types_抄表明细_2024-03.csv", "01_gbk_抄表明细_2024-03_城东.csv"], tmp_path / "in")
    main(["ingest", *paths, "--json"])
    capsys.readouterr()
    assert main(["quarantine", "--file", "14_wrong_types_抄表明细_2024-03.csv", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["row"], r["column"], r["check"], r["value"]) for r in rows] == [
        (2, "this_read", "cast:float", "abc"), (3, "plan_day", "cast:int", "x"),
        (4, "read_status", "code_table:read_status", "奇怪")]


def test_quarantine_without_a_warehouse_says_so(data_home: Home, capsys) -> None:
    assert main(["quarantine"]) == 1
    assert "no warehouse" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["ingest"], ["nonsense"]])
def test_bad_arguments_exit_with_usage(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_quarantine_masks_personal_data_unless_asked(data_home: Home, tmp_path, capsys) -> None:
    [path] = copy(["28_rows_wider_than_header_抄表明细_2024-03.csv"], tmp_path / "in")
    main(["ingest", path, "--json"])
    capsys.readouterr()
    main(["quarantine", "--json"])
    [row] = json.loads(capsys.readouterr().out)
    assert "王四" not in row["value"] and "王***" in row["value"]
    main(["quarantine", "--json", "--unmasked"])
    assert "王四" in json.loads(capsys.readouterr().out)[0]["value"]
