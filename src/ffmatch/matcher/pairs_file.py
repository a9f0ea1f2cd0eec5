"""The pairs CSV that ``ffmatch predict`` and ``ffmatch match --pairs`` both read and extend.

Columns ``photo_x`` and ``photo_y`` name the two photos of each pair (photo ids of a landmark
table for ``predict``, file names under ``--photos`` for ``match``); optional ``face_x`` and
``face_y`` choose a face (1 = leftmost) in photos of several people; every other column is
kept as it is. Scores are added as new columns, never over existing ones.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from ffmatch.core.errors import DataError
from ffmatch.core.io._cells import check_row_lengths, read_csv, write_csv

PAIR_COLUMNS = ("photo_x", "photo_y")
FACE_COLUMNS = ("face_x", "face_y")


@dataclass(frozen=True, kw_only=True, slots=True)
class PairsFile:
    """A pairs CSV: its header, rows (all columns kept) and each row's line number."""

    source: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numbers: tuple[int, ...]  # each row's line number, for messages

    def photos(self, column: str) -> list[str]:
        """The cells of ``photo_x`` or ``photo_y``, stripped."""
        k = self.header.index(column)
        return [row[k].strip() for row in self.rows]

    def distinct_photos(self) -> list[str]:
        """Every photo named in ``photo_x`` or ``photo_y``, once, in first-seen order."""
        return list(dict.fromkeys([*self.photos("photo_x"), *self.photos("photo_y")]))

    def faces(self, column: str) -> list[int | None]:
        """``face_x``/``face_y`` numbers (1 = leftmost); None where the column or cell is empty."""
        if column not in self.header:
            return [None] * len(self.rows)
        k = self.header.index(column)
        out: list[int | None] = []
        for row, n in zip(self.rows, self.numbers, strict=True):
            cell = row[k].strip()
            if not cell:
                out.append(None)
            elif cell.isdigit() and int(cell) >= 1:
                out.append(int(cell))
            else:
                raise DataError(
                    f"{self.source}: row {n}, column {column}: expected a face number from 1 "
                    f"(leftmost) or an empty cell, found {cell!r}"
                )
        return out


def read_pairs(path: str | os.PathLike[str], *, added: Sequence[str]) -> PairsFile:
    """Read a pairs CSV that will get the columns ``added``; DataError naming what is wrong."""
    source = str(path)
    header, rows, numbers = read_csv(path)
    missing = [c for c in PAIR_COLUMNS if c not in header]
    if missing:
        raise DataError(
            f"{source}: expected columns photo_x, photo_y (the two photos of each pair), found "
            f"{', '.join(header) or 'none'}"
        )
    clash = [c for c in added if c in header]
    if clash:
        raise DataError(f"{source}: column {clash[0]!r} would be overwritten by the scores; "
                        "rename it")  # fmt: skip
    check_row_lengths(rows, numbers, width=len(header), source=source)
    out = PairsFile(
        source=source,
        header=tuple(header),
        rows=tuple(tuple(r) for r in rows),
        numbers=tuple(numbers),
    )
    for col in PAIR_COLUMNS:
        for name, n in zip(out.photos(col), numbers, strict=True):
            if not name:
                raise DataError(f"{source}: row {n}, column {col}: expected a photo, found an "
                                "empty cell")  # fmt: skip
    for col in FACE_COLUMNS:
        out.faces(col)  # checked once, here
    return out


def write_pairs(
    pairs: PairsFile,
    added: Sequence[str],
    cells: Sequence[Sequence[str]],
    path: str | os.PathLike[str],
) -> None:
    """The pairs CSV with the ``added`` columns (one row of ``cells`` per pair), atomically."""
    rows = [[*row, *extra] for row, extra in zip(pairs.rows, cells, strict=True)]
    write_csv(path, [*pairs.header, *added], rows)
