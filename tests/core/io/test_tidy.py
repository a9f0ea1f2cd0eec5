"""The tidy landmark CSV: round trips, any column order, missing markers, bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ffmatch.core.errors import DataError
from ffmatch.core.io.tidy import MARKER_COLUMNS, read_tidy, write_tidy
from ffmatch.core.table import DESCRIPTOR_SIZE, QUALITY_COLUMNS, PhotoTable


def _with(
    photos: PhotoTable,
    *,
    coords: np.ndarray | None = None,
    derived: np.ndarray | None = None,
    role: list[str] | None = None,
) -> PhotoTable:
    return PhotoTable(
        photo_id=photos.photo_id,
        person=photos.person,
        role=np.array(role, dtype=str) if role is not None else photos.role,
        coords=photos.coords if coords is None else coords,
        derived=photos.derived if derived is None else derived,
    )


def _assert_same(a: PhotoTable, b: PhotoTable) -> None:
    assert a.photo_id.tolist() == b.photo_id.tolist()
    assert a.person.tolist() == b.person.tolist()
    assert a.role.tolist() == b.role.tolist()
    np.testing.assert_array_equal(a.coords, b.coords)  # NaN == NaN here
    np.testing.assert_array_equal(a.derived, b.derived)


def test_round_trip_with_missing_and_derived_markers(
    tmp_path: Path, tiny_photos: PhotoTable
) -> None:
    coords = tiny_photos.coords / 3
    coords[2, 5] = np.nan  # photo 1-3 lacks sn
    derived = np.zeros_like(tiny_photos.derived)
    derived[:, 4] = True  # nas derived everywhere
    photos = _with(tiny_photos, coords=coords, derived=derived, role=["A", "B", "C", "", "", ""])
    path = tmp_path / "photos.csv"
    write_tidy(photos, path)
    back = read_tidy(path)
    _assert_same(back, photos)
    again = tmp_path / "again.csv"
    write_tidy(back, again)
    assert again.read_bytes() == path.read_bytes()
    lines = path.read_text().splitlines()
    assert lines[0].startswith("photo_id,person,role,rtex_x,rtex_y,rten_x")
    assert lines[0].endswith(",me_x,me_y,derived")
    assert lines[3].split(",")[3 + 2 * 5 : 5 + 2 * 5] == ["", ""]


def test_columns_in_any_order_and_role_optional(tmp_path: Path, tiny_photos: PhotoTable) -> None:
    path = tmp_path / "p.csv"
    write_tidy(tiny_photos, path)
    rows = [line.split(",") for line in path.read_text().splitlines()]
    order = list(reversed(range(len(rows[0]))))
    order.remove(2)  # drop the role column
    path.write_text("\n".join(",".join(r[k] for k in order) for r in rows) + "\n")
    back = read_tidy(path)
    assert back.role.tolist() == [""] * 6
    np.testing.assert_array_equal(back.coords, tiny_photos.coords)


@pytest.fixture
def tidy_csv(tmp_path: Path, tiny_photos: PhotoTable) -> Path:
    path = tmp_path / "ffm.csv"
    write_tidy(tiny_photos, path)
    return path


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        (7, "ltex_y", "n/a", r"ffm.csv: row 7, column ltex_y: expected a number, found 'n/a'"),
        (3, "sn_x", "inf", r"row 3, column sn_x: expected a finite number, found 'inf'"),
        (3, "sn_x", "NaN", r"row 3, column sn_x: expected a finite number, found 'NaN'"),
        (
            4,
            "sn_y",
            "",
            r"row 4, column sn_y: expected a number, found an empty cell; give "
            r"both coordinates of marker sn or neither",
        ),
        (
            5,
            "photo_id",
            "1-1",
            r"row 5, column photo_id: duplicate photo id '1-1' \(first in "
            r"row 2\)",
        ),
        (5, "photo_id", "", r"row 5, column photo_id: expected an id, found an empty cell"),
        (5, "person", "", r"row 5, column person: expected an id, found an empty cell"),
        (6, "role", "D", r"row 6, column role: expected A, B, C or empty, found 'D'"),
    ],
)
def test_bad_cells(
    edit_cell: Callable[[Path, int, str, str], Path],
    tidy_csv: Path,
    row: int,
    column: str,
    value: str,
    message: str,
) -> None:
    with pytest.raises(DataError, match=message):
        read_tidy(edit_cell(tidy_csv, row, column, value))


def test_missing_marker_refused_when_all_are_needed(
    edit_cell: Callable[[Path, int, str, str], Path], tidy_csv: Path
) -> None:
    edit_cell(edit_cell(tidy_csv, 4, "li_x", ""), 4, "li_y", "")
    assert read_tidy(tidy_csv).missing[2].tolist() == [m == 10 for m in range(14)]
    with pytest.raises(
        DataError,
        match=r"row 4, columns li_x, li_y: expected a marker, found "
        r"empty cells; this use needs all 14 markers",
    ):
        read_tidy(tidy_csv, allow_missing=False)


def test_header_problems(tidy_csv: Path) -> None:
    text = tidy_csv.read_text()
    tidy_csv.write_text(text.replace("ltex_y", "ltex_Y", 1))
    with pytest.raises(DataError, match=r"unknown column 'ltex_Y' \(did you mean 'ltex_y'\?\)"):
        read_tidy(tidy_csv)
    tidy_csv.write_text(text.replace("ltex_y", "ltex_x", 1))
    with pytest.raises(DataError, match=r"column 'ltex_x' appears twice"):
        read_tidy(tidy_csv)
    lines = [",".join(c for c in line.split(",")[:-2]) for line in text.splitlines()]
    tidy_csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"expected columns me_x, me_y, found none of them"):
        read_tidy(tidy_csv)


def test_derived_cell_must_name_markers(
    edit_cell: Callable[[Path, int, str, str], Path], tmp_path: Path, tiny_photos: PhotoTable
) -> None:
    derived = np.zeros_like(tiny_photos.derived)
    derived[0, 0] = True
    path = tmp_path / "ffm.csv"
    write_tidy(_with(tiny_photos, derived=derived), path)
    with pytest.raises(
        DataError,
        match=r"row 3, column derived: expected marker abbreviations "
        r".*found 'nose'",
    ):
        read_tidy(edit_cell(path, 3, "derived", "nas nose"))


def test_marker_columns() -> None:
    assert MARKER_COLUMNS[:4] == ("rtex_x", "rtex_y", "rten_x", "rten_y")
    assert len(MARKER_COLUMNS) == 28


def _with_face_values(photos: PhotoTable) -> PhotoTable:
    """``photos`` plus quality values and descriptors; the last photo has no face (NaN)."""
    rng = np.random.default_rng(3)
    n = len(photos)
    quality = rng.uniform(0, 100, size=(n, len(QUALITY_COLUMNS))).round(2)
    descriptors = rng.normal(0, 0.1, size=(n, DESCRIPTOR_SIZE)).astype(np.float32)
    quality[-1] = np.nan
    descriptors[-1] = np.nan
    return PhotoTable(photo_id=photos.photo_id, person=photos.person, role=photos.role,
                      coords=photos.coords, derived=photos.derived, quality=quality,
                      descriptors=descriptors)  # fmt: skip


def test_round_trip_with_face_values_and_descriptors(
    tmp_path: Path, tiny_photos: PhotoTable
) -> None:
    photos = _with_face_values(tiny_photos)
    path = tmp_path / "photos.csv"
    write_tidy(photos, path)
    header = path.read_text().splitlines()[0].split(",")
    assert header[-DESCRIPTOR_SIZE - len(QUALITY_COLUMNS)] == "face_left"
    assert header[-1] == "desc_127"
    back = read_tidy(path)
    _assert_same(back, photos)
    assert back.quality is not None
    assert back.descriptors is not None
    np.testing.assert_array_equal(back.quality, photos.quality)
    assert back.descriptors.dtype == np.float32
    np.testing.assert_array_equal(back.descriptors, photos.descriptors)  # float32 exactly
    assert back.subset([0]).descriptors.shape == (1, DESCRIPTOR_SIZE)  # type: ignore[union-attr]


def test_tables_without_face_values_have_none(tidy_csv: Path) -> None:
    back = read_tidy(tidy_csv)
    assert back.quality is None
    assert back.descriptors is None


def test_face_value_blocks_come_whole(tmp_path: Path, tiny_photos: PhotoTable) -> None:
    path = tmp_path / "photos.csv"
    write_tidy(_with_face_values(tiny_photos), path)
    lines = [line.split(",") for line in path.read_text().splitlines()]
    cut = [row[:-1] for row in lines]  # drop desc_127
    path.write_text("\n".join(",".join(r) for r in cut) + "\n")
    with pytest.raises(DataError, match=r"descriptor columns come all together.*desc_127"):
        read_tidy(path)


def test_descriptor_block_shape_checked(tiny_photos: PhotoTable) -> None:
    with pytest.raises(DataError, match=r"expected descriptors of shape \(6, 128\)"):
        PhotoTable(photo_id=tiny_photos.photo_id, person=tiny_photos.person,
                   role=tiny_photos.role, coords=tiny_photos.coords,
                   derived=tiny_photos.derived,
                   descriptors=np.zeros((6, 5), dtype=np.float32))  # fmt: skip
