"""Score a CSV of photo pairs of a landmark table with a ``MatchModel``: ``ffmatch predict``."""

from __future__ import annotations

import os

import numpy as np

from ffmatch.core.errors import DataError
from ffmatch.core.table import PhotoTable
from ffmatch.matcher.model import MatchModel
from ffmatch.matcher.pairs_file import read_pairs, write_pairs

ADDED_COLUMNS = ("probability", "match")


def predict_pairs(
    model: MatchModel,
    photos: PhotoTable,
    pairs_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
) -> int:
    """Write ``pairs_path``'s rows plus ``probability`` and ``match`` (1/0); return the count.

    ``pairs_path`` needs columns ``photo_x`` and ``photo_y`` (photo ids of ``photos``;
    ``ffmatch.matcher.pairs_file``); any other columns are kept as they are. A pair whose
    photos share fewer than 3 markers gets empty ``probability`` and ``match`` cells.
    """
    pairs = read_pairs(pairs_path, added=ADDED_COLUMNS)
    lookup = {str(p): i for i, p in enumerate(photos.photo_id)}
    index = np.empty((len(pairs.rows), 2), dtype=np.int64)
    for side, col in enumerate(("photo_x", "photo_y")):
        for k, (pid, number) in enumerate(zip(pairs.photos(col), pairs.numbers, strict=True)):
            if pid not in lookup:
                raise DataError(
                    f"{pairs.source}: row {number}, column {col}: photo {pid!r} is not in "
                    f"the landmark table {photos.source}"
                )
            index[k, side] = lookup[pid]
    proba = model.probability(photos.coords[index[:, 0]], photos.coords[index[:, 1]])
    cells = [
        ["", ""]  # fewer than 3 markers in both photos: no score
        if np.isnan(p)
        else [f"{p:.6f}", "1" if p > model.threshold else "0"]
        for p in proba
    ]
    write_pairs(pairs, ADDED_COLUMNS, cells, out_path)
    return len(pairs.rows)
