"""The one table reader: every way a file can fail to be a CSV table gets its own line."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ffmatch.core.errors import DataError
from ffmatch.core.io._cells import parse_block, parse_number, read_csv, read_header
from ffmatch.core.io.tidy import MARKER_COLUMNS, read_tidy

CASES = [
    (b"", r"bad.csv: the file is empty; expected a header row and data rows"),
    (b"\n  \n\n", r"bad.csv: only blank lines; expected a header row"),
    (b"a;b;c\n1;2;3\n", r"bad.csv: the header is one column holding ';' separators; expected "
     "columns separated by commas"),
    (b"a\tb\n1\t2\n", r"bad.csv: the header is one column holding tab separators"),
    (b"photo_id,person\n\n", r"bad.csv: header only, no data rows"),
    (b"photo_id,person\n\xe9,x\n", r"bad.csv: expected UTF-8 text, found byte 0xe9 at offset 16; "
     "save the table as CSV UTF-8"),
    (b"PK\x03\x04rest", r"bad.csv: expected a CSV text file, found an Excel workbook or another "
     "zip archive"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "message"), CASES)
def test_each_bad_start_has_its_own_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_csv(path)


def test_header_reader_looks_inside_gzip_and_accepts_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"name,tag,x00\nabc,d,1\n"))
    assert read_header(path) == ["name", "tag", "x00"]
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    assert read_csv(bom) == (["a", "b"], [["1", "2"]], [2])
    only = tmp_path / "only.csv"
    only.write_text("a,b\n")
    assert read_csv(only, require_rows=False) == (["a", "b"], [], [])


@pytest.mark.parametrize("text", ["1_000", "١٢", "１２", "0x10", "1e400", "nan", "12 3"])
def test_numbers_are_parsed_strictly(text: str) -> None:
    with pytest.raises(DataError, match=r"f.csv: row 2, column c: expected a (finite )?number"):
        parse_number(text, where="f.csv: row 2, column c")
    with pytest.raises(DataError, match=r"row 3, column b: expected a (finite )?number"):
        parse_block([["1", "2"], ["3", text]], columns=["a", "b"], row_numbers=[2, 3], source="f")


def test_a_tidy_table_refuses_underscored_and_foreign_digits(tmp_path: Path) -> None:
    values = ["10"] * len(MARKER_COLUMNS)
    values[5] = "1_000"
    path = tmp_path / "t.csv"
    path.write_text("photo_id,person," + ",".join(MARKER_COLUMNS) + "\np1,x," + ",".join(values))
    with pytest.raises(DataError, match=rf"t.csv: row 2, column {MARKER_COLUMNS[5]}: expected a"):
        read_tidy(path)
