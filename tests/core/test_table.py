"""PhotoTable's plausibility checks: coordinates in range, no photo without a shape."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ffmatch.core.errors import DataError
from ffmatch.core.io.tidy import read_tidy, write_tidy
from ffmatch.core.table import PhotoTable, check_faces


def _with(photos: PhotoTable, coords: np.ndarray) -> PhotoTable:
    return PhotoTable(photo_id=photos.photo_id, person=photos.person, role=photos.role,
                      coords=coords, derived=photos.derived, source="t.csv")  # fmt: skip


@pytest.mark.parametrize("value", [1e308, -2e8])
def test_an_implausible_coordinate_names_photo_and_column(
    make_photos: Callable[..., PhotoTable], value: float
) -> None:
    photos = make_photos(1)
    coords = photos.coords.copy()
    coords[1, 2, 1] = value
    found = re.escape(repr(value))
    message = r"t.csv: photo '1-2', column lten_y: expected a pixel coordinate within \+-1"
    with pytest.raises(DataError, match=rf"{message}00000000, found {found}"):
        _with(photos, coords)


def test_a_photo_with_all_markers_at_one_point_is_refused_by_readers(
    make_photos: Callable[..., PhotoTable], tmp_path: Path
) -> None:
    photos = make_photos(1)
    coords = photos.coords.copy()
    coords[2] = 5.0
    flat = _with(photos, coords)  # in memory: allowed (placeholders)
    with pytest.raises(DataError, match=r"photo '1-3': all its markers are at one point"):
        check_faces(flat)
    write_tidy(flat, tmp_path / "flat.csv")
    with pytest.raises(DataError, match=r"flat.csv: photo '1-3': all its markers are at one"):
        read_tidy(tmp_path / "flat.csv")
