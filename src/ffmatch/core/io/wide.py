"""The paper's two wide tables as CSV: one row per photo pair, read and written exactly.

FFM table (58 columns): ``image pairs`` (the pair's name, ``1-1 & 1-2``), the first photo's
28 coordinates ``1rtex-x, 1rtex-y, ..., 1me-y``, the second photo's ``2rtex-x, ..., 2me-y``
(markers in ``WIDE_ORDER``), then ``Outcome`` (1 match, 0 not). Distance table (184
columns): ``image pairs``, the 91 distances of the first photo ``101..191``, of the second
``201..291`` (``MARKER_PAIRS`` order), then ``Outcome``. These are the workbook's sheets
with the same headers, so a written table reads back to the same values and bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ffmatch.core.errors import DataError
from ffmatch.core.geometry import inter_marker_distances
from ffmatch.core.io._cells import (
    check_row_lengths,
    format_number,
    parse_block,
    parse_label,
    read_csv,
    write_csv,
)
from ffmatch.core.markers import N_DISTANCES, N_MARKERS, WIDE_ORDER, coordinate_columns
from ffmatch.core.table import ROLES, FloatArray, IntArray, PairTable, PhotoTable, StrArray

PAIR_COLUMN = "image pairs"
LABEL_COLUMN = "Outcome"
FFM_COLUMNS: tuple[str, ...] = (*coordinate_columns("1"), *coordinate_columns("2"))
"""The 56 coordinate columns of the wide FFM table (first photo, then second)."""
DISTANCE_COLUMNS: tuple[str, ...] = tuple(
    str(100 * photo + k + 1) for photo in (1, 2) for k in range(N_DISTANCES)
)
"""The 182 distance columns, numbered as in the workbook: ``101..191`` and ``201..291``."""

PAIR_SEPARATOR = " & "
# Paper-style photo ids: "<set>-<1|2|3>", the photo's position in its set of three (A, B, C).
_SET_PHOTO = re.compile(r"(?P<set>.+)-(?P<position>[123])")


@dataclass(frozen=True, kw_only=True, slots=True)
class DistanceTable:
    """The wide distance table: per pair, both photos' 91 inter-marker distances and a label.

    Attributes
    ----------
    name : (m,) str, pair names like ``1-1 & 1-2``.
    values : (m, 182) float64, the first photo's 91 distances then the second's, in pixels.
    label : (m,) int64, 1 match, 0 not.
    source : where the rows came from, for messages.
    """

    name: StrArray
    values: FloatArray
    label: IntArray
    source: str = "<memory>"

    def __post_init__(self) -> None:
        m = len(self.name)
        if self.values.shape != (m, 2 * N_DISTANCES) or self.label.shape != (m,):
            raise DataError(
                f"{self.source}: expected {m} names, ({m}, {2 * N_DISTANCES}) distances and "
                f"{m} labels, found {self.values.shape} and {self.label.shape}"
            )

    def __len__(self) -> int:
        return len(self.name)


def pair_distances(coords: FloatArray) -> FloatArray:
    """(m, 182) distances of (m, 2, 14, 2) pair coordinates, in ``DISTANCE_COLUMNS`` order."""
    per_photo = inter_marker_distances(coords.reshape(-1, N_MARKERS, 2))  # (2m, 91)
    return per_photo.reshape(len(coords), -1)


def distance_table(pairs: PairTable) -> DistanceTable:
    """The wide distance table of pairs: each photo's 91 Euclidean inter-marker distances."""
    coords = np.stack([pairs.photos.coords[pairs.first], pairs.photos.coords[pairs.second]], 1)
    return DistanceTable(
        name=pairs.name,
        values=pair_distances(coords),
        label=pairs.label,
        source=pairs.photos.source,
    )


def person_and_role(photo_id: str) -> tuple[str, str]:
    """Set and role of a paper-style photo id (``"3-2"`` is set ``"3"``, role B).

    Other ids carry no set: the photo is its own person and its role is unknown (``""``).
    """
    match = _SET_PHOTO.fullmatch(photo_id)
    if match is None:
        return photo_id, ""
    return match["set"], ROLES[int(match["position"]) - 1]


def split_pair_name(name: str, *, where: str) -> tuple[str, str]:
    """The two photo ids of a pair name ``"1-1 & 1-2"``."""
    parts = [p.strip() for p in name.split(PAIR_SEPARATOR)]
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        raise DataError(
            f"{where}: expected a pair name of two different photo ids like '1-1 & 1-2', "
            f"found {name!r}"
        )
    return parts[0], parts[1]


def pairs_from_wide(
    names: Sequence[str],
    coords: FloatArray,
    labels: IntArray,
    *,
    source: str,
    row_numbers: Sequence[int],
) -> PairTable:
    """Recover the photos of wide pair rows and check every copy of a photo agrees.

    ``coords`` is (m, 2, 14, 2): per row, the first and second photo's markers. Photos are
    numbered in order of first appearance; a pair's group is its first photo's set.
    """
    columns = np.asarray(FFM_COLUMNS).reshape(2, N_MARKERS, 2)
    index: dict[str, int] = {}  # photo id -> photo number, in order of first appearance
    copy_of: list[tuple[int, int]] = []  # photo number -> (row, side) of its first copy
    ends = np.empty((2, len(names)), dtype=np.int64)  # first and second photo of each row
    for r, name in enumerate(names):
        where = f"{source}: row {row_numbers[r]}, column {PAIR_COLUMN}"
        for side, photo in enumerate(split_pair_name(name, where=where)):
            if photo not in index:
                index[photo] = len(copy_of)
                copy_of.append((r, side))
            r0, side0 = copy_of[index[photo]]
            differ = coords[r, side] != coords[r0, side0]  # no NaN: wide tables need every marker
            if differ.any():
                m, axis = np.argwhere(differ)[0]
                raise DataError(
                    f"{source}: rows {row_numbers[r0]} and {row_numbers[r]} disagree on "
                    f"photo {photo!r}: column {columns[side0, m, axis]} is "
                    f"{format_number(coords[r0, side0, m, axis])} in row {row_numbers[r0]}, "
                    f"column {columns[side, m, axis]} is "
                    f"{format_number(coords[r, side, m, axis])} in row {row_numbers[r]}"
                )
            ends[side, r] = index[photo]
    photo_ids = list(index)
    persons, roles = zip(*map(person_and_role, photo_ids), strict=True) if index else ((), ())
    photos = PhotoTable(
        photo_id=np.array(photo_ids, dtype=str),
        person=np.array(persons, dtype=str),
        role=np.array(roles, dtype=str),
        coords=np.array([coords[r, side] for r, side in copy_of]).reshape(-1, N_MARKERS, 2),
        derived=np.zeros((len(photo_ids), N_MARKERS), dtype=bool),
        source=source,
    )
    return PairTable(
        photos=photos,
        first=ends[0],
        second=ends[1],
        label=np.asarray(labels, dtype=np.int64),
        group=photos.person[ends[0]],
        name=np.array(
            [f"{photo_ids[a]}{PAIR_SEPARATOR}{photo_ids[b]}" for a, b in ends.T], dtype=str
        ),
    )


def check_header(header: Sequence[str], expected: Sequence[str], *, source: str, what: str) -> None:
    """DataError naming the column count or the first header cell that differs."""
    if len(header) != len(expected):
        raise DataError(f"{source}: expected {len(expected)} columns ({what}), found {len(header)}")
    for k, (found, want) in enumerate(zip(header, expected, strict=True)):
        if found != want:
            raise DataError(f"{source}: column {k + 1}: expected header {want!r}, found {found!r}")


def _read_pair_rows(
    path: str | os.PathLike[str], columns: Sequence[str], *, what: str
) -> tuple[list[str], FloatArray, IntArray, list[int]]:
    """A wide table's pair names, (m, len(columns)) numbers, labels and file row numbers,
    with the header, row lengths, cells and labels checked."""
    source = str(path)
    header, rows, numbers = read_csv(path)
    expected = (PAIR_COLUMN, *columns, LABEL_COLUMN)
    check_header(header, expected, source=source, what=what)
    check_row_lengths(rows, numbers, width=len(expected), source=source)
    values = parse_block(
        [r[1:-1] for r in rows], columns=columns, row_numbers=numbers, source=source
    )
    labels = np.array(
        [
            parse_label(r[-1], where=f"{source}: row {n}, column {LABEL_COLUMN}")
            for r, n in zip(rows, numbers, strict=True)
        ],
        dtype=np.int64,
    )
    return [r[0].strip() for r in rows], values, labels, list(numbers)


def read_wide_ffms(path: str | os.PathLike[str]) -> PairTable:
    """The paper's wide FFM table (CSV): pairs over the photos recovered from the rows.

    All 56 coordinates are required (the paper's tables have every marker); a photo that
    appears in several rows must have the same coordinates in each.
    """
    source = str(path)
    names, coords, labels, numbers = _read_pair_rows(
        path, FFM_COLUMNS, what=f"{PAIR_COLUMN}, 56 coordinates 1rtex-x..2me-y, {LABEL_COLUMN}"
    )
    return pairs_from_wide(
        names,
        coords.reshape(len(names), 2, N_MARKERS, 2),
        labels,
        source=source,
        row_numbers=numbers,
    )


def write_wide_ffms(pairs: PairTable, path: str | os.PathLike[str]) -> None:
    """Write pairs as the paper's wide FFM table (atomically); every marker must be present."""
    photos = pairs.photos
    missing = photos.missing[np.union1d(pairs.first, pairs.second)]
    if missing.any():
        used = np.union1d(pairs.first, pairs.second)
        i, m = np.argwhere(missing)[0]
        raise DataError(
            f"{path}: the wide FFM table needs all {N_MARKERS} markers; photo "
            f"{str(photos.photo_id[used[i]])!r} lacks marker {WIDE_ORDER[m]}"
        )
    rows = []
    for a, b, label in zip(pairs.first, pairs.second, pairs.label, strict=True):
        name = f"{photos.photo_id[a]}{PAIR_SEPARATOR}{photos.photo_id[b]}"
        values = np.concatenate([photos.coords[a].ravel(), photos.coords[b].ravel()])
        rows.append([name, *(format_number(v) for v in values), str(int(label))])
    write_csv(path, (PAIR_COLUMN, *FFM_COLUMNS, LABEL_COLUMN), rows)


def read_wide_distances(path: str | os.PathLike[str]) -> DistanceTable:
    """The paper's wide distance table (CSV): 182 distances and a label per pair row."""
    source = str(path)
    names, values, labels, numbers = _read_pair_rows(
        path,
        DISTANCE_COLUMNS,
        what=f"{PAIR_COLUMN}, 182 distances 101..191 and 201..291, {LABEL_COLUMN}",
    )
    for name, n in zip(names, numbers, strict=True):
        split_pair_name(name, where=f"{source}: row {n}, column {PAIR_COLUMN}")
    negative = np.argwhere(values < 0)
    if len(negative):
        i, j = negative[0]
        raise DataError(
            f"{source}: row {numbers[i]}, column {DISTANCE_COLUMNS[j]}: expected a distance "
            f">= 0, found {format_number(values[i, j])}"
        )
    return DistanceTable(
        name=np.array(names, dtype=str),
        values=values,
        label=labels,
        source=source,
    )


def write_wide_distances(table: DistanceTable, path: str | os.PathLike[str]) -> None:
    """Write a distance table as the paper's wide CSV (atomically)."""
    if not np.isfinite(table.values).all():
        raise DataError(f"{path}: the wide distance table needs every distance; found NaN")
    rows = [
        [str(name), *(format_number(v) for v in values), str(int(label))]
        for name, values, label in zip(table.name, table.values, table.label, strict=True)
    ]
    write_csv(path, (PAIR_COLUMN, *DISTANCE_COLUMNS, LABEL_COLUMN), rows)
