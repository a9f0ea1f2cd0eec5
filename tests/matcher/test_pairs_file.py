"""The pairs CSV read by both ``predict`` and ``match --pairs``: columns, faces, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ffmatch.core.errors import DataError
from ffmatch.core.io._cells import read_csv
from ffmatch.matcher.pairs_file import read_pairs, write_pairs


def test_reads_photos_faces_and_keeps_other_columns(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,photo_x,photo_y,face_y\n1,a.jpg,b.jpg,\n2,b.jpg,c.jpg,2\n")
    pairs = read_pairs(path, added=("score",))
    assert pairs.photos("photo_x") == ["a.jpg", "b.jpg"]
    assert pairs.distinct_photos() == ["a.jpg", "b.jpg", "c.jpg"]
    assert pairs.faces("face_x") == [None, None]
    assert pairs.faces("face_y") == [None, 2]
    write_pairs(pairs, ("score",), [["0.5"], ["0.25"]], tmp_path / "out.csv")
    header, rows, _ = read_csv(tmp_path / "out.csv")
    assert header == ["id", "photo_x", "photo_y", "face_y", "score"]
    assert rows[1] == ["2", "b.jpg", "c.jpg", "2", "0.25"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x,y\na,b\n", r"p.csv: expected columns photo_x, photo_y .* found x, y"),
        ("photo_x,photo_y,score\na,b,1\n", r"p.csv: column 'score' would be overwritten"),
        ("photo_x,photo_y\na,b\n,b\n", r"p.csv: row 3, column photo_x: expected a photo"),
        ("photo_x,photo_y,face_x\na,b,left\n",
         r"p.csv: row 2, column face_x: expected a face number from 1 \(leftmost\)"),
        ("photo_x,photo_y,face_x\na,b,0\n", r"row 2, column face_x: expected a face number"),
    ],
)  # fmt: skip
def test_errors_name_file_row_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_pairs(path, added=("score",))
