"""Fixtures shared by the io tests: editing one cell of a written CSV."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

EditCell = Callable[[Path, int, str, str], Path]


def _edit_cell(path: Path, row: int, column: str, value: str) -> Path:
    """Set one cell (row as a spreadsheet numbers it: header = 1) of a written CSV."""
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[row - 1].split(",")
    cells[header.index(column)] = value
    lines[row - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def edit_cell() -> EditCell:
    """``edit_cell(path, row, column, value)``: rewrite one cell in place; returns the path."""
    return _edit_cell
