"""Score a CSV of photo pairs of a landmark table with a ``MatchModel``: ``ffmatch predict``."""

from __future__ import annotations

import os

import numpy as np

from ffmatch.core.errors import DataError
from ffmatch.core.io._cells import check_row_lengths, read_csv, write_csv
from ffmatch.core.table import PhotoTable
from ffmatch.matcher.model import MatchModel

PAIR_COLUMNS = ("photo_x", "photo_y")
ADDED_COLUMNS = ("probability", "match")


def predict_pairs(
    model: MatchModel,
    photos: PhotoTable,
    pairs_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
) -> int:
    """Write ``pairs_path``'s rows plus ``probability`` and ``match`` (1/0); return the count.

    ``pairs_path`` needs columns ``photo_x`` and ``photo_y`` (photo ids of ``photos``); any
    other columns are kept as they are. A pair whose photos share fewer than 3 markers gets
    empty ``probability`` and ``match`` cells.
    """
    source = str(pairs_path)
    header, rows, numbers = read_csv(pairs_path)
    check_row_lengths(rows, numbers, width=len(header), source=source)
    missing = [c for c in PAIR_COLUMNS if c not in header]
    if missing:
        raise DataError(
            f"{source}: expected columns photo_x and photo_y, found {', '.join(header)}"
        )
    clash = [c for c in ADDED_COLUMNS if c in header]
    if clash:
        raise DataError(f"{source}: column {clash[0]!r} would be overwritten; rename it")
    cx, cy = (header.index(c) for c in PAIR_COLUMNS)
    lookup = {str(p): i for i, p in enumerate(photos.photo_id)}
    index = np.empty((len(rows), 2), dtype=np.int64)
    for k, (row, number) in enumerate(zip(rows, numbers, strict=True)):
        for side, col in enumerate((cx, cy)):
            pid = row[col].strip()
            if pid not in lookup:
                raise DataError(
                    f"{source}: row {number}, column {header[col]}: photo {pid!r} is not in "
                    f"the landmark table {photos.source}"
                )
            index[k, side] = lookup[pid]
    proba = model.probability(photos.coords[index[:, 0]], photos.coords[index[:, 1]])
    out_rows = [
        [*row, "", ""]  # fewer than 3 markers in both photos: no score
        if np.isnan(p)
        else [*row, f"{p:.6f}", "1" if p > model.threshold else "0"]
        for row, p in zip(rows, proba, strict=True)
    ]
    write_csv(out_path, [*header, *ADDED_COLUMNS], out_rows)
    return len(rows)
