"""Indexing: every file gets a row, reruns extract only what changed, labels, Dask = local."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ffmatch.archive import archive_summary, index_folder
from ffmatch.archive.db import opened
from ffmatch.archive.records import PhotoRecord, PhotoTask
from ffmatch.core.errors import ConfigError, DataError

from .conftest import fake_extract

MakePhotos = Callable[[dict[str, str]], Path]


def _rows(db: Path) -> list[tuple[object, ...]]:
    with opened(db) as conn:
        photos = conn.execute(
            "SELECT id, sha256, size, status, error FROM photos ORDER BY id"
        ).fetchall()
        faces = conn.execute(
            "SELECT photo, face, markers, descriptor FROM faces ORDER BY photo, face"
        ).fetchall()
        labels = conn.execute("SELECT * FROM labels ORDER BY photo").fetchall()
    return [*photos, *faces, *labels]


def test_every_file_gets_a_row_and_failures_keep_their_reason(
    small_archive: tuple[Path, Path],
) -> None:
    _, db = small_archive
    s = archive_summary(db)
    assert (s.photos, s.photos_with_faces, s.faces) == (11, 10, 11)
    assert tuple((f.photo, f.status, f.reason) for f in s.failed) == (
        ("notes.txt", "failed", "not an image Pillow can read (expected JPEG, PNG, PGM, ...)"),
    )
    assert s.indexed_at
    assert s.created_at


def test_a_rerun_extracts_only_new_and_changed_photos(
    small_archive: tuple[Path, Path],
) -> None:
    root, db = small_archive
    seen: list[str] = []

    def counting(task: PhotoTask) -> PhotoRecord:
        seen.append(task.photo_id)
        return fake_extract(task)

    again = index_folder(root, db, extract=counting)
    assert (again.extracted, again.unchanged, seen) == (0, 11, [])
    (root / "ann" / "0.jpg").write_text("person=ann shot=0 retouched")
    (root / "bob" / "copy.jpg").write_text((root / "bob" / "1.jpg").read_text())
    (root / "cy" / "2.jpg").unlink()
    before = _rows(db)
    report = index_folder(root, db, extract=counting)
    assert seen == ["ann/0.jpg"]  # the copy's faces come from its twin: not extracted
    assert (report.extracted, report.copied, report.removed) == (1, 1, ("cy/2.jpg",))
    after = _rows(db)
    assert len(after) == len(before)  # one forgotten photo (+face), one copy (+face)
    with opened(db) as conn:
        twins = conn.execute(
            "SELECT markers FROM faces WHERE photo IN ('bob/1.jpg', 'bob/copy.jpg')"
        ).fetchall()
    assert twins[0] == twins[1]


def test_touching_a_file_without_changing_it_extracts_nothing(
    small_archive: tuple[Path, Path],
) -> None:
    root, db = small_archive
    os.utime(root / "ann" / "1.jpg", ns=(10**18, 10**18))
    report = index_folder(root, db, extract=fake_extract)
    assert (report.extracted, report.unchanged) == (0, 10)


def test_reruns_are_idempotent(small_archive: tuple[Path, Path]) -> None:
    root, db = small_archive
    first = _rows(db)
    with opened(db) as conn:  # as if killed before these photos were committed
        conn.execute("DELETE FROM photos WHERE id LIKE 'bob/%'")
    index_folder(root, db, extract=fake_extract)
    assert _rows(db) == first


def test_labels_from_a_csv_or_from_folders(
    small_archive: tuple[Path, Path], tmp_path: Path
) -> None:
    root, db = small_archive
    csv = tmp_path / "labels.csv"
    csv.write_text("photo,person\nann/0.jpg,Ann Smith\nbob/1.jpg,Bob\n")
    assert index_folder(root, db, labels=csv, extract=fake_extract).labels == 2
    assert archive_summary(db).people == 2
    index_folder(root, db, labels_from_folder=True, extract=fake_extract)
    with opened(db) as conn:
        labels = dict(conn.execute("SELECT photo, person FROM labels").fetchall())
    assert labels["ann/0.jpg"] == "ann"
    assert labels["group/ann-and-bob.jpg"] == "group"
    assert "notes.txt" not in labels


def test_bad_labels_name_the_row(small_archive: tuple[Path, Path], tmp_path: Path) -> None:
    root, db = small_archive
    csv = tmp_path / "labels.csv"
    csv.write_text("photo,person\nann/0.jpg,Ann\nzed/1.jpg,Zed\n")
    with pytest.raises(
        DataError,
        match=r"labels.csv: row 3, column photo: 'zed/1.jpg' is not a "
        "file under PHOTO_DIR",
    ):
        index_folder(root, db, labels=csv, extract=fake_extract)
    csv.write_text("file,who\nann/0.jpg,Ann\n")
    with pytest.raises(DataError, match="expected columns photo, person, found file, who"):
        index_folder(root, db, labels=csv, extract=fake_extract)
    with pytest.raises(ConfigError, match="give --labels FILE or --labels-from-folders, not both"):
        index_folder(root, db, labels=csv, labels_from_folder=True, extract=fake_extract)


def test_an_archive_belongs_to_one_folder(small_archive: tuple[Path, Path], tmp_path: Path) -> None:
    _, db = small_archive
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(DataError, match=r"this archive indexes .*photos, not .*other; use another"):
        index_folder(other, db, extract=fake_extract)


def test_the_archive_inside_photo_dir_is_not_indexed(make_photos: MakePhotos) -> None:
    root = make_photos({"a.jpg": "person=a"})
    report = index_folder(root, root / "archive.db", extract=fake_extract)
    assert report.found == 1


def test_a_dask_cluster_gives_the_single_process_result(
    make_photos: MakePhotos, tmp_path: Path
) -> None:
    distributed = pytest.importorskip("distributed")
    root = make_photos({f"p{k % 3}/{k}.jpg": f"person=p{k % 3} shot={k}" for k in range(12)})
    index_folder(root, tmp_path / "one.db", extract=fake_extract)
    # Two in-process workers (threads): real scheduling and serialisation, no process start-up.
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        report = index_folder(
            root, tmp_path / "two.db", scheduler=cluster.scheduler_address, extract=fake_extract
        )
    assert report.extracted == 12
    assert _rows(tmp_path / "two.db") == _rows(tmp_path / "one.db")


def test_negative_workers_are_refused(make_photos: MakePhotos, tmp_path: Path) -> None:
    root = make_photos({"a.jpg": "person=a"})
    with pytest.raises(ConfigError, match="--workers: expected 0 \\(this process\\) or more"):
        index_folder(root, tmp_path / "a.db", workers=-1, extract=fake_extract)
