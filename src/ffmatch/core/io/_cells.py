"""Cell-level parsing and formatting shared by the CSV readers and writers.

Every message names the file, the row (as a spreadsheet or text editor numbers it: the
header is row 1) and the column, what was expected and what was found. ``read_header`` and
``read_csv`` are the one place a table file's start is judged: an empty file, only blank
lines, a header without data rows, another delimiter, another encoding, a workbook or an
archive given where a CSV belongs each get their own one-line message. Numbers are parsed
strictly: ASCII digits only (no ``1_000``, no Arabic-Indic or full-width digits), finite.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ffmatch.core.errors import DataError
from ffmatch.core.io.atomic import atomic_write
from ffmatch.core.table import FloatArray

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_HEAD_BYTES = 1 << 20  # how much of a file read_header looks at: a header and a first row
_OTHER_DELIMITERS = (";", "\t", "|")
_MAGIC = {
    b"PK\x03\x04": "an Excel workbook or another zip archive",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) workbook",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}
_NON_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


def parse_number(text: str, *, where: str, allow_empty: bool = False) -> float:
    """The number in one cell; an empty cell is NaN only where ``allow_empty`` (a missing marker).

    ``where`` is the message prefix ``"file: row r, column c"``.
    """
    s = text.strip()
    if not s:
        if allow_empty:
            return math.nan
        raise DataError(f"{where}: expected a number, found an empty cell")
    if _NUMBER.fullmatch(s):
        value = float(s)
        if math.isfinite(value):
            return value
    if s.lower() in _NON_FINITE or _NUMBER.fullmatch(s):
        raise DataError(f"{where}: expected a finite number, found {text!r}")
    raise DataError(f"{where}: expected a number, found {text!r}")


def parse_block(
    rows: Sequence[Sequence[str]],
    *,
    columns: Sequence[str],
    row_numbers: Sequence[int],
    source: str,
    allow_empty: bool = False,
) -> FloatArray:
    """A (len(rows), len(columns)) float array from string cells, validated cell by cell.

    NumPy converts well-formed blocks at C speed (MUCT has a million cells); only a block
    that fails is walked cell by cell, to name the first bad one.
    """
    if not rows:
        return np.empty((0, len(columns)), dtype=np.float64)
    try:
        # NumPy's parser also takes "1_000" and non-ASCII digits: only plain ASCII goes fast
        cells = "".join(itertools.chain.from_iterable(rows))
        if cells.isascii() and "_" not in cells:
            values = np.asarray(rows, dtype=str).astype(np.float64)
            if np.isfinite(values).all():
                return values
    except ValueError:
        pass  # an empty or malformed cell: the slow path below finds and names it
    out = np.empty((len(rows), len(columns)), dtype=np.float64)
    for i, (row, number) in enumerate(zip(rows, row_numbers, strict=True)):
        for j, (cell, column) in enumerate(zip(row, columns, strict=True)):
            where = f"{source}: row {number}, column {column}"
            out[i, j] = parse_number(cell, where=where, allow_empty=allow_empty)
    return out


def parse_label(text: str, *, where: str) -> int:
    """A match label cell: exactly 0 or 1 (``1.0`` is accepted, ``2`` and ``yes`` are not)."""
    s = text.strip()
    if _NUMBER.fullmatch(s) and float(s) in (0.0, 1.0):
        return int(float(s))
    raise DataError(f"{where}: expected a label 0 or 1, found {text!r}")


def format_number(value: float) -> str:
    """Shortest text that reads back to the same float; whole numbers without ``.0``; NaN empty."""
    if math.isnan(value):
        return ""
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def _decode_error(source: str, err: UnicodeDecodeError) -> DataError:
    return DataError(
        f"{source}: expected UTF-8 text, found byte {err.object[err.start]:#04x} at offset "
        f"{err.start}; save the table as CSV UTF-8"
    )


def read_header(path: str | os.PathLike[str], *, require_rows: bool = True) -> list[str]:
    """The header cells of a CSV (or .csv.gz) file, after checking how the file starts.

    Reads at most 1 MiB. DataError, one line each, for: no such file, a folder, an empty
    file, only blank lines, a workbook/archive/image, bytes that are not UTF-8, a header
    whose one cell holds another delimiter (``;``, tab, ``|``), and, where
    ``require_rows``, a header without any data row.
    """
    source = str(path)
    try:
        with open(path, "rb") as raw:
            magic = raw.read(2)
            raw.seek(0)
            if magic == b"\x1f\x8b":
                with gzip.open(raw) as unpacked:
                    head = unpacked.read(_HEAD_BYTES)
            else:
                head = raw.read(_HEAD_BYTES)
    except FileNotFoundError:
        raise DataError(f"{source}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{source}: expected a file, found a folder") from None
    except (OSError, EOFError) as err:
        raise DataError(f"{source}: cannot read the file ({err})") from None
    for prefix, kind in _MAGIC.items():
        if head.startswith(prefix):
            raise DataError(
                f"{source}: expected a CSV text file, found {kind}; export the table as CSV "
                "UTF-8 (the paper's workbook is read from a .xlsx path)"
            )
    if not head:
        raise DataError(f"{source}: the file is empty; expected a header row and data rows")
    try:  # an incremental decoder: a character cut at the 1 MiB boundary is not an error
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError as err:
        raise _decode_error(source, err) from None
    try:
        lines = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    except csv.Error as err:
        raise DataError(f"{source}: cannot read as CSV ({err})") from None
    if not lines:
        raise DataError(f"{source}: only blank lines; expected a header row and data rows")
    header = [cell.strip() for cell in lines[0]]
    if len(header) == 1:
        for delimiter in _OTHER_DELIMITERS:
            if delimiter in header[0]:
                name = "tab" if delimiter == "\t" else repr(delimiter)
                raise DataError(
                    f"{source}: the header is one column holding {name} separators; expected "
                    "columns separated by commas (save as CSV UTF-8, comma-separated)"
                )
    if require_rows and len(lines) < 2 and len(head) < _HEAD_BYTES:
        raise DataError(f"{source}: header only, no data rows; expected at least one row")
    return header


def read_csv(
    path: str | os.PathLike[str], *, require_rows: bool = True
) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows and each row's line number of a UTF-8 CSV file (a BOM is allowed).

    Blank lines are skipped. The file's start is checked by ``read_header`` first (its
    messages); ``require_rows=False`` accepts a header without rows.
    """
    source = str(path)
    read_header(path, require_rows=require_rows)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header: list[str] | None = None
            rows: list[list[str]] = []
            numbers: list[int] = []
            for row in reader:
                if not row or all(not cell.strip() for cell in row):
                    continue
                if header is None:
                    header = [cell.strip() for cell in row]
                else:
                    rows.append(row)
                    numbers.append(reader.line_num)
    except UnicodeDecodeError as err:
        raise _decode_error(source, err) from None
    except (OSError, csv.Error) as err:
        raise DataError(f"{source}: cannot read the file ({err})") from None
    if header is None:  # pragma: no cover - read_header refused it
        raise DataError(f"{source}: expected a header row, found an empty file")
    return header, rows, numbers


def check_row_lengths(
    rows: Sequence[Sequence[str]], numbers: Sequence[int], *, width: int, source: str
) -> None:
    """DataError naming the first row whose number of cells differs from the header's."""
    for row, number in zip(rows, numbers, strict=True):
        if len(row) != width:
            raise DataError(
                f"{source}: row {number}: expected {width} columns like the header, "
                f"found {len(row)}"
            )


def write_csv(
    path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Sequence[str]]
) -> None:
    """Write a CSV atomically, ``\\n`` line ends, quoting only where needed."""
    with atomic_write(Path(path), "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
