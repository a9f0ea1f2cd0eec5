"""MUCT landmarks: the mapping to FFMs, mirrors, missing points, the 76-point file, bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ffmatch.core.datasets.fetch import MUCT_LANDMARKS
from ffmatch.core.errors import DataError
from ffmatch.core.io.muct import muct_camera, muct_fingerprint, read_muct
from ffmatch.core.markers import WIDE_ORDER
from ffmatch.core.table import PhotoTable


@pytest.fixture(scope="module")
def muct(muct_file: Path) -> PhotoTable:
    return read_muct(muct_file)


@pytest.fixture(scope="module")
def raw(muct_file: Path) -> pd.DataFrame:
    """The file read plainly by pandas, the reference for the mapping."""
    return pd.read_csv(muct_file)


def _point(raw: pd.DataFrame, row: int, k: int) -> np.ndarray:
    return raw.loc[row, [f"x{k:02d}", f"y{k:02d}"]].to_numpy(dtype=float)


def test_real_file_photos_and_persons(muct: PhotoTable, muct_file: Path) -> None:
    assert len(muct) == 3755
    assert len(np.unique(muct.person)) == 276
    assert not any(p.startswith("ir") for p in muct.photo_id)
    assert muct.photo_id[0] == "i000qa-fn"
    assert muct.person[0] == "000"
    assert set(muct.role) == {""}
    assert len(read_muct(muct_file, include_mirrors=True)) == 7510


def test_mapping_follows_the_readme(muct: PhotoTable, raw: pd.DataFrame) -> None:
    direct = {"rtex": 27, "rten": 29, "ltex": 32, "lten": 34, "sn": 41, "rtal": 39,
              "ltal": 43, "ls": 51, "sto": 66, "li": 57, "me": 7}  # fmt: skip
    for row in (0, 500, 3000):
        coords = muct.coords[muct.photo_id.tolist().index(raw.loc[row, "name"])]
        for abbr, k in direct.items():
            np.testing.assert_array_equal(coords[WIDE_ORDER.index(abbr)], _point(raw, row, k))
        lip, chin = _point(raw, row, 57), _point(raw, row, 7)
        np.testing.assert_allclose(
            coords[WIDE_ORDER.index("nas")], (_point(raw, row, 29) + _point(raw, row, 34)) / 2
        )
        np.testing.assert_allclose(coords[WIDE_ORDER.index("sm")], lip + (chin - lip) / 3)
        np.testing.assert_allclose(coords[WIDE_ORDER.index("pg")], lip + 2 * (chin - lip) / 3)
    assert muct.derived[0].tolist() == [a in ("nas", "sm", "pg") for a in WIDE_ORDER]
    assert muct.derived.all(axis=0).sum() == 3


def test_invisible_points_are_missing(muct: PhotoTable, raw: pd.DataFrame) -> None:
    # Point 43 (left alare) is 0,0 in some side views: those photos lack ltal.
    hidden = raw[(raw["x43"] == 0) & (raw["y43"] == 0) & ~raw["name"].str.startswith("ir")]
    assert len(hidden) > 0
    rows = muct.index_of(hidden["name"].to_numpy())
    assert muct.missing[rows, WIDE_ORDER.index("ltal")].all()
    assert muct.missing.sum() == len(hidden) + int(
        ((raw["x39"] == 0) & (raw["y39"] == 0) & ~raw["name"].str.startswith("ir")).sum()
    )


def test_camera_letters(muct: PhotoTable) -> None:
    cameras, counts = np.unique(muct_camera(muct.photo_id), return_counts=True)
    assert cameras.tolist() == ["a", "b", "c", "d", "e"]
    assert counts.tolist() == [751] * 5
    assert muct_camera(["ir001se-m2"]).tolist() == ["e"]
    with pytest.raises(DataError, match="expected a MUCT photo name"):
        muct_camera(["photo.jpg"])


def _small(path: Path, *, n_points: int = 68, rows: list[list[str]] | None = None) -> Path:
    header = ["name", "tag", *(f"{a}{k:02d}" for k in range(n_points) for a in "xy")]
    if rows is None:
        rng = np.random.default_rng(0)
        rows = [[name, "0", *map(str, rng.integers(1, 400, 2 * n_points))]
                for name in ("i000qa-fn", "i000qb-fn", "i001qa-mg", "ir000qa-fn")]  # fmt: skip
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    return path


def test_76_point_file_gives_the_same_photos(tmp_path: Path) -> None:
    p68 = _small(tmp_path / "m68.csv")
    lines = p68.read_text().splitlines()
    extra_header = ",".join(f"{a}{k:02d}" for k in range(68, 76) for a in "xy")
    lines = [lines[0] + "," + extra_header] + [line + ",5" * 16 for line in lines[1:]]
    p76 = tmp_path / "m76.csv"
    p76.write_text("\n".join(lines) + "\n")
    a, b = read_muct(p68), read_muct(p76)
    np.testing.assert_array_equal(a.coords, b.coords)
    assert a.photo_id.tolist() == ["i000qa-fn", "i000qb-fn", "i001qa-mg"]
    assert muct_fingerprint(p68.read_bytes()) == muct_fingerprint(p76.read_bytes())
    gz = tmp_path / "m68.csv.gz"
    gz.write_bytes(gzip.compress(p68.read_bytes()))
    assert muct_fingerprint(gz.read_bytes()) == muct_fingerprint(p68.read_bytes())


def test_fingerprint_of_the_shared_copy_is_the_pinned_one(muct_file: Path) -> None:
    assert muct_fingerprint(muct_file.read_bytes()) == MUCT_LANDMARKS.fingerprint_sha256


def test_fingerprint_sees_one_changed_coordinate(tmp_path: Path) -> None:
    path = _small(tmp_path / "m.csv")
    before = muct_fingerprint(path.read_bytes())
    lines = path.read_text().splitlines()
    lines[-1] = lines[-1].rsplit(",", 1)[0] + ",999"  # the last photo's y67
    path.write_text("\n".join(lines) + "\n")
    assert muct_fingerprint(path.read_bytes()) != before


def _row(name: str, value: str = "7") -> list[str]:
    return [name, "0", *([value] * 136)]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [_row("i000qa-fn"), _row("photo1")],
            r"row 3, column name: expected a MUCT photo name "
            r"like 'i000qa-fn', found 'photo1'",
        ),
        (
            [_row("i000qa-fn"), _row("i000qa-fn")],
            r"row 3, column name: duplicate photo "
            r"'i000qa-fn' \(first in row 2\)",
        ),
        (
            [_row("i000qa-fn"), [*_row("i000qb-fn")[:40], "x", *_row("i000qb-fn")[41:]]],
            r"row 3, column x19: expected a number, found 'x'",
        ),
        (
            [_row("i000qa-fn"), _row("i000qb-fn")[:-1]],
            r"row 3: expected 138 columns like the "
            r"header, found 137",
        ),
        ([_row("i000qa-fn", "inf")], r"row 2, column x00: expected a finite number"),
    ],
)
def test_bad_rows(tmp_path: Path, rows: list[list[str]], message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_muct(_small(tmp_path / "m.csv", rows=rows))


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"none.csv.gz: file not found"):
        read_muct(tmp_path / "none.csv.gz")
    (tmp_path / "cut.gz").write_bytes(gzip.compress(b"name,tag\n" * 50)[:30])
    with pytest.raises(DataError, match=r"cut.gz: cannot decompress the gzip file"):
        read_muct(tmp_path / "cut.gz")
    (tmp_path / "wide.csv").write_text("name,tag," + ",".join(["x"] * 100) + "\n")
    with pytest.raises(
        DataError,
        match=r"expected 138 columns \(name, tag, 68 points\) or 154 "
        r"\(76 points\), found 102",
    ):
        read_muct(tmp_path / "wide.csv")
    path = _small(tmp_path / "m.csv")
    path.write_text(path.read_text().replace("x05", "x5", 1))
    with pytest.raises(DataError, match=r"column 13: expected header 'x05', found 'x5'"):
        read_muct(path)


def test_fast_and_row_by_row_parsers_agree_on_the_real_file(muct_file: Path) -> None:
    from ffmatch.core.io import muct as module

    text = module._read_text(muct_file)
    fast = module._parse_fast(text)
    slow = module._parse_rows(text, source="x")
    assert fast is not None
    assert fast.names == slow.names
    np.testing.assert_array_equal(fast.points, slow.points)  # bit for bit: pandas = float()
