"""Resolving --data: each kind of file by its header, one line for anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from ffmatch.core.errors import DataError
from ffmatch.core.sources import file_kind, load_pairs, load_photos


@pytest.mark.parametrize("loader", [load_photos, load_pairs])
def test_an_unrecognised_header_is_one_line_not_a_recursion(tmp_path: Path, loader) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("date,amount\n2020-01-01,3\n")
    with pytest.raises(DataError, match=r"notes.csv: unrecognised header 'date,amount'; expected"):
        loader(str(path))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"empty.csv: the file is empty"):
        loader(str(tmp_path / "empty.csv"))
    with pytest.raises(DataError, match=r"expected a landmark file, found a folder"):
        loader(str(tmp_path))


def test_the_workbook_by_path_gives_photos_and_pairs(paper_workbook: Path) -> None:
    assert file_kind(paper_workbook) == "workbook"
    assert len(load_photos(str(paper_workbook))) == 36
    assert len(load_pairs(str(paper_workbook))) == 36


def test_a_workbook_renamed_to_csv_is_named_as_such(paper_workbook: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "ffms.csv"
    renamed.write_bytes(paper_workbook.read_bytes())
    with pytest.raises(DataError, match=r"ffms.csv: expected a CSV text file, found an Excel"):
        load_photos(str(renamed))
