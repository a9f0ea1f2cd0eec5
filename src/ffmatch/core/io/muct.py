"""MUCT landmarks (``muct68-opencv.csv.gz`` or the original ``muct76-opencv.csv``) as FFMs.

Each row is one photo: ``name,tag,x00,y00,...``; the 68-point file and the first 68 of the
76-point file are the same points (the file's column count tells which it is). The 14
FFMs map from MUCT's points as the shared data's MUCT README says (table in
docs/data-formats.md): eleven directly; nasion, supramentale and pogonion are derived
(flagged in ``PhotoTable.derived``) as the midpoint of the inner eye corners and the
points 1/3 and 2/3 of the way from the lower lip to the chin. A point at ``0,0`` was not
visible and is missing (NaN), and so is any marker derived from it. Mirrored copies
(names starting ``ir``) are dropped by default.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import DataError
from ffmatch.core.io._cells import check_row_lengths, parse_block
from ffmatch.core.markers import N_MARKERS, WIDE_ORDER
from ffmatch.core.table import FloatArray, PhotoTable, StrArray

N_POINTS = 68  # points used; the 76-point file's extra 8 are eye points we do not need
POINT_COUNTS = (68, 76)
NAME = re.compile(
    r"i(?P<mirror>r?)(?P<subject>\d{3})(?P<lighting>[a-z])(?P<camera>[a-e])-(?P<sex>[fm])\w"
)
"""A MUCT photo name, e.g. ``i000qa-fn``: subject 000, lighting q, camera a (frontal)."""

# FFM -> MUCT68 point, subject's right = image left (README: "L" is the subject's right).
DIRECT: dict[str, int] = {
    "rtex": 27, "rten": 29, "ltex": 32, "lten": 34, "sn": 41, "rtal": 39, "ltal": 43,
    "ls": 51, "sto": 66, "li": 57, "me": 7,
}  # fmt: skip
# Derived FFM -> (weight, point) terms of a weighted mean of MUCT points (README proxies).
DERIVED: dict[str, tuple[tuple[float, int], ...]] = {
    "nas": ((0.5, 29), (0.5, 34)),  # midpoint of the inner eye corners (a little low)
    "sm": ((2 / 3, 57), (1 / 3, 7)),  # 1/3 of the way from the lower lip (57) to the chin (7)
    "pg": ((1 / 3, 57), (2 / 3, 7)),  # 2/3 of the way
}


@dataclass(frozen=True, kw_only=True, slots=True)
class _Raw:
    """A parsed MUCT file: photo names and their first 68 points."""

    names: list[str]
    points: FloatArray  # (n, 68, 2) pixels, 0,0 kept as is (not visible)


def read_muct(path: str | os.PathLike[str], *, include_mirrors: bool = False) -> PhotoTable:
    """The photos of a MUCT landmark file (.csv or .csv.gz, 68 or 76 points) as 14 FFMs.

    ``person`` is the 3-digit subject id, ``role`` is empty, ``derived`` flags nasion,
    supramentale and pogonion. Mirrored photos are kept only with ``include_mirrors``.
    """
    source = str(path)
    raw = _parse(_read_text(path), source=source)
    keep = [k for k, name in enumerate(raw.names) if include_mirrors or not name.startswith("ir")]
    names = [raw.names[k] for k in keep]
    return PhotoTable(
        photo_id=np.array(names, dtype=str),
        person=np.array([_name(n).group("subject") for n in names], dtype=str),
        role=np.full(len(names), "", dtype=str),
        coords=muct_to_ffms(raw.points[keep]),
        derived=np.tile(np.isin(WIDE_ORDER, list(DERIVED)), (len(names), 1)),
        source=source,
    )


def muct_to_ffms(points: FloatArray) -> FloatArray:
    """(n, 14, 2) FFMs in ``WIDE_ORDER`` from (n, >=68, 2) MUCT points; 0,0 becomes NaN."""
    pts = np.where((points == 0).all(axis=-1, keepdims=True), np.nan, points[:, :N_POINTS])
    out = np.empty((len(points), N_MARKERS, 2), dtype=np.float64)
    for m, abbr in enumerate(WIDE_ORDER):
        if abbr in DIRECT:
            out[:, m] = pts[:, DIRECT[abbr]]
        else:  # NaN in any source point propagates: the derived marker is missing too
            out[:, m] = sum(w * pts[:, p] for w, p in DERIVED[abbr])
    return out


def muct_camera(photo_ids: npt.ArrayLike) -> StrArray:
    """The camera letter of each MUCT photo id: ``a`` frontal, ``b``-``e`` at an angle."""
    return np.array([_name(str(p)).group("camera") for p in np.atleast_1d(photo_ids)], dtype=str)


def muct_fingerprint(data: bytes) -> str:
    """SHA-256 of the names and first 68 points of a MUCT file's bytes (.csv or .csv.gz).

    It ignores formatting, compression and the 76-point file's extra points, so the
    original archive's file and the 68-point copy give the same fingerprint.
    """
    text = _decode(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data, "<download>")
    raw = _parse(text, source="<download>")
    digest = hashlib.sha256("\n".join(raw.names).encode())
    digest.update(np.ascontiguousarray(raw.points, dtype="<f8").tobytes())
    return digest.hexdigest()


def _name(name: str) -> re.Match[str]:
    match = NAME.fullmatch(name)
    if match is None:
        raise DataError(f"expected a MUCT photo name like 'i000qa-fn', found {name!r}")
    return match


def _read_text(path: str | os.PathLike[str]) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: expected a file, found a folder") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read the file ({err})") from None
    if data[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise DataError(f"{path}: cannot decompress the gzip file ({err})") from None
    return _decode(data, str(path))


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(
            f"{source}: expected UTF-8 text, found byte at offset {err.start}"
        ) from None


def _expected_header(n_points: int) -> list[str]:
    return ["name", "tag", *(f"{a}{k:02d}" for k in range(n_points) for a in "xy")]


def _parse(text: str, *, source: str) -> _Raw:
    """Names and the first 68 points of a MUCT CSV, validated.

    pandas' C parser reads a well-formed file in a tenth of the time; any file it does not
    read cleanly goes through the row-by-row parser, which names the first bad cell.
    """
    header = next(csv.reader(io.StringIO(text[: text.find("\n") + 1 or None])), None)
    if header is None:
        raise DataError(f"{source}: expected a header row, found an empty file")
    _check_header(header, source)
    return _parse_fast(text) or _parse_rows(text, source=source)


def _parse_fast(text: str) -> _Raw | None:
    """The file read by pandas, or None if anything is off (the slow path then says what)."""
    import pandas as pd  # imported on use: it is slow to import

    columns = _expected_header(N_POINTS)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            usecols=columns,
            dtype={"name": str, "tag": str},
            keep_default_na=False,
            na_values=[],
            engine="c",
        )
        names = frame["name"].str.strip()
        if any(dtype.kind not in "if" for dtype in frame[columns[2:]].dtypes):
            return None  # text cells ("1_000", other digits): the strict slow path judges them
        values = frame[columns[2:]].to_numpy(dtype=np.float64)
    except (ValueError, TypeError, pd.errors.ParserError):
        return None
    if (
        not np.isfinite(values).all()
        or not names.str.fullmatch(NAME.pattern).all()
        or names.duplicated().any()
    ):
        return None
    return _Raw(names=names.tolist(), points=values.reshape(len(names), N_POINTS, 2))


def _check_header(header: Sequence[str], source: str) -> None:
    width = len(header)
    n_points = (width - 2) // 2
    if n_points not in POINT_COUNTS or width != 2 + 2 * n_points:
        raise DataError(
            f"{source}: expected 138 columns (name, tag, 68 points) or 154 (76 points), "
            f"found {width}"
        )
    for k, (found, want) in enumerate(zip(header, _expected_header(n_points), strict=True)):
        if found.strip() != want:
            raise DataError(f"{source}: column {k + 1}: expected header {want!r}, found {found!r}")


def _parse_rows(text: str, *, source: str) -> _Raw:
    """Row by row, naming the first bad row or cell."""
    reader = csv.reader(io.StringIO(text))
    width = len(next(reader))
    rows: list[list[str]] = []
    numbers: list[int] = []
    for row in reader:
        if row:
            rows.append(row)
            numbers.append(reader.line_num)
    check_row_lengths(rows, numbers, width=width, source=source)
    names = [row[0].strip() for row in rows]
    for name, number in zip(names, numbers, strict=True):
        if NAME.fullmatch(name) is None:
            raise DataError(
                f"{source}: row {number}, column name: expected a MUCT photo name like "
                f"'i000qa-fn', found {name!r}"
            )
    _check_unique(names, numbers, source)
    columns = _expected_header(N_POINTS)[2:]
    values = parse_block(
        [row[2 : 2 + 2 * N_POINTS] for row in rows],
        columns=columns,
        row_numbers=numbers,
        source=source,
    )
    return _Raw(names=names, points=values.reshape(len(rows), N_POINTS, 2))


def _check_unique(names: Sequence[str], numbers: Sequence[int], source: str) -> None:
    first: dict[str, int] = {}
    for name, number in zip(names, numbers, strict=True):
        if name in first:
            raise DataError(
                f"{source}: row {number}, column name: duplicate photo {name!r} "
                f"(first in row {first[name]})"
            )
        first[name] = number
