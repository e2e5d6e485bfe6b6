"""Shared fixtures: every test gets its own data folder (READQ_HOME) and Dagster home."""

from __future__ import annotations

from pathlib import Path

import pytest

from readq.config import Home


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    h = Home(tmp_path / "readq_home").ensure()
    monkeypatch.setenv("READQ_HOME", str(h.root))
    monkeypatch.setenv("DAGSTER_HOME", str(h.dagster_home))
    return h
