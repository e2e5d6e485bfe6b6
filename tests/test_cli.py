"""`readq ingest` and `readq quarantine` as a statistician uses them: per-file outcome, exit status."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
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
    assert main(["quarantine"]) == 3
    assert "no warehouse" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "said"), [
    (["ingest"], "the following arguments are required: paths"),
    (["nonsense"], "invalid choice: 'nonsense'"),
    (["ingest", "x.csv", "--kind", "nosuch"], "argument --kind: invalid choice: 'nosuch'"),
    (["quarantine", "--limit", "0"], "must be a whole number ≥ 1"),
    (["quarantine", "--json", "--format", "csv"], "not allowed with argument"),
])
def test_bad_arguments_exit_with_usage(data_home: Home, argv: list[str], said: str, capsys) -> None:
    """argparse's own errors exit 64 (2 means a rejected file), with argparse's message."""
    assert main(argv) == 64
    err = capsys.readouterr().err
    assert said in err and "usage: readq" in err
    assert not data_home.warehouse.exists()


def test_quarantine_masks_personal_data_unless_asked(data_home: Home, tmp_path, capsys) -> None:
    [path] = copy(["28_rows_wider_than_header_抄表明细_2024-03.csv"], tmp_path / "in")
    main(["ingest", path, "--json"])
    capsys.readouterr()
    main(["quarantine", "--json"])
    [row] = json.loads(capsys.readouterr().out)
    assert "王四" not in row["value"] and "王***" in row["value"]
    main(["quarantine", "--json", "--unmasked"])
    assert "王四" in json.loads(capsys.readouterr().out)[0]["value"]


def test_help_exits_0(capsys) -> None:
    assert main(["ingest", "--help"]) == 0
    assert "--period" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "said"), [
    (["nosuch.csv"], "no such file or folder: nosuch.csv"),
    (["EMPTY"], "no export files in the folder"),
    (["GOOD", "--period", "2024-13"], "--period '2024-13' is not a month"),
    (["GOOD", "--period", "yesterday"], "--period 'yesterday' is not a month"),
    (["GOOD", "--period", "1999-12"], "1999-12"),
])
def test_usage_errors_exit_64_before_the_warehouse_is_touched(data_home: Home, tmp_path, args, said, capsys) -> None:
    """A typo is not a rejected file: nothing is recorded, and the message says what to fix."""
    [good] = copy(["02_utf8_bom_抄表明细_2024-03_城西.csv"], tmp_path / "in")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.pdf").write_text("not an export")
    argv = ["ingest", *[{"GOOD": good, "EMPTY": str(tmp_path / "empty")}.get(a, a) for a in args]]
    assert main(argv) == 64
    err = capsys.readouterr().err
    assert said in err and "readq ingest: error:" in err
    if "EMPTY" in args:
        assert ".csv, .txt, .xlsx, .xls" in err  # the extensions looked for
    assert not data_home.warehouse.exists()


TRICKY_NAME = "抄表明细_2024-03_[bold]城北[i].csv"  # no "/" in a file name: [/] is in a header


def test_square_brackets_in_names_headers_and_values_print_literally(data_home: Home, tmp_path, capsys,
                                                                     monkeypatch) -> None:
    """Rich markup in user text neither crashes the output after the commit nor swallows `[bold]`."""
    from rich.console import Console

    import readq.cli as cli

    monkeypatch.setattr(cli, "console", Console(width=400))  # wide: no folding inside the values checked
    source = tmp_path / TRICKY_NAME
    source.write_text("电费年月,抄表班组,抄表段编号,抄表员,用户编号,电能表编号,上次示数,本次示数,抄表状态,备注[/],[bold]说明\n"
                      "2024-03,城北,0101,李抄表,3100000001,M0001,100,150,已抄,a[/]b,[bold]x\n"
                      "2024-03,城北,0101,李抄表,3100000002,M0002,100,abc[/],已抄,,\n", encoding="utf-8")
    assert main(["ingest", str(source)]) == 0
    out = capsys.readouterr().out
    assert TRICKY_NAME in out
    assert "备注[/]" in out and "[bold]说明" in out
    assert main(["quarantine"]) == 0
    out = capsys.readouterr().out
    assert TRICKY_NAME in out and "abc[/]" in out
    assert main(["quarantine", "--file", TRICKY_NAME, "--format", "csv"]) == 0
    assert "abc[/]" in capsys.readouterr().out


def test_progress_descriptions_are_escaped(capsys) -> None:
    """The progress bar renders its description as markup: a file name must be escaped there too."""
    from rich.console import Console
    from rich.progress import Progress, TextColumn

    import readq.cli as cli

    console = Console(width=200, force_terminal=False)
    with Progress(TextColumn("[bold]{task.description}"), console=console) as progress:
        cli._callback(progress, "ingest")(f"{TRICKY_NAME}: reading", 0, 1)
        [task] = progress.tasks
        rendered = progress.columns[0].render(task)
    assert rendered.plain == f"ingest: {TRICKY_NAME}: reading"


def _fake_ingest(monkeypatch, results, *, failures: dict[str, str] | None = None) -> None:
    import readq.ingest

    monkeypatch.setattr(readq.ingest, "ingest_files", lambda *a, **k: results)
    monkeypatch.setattr(readq.ingest, "refresh_months", lambda *a, **k: failures or {})


def test_any_status_prints_and_warnings_follow_their_message(data_home: Home, tmp_path, monkeypatch, capsys) -> None:
    from pipelines.ingest.registry import DeliveryResult

    [path] = copy(["02_utf8_bom_抄表明细_2024-03_城西.csv"], tmp_path / "in")
    _fake_ingest(monkeypatch, [
        DeliveryResult(file="a.csv", kind="readings", period="2024-03", status="loaded", message="3 rows loaded",
                       warnings=["[red]only 10 % of the meters[/] of segment 0101 are the same", "second [/]"]),
        DeliveryResult(file="b.csv", status="partly superseded", message="m"),
        DeliveryResult(file="c.csv", status="something new", message="n [bold]"),
    ])
    assert main(["ingest", path]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("loaded a.csv: 3 rows loaded")
    assert lines[at + 1:at + 3] == ["  warning: [red]only 10 % of the meters[/] of segment 0101 are the same",
                                    "  warning: second [/]"]
    assert "partly superseded b.csv: m" in lines and "something new c.csv: n [bold]" in lines


def test_a_refresh_failure_or_an_internal_error_exits_1(data_home: Home, tmp_path, monkeypatch, capsys) -> None:
    from pipelines.ingest.registry import DeliveryResult

    [path] = copy(["02_utf8_bom_抄表明细_2024-03_城西.csv"], tmp_path / "in")
    _fake_ingest(monkeypatch, [DeliveryResult(file="a.csv", period="2024-03", status="loaded")],
                 failures={"publish": "OSError: disk full"})
    assert main(["ingest", path, "--json"]) == 1
    assert "the dashboards' snapshot could not be built: OSError: disk full" in capsys.readouterr().err
    import readq.ingest

    def boom(*args, **kwargs):
        raise RuntimeError("disk [on fire]")

    monkeypatch.setattr(readq.ingest, "ingest_files", boom)
    assert main(["ingest", path]) == 1
    assert "internal error: RuntimeError: disk [on fire]" in capsys.readouterr().err


# --- a data folder that cannot be used: exit 3, saying what is wrong ---------------------------------------


def test_a_data_folder_below_a_regular_file_is_not_writable(tmp_path, monkeypatch, capsys) -> None:
    """Home.ensure's mkdir fails (ENOTDIR) the same way for root and others: no traceback, exit 3."""
    [path] = copy(["02_utf8_bom_抄表明细_2024-03_城西.csv"], tmp_path / "in")
    (tmp_path / "a_file").write_text("x")
    monkeypatch.setenv("READQ_HOME", str(tmp_path / "a_file" / "data"))
    assert main(["ingest", path]) == 3
    err = capsys.readouterr().err
    assert f"the data folder {tmp_path / 'a_file' / 'data'} is not writable" in err
    assert "set READQ_HOME to a folder you can write" in err and "in use by another process" not in err
    assert main(["build"]) == 3


def test_a_warehouse_that_cannot_be_opened_is_not_reported_as_busy(data_home: Home, tmp_path, capsys) -> None:
    """DuckDB raises IOException for a path it cannot open as for a lock held elsewhere: only the lock is "busy"."""
    [path] = copy(["02_utf8_bom_抄表明细_2024-03_城西.csv"], tmp_path / "in")
    data_home.warehouse.mkdir()  # a folder where the database file should be
    assert main(["ingest", path]) == 3
    err = capsys.readouterr().err
    assert "cannot be used" in err and "Is a directory" in err and "in use by another process" not in err


def test_a_warehouse_locked_by_another_process_is_busy(data_home: Home, tmp_path, capsys) -> None:
    [path] = copy(["02_utf8_bom_抄表明细_2024-03_城西.csv"], tmp_path / "in")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
         "sys.stdin.read()", str(data_home.warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert main(["ingest", path]) == 3
        err = capsys.readouterr().err
        assert "is in use by another process" in err and "Conflicting lock" in err
        assert main(["quarantine"]) == 3  # a reader cannot open it while the writer holds it either
    finally:
        holder.communicate("")


def _drop_permission_override() -> None:
    """In a child process of root: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding set, so the
    program exec'd afterwards gets file permissions checked like anyone else's (chmod 0o555 means it)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _readq(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m readq.cli ARGS`, subject to file permissions even when the tests run as root."""
    return subprocess.run([sys.executable, "-m", "readq.cli", *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parents[1],
                          preexec_fn=_drop_permission_override if os.geteuid() == 0 else None)


def _read_only(root: Path) -> None:
    for p in [root, *root.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)


@pytest.fixture
def read_only_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Iterator[Home]:
    """A data folder whose warehouse holds three quarantined rows, then made read-only (restored afterwards).

    As root, chmod alone proves nothing (root writes anyway): the commands run in a child without root's
    permission override, and the fixture first checks that such a child really cannot write there."""
    probe = tmp_path / "probe"
    probe.mkdir()
    probe.chmod(0o555)
    try:
        trial = subprocess.run([sys.executable, "-c", f"open({str(probe / 'x')!r}, 'w')"], capture_output=True,
                               preexec_fn=_drop_permission_override if os.geteuid() == 0 else None)
    except subprocess.SubprocessError:
        pytest.skip("cannot drop root's permission override in this environment")
    if trial.returncode == 0:
        pytest.skip("a read-only folder is writable for this user here (permission checks are overridden)")
    h = Home(tmp_path / "ro_home").ensure()
    monkeypatch.setenv("READQ_HOME", str(h.root))
    monkeypatch.setenv("DAGSTER_HOME", str(h.dagster_home))
    paths = copy(["14_wrong_types_抄表明细_2024-03.csv"], tmp_path / "in")
    assert main(["ingest", *paths, "--json"]) == 0
    capsys.readouterr()
    _read_only(h.root)
    yield h
    for p in [tmp_path, *tmp_path.rglob("*")]:
        if p.is_dir():
            p.chmod(0o755)


def test_a_read_only_data_folder_is_reported_as_such(read_only_home: Home, tmp_path) -> None:
    [path] = copy(["02_utf8_bom_抄表明细_2024-03_城西.csv"], tmp_path / "more")
    done = _readq(["ingest", path], {})
    assert done.returncode == 3, done.stderr
    assert f"the data folder {read_only_home.root} is not writable (permission denied: " in done.stderr
    assert "set READQ_HOME to a folder you can write, or fix its permissions" in done.stderr
    assert "Traceback" not in done.stderr and "in use by another process" not in done.stderr


def test_quarantine_still_works_in_a_read_only_data_folder(read_only_home: Home) -> None:
    """`readq quarantine` opens the warehouse read-only: it needs no write access."""
    done = _readq(["quarantine", "--json"], {})
    assert done.returncode == 0, done.stderr
    assert [(r["row"], r["check"]) for r in json.loads(done.stdout)] == [
        (2, "cast:float"), (3, "cast:int"), (4, "code_table:read_status")]


def test_the_corpus_files_with_markup_and_formulas_print_and_export_safely(data_home: Home, tmp_path, capsys) -> None:
    markup, formula = "49_rich_markup_抄表明细_2024-03.csv", "50_formula_cells_抄表明细_2024-03.csv"
    paths = copy([markup, formula], tmp_path / "in")
    assert main(["ingest", *paths]) == 0
    assert "extra columns kept in raw: 备注[/], [bold]说明" in capsys.readouterr().out.replace("\n", "")
    assert main(["quarantine", "--file", formula, "--format", "csv"]) == 0
    exported = capsys.readouterr().out
    # the statuses a spreadsheet would run are exported with a leading ', never as formulas
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in exported and "'+1+2" in exported
    assert not any(line.split(",")[5].startswith(("=", "+", "@")) for line in exported.splitlines()[1:])


def test_a_warehouse_of_an_earlier_schema_is_refused_with_what_to_do(data_home: Home, tmp_path, capsys) -> None:
    data_home.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(data_home.warehouse)) as con:  # an earlier readq's registry: no schema_info
        con.execute("create schema ops; create table ops.deliveries (delivery_id varchar)")
    [path] = copy(["02_utf8_bom_抄表明细_2024-03_城西.csv"], tmp_path / "in")
    assert main(["ingest", path]) == 3
    said = capsys.readouterr().err.replace("\n", "")
    assert "has schema version 1, this readq needs 3" in said and "run `readq build`" in said
