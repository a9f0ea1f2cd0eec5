"""The tidy landmark CSV for users' own data: one row per photo, columns in any order.

Columns: ``photo_id`` and ``person`` (required), ``role`` (optional: ``A``, ``B``, ``C`` or
empty), ``{abbr}_x, {abbr}_y`` for each of the 14 markers (``rtex_x``, ..., ``me_y``;
pixels, origin top-left), and optionally ``derived`` (the abbreviations of markers that
were derived rather than marked, separated by spaces). An empty marker pair is a missing
marker. Written files put the columns in that order, markers in ``WIDE_ORDER``.

Tables extracted from photos add two optional blocks, each all-or-nothing: the per-face
values ``QUALITY_COLUMNS`` (face box, eye distance, yaw, pitch, mouth) and the appearance
descriptor ``desc_000`` ... ``desc_127``; empty cells where a photo has no face.
"""

from __future__ import annotations

import difflib
import os

import numpy as np

from ffmatch.core.errors import DataError
from ffmatch.core.io._cells import (
    check_row_lengths,
    format_number,
    parse_block,
    read_csv,
    write_csv,
)
from ffmatch.core.markers import N_MARKERS, WIDE_ORDER
from ffmatch.core.table import (
    DESCRIPTOR_SIZE,
    QUALITY_COLUMNS,
    ROLES,
    FloatArray,
    PhotoTable,
    check_faces,
)

ID_COLUMNS = ("photo_id", "person")
ROLE_COLUMN = "role"
DERIVED_COLUMN = "derived"
MARKER_COLUMNS: tuple[str, ...] = tuple(f"{a}_{axis}" for a in WIDE_ORDER for axis in "xy")
"""The 28 coordinate columns, in ``WIDE_ORDER``."""
DESCRIPTOR_COLUMNS: tuple[str, ...] = tuple(f"desc_{k:03d}" for k in range(DESCRIPTOR_SIZE))
"""The 128 appearance-descriptor columns (optional; photos read by ``landmarks extract``)."""


def read_tidy(path: str | os.PathLike[str], *, allow_missing: bool = True) -> PhotoTable:
    """The photos of a tidy landmark CSV; ``allow_missing=False`` requires all 14 markers."""
    source = str(path)
    header, rows, numbers = read_csv(path)
    column = _columns(header, source)
    check_row_lengths(rows, numbers, width=len(header), source=source)

    def cells(name: str) -> list[str]:
        return [row[column[name]].strip() for row in rows] if name in column else [""] * len(rows)

    photo_id, person, role = cells("photo_id"), cells("person"), cells(ROLE_COLUMN)
    _check_ids(photo_id, person, role, numbers, source)
    coords = parse_block(
        [[row[column[c]] for c in MARKER_COLUMNS] for row in rows],
        columns=MARKER_COLUMNS,
        row_numbers=numbers,
        source=source,
        allow_empty=True,
    ).reshape(len(rows), N_MARKERS, 2)
    _check_pairs_of_cells(coords, numbers, source, allow_missing=allow_missing)
    derived = np.array(
        [_derived(text, where=f"{source}: row {n}, column {DERIVED_COLUMN}")
         for text, n in zip(cells(DERIVED_COLUMN), numbers, strict=True)],
        dtype=bool,
    ).reshape(len(rows), N_MARKERS)  # fmt: skip

    def block(names: tuple[str, ...]) -> FloatArray | None:
        if names[0] not in column:
            return None
        return parse_block([[row[column[c]] for c in names] for row in rows], columns=names,
                           row_numbers=numbers, source=source, allow_empty=True)  # fmt: skip

    descriptors = block(DESCRIPTOR_COLUMNS)
    table = PhotoTable(
        photo_id=np.array(photo_id, dtype=str),
        person=np.array(person, dtype=str),
        role=np.array(role, dtype=str),
        coords=coords,
        derived=derived,
        source=source,
        descriptors=None if descriptors is None else descriptors.astype(np.float32),
        quality=block(QUALITY_COLUMNS),
    )
    return check_faces(table)


def write_tidy(table: PhotoTable, path: str | os.PathLike[str]) -> None:
    """Write photos as a tidy CSV (atomically); ``derived`` only if some marker is derived."""
    header = [*ID_COLUMNS, ROLE_COLUMN, *MARKER_COLUMNS]
    with_derived = bool(table.derived.any())
    if with_derived:
        header.append(DERIVED_COLUMN)
    if table.quality is not None:
        header += QUALITY_COLUMNS
    if table.descriptors is not None:
        header += DESCRIPTOR_COLUMNS
    rows = []
    for k in range(len(table)):
        row = [str(table.photo_id[k]), str(table.person[k]), str(table.role[k])]
        row += [format_number(v) for v in table.coords[k].ravel()]
        if with_derived:
            row.append(" ".join(a for a, d in zip(WIDE_ORDER, table.derived[k], strict=True) if d))
        if table.quality is not None:
            row += [format_number(v) for v in table.quality[k]]
        if table.descriptors is not None:  # shortest text that reads back to the same float32
            row += ["" if np.isnan(v) else np.format_float_positional(v, trim="-")
                    for v in table.descriptors[k]]  # fmt: skip
        rows.append(row)
    write_csv(path, header, rows)


def _columns(header: list[str], source: str) -> dict[str, int]:
    """Column name -> index; DataError for unknown, duplicate or missing columns."""
    known = (*ID_COLUMNS, ROLE_COLUMN, *MARKER_COLUMNS, DERIVED_COLUMN, *QUALITY_COLUMNS,
             *DESCRIPTOR_COLUMNS)  # fmt: skip
    column: dict[str, int] = {}
    for k, name in enumerate(header):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DataError(
                f"{source}: column {k + 1}: unknown column {name!r}{hint}; expected photo_id, "
                "person, role, {marker}_x, {marker}_y for the 14 markers, derived"
            )
        if name in column:
            raise DataError(f"{source}: column {k + 1}: column {name!r} appears twice")
        column[name] = k
    missing = [name for name in (*ID_COLUMNS, *MARKER_COLUMNS) if name not in column]
    if missing:
        raise DataError(f"{source}: expected columns {', '.join(missing)}, found none of them")
    for names, what in ((QUALITY_COLUMNS, "face values"), (DESCRIPTOR_COLUMNS, "descriptor")):
        present = [c for c in names if c in column]
        if present and len(present) < len(names):
            lacking = [c for c in names if c not in column]
            raise DataError(
                f"{source}: the {what} columns come all together or not at all; found "
                f"{present[0]} but not {lacking[0]}"
            )
    return column


def _check_ids(
    photo_id: list[str], person: list[str], role: list[str], numbers: list[int], source: str
) -> None:
    """Non-empty, unique photo ids; non-empty persons; roles A, B, C or empty."""
    first: dict[str, int] = {}
    for pid, who, r, n in zip(photo_id, person, role, numbers, strict=True):
        if not pid:
            raise DataError(
                f"{source}: row {n}, column photo_id: expected an id, found an empty cell"
            )
        if pid in first:
            raise DataError(
                f"{source}: row {n}, column photo_id: duplicate photo id {pid!r} "
                f"(first in row {first[pid]}); each photo must appear once"
            )
        first[pid] = n
        if not who:
            raise DataError(
                f"{source}: row {n}, column person: expected an id, found an empty cell"
            )
        if r and r not in ROLES:
            raise DataError(
                f"{source}: row {n}, column {ROLE_COLUMN}: expected A, B, C or empty, found {r!r}"
            )


def _check_pairs_of_cells(
    coords: FloatArray, numbers: list[int], source: str, *, allow_missing: bool
) -> None:
    """A marker is both coordinates or neither; with ``allow_missing=False``, always both."""
    nan = np.isnan(coords)  # (n, 14, 2)
    half = np.argwhere(nan[..., 0] != nan[..., 1])
    if len(half):
        i, m = half[0]
        empty = MARKER_COLUMNS[2 * m + (0 if nan[i, m, 0] else 1)]
        raise DataError(
            f"{source}: row {numbers[i]}, column {empty}: expected a number, found an empty "
            f"cell; give both coordinates of marker {WIDE_ORDER[m]} or neither"
        )
    if not allow_missing and nan.any():
        i, m = np.argwhere(nan[..., 0])[0]
        raise DataError(
            f"{source}: row {numbers[i]}, columns {WIDE_ORDER[m]}_x, {WIDE_ORDER[m]}_y: "
            f"expected a marker, found empty cells; this use needs all {N_MARKERS} markers"
        )


def _derived(text: str, *, where: str) -> list[bool]:
    """Flags from a ``derived`` cell such as ``"nas sm pg"``."""
    names = text.replace(",", " ").replace(";", " ").split()
    unknown = [n for n in names if n not in WIDE_ORDER]
    if unknown:
        raise DataError(
            f"{where}: expected marker abbreviations ({' '.join(WIDE_ORDER)}), found {unknown[0]!r}"
        )
    return [a in names for a in WIDE_ORDER]
