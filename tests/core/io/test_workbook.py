"""The paper's workbook: the real file, and small synthetic workbooks with one fault each."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

from ffmatch.core.errors import DataError
from ffmatch.core.io.wide import DISTANCE_COLUMNS, FFM_COLUMNS, pair_distances
from ffmatch.core.io.workbook import read_workbook, read_workbook_distances
from ffmatch.core.pairs import paper_pairs
from ffmatch.core.table import PairTable, PhotoTable


@pytest.fixture(scope="module")
def real(paper_workbook: Path) -> PairTable:
    return read_workbook(paper_workbook)


def test_real_workbook_recovers_36_photos_in_12_sets(real: PairTable) -> None:
    assert len(real) == 36
    assert len(real.photos) == 36
    assert real.name[:4].tolist() == ["1-1 & 1-2", "1-2 & 1-3", "1-3 & 1-1", "2-1 & 2-2"]
    assert real.label.tolist() == [1, 0, 0] * 12
    assert real.photos.photo_id[:3].tolist() == ["1-1", "1-2", "1-3"]
    assert real.photos.role.tolist() == ["A", "B", "C"] * 12
    assert real.photos.person.tolist() == [str(s) for s in range(1, 13) for _ in range(3)]
    # First cells of the sheet: 1rtex = (140, 127), 1rten = (182, 131) of photo 1-1.
    np.testing.assert_array_equal(real.photos.coords[0, :2], [[140, 127], [182, 131]])
    assert not real.photos.missing.any()
    assert not real.photos.derived.any()


def test_real_workbook_distances_follow_marker_pairs_except_four_markers(
    real: PairTable, paper_workbook: Path
) -> None:
    sheet = read_workbook_distances(paper_workbook)
    assert sheet.shape == (36, 182)
    ours = pair_distances(
        np.stack([real.photos.coords[real.first], real.photos.coords[real.second]], axis=1)
    )
    bad = ~np.isclose(ours, sheet, rtol=1e-9)
    # Columns are MARKER_PAIRS over WIDE_ORDER, photo 1 then photo 2: all but the cells
    # touching the four published typos (PAPER_ERRATA) agree to 1e-9.
    assert bad.sum() == 104
    assert np.flatnonzero(bad.any(axis=1)).tolist() == [12, 14, 15, 17, 21, 22, 23]


def test_real_workbook_strict_names_the_first_disagreeing_cell(paper_workbook: Path) -> None:
    with pytest.raises(
        DataError,
        match=r"sheet distances: row 14, column 103: expected "
        r"181\.333946 \(the distance 1rtex to 1ltex in sheet FFMs\), found 130\.46",
    ):
        read_workbook(paper_workbook, strict=True)


def test_real_workbook_warns_which_markers_disagree(
    paper_workbook: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ffmatch.core.io.workbook"):
        read_workbook(paper_workbook)
    assert "104 distances disagree" in caplog.text
    assert "photo 5-1 ltex, photo 6-1 ltex, photo 8-2 li, photo 8-3 lten" in caplog.text


def _write_book(path: Path, pairs: PairTable, edit: Callable[[Any], None] | None = None) -> Path:
    """A workbook shaped like the paper's from ``pairs``; ``edit(book)`` may break it."""
    book = openpyxl.Workbook()
    book.active.title = "readme"
    ffms = book.create_sheet("FFMs")
    ffms.append(["image pairs", *FFM_COLUMNS, "Outcome"])
    coords = np.stack([pairs.photos.coords[pairs.first], pairs.photos.coords[pairs.second]], 1)
    for name, row, label in zip(
        pairs.name, coords.reshape(len(pairs), -1), pairs.label, strict=True
    ):
        ffms.append([str(name), *(int(v) for v in row), int(label)])
    dist = book.create_sheet("distances")
    dist.append([None, *(float(c) for c in DISTANCE_COLUMNS), "outputs"])
    for name, row, label in zip(pairs.name, pair_distances(coords), pairs.label, strict=True):
        dist.append([str(name), *(float(v) for v in row), int(label)])
    if edit is not None:
        edit(book)
    book.save(path)
    return path


@pytest.fixture
def book_pairs(tiny_photos: PhotoTable) -> PairTable:
    return paper_pairs(tiny_photos)


def test_synthetic_workbook_reads_back(tmp_path: Path, book_pairs: PairTable) -> None:
    pairs = read_workbook(_write_book(tmp_path / "b.xlsx", book_pairs), strict=True)
    np.testing.assert_array_equal(pairs.photos.coords, book_pairs.photos.coords)
    assert pairs.name.tolist() == book_pairs.name.tolist()
    assert pairs.label.tolist() == book_pairs.label.tolist()


def _cell(sheet: str, ref: str, value: object) -> Callable[[Any], None]:
    def edit(book: Any) -> None:
        book[sheet][ref] = value

    return edit


# Sheet FFMs: column A = name, B.. = 1rtex-x.., BF = Outcome; row 2 = first pair.
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            _cell("FFMs", "I3", "n/a"),
            r"b.xlsx, sheet FFMs: row 3, column 1ltex-y: expected a "
            r"number, found 'n/a'",
        ),
        (_cell("FFMs", "I3", None), r"row 3, column 1ltex-y: expected a number, found an empty"),
        (_cell("FFMs", "I3", "inf"), r"row 3, column 1ltex-y: expected a finite number"),
        (_cell("FFMs", "I3", True), r"row 3, column 1ltex-y: expected a number, found True"),
        (_cell("FFMs", "BF4", 2), r"row 4, column Outcome: expected a label 0 or 1, found 2"),
        (_cell("FFMs", "A2", "1-1"), r"row 2, column image pairs: expected a pair name"),
        (
            _cell("FFMs", "E1", "1lten-x"),
            r"sheet FFMs: column 5: expected header '1rten-y', "
            r"found '1lten-x'",
        ),
        (_cell("FFMs", "BG2", 5), r"sheet FFMs: row 2: expected 58 columns like the header"),
        (_cell("FFMs", "BG1", "extra"), r"sheet FFMs: expected 58 columns .*found 59"),
        (
            _cell("FFMs", "AD4", 1),
            r"sheet FFMs: rows 2 and 4 disagree on photo '1-1': column "
            r"1rtex-x is \d+ in row 2, column 2rtex-x is 1 in row 4",
        ),
        (
            _cell("distances", "A3", "1-2 & 1-1"),
            r"sheet distances: data row 2: expected pair "
            r"'1-2 & 1-3' as in sheet FFMs, found '1-2 & 1-1'",
        ),
        (
            _cell("distances", "GB3", 1),
            r"sheet distances: row 3, column outputs: expected 0 as "
            r"in sheet FFMs, found 1",
        ),
        (_cell("distances", "B2", "x"), r"sheet distances: row 2, column 101: expected a number"),
    ],
)
def test_each_fault_is_named(
    tmp_path: Path, book_pairs: PairTable, edit: Callable[[Any], None], message: str
) -> None:
    path = _write_book(tmp_path / "b.xlsx", book_pairs, edit)
    with pytest.raises(DataError, match=message):
        read_workbook(path)


def test_a_set_must_have_a_b_and_c(tmp_path: Path, book_pairs: PairTable) -> None:
    only_ab = book_pairs.subset([0, 3])  # the two A&B rows: no photo C
    path = _write_book(tmp_path / "b.xlsx", only_ab)
    with pytest.raises(
        DataError,
        match=r"set '1' must have exactly one photo with role A, B "
        r"and C; found 1-1 \(A\), 1-2 \(B\)",
    ):
        read_workbook(path)


def test_distance_disagreement_warns_or_raises(
    tmp_path: Path, book_pairs: PairTable, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write_book(tmp_path / "b.xlsx", book_pairs, _cell("distances", "C5", 1234.5))
    with caplog.at_level(logging.WARNING, logger="ffmatch.core.io.workbook"):
        pairs = read_workbook(path)
    assert "1 distances disagree" in caplog.text
    assert "photo 2-1 rtex" in caplog.text
    np.testing.assert_array_equal(pairs.photos.coords, book_pairs.photos.coords)
    with pytest.raises(
        DataError,
        match=r"row 5, column 102: expected [\d.]+ \(the distance "
        r"1rtex to 1lten in sheet FFMs\), found 1234\.5",
    ):
        read_workbook(path, strict=True)


def test_unreadable_files(tmp_path: Path, book_pairs: PairTable) -> None:
    with pytest.raises(DataError, match=r"none.xlsx: file not found"):
        read_workbook(tmp_path / "none.xlsx")
    (tmp_path / "text.xlsx").write_text("not a workbook")
    with pytest.raises(DataError, match=r"text.xlsx: cannot read it as an Excel workbook"):
        read_workbook(tmp_path / "text.xlsx")

    def drop(book: Any) -> None:
        del book["distances"]

    path = _write_book(tmp_path / "b.xlsx", book_pairs, drop)
    with pytest.raises(
        DataError,
        match=r"expected a sheet named 'distances', found sheets "
        r"'readme', 'FFMs'",
    ):
        read_workbook(path)
