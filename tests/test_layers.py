"""Imports point down the layers: config -> checks -> warehouse -> pipelines -> dashboards and CLI
(docs/architecture.md). A module may import its own layer and the layers below it, never above."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
# package -> its layer (higher imports lower); `readq.config` is the config layer, the rest of
# `readq` (CLI, build, demo) sits on top beside the dashboards.
LAYERS = {"readq.config": 0, "checks": 1, "warehouse": 2, "pipelines": 3, "dashboards": 4, "readq": 4}


def layer_of(module: str) -> int | None:
    if module == "readq.config" or module.startswith("readq.config."):
        return LAYERS["readq.config"]
    return LAYERS.get(module.split(".")[0])


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module] if node.module != "readq" else [f"readq.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names]
    return found


def modules() -> list[Path]:
    return sorted(p for pkg in ("checks", "warehouse", "pipelines", "dashboards", "readq")
                  for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_point_down(path: Path) -> None:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    own = layer_of(module)
    upward = [m for m in imports(path) if (other := layer_of(m)) is not None and other > own]
    assert not upward, f"{module} (layer {own}) imports from a higher layer: {upward}"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from pipelines.ingest.deliver import ingest_path\n", encoding="utf-8")
    assert imports(bad) == ["pipelines.ingest.deliver"] and layer_of("pipelines.ingest.deliver") > LAYERS["checks"]
