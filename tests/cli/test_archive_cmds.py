"""``ffmatch index``, ``search``, ``decide`` and ``group`` end to end on a few ORL faces."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from ffmatch.archive import archive_summary, face_crop, photo_path
from ffmatch.cli.app import run
from ffmatch.core.errors import DataError


@pytest.fixture(scope="module")
def archive(orl_faces: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(PHOTO_DIR, archive): 3 people x 2 ORL photos, an empty file and a text file."""
    pytest.importorskip("mediapipe")
    orl = orl_faces
    root = tmp_path_factory.mktemp("arch") / "photos"
    for p in (1, 2, 3):
        (root / f"s{p}").mkdir(parents=True)
        for k in (1, 2):
            shutil.copy(orl / f"s{p}" / f"{k}.pgm", root / f"s{p}" / f"{k}.pgm")
    (root / "empty.jpg").write_bytes(b"")
    (root / "readme.txt").write_text("not a photo")
    db = root.parent / "archive.db"
    assert run(["-q", "index", str(root), "--db", str(db), "--labels-from-folders"]) == 0
    return root, db


def test_index_reports_and_reruns_incrementally(
    archive: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, db = archive
    s = archive_summary(db)
    assert (s.photos, s.faces, s.people) == (8, 6, 3)
    assert {f.photo: f.reason for f in s.failed} == {
        "empty.jpg": "zero-byte file",
        "readme.txt": "not an image Pillow can read (expected JPEG, PNG, PGM, ...)",
    }
    capsys.readouterr()
    assert run(["index", str(root), "--db", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["results"]
    assert (report["extracted"], report["unchanged"], report["faces"]) == (0, 8, 6)


def test_search_writes_csv_html_and_json(
    archive: tuple[Path, Path],
    orl_faces: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, db = archive
    out, sheet = tmp_path / "shortlist.csv", tmp_path / "sheet.html"
    query = orl_faces / "s2" / "5.pgm"
    args = [
        "search",
        str(query),
        str(root / "s1" / "1.pgm"),
        "--db",
        str(db),
        "--top",
        "3",
        "--out",
        str(out),
        "--html",
        str(sheet),
        "--evidence",
        "geometry",
    ]
    assert run(args) == 0
    assert "s1/1.pgm: already in the archive as s1/1.pgm" in capsys.readouterr().err
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "query",
        "rank",
        "candidate",
        "face",
        "probability",
        "verdict",
        "person",
        "evidence",
    ]
    assert {r["evidence"] for r in rows} == {"geometry"}  # as --evidence asked
    assert [r["rank"] for r in rows] == ["1", "2", "3"] * 2
    own = [r for r in rows if r["query"].endswith("1.pgm")]
    assert all(r["candidate"] != "s1/1.pgm" for r in own)
    assert {r["person"] for r in rows} <= {"s1", "s2", "s3"}
    text = sheet.read_text()
    assert text.count("data:image/jpeg;base64,") == 2 + 6  # each query + each candidate
    assert text.count("<details>") == 6  # each candidate's evidence figure, one click away
    assert text.count("(evidence: geometry)") == 6  # what each verdict used
    assert (
        run(
            [
                "search",
                str(query),
                "--db",
                str(db),
                "--top",
                "1",
                "--json",
                "--evidence",
                "geometry",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "search"
    assert len(doc["results"][0]["candidates"]) == 1


def test_decide_then_group(
    archive: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, db = archive
    assert (
        run(
            [
                "decide",
                "s1/1.pgm",
                "s2/1.pgm",
                "different",
                "--db",
                str(db),
                "--note",
                "x",
                "--who",
                "kim",
            ]
        )
        == 0
    )
    assert "s1/1.pgm and s2/1.pgm: different (by kim at" in capsys.readouterr().out
    out, sheet = tmp_path / "groups.csv", tmp_path / "groups.html"
    assert (
        run(
            [
                "group",
                "--db",
                str(db),
                "--out",
                str(out),
                "--html",
                str(sheet),
                "--evidence",
                "geometry",
            ]
        )
        == 0
    )
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["photo", "face", "group", "person"]
    assert len(rows) == 6
    by_person: dict[str, set[str]] = {}
    for r in rows:  # labels are must-links: each person's two photos share a group
        by_person.setdefault(r["person"], set()).add(r["group"])
    assert all(len(g) == 1 for g in by_person.values())
    assert "weakest link" in sheet.read_text()


def test_photos_are_served_by_id_only(archive: tuple[Path, Path]) -> None:
    root, db = archive
    assert photo_path(db, "s1/1.pgm") == root / "s1" / "1.pgm"
    jpeg = face_crop(db, "s1/1.pgm", 1)
    assert jpeg[:2] == b"\xff\xd8"
    with pytest.raises(DataError, match=r"no photo '\.\./secret' in this archive"):
        photo_path(db, "../secret")
    with pytest.raises(DataError, match=r"no face 2 of photo 's1/1\.pgm'"):
        face_crop(db, "s1/1.pgm", 2)


def test_errors_are_one_line(
    archive: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, db = archive
    assert run(["decide", "s1/1.pgm", "s9/1.pgm", "same", "--db", str(db)]) == 2
    assert capsys.readouterr().err.startswith("ffmatch: error: ")
    assert run(["search", str(root / "s1" / "1.pgm"), "--db", str(tmp_path / "none.db")]) == 2
    assert "no such archive; create it with 'ffmatch index" in capsys.readouterr().err
    assert (
        run(["group", "--db", str(db), "--out", str(tmp_path / "g.csv"), "--evidence", "smell"])
        == 2
    )
    assert "--evidence: expected one of geometry, appearance, both" in capsys.readouterr().err


def test_default_search_uses_the_fused_verdicts(
    archive: tuple[Path, Path], orl_faces: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("dlib")
    _, db = archive
    assert archive_summary(db).faces_with_descriptor == 6
    assert (
        run(["search", str(orl_faces / "s3" / "7.pgm"), "--db", str(db), "--top", "2", "--json"])
        == 0
    )
    doc = json.loads(capsys.readouterr().out)["results"][0]
    first = doc["candidates"][0]
    assert (first["person"], first["evidence"], first["verdict"]) == ("s3", "both", "same")
    assert any("descriptor distance" in r for r in first["reasons"])


def test_a_groups_sheet_stops_at_its_face_limit(archive: tuple[Path, Path], tmp_path: Path) -> None:
    from ffmatch.archive import group
    from ffmatch.archive.sheets import groups_html

    _, db = archive
    grouping = group(db, evidence="geometry")  # the labels join each person's two photos
    assert [g.size for g in grouping.groups] == [2, 2, 2]
    text = groups_html(db, grouping, tmp_path / "g.html", max_faces=3).read_text()
    assert (
        "2 more groups (of 2 faces or fewer) are in the CSV; this sheet shows the first 2" in text
    )
    assert text.count("data:image/jpeg;base64,") == 2


def test_workers_beyond_the_cap_are_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "a.db"
    assert run(["index", str(tmp_path), "--db", str(db), "--workers", "65"]) == 2
    assert capsys.readouterr().err == (
        "ffmatch: error: --workers: expected an integer in 0..64, found 65\n"
    )
    assert not db.exists()


def test_a_report_never_replaces_the_archive_or_a_query(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, query = tmp_path / "a.db", tmp_path / "q.jpg"
    db.write_bytes(b"an archive")
    query.write_bytes(b"a photo")
    assert run(["group", "--db", str(db), "--out", str(db)]) == 2
    assert "--out " + str(db) + ": is also this command's input" in capsys.readouterr().err
    args = ["search", str(query), "--db", str(db), "--out", str(tmp_path / "s.csv")]
    assert run([*args, "--html", str(query)]) == 2
    assert "--html " + str(query) + ": is also this command's input" in capsys.readouterr().err
    assert run([*args, "--html", str(tmp_path / "s.csv")]) == 2
    assert "s.csv: is also this command's input" in capsys.readouterr().err
    assert (db.read_bytes(), query.read_bytes()) == (b"an archive", b"a photo")
