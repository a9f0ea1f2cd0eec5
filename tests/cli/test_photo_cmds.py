"""``ffmatch landmarks extract`` and ``ffmatch match`` end to end, on tests/data/photos."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from ffmatch.cli.app import run
from ffmatch.core.io._cells import read_csv
from ffmatch.core.io.tidy import read_tidy


@pytest.fixture
def photos(small_photos: Path, tmp_path: Path) -> Path:
    """A folder with two photos of one person, one of two people and a file that is no photo."""
    src = small_photos
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("obama-1.jpg", "obama-5-240p.jpg", "multi-two-people.jpg"):
        shutil.copy(src / name, folder / name)
    (folder / "notes.jpg").write_text("not a photo")
    return folder


def test_extract_writes_rows_overlays_and_reports_failures(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, overlays = tmp_path / "ffm.csv", tmp_path / "ov"
    rc = run(["landmarks", "extract", str(photos), "--out", str(out), "--overlay", str(overlays),
              "--person", "prefix"])  # fmt: skip
    assert rc == 1  # some photos failed
    table = read_tidy(out)
    assert list(table.photo_id) == ["multi-two-people", "notes", "obama-1", "obama-5-240p"]
    assert list(table.person[2:]) == ["obama", "obama"]
    assert table.missing[:2].all()
    assert not table.missing[2:].any()
    err = capsys.readouterr().err
    assert "multi-two-people.jpg: 2 faces found; choose one with --face N" in err
    assert "notes.jpg: not an image Pillow can read" in err
    names = sorted(p.name for p in overlays.iterdir())
    assert names == ["multi-two-people.png", "obama-1.png", "obama-5-240p.png"]


def test_extract_largest_and_json(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ffm.csv"
    rc = run(["landmarks", "extract", str(photos / "multi-two-people.jpg"),
              str(photos / "obama-1.jpg"), "--largest", "--out", str(out), "--json"])  # fmt: skip
    assert rc == 0
    got = json.loads(capsys.readouterr().out)
    assert got == {"out": str(out), "photos": 2, "extracted": 2, "failed": []}


def test_extract_turned_copies_for_training(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "ffm.csv"
    rc = run(["landmarks", "extract", str(photos / "obama-1.jpg"), str(photos / "obama-5-240p.jpg"),
              "--person", "prefix", "--turned-copies", "3", "--out", str(out)])  # fmt: skip
    assert rc == 0
    table = read_tidy(out)
    assert len(table) == 2 + 6
    assert table.photo_id[2] == "obama-1~turn1"
    assert set(table.person) == {"obama"}
    assert table.quality is not None  # copies keep their photo's face values
    assert table.quality[2].tolist() == table.quality[0].tolist()


def test_extract_takes_a_photo_named_twice_once(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "ffm.csv"
    one = str(photos / "obama-1.jpg")
    assert run(["landmarks", "extract", one, one, "--out", str(out)]) == 0
    assert list(read_tidy(out).photo_id) == ["obama-1"]


def test_extract_rejects_unknown_person_rule(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = run(["landmarks", "extract", str(photos), "--out", str(tmp_path / "x.csv"),
              "--person", "name"])  # fmt: skip
    assert rc == 2
    assert (
        "--person: expected one of photo, prefix, folder, found 'name'" in capsys.readouterr().err
    )


def test_match_two_photos_prints_verdict_and_evidence(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fig = tmp_path / "m.png"
    rc = run(["match", str(photos / "obama-1.jpg"), str(photos / "obama-5-240p.jpg"),
              "--figure", str(fig), "--evidence", "geometry"])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    verdict = text.splitlines()[1]
    assert verdict.split(" (P = ")[0] in ("same person", "inconclusive", "different people")
    assert "evidence: geometry)" in verdict
    assert "differ most" in text
    assert "agree best" in text
    assert "] " in text  # distances in words with their codes in brackets
    assert fig.read_bytes()[:4] == b"\x89PNG"


def test_match_json(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(["match", str(photos / "obama-1.jpg"), str(photos / "multi-two-people.jpg"),
              "--face", "1", "--json", "--top", "3", "--evidence", "geometry"])  # fmt: skip
    assert rc == 0
    got = json.loads(capsys.readouterr().out)
    assert 0.0 <= got["probability"] <= 1.0
    assert got["verdict"] in ("same", "inconclusive", "different")
    assert got["meaning"]
    assert len(got["differing"]) == 3
    assert {"words", "code", "value_x", "value_y", "score"} <= set(got["differing"][0])


def test_match_rejects_unknown_evidence(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(["match", str(photos / "obama-1.jpg"), str(photos / "obama-2.jpg"),
              "--evidence", "looks"])  # fmt: skip
    assert rc == 2
    assert "--evidence: expected one of geometry, appearance, both, found 'looks'" in (
        capsys.readouterr().err
    )


def test_match_help_explains_the_bands(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["match", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "at most 1% of different-person pairs" in text
    assert "--evidence" in text


def test_match_failures_are_one_line(photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = run(["match", str(photos / "obama-1.jpg"), str(photos / "multi-two-people.jpg")])
    assert rc == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1
    assert "multi-two-people.jpg: 2 faces found" in err[0]
    assert run(["match", str(photos / "obama-1.jpg"), str(photos / "notes.jpg")]) == 2
    assert "notes.jpg: not an image" in capsys.readouterr().err
    assert run(["match", str(photos / "obama-1.jpg")]) == 2
    assert "expected two photos" in capsys.readouterr().err
    assert run(["match", "--pairs", "p.csv"]) == 2
    assert "--pairs needs --photos DIR" in capsys.readouterr().err


@pytest.mark.slow
def test_match_batch_writes_verdicts_and_figures(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("id,photo_x,photo_y\n1,obama-1.jpg,obama-5-240p.jpg\n"
                     "2,obama-1.jpg,multi-two-people.jpg\n")  # fmt: skip
    out = tmp_path / "scores.csv"
    figures = tmp_path / "figs"
    rc = run(["match", "--pairs", str(pairs), "--photos", str(photos), "--out", str(out),
              "--figures", str(figures), "--evidence", "geometry"])  # fmt: skip
    assert rc == 0
    header, rows, _ = read_csv(out)
    assert header == ["id", "photo_x", "photo_y", "probability", "verdict", "evidence",
                      "differ_most", "agree_best", "error"]  # fmt: skip
    assert rows[0][8] == ""
    assert len(rows[0][3]) == 6  # 0.xxxx
    assert rows[0][4] in ("same", "inconclusive", "different")
    assert rows[0][5] == "geometry"  # as --evidence asked
    assert rows[1][3:6] == ["", "", ""]
    assert "2 faces found" in rows[1][8]
    assert "2 pairs: " in capsys.readouterr().out
    assert sorted(p.name for p in figures.iterdir()) == ["pair-2.png"]  # row 2 of the CSV


def test_missing_extra_names_the_install_command(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import mediapipe now fails
    monkeypatch.setitem(sys.modules, "mediapipe.python", None)
    monkeypatch.setitem(sys.modules, "mediapipe.python.solutions", None)
    rc = run(["landmarks", "extract", str(photos), "--out", str(tmp_path / "x.csv")])
    assert rc == 2
    assert "pip install 'ffmatch[photos]'" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["match"], ["landmarks", "extract"]])
def test_help_has_an_example(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*command, "--help"]) == 0
    assert f"Example: ffmatch {' '.join(command)}" in capsys.readouterr().out


def test_an_overlay_never_replaces_its_photo(
    small_photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "obama-1.png"  # its overlay would be obama-1.png, beside it
    photo.write_bytes((small_photos / "obama-1.jpg").read_bytes())
    args = ["landmarks", "extract", str(photo), "--out", str(tmp_path / "ffm.csv")]
    assert run([*args, "--overlay", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"ffmatch: error: --overlay {tmp_path}: obama-1.png would replace this command's "
        f"input {photo}; choose another folder\n"
    )
    assert photo.read_bytes() == (small_photos / "obama-1.jpg").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["obama-1.png"]
