"""The paper's wide CSV tables: exact round trips and one clear message per kind of bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ffmatch.core.errors import DataError
from ffmatch.core.io.wide import (
    DISTANCE_COLUMNS,
    FFM_COLUMNS,
    DistanceTable,
    distance_table,
    person_and_role,
    read_wide_distances,
    read_wide_ffms,
    write_wide_distances,
    write_wide_ffms,
)
from ffmatch.core.pairs import paper_pairs
from ffmatch.core.table import PairTable, PhotoTable


@pytest.fixture
def ffm_csv(tmp_path: Path, tiny_photos: PhotoTable) -> Path:
    path = tmp_path / "ffm.csv"
    write_wide_ffms(paper_pairs(tiny_photos), path)
    return path


def test_ffm_round_trip_values_and_bytes(ffm_csv: Path, tiny_photos: PhotoTable) -> None:
    pairs = read_wide_ffms(ffm_csv)
    expected = paper_pairs(tiny_photos)
    assert pairs.name.tolist() == ["1-1 & 1-2", "1-2 & 1-3", "1-3 & 1-1",
                                   "2-1 & 2-2", "2-2 & 2-3", "2-3 & 2-1"]  # fmt: skip
    assert pairs.label.tolist() == [1, 0, 0, 1, 0, 0]
    assert pairs.group.tolist() == ["1"] * 3 + ["2"] * 3
    np.testing.assert_array_equal(pairs.photos.coords, expected.photos.coords)
    assert pairs.photos.role.tolist() == ["A", "B", "C"] * 2
    again = ffm_csv.with_name("again.csv")
    write_wide_ffms(pairs, again)
    assert again.read_bytes() == ffm_csv.read_bytes()


def test_ffm_header_is_the_workbooks(ffm_csv: Path) -> None:
    header = ffm_csv.read_text().splitlines()[0].split(",")
    assert header[:3] == ["image pairs", "1rtex-x", "1rtex-y"]
    assert header[-3:] == ["2me-x", "2me-y", "Outcome"]
    assert len(header) == 58


def test_non_integer_coordinates_round_trip_exactly(
    tmp_path: Path, make_photos: Callable[..., PhotoTable]
) -> None:
    photos = make_photos(1)
    coords = photos.coords / 7.0  # repeating binary fractions
    coords[0, :4, 0] = [1e-300, 12345678.9, -0.1, 99_999_999.75]  # tiny, long, negative, large
    odd = PhotoTable(
        photo_id=photos.photo_id,
        person=photos.person,
        role=photos.role,
        coords=coords,
        derived=photos.derived,
    )
    path = tmp_path / "ffm.csv"
    write_wide_ffms(paper_pairs(odd), path)
    np.testing.assert_array_equal(read_wide_ffms(path).photos.coords, coords)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("n/a", r"ffm.csv: row 3, column 1ltex-y: expected a number, found 'n/a'"),
        ("", r"ffm.csv: row 3, column 1ltex-y: expected a number, found an empty cell"),
        ("nan", r"ffm.csv: row 3, column 1ltex-y: expected a finite number, found 'nan'"),
        ("inf", r"ffm.csv: row 3, column 1ltex-y: expected a finite number, found 'inf'"),
        ("1e999", r"ffm.csv: row 3, column 1ltex-y: expected a finite number, found '1e999'"),
    ],
)
def test_bad_cells_name_row_and_column(
    edit_cell: Callable[[Path, int, str, str], Path], ffm_csv: Path, value: str, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        read_wide_ffms(edit_cell(ffm_csv, 3, "1ltex-y", value))


@pytest.mark.parametrize("value", ["2", "-1", "yes", "0.5", ""])
def test_label_must_be_0_or_1(
    edit_cell: Callable[[Path, int, str, str], Path], ffm_csv: Path, value: str
) -> None:
    with pytest.raises(DataError, match=r"row 4, column Outcome: expected a label 0 or 1"):
        read_wide_ffms(edit_cell(ffm_csv, 4, "Outcome", value))


def test_a_photo_must_agree_across_its_rows(
    edit_cell: Callable[[Path, int, str, str], Path], ffm_csv: Path
) -> None:
    # Photo 1-1 is the first photo of row 2 and the second photo of row 4.
    with pytest.raises(
        DataError,
        match=r"rows 2 and 4 disagree on photo '1-1': column 1sn-y is \d+ in row 2, "
        r"column 2sn-y is 9999 in row 4",
    ):
        read_wide_ffms(edit_cell(ffm_csv, 4, "2sn-y", "9999"))


@pytest.mark.parametrize("name", ["1-1", "1-1 & 1-1", "1-1 and 1-2", " & 1-2"])
def test_pair_name_must_name_two_photos(
    edit_cell: Callable[[Path, int, str, str], Path], ffm_csv: Path, name: str
) -> None:
    with pytest.raises(DataError, match=r"row 2, column image pairs: expected a pair name"):
        read_wide_ffms(edit_cell(ffm_csv, 2, "image pairs", name))


def test_wrong_header(ffm_csv: Path) -> None:
    text = ffm_csv.read_text().replace("1lten-x", "1ltex-x", 1)
    ffm_csv.write_text(text)
    with pytest.raises(DataError, match=r"column 6: expected header '1lten-x', found '1ltex-x'"):
        read_wide_ffms(ffm_csv)


def test_wrong_column_count(ffm_csv: Path) -> None:
    lines = [line.rsplit(",", 1)[0] for line in ffm_csv.read_text().splitlines()]
    ffm_csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"ffm.csv: expected 58 columns .*, found 57"):
        read_wide_ffms(ffm_csv)


def test_short_row(ffm_csv: Path) -> None:
    lines = ffm_csv.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0]
    ffm_csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        DataError,
        match=r"ffm.csv: row 3: expected 58 columns like the header, "
        r"found 57",
    ):
        read_wide_ffms(ffm_csv)


def test_missing_empty_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope.csv: file not found"):
        read_wide_ffms(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("\n\n")
    with pytest.raises(DataError, match=r"empty.csv: only blank lines; expected a header row"):
        read_wide_ffms(tmp_path / "empty.csv")
    (tmp_path / "latin1.csv").write_bytes(b"image pairs,\xe9\n")
    with pytest.raises(DataError, match=r"latin1.csv: expected UTF-8 text"):
        read_wide_ffms(tmp_path / "latin1.csv")
    with pytest.raises(DataError, match=r"expected a file, found a folder"):
        read_wide_ffms(tmp_path)


def test_writing_needs_every_marker(tmp_path: Path, tiny_photos: PhotoTable) -> None:
    coords = tiny_photos.coords.copy()
    coords[1, 3] = np.nan
    holes = PhotoTable(
        photo_id=tiny_photos.photo_id,
        person=tiny_photos.person,
        role=tiny_photos.role,
        coords=coords,
        derived=tiny_photos.derived,
    )
    target = tmp_path / "ffm.csv"
    with pytest.raises(DataError, match=r"needs all 14 markers; photo '1-2' lacks marker ltex"):
        write_wide_ffms(paper_pairs(holes), target)
    assert not target.exists()


def test_person_and_role_of_photo_ids() -> None:
    assert person_and_role("12-3") == ("12", "C")
    assert person_and_role("a-b-1") == ("a-b", "A")
    assert person_and_role("i000qa-fn") == ("i000qa-fn", "")
    assert person_and_role("3-4") == ("3-4", "")


def _distances(pairs: PairTable) -> DistanceTable:
    rng = np.random.default_rng(1)
    return DistanceTable(
        name=pairs.name, values=rng.random((len(pairs), 182)) * 300, label=pairs.label
    )


def test_distance_round_trip(tmp_path: Path, tiny_photos: PhotoTable) -> None:
    table = _distances(paper_pairs(tiny_photos))
    path = tmp_path / "distances.csv"
    write_wide_distances(table, path)
    header = path.read_text().splitlines()[0].split(",")
    assert header == ["image pairs", *DISTANCE_COLUMNS, "Outcome"]
    assert DISTANCE_COLUMNS[:2] == ("101", "102")
    assert DISTANCE_COLUMNS[90:92] == ("191", "201")
    back = read_wide_distances(path)
    np.testing.assert_array_equal(back.values, table.values)
    assert back.name.tolist() == table.name.tolist()
    assert back.label.tolist() == [1, 0, 0] * 2
    again = tmp_path / "again.csv"
    write_wide_distances(back, again)
    assert again.read_bytes() == path.read_bytes()


def test_distance_errors(
    edit_cell: Callable[[Path, int, str, str], Path], tmp_path: Path, tiny_photos: PhotoTable
) -> None:
    path = tmp_path / "d.csv"
    write_wide_distances(_distances(paper_pairs(tiny_photos)), path)
    with pytest.raises(DataError, match=r"row 5, column 150: expected a distance >= 0, found -3"):
        read_wide_distances(edit_cell(path, 5, "150", "-3"))
    with pytest.raises(DataError, match=r"row 5, column 150: expected a number, found 'x'"):
        read_wide_distances(edit_cell(path, 5, "150", "x"))
    ffm = tmp_path / "ffm.csv"
    write_wide_ffms(paper_pairs(tiny_photos), ffm)
    with pytest.raises(DataError, match=r"expected 184 columns"):
        read_wide_distances(ffm)
    assert len(FFM_COLUMNS) == 56


def test_distance_table_of_pairs(tmp_path: Path, tiny_photos: PhotoTable) -> None:
    pairs = paper_pairs(tiny_photos)
    table = distance_table(pairs)
    c = tiny_photos.coords
    # Column 102 of row 1: photo 1-1's rtex to lten; column 291: photo 1-2's pg to me.
    assert table.values[0, 1] == pytest.approx(np.linalg.norm(c[0, 0] - c[0, 2]))
    assert table.values[0, 181] == pytest.approx(np.linalg.norm(c[1, 12] - c[1, 13]))
    path = tmp_path / "d.csv"
    write_wide_distances(table, path)
    np.testing.assert_array_equal(read_wide_distances(path).values, table.values)
