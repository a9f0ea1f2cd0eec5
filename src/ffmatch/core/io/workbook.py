"""The paper's Excel workbook (``facial-features.xlsx``): its FFMs and distances sheets.

Sheet ``FFMs`` has one row per photo pair (``1-1 & 1-2``, ``1-2 & 1-3``, ``1-3 & 1-1``, ...):
the pair's name, 56 coordinates (as in ``wide.FFM_COLUMNS``) and ``Outcome``. Each photo
appears in two rows; the reader recovers the 36 photos (12 sets x A, B, C) and checks that
both copies agree. Sheet ``distances`` holds the same pairs' 182 inter-marker distances
(columns ``101..191``, ``201..291``) and ``outputs``; the reader checks them against the
distances of the FFMs sheet. Row numbers in messages are the spreadsheet's (header = 1).
"""

from __future__ import annotations

import logging
import math
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ffmatch.core.errors import DataError
from ffmatch.core.io._cells import format_number, parse_number
from ffmatch.core.io.wide import (
    DISTANCE_COLUMNS,
    FFM_COLUMNS,
    LABEL_COLUMN,
    PAIR_COLUMN,
    check_header,
    pair_distances,
    pairs_from_wide,
    split_pair_name,
)
from ffmatch.core.markers import MARKER_PAIRS, N_MARKERS, WIDE_ORDER
from ffmatch.core.pairs import paper_sets
from ffmatch.core.table import BoolArray, FloatArray, IntArray, PairTable

logger = logging.getLogger(__name__)

# pair_distances lives in wide (it defines the column order); kept importable from here.
__all__ = ["pair_distances", "read_workbook", "read_workbook_distances"]

FFM_SHEET = "FFMs"
DISTANCE_SHEET = "distances"
DISTANCE_LABEL_COLUMN = "outputs"  # the distances sheet's name for Outcome
# Relative tolerance of the distances-sheet check: the sheet stores 15 significant digits.
DISTANCE_RTOL = 1e-6


@dataclass(frozen=True, kw_only=True, slots=True)
class _Sheet:
    """One sheet's pair rows: names, numbers, labels, and spreadsheet row numbers."""

    names: list[str]
    values: FloatArray  # (m, k): the numeric columns between name and label
    labels: IntArray  # (m,)
    rows: list[int]
    source: str  # "file, sheet name", the prefix of every message


def read_workbook(path: str | os.PathLike[str], *, strict: bool = False) -> PairTable:
    """The FFMs sheet as pairs over its 36 recovered photos, checked against the distances.

    A distance that differs from the FFMs sheet's by more than ``DISTANCE_RTOL`` is logged
    as a warning naming the photo markers involved, or raised as DataError when ``strict``.
    (The published workbook has four such markers: see ``ffmatch.core.datasets.PAPER_ERRATA``.)
    """
    book = _open(path)
    try:
        ffms = _pair_sheet(book, FFM_SHEET, path, columns=FFM_COLUMNS, label=LABEL_COLUMN)
        distances = _pair_sheet(
            book, DISTANCE_SHEET, path, columns=DISTANCE_COLUMNS, label=DISTANCE_LABEL_COLUMN
        )
    finally:
        book.close()
    m = len(ffms.names)
    pairs = pairs_from_wide(
        ffms.names,
        ffms.values.reshape(m, 2, N_MARKERS, 2),
        ffms.labels,
        source=ffms.source,
        row_numbers=ffms.rows,
    )
    paper_sets(pairs.photos)  # the workbook is whole sets of three: A, B and C each
    _check_distances(pairs, ffms, distances, strict=strict)
    return pairs


def read_workbook_distances(path: str | os.PathLike[str]) -> FloatArray:
    """The distances sheet's (m, 182) values: first photo's 91, then the second's."""
    book = _open(path)
    try:
        sheet = _pair_sheet(
            book, DISTANCE_SHEET, path, columns=DISTANCE_COLUMNS, label=DISTANCE_LABEL_COLUMN
        )
    finally:
        book.close()
    return sheet.values


def _open(path: str | os.PathLike[str]) -> Any:
    """The workbook opened read-only (cached formula values); DataError if unreadable."""
    import openpyxl  # heavy import, only when a workbook is read
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: expected a workbook file, found a folder") from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise DataError(f"{path}: cannot read it as an Excel workbook (.xlsx): {err}") from None


def _pair_sheet(
    book: Any, name: str, path: str | os.PathLike[str], *, columns: Sequence[str], label: str
) -> _Sheet:
    """Read and validate one pair sheet: header, column count, numbers, labels, names."""
    if name not in book.sheetnames:
        found = ", ".join(repr(s) for s in book.sheetnames)
        raise DataError(f"{path}: expected a sheet named {name!r}, found sheets {found}")
    source = f"{path}, sheet {name}"
    table = [list(row) for row in book[name].iter_rows(min_row=1, values_only=True)]
    numbered = [(k + 1, row) for k, row in enumerate(table) if any(_filled(c) for c in row)]
    if not numbered:
        raise DataError(f"{source}: expected a header row, found an empty sheet")
    (_, header_cells), data = numbered[0], numbered[1:]
    header = [_header_text(c) for c in header_cells]
    while header and not header[-1]:
        header.pop()
    if header and not header[0]:
        header[0] = PAIR_COLUMN  # the distances sheet leaves the name column unnamed
    expected = (PAIR_COLUMN, *columns, label)
    check_header(
        header, expected, source=source, what=f"{PAIR_COLUMN}, {len(columns)} values, {label}"
    )
    width = len(expected)
    names, rows, labels = [], [], []
    values = np.empty((len(data), len(columns)), dtype=np.float64)
    for k, (number, cells) in enumerate(data):
        extra = [c for c in cells[width:] if _filled(c)]
        if extra:
            raise DataError(
                f"{source}: row {number}: expected {width} columns like the header, "
                f"found a value beyond them ({extra[0]!r})"
            )
        cells = cells[:width] + [None] * (width - len(cells))
        where = f"{source}: row {number}, column {PAIR_COLUMN}"
        pair = "" if cells[0] is None else str(cells[0]).strip()
        split_pair_name(pair, where=where)
        names.append(pair)
        for j, column in enumerate(columns):
            values[k, j] = _number(cells[j + 1], where=f"{source}: row {number}, column {column}")
        labels.append(_label(cells[-1], where=f"{source}: row {number}, column {label}"))
        rows.append(number)
    return _Sheet(
        names=names,
        values=values,
        labels=np.array(labels, dtype=np.int64),
        rows=rows,
        source=source,
    )


def _filled(cell: object) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _header_text(cell: object) -> str:
    """A header cell as text; the distances sheet numbers its columns (101.0 -> '101')."""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return "" if cell is None else str(cell).strip()


def _number(cell: object, *, where: str) -> float:
    """A numeric cell (Excel may also store numbers as text); no blanks, no NaN or inf."""
    if isinstance(cell, str):
        return parse_number(cell, where=where)
    if cell is None:
        raise DataError(f"{where}: expected a number, found an empty cell")
    if isinstance(cell, bool) or not isinstance(cell, int | float):
        raise DataError(f"{where}: expected a number, found {cell!r}")
    if not math.isfinite(cell):
        raise DataError(f"{where}: expected a finite number, found {cell!r}")
    return float(cell)


def _label(cell: object, *, where: str) -> int:
    """A label cell: exactly 0 or 1."""
    if isinstance(cell, int | float) and not isinstance(cell, bool) and cell in (0, 1):
        return int(cell)
    if isinstance(cell, str) and cell.strip() in ("0", "1"):
        return int(cell)
    found = "an empty cell" if cell is None else repr(cell)
    raise DataError(f"{where}: expected a label 0 or 1, found {found}")


def _check_distances(pairs: PairTable, ffms: _Sheet, sheet: _Sheet, *, strict: bool) -> None:
    """Compare the distances sheet with the FFMs sheet: same pairs, labels and distances."""
    if sheet.names != ffms.names:
        k = next(
            (k for k, (a, b) in enumerate(zip(sheet.names, ffms.names, strict=False)) if a != b),
            min(len(sheet.names), len(ffms.names)),
        )
        found = repr(sheet.names[k]) if k < len(sheet.names) else "no row"
        want = repr(ffms.names[k]) if k < len(ffms.names) else "no row"
        raise DataError(
            f"{sheet.source}: data row {k + 1}: expected pair {want} as in sheet "
            f"{FFM_SHEET}, found {found}"
        )
    bad_label = np.flatnonzero(sheet.labels != ffms.labels)
    if len(bad_label):
        k = int(bad_label[0])
        raise DataError(
            f"{sheet.source}: row {sheet.rows[k]}, column {DISTANCE_LABEL_COLUMN}: expected "
            f"{ffms.labels[k]} as in sheet {FFM_SHEET}, found {sheet.labels[k]}"
        )
    m = len(ffms.names)
    expected = pair_distances(ffms.values.reshape(m, 2, N_MARKERS, 2))
    bad = ~np.isclose(sheet.values, expected, rtol=DISTANCE_RTOL, atol=1e-9)
    if not bad.any():
        return
    k, j = np.argwhere(bad)[0]
    if strict:
        side, q = divmod(int(j), len(MARKER_PAIRS))
        a, b = MARKER_PAIRS[q]
        raise DataError(
            f"{sheet.source}: row {sheet.rows[k]}, column {DISTANCE_COLUMNS[j]}: expected "
            f"{format_number(round(float(expected[k, j]), 6))} (the distance "
            f"{side + 1}{WIDE_ORDER[a]} to {side + 1}{WIDE_ORDER[b]} in sheet {FFM_SHEET}), "
            f"found {format_number(float(sheet.values[k, j]))}"
        )
    suspects = _suspect_markers(pairs, bad)
    logger.warning(
        "%s: %d distances disagree with sheet %s; they imply other coordinates for %s; "
        "using sheet %s as published",
        sheet.source,
        int(bad.sum()),
        FFM_SHEET,
        ", ".join(f"photo {p} {m}" for p, m in suspects),
        FFM_SHEET,
    )


def _suspect_markers(pairs: PairTable, bad: BoolArray) -> list[tuple[str, str]]:
    """The fewest (photo, marker)s that explain the disagreeing distances, greedily chosen."""
    suspects: dict[tuple[str, str], None] = {}
    n = len(MARKER_PAIRS)
    for k, side in np.argwhere(bad.reshape(len(bad), 2, n).any(axis=2)):
        photo = str(pairs.photos.photo_id[(pairs.first, pairs.second)[side][k]])
        left = {MARKER_PAIRS[j] for j in np.flatnonzero(bad[k, side * n : (side + 1) * n])}
        while left:
            counts = np.bincount([m for pair in left for m in pair], minlength=N_MARKERS)
            worst = int(counts.argmax())
            suspects.setdefault((photo, WIDE_ORDER[worst]))
            left = {pair for pair in left if worst not in pair}
    return list(suspects)
