"""``index_folder``: walk PHOTO_DIR, extract what is new or changed, one photo per commit.

The plan (what to extract, copy, touch, forget) is a pure function of the files on disk and
the rows stored; the extraction runs through one executor (this process, a local Dask
cluster, or an existing one) and only this process writes the database, one transaction per
photo as its result arrives. A kill loses at most the photos in flight; a rerun sees them as
new and finishes the job.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ffmatch.archive import store
from ffmatch.archive.db import get_meta, opened, set_meta, transaction, utc_now, writer_lock
from ffmatch.archive.records import (
    Extract,
    PhotoRecord,
    PhotoTask,
    extract_record,
    extractor_version,
)
from ffmatch.archive.walk import FoundFile, sha256_of, walk
from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.io._cells import check_row_lengths, read_csv

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""The one progress hook: ``(phase, done, total)``; phases are "hashing" and "extracting"."""


@dataclass(frozen=True, kw_only=True, slots=True)
class IndexReport:
    """What one ``index`` run did."""

    photo_dir: Path
    db_path: Path
    found: int  # files under PHOTO_DIR
    extracted: int  # photos read and extracted this run
    copied: int  # new ids whose content was already indexed (faces copied, not extracted)
    unchanged: int  # skipped: same size, time and extractor as stored
    removed: tuple[str, ...]  # ids no longer on disk, forgotten
    failed: tuple[tuple[str, str], ...]  # (id, reason) of photos without faces, this run
    faces: int  # faces in the archive after the run
    labels: int  # labels set this run
    seconds: float  # wall time of the run


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    """What a run has to do, decided before any photo is read."""

    extract: tuple[PhotoTask, ...]
    copy: tuple[tuple[PhotoTask, str], ...]  # (new photo, indexed photo with its content)
    touch: tuple[PhotoTask, ...]  # content unchanged, new modification time
    unchanged: int
    removed: tuple[str, ...]


def plan_run(
    found: Sequence[FoundFile],
    stored: Mapping[str, store.StoredPhoto],
    *,
    extractor: str,
    sha256: Callable[[Path], str] = sha256_of,
    by_hash: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Plan:
    """Compare the files on disk with the stored rows.

    A file with the size and modification time stored, extracted by the current extractor,
    is unchanged (not even hashed, as rsync decides); any other file is hashed: content
    already stored under another id is copied, the same content under its own id only gets
    its new time, and everything else is extracted. ``by_hash`` maps content to an id with
    that content already indexed.
    """
    known = dict(by_hash or {})
    extract: list[PhotoTask] = []
    copy: list[tuple[PhotoTask, str]] = []
    touch: list[PhotoTask] = []
    unchanged = 0
    for k, f in enumerate(found):
        if progress is not None:
            progress("hashing", k, len(found))
        old = stored.get(f.photo_id)
        if (
            old is not None
            and old.size == f.size
            and old.mtime_ns == f.mtime_ns
            and old.extractor == extractor
        ):
            unchanged += 1
            continue
        digest = None
        problem = f.problem
        if not problem:
            try:
                digest = sha256(f.path)
            except OSError as err:
                problem = f"unreadable ({err.strerror or err})"
        task = PhotoTask(
            photo_id=f.photo_id,
            path=str(f.path),
            sha256=digest,
            size=f.size,
            mtime_ns=f.mtime_ns,
            problem=problem,
        )
        if (
            digest is not None
            and old is not None
            and old.sha256 == digest
            and old.extractor == extractor
        ):
            touch.append(task)
        elif digest is not None and known.get(digest, f.photo_id) != f.photo_id:
            copy.append((task, known[digest]))
        else:
            extract.append(task)
            if digest is not None:
                known.setdefault(digest, f.photo_id)
    on_disk = {f.photo_id for f in found}
    removed = tuple(sorted(set(stored) - on_disk))
    if progress is not None:
        progress("hashing", len(found), len(found))
    return Plan(
        extract=tuple(extract),
        copy=tuple(copy),
        touch=tuple(touch),
        unchanged=unchanged,
        removed=removed,
    )


def read_labels(path: str | os.PathLike[str], photo_ids: Iterable[str]) -> dict[str, str]:
    """A ``photo,person`` CSV; every photo must be one found under PHOTO_DIR."""
    header, rows, numbers = read_csv(path)
    if [h.lower() for h in header[:2]] != ["photo", "person"]:
        raise DataError(f"{path}: expected columns photo, person, found {', '.join(header)}")
    check_row_lengths(rows, numbers, width=len(header), source=str(path))
    ids = set(photo_ids)
    out: dict[str, str] = {}
    for row, n in zip(rows, numbers, strict=True):
        photo, person = row[0].strip().replace("\\", "/"), row[1].strip()
        if photo not in ids:
            raise DataError(
                f"{path}: row {n}, column photo: {photo!r} is not a file under "
                "PHOTO_DIR (expected a path relative to it, e.g. s1/1.pgm)"
            )
        if not person:
            raise DataError(f"{path}: row {n}, column person: expected a name, found an empty cell")
        out[photo] = person
    return out


def labels_from_folders(photo_ids: Iterable[str]) -> dict[str, str]:
    """Each photo's person is the folder it sits in (photos at the top level get none)."""
    return {p: p.rsplit("/", 2)[-2] for p in photo_ids if "/" in p}


def index_folder(
    photo_dir: str | os.PathLike[str],
    db_path: str | os.PathLike[str],
    *,
    labels: str | os.PathLike[str] | None = None,
    labels_from_folder: bool = False,
    workers: int = 0,
    scheduler: str | None = None,
    progress: Progress | None = None,
    extract: Extract = extract_record,
) -> IndexReport:
    """Index every photo under ``photo_dir`` into the archive ``db_path`` (created if new).

    ``workers`` > 0 starts a local Dask cluster of that many processes; ``scheduler`` uses a
    running one at that address (its workers must see ``photo_dir`` at the same path). The
    database is written by this process only, one photo per transaction.
    """
    start = time.perf_counter()
    if labels is not None and labels_from_folder:
        raise ConfigError("give --labels FILE or --labels-from-folders, not both")
    if workers < 0:
        raise ConfigError(f"--workers: expected 0 (this process) or more, found {workers}")
    root = Path(photo_dir).absolute()
    db = Path(db_path).absolute()
    own = frozenset(Path(f"{db}{s}") for s in ("", "-wal", "-shm", "-journal", ".lock"))
    found = walk(root, skip=own)
    ids = [f.photo_id for f in found]
    known_people = (
        read_labels(labels, ids)
        if labels is not None
        else labels_from_folders(ids)
        if labels_from_folder
        else {}
    )
    with writer_lock(db), opened(db, create=True) as conn:
        _check_root(conn, root, db)
        stored = store.stored_photos(conn)
        by_hash = {
            s.sha256: s.photo_id
            for s in sorted(stored.values(), key=lambda s: s.photo_id)
            if s.sha256 is not None and s.extractor == extractor_version()
        }
        plan = plan_run(
            found, stored, extractor=extractor_version(), by_hash=by_hash, progress=progress
        )
        if plan.removed:
            store.remove_photos(conn, plan.removed)
        for task in plan.touch:
            store.touch_photo(conn, task.photo_id, size=task.size, mtime_ns=task.mtime_ns)
        failed: list[tuple[str, str]] = []
        total = len(plan.extract)
        for k, rec in enumerate(_run(plan.extract, extract, workers=workers, scheduler=scheduler)):
            store.write_record(conn, rec)
            if rec.status != "ok":
                failed.append((rec.photo_id, rec.error))
            if progress is not None:
                progress("extracting", k + 1, total)
        # Copies last: their source may have been extracted in this very run.
        for task, source in plan.copy:
            store.copy_photo(
                conn,
                photo_id=task.photo_id,
                source_id=source,
                size=task.size,
                mtime_ns=task.mtime_ns,
            )
        if known_people:
            source = f"csv:{Path(labels).name}" if labels is not None else "folder"
            store.set_labels(conn, known_people, source=source)
        with transaction(conn):
            set_meta(conn, "indexed_at", utc_now())
        faces = conn.execute("SELECT count(*) FROM faces").fetchone()[0]
    return IndexReport(
        photo_dir=root,
        db_path=db,
        found=len(found),
        extracted=total,
        copied=len(plan.copy),
        unchanged=plan.unchanged,
        removed=plan.removed,
        failed=tuple(sorted(failed)),
        faces=int(faces),
        labels=len(known_people),
        seconds=time.perf_counter() - start,
    )


def _check_root(conn: sqlite3.Connection, root: Path, db: Path) -> None:
    """An archive indexes one PHOTO_DIR: its ids are paths relative to it."""
    stored = get_meta(conn, "photo_dir")
    if stored is None:
        with transaction(conn):
            set_meta(conn, "photo_dir", str(root))
    elif Path(stored) != root:
        raise DataError(f"{db}: this archive indexes {stored}, not {root}; use another --db")


def _run(
    tasks: Sequence[PhotoTask], extract: Extract, *, workers: int, scheduler: str | None
) -> Iterator[PhotoRecord]:
    """Results of ``extract`` over ``tasks``, as they complete (in order in this process)."""
    if not tasks:
        return
    if scheduler is None and workers == 0:
        for task in tasks:
            yield extract(task)
        return
    from ffmatch.archive.cluster import dask_results

    yield from dask_results(tasks, extract, workers=workers, scheduler=scheduler)
