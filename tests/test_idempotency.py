"""The same exports give the same marts: ingested in another file order, or all of them twice over, a demo
centre's warehouse and its published snapshot hold marts with equal checksums (warehouse/checksums.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from readq.config import Home
from readq.demo import generate_demo
from readq.ingest import ingest_files, refresh_months
from warehouse.checksums import mart_checksums, published_checksums
from warehouse.connection import connect

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A small demo centre's export files, three months (a month's history and rotation reach back)."""
    folder = tmp_path_factory.mktemp("exports")
    generate_demo(folder / "files", folder / "truth", customers=400, months=3, end_month="2026-10")
    return sorted((folder / "files").rglob("*.*"))


def build(root: Path, *batches: list[Path]) -> tuple[Home, list[list[str]]]:
    """A new data folder; each batch of files ingested in the order given (copies: the originals stay), then
    every month built and published; the data folder and each batch's delivery statuses."""
    h = Home(root).ensure()
    statuses = []
    for i, batch in enumerate(batches):
        inbox = root / f"inbox{i}"
        inbox.mkdir()
        copies = []
        for path in batch:
            copy = inbox / f"{len(copies):03d}" / path.name     # the file's own name, in the batch's order
            copy.parent.mkdir()
            shutil.copy(path, copy)
            copies.append(copy)
        statuses.append([r.status for r in ingest_files(h, copies)])
    assert refresh_months(h) == {}
    return h, statuses


def checksums(h: Home) -> tuple[dict, dict]:
    with connect(h.warehouse, read_only=True) as conn:
        warehouse = mart_checksums(conn)
    with duckdb.connect(str(h.published), read_only=True) as snap:
        published = published_checksums(snap)
    return warehouse, published


def test_file_order_and_a_second_delivery_change_no_mart(exports: list[Path], tmp_path: Path) -> None:
    once, _ = build(tmp_path / "sorted", exports)
    reverse, _ = build(tmp_path / "reversed", exports[::-1])
    twice, (first, second) = build(tmp_path / "twice", exports, exports[::-1])
    expected_warehouse, expected_published = checksums(once)
    assert sum(n for months in expected_warehouse.values() for n, _ in months.values()) > 0
    assert {p for months in expected_warehouse.values() for p in months} == {"2026-08", "2026-09", "2026-10"}
    for other in (reverse, twice):
        warehouse, published = checksums(other)
        differ = sorted(m for m in expected_warehouse if warehouse.get(m) != expected_warehouse[m])
        assert not differ, f"{other.root.name}: marts that differ from the sorted load: {differ}"
        assert published == expected_published
    # the second batch: every file delivered before is a duplicate (a header-only file is rejected again)
    assert "duplicate" in second and all(s in ("duplicate", "rejected") for s in second)
    assert second.count("rejected") == first.count("rejected")
