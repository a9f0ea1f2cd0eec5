"""Imports flow down: the core imports nothing above it; the products nothing from the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "ffmatch"
ABOVE = {
    "core": {"paper", "matcher", "benchmark", "archive", "web", "cli"},
    "paper": {"benchmark", "archive", "web", "cli"},
    "matcher": {"benchmark", "archive", "web", "cli"},
}


def _imported_layers(path: Path) -> set[tuple[str, int]]:
    """(layer, line) of every ``ffmatch.<layer>`` import in ``path``, inside functions too."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "ffmatch" and len(parts) > 1:
                out.add((parts[1], node.lineno))
    return out


@pytest.mark.parametrize("layer", sorted(ABOVE))
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    found = [
        f"{path.relative_to(SRC)}:{line} imports ffmatch.{name}"
        for path in sorted((SRC / layer).rglob("*.py"))
        for name, line in sorted(_imported_layers(path))
        if name in ABOVE[layer]
    ]
    assert found == []


def test_the_scan_sees_imports_inside_functions(tmp_path: Path) -> None:
    code = "def f():\n    from ffmatch.cli import app\n\nimport ffmatch.core.table\n"
    (tmp_path / "m.py").write_text(code)
    assert _imported_layers(tmp_path / "m.py") == {("cli", 2), ("core", 4)}
