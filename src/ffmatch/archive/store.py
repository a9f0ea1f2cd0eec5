"""Reading and writing the archive's rows: photos, faces, labels; the faces as one bank.

Thin adapters between SQLite and the typed records: each write is one transaction, and
every insert is an upsert keyed on the table's UNIQUE key, so a rerun after a kill finishes
the job without duplicating a row.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ffmatch.archive.db import transaction, utc_now
from ffmatch.archive.records import DESCRIPTOR_SIZE, PhotoRecord
from ffmatch.core.markers import N_MARKERS
from ffmatch.core.table import FloatArray

_UPSERT_PHOTO = """
INSERT INTO photos (id, sha256, size, mtime_ns, width, height, status, error, extractor,
                    indexed_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    sha256 = excluded.sha256, size = excluded.size, mtime_ns = excluded.mtime_ns,
    width = excluded.width, height = excluded.height, status = excluded.status,
    error = excluded.error, extractor = excluded.extractor, indexed_at = excluded.indexed_at
"""
_INSERT_FACE = """
INSERT INTO faces (photo, face, box_left, box_top, box_right, box_bottom, markers, descriptor,
                   quality, extractor)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredPhoto:
    """What the index compares a file on disk with to decide whether to extract it again."""

    photo_id: str
    sha256: str | None
    size: int
    mtime_ns: int
    status: str
    extractor: str


def write_record(conn: sqlite3.Connection, rec: PhotoRecord) -> None:
    """Store one photo and its faces in one transaction, replacing what was there."""
    now = utc_now()
    with transaction(conn):
        conn.execute("DELETE FROM faces WHERE photo = ?", (rec.photo_id,))
        conn.execute(
            _UPSERT_PHOTO,
            (
                rec.photo_id,
                rec.sha256,
                rec.size,
                rec.mtime_ns,
                rec.width,
                rec.height,
                rec.status,
                rec.error,
                rec.extractor,
                now,
            ),
        )
        conn.executemany(
            _INSERT_FACE,
            [
                (
                    rec.photo_id,
                    k + 1,
                    *f.box,
                    np.ascontiguousarray(f.markers, dtype="<f8").tobytes(),
                    None
                    if f.descriptor is None
                    else np.ascontiguousarray(f.descriptor, dtype="<f4").tobytes(),
                    json.dumps(dict(f.quality), sort_keys=True),
                    rec.extractor,
                )
                for k, f in enumerate(rec.faces)
            ],
        )


def copy_photo(
    conn: sqlite3.Connection, *, photo_id: str, source_id: str, size: int, mtime_ns: int
) -> None:
    """Store ``photo_id`` as a copy of ``source_id`` (same content): its faces are not extracted
    again (a moved or duplicated photo costs a row copy)."""
    now = utc_now()
    with transaction(conn):
        conn.execute("DELETE FROM faces WHERE photo = ?", (photo_id,))
        conn.execute(
            "INSERT INTO photos (id, sha256, size, mtime_ns, width, height, status, error, "
            "extractor, indexed_at) SELECT ?, sha256, ?, ?, width, height, status, error, "
            "extractor, ? FROM photos WHERE id = ? "
            "ON CONFLICT (id) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, "
            "mtime_ns = excluded.mtime_ns, width = excluded.width, height = excluded.height, "
            "status = excluded.status, error = excluded.error, extractor = excluded.extractor, "
            "indexed_at = excluded.indexed_at",
            (photo_id, size, mtime_ns, now, source_id),
        )
        conn.execute(
            "INSERT INTO faces SELECT ?, face, box_left, box_top, box_right, box_bottom, markers, "
            "descriptor, quality, extractor FROM faces WHERE photo = ?",
            (photo_id, source_id),
        )


def touch_photo(conn: sqlite3.Connection, photo_id: str, *, size: int, mtime_ns: int) -> None:
    """Record a new modification time for a photo whose content did not change."""
    with transaction(conn):
        conn.execute(
            "UPDATE photos SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, photo_id)
        )


def remove_photos(conn: sqlite3.Connection, photo_ids: Sequence[str]) -> None:
    """Forget photos no longer on disk (their faces and labels go too; decisions stay)."""
    with transaction(conn):
        conn.executemany("DELETE FROM photos WHERE id = ?", [(p,) for p in photo_ids])


def set_labels(conn: sqlite3.Connection, labels: Mapping[str, str], *, source: str) -> None:
    """Known people of photos (``photo id -> person``), replacing earlier labels of those."""
    with transaction(conn):
        conn.executemany(
            "INSERT INTO labels (photo, person, source) VALUES (?, ?, ?) ON CONFLICT (photo) "
            "DO UPDATE SET person = excluded.person, source = excluded.source",
            [(p, person, source) for p, person in labels.items()],
        )


def stored_photos(conn: sqlite3.Connection) -> dict[str, StoredPhoto]:
    rows = conn.execute("SELECT id, sha256, size, mtime_ns, status, extractor FROM photos")
    return {
        r[0]: StoredPhoto(
            photo_id=r[0], sha256=r[1], size=r[2], mtime_ns=r[3], status=r[4], extractor=r[5]
        )
        for r in rows
    }


def photos_with_hash(conn: sqlite3.Connection, sha256: str) -> list[str]:
    """Ids of indexed photos with this content (sorted)."""
    rows = conn.execute("SELECT id FROM photos WHERE sha256 = ? ORDER BY id", (sha256,))
    return [r[0] for r in rows]


@dataclass(frozen=True, kw_only=True, slots=True)
class FaceBank:
    """Every stored face as arrays, one row per face: what search and grouping compute on.

    ``descriptor`` rows are NaN where a face has none (``has_descriptor`` False).
    """

    photo: npt.NDArray[np.str_]  # (N,) photo ids
    face: npt.NDArray[np.int64]  # (N,) 1 = leftmost in its photo
    sha256: npt.NDArray[np.str_]  # (N,) its photo's content hash
    person: npt.NDArray[np.str_]  # (N,) known person of its photo, "" if none
    box: FloatArray  # (N, 4) left, top, right, bottom
    markers: FloatArray  # (N, 14, 2)
    descriptor: npt.NDArray[np.float32]  # (N, 128)
    eye_distance: FloatArray  # (N,) px between the iris centres; NaN if unknown
    yaw: FloatArray  # (N,) degrees
    pitch: FloatArray  # (N,) degrees
    mouth_open: npt.NDArray[np.bool_]  # (N,)
    smiling: npt.NDArray[np.bool_]  # (N,)
    descriptor_norm2: npt.NDArray[np.float32] = field(default=None)  # type: ignore[arg-type]
    """(N,) squared descriptor norms, computed once (a search reads them, not the rows twice)."""

    def __post_init__(self) -> None:
        if self.descriptor_norm2 is None:
            norm2 = np.einsum("ij,ij->i", self.descriptor, self.descriptor)
            object.__setattr__(self, "descriptor_norm2", norm2)

    def __len__(self) -> int:
        return len(self.photo)

    @property
    def has_descriptor(self) -> npt.NDArray[np.bool_]:
        return np.asarray(~np.isnan(self.descriptor[:, 0]))

    def take(self, idx: npt.ArrayLike) -> FaceBank:
        """The faces at ``idx`` (integer positions or a boolean mask), in that order."""
        k = np.asarray(idx)
        if k.dtype == bool:
            k = np.flatnonzero(k)
        return FaceBank(
            photo=self.photo[k],
            face=self.face[k],
            sha256=self.sha256[k],
            person=self.person[k],
            box=self.box[k],
            markers=self.markers[k],
            descriptor=self.descriptor[k],
            descriptor_norm2=self.descriptor_norm2[k],
            **{q: getattr(self, q)[k] for q in QUALITY},
        )

    def index_of(self, photo_id: str, face: int) -> int:
        """Position of one face; KeyError if the archive has no such face."""
        hits = np.flatnonzero((self.photo == photo_id) & (self.face == face))
        if not len(hits):
            raise KeyError((photo_id, face))
        return int(hits[0])


def bank_from_arrays(
    *,
    photo: Sequence[str],
    face: Sequence[int],
    markers: npt.ArrayLike,
    descriptor: npt.ArrayLike | None = None,
    person: Sequence[str] | None = None,
    sha256: Sequence[str] | None = None,
    box: npt.ArrayLike | None = None,
) -> FaceBank:
    """A bank made in memory (a query photo's faces, tests, benchmarks)."""
    n = len(photo)
    desc = (
        np.full((n, DESCRIPTOR_SIZE), np.nan, dtype=np.float32)
        if descriptor is None
        else np.asarray(descriptor, dtype=np.float32).reshape(n, DESCRIPTOR_SIZE)
    )
    return FaceBank(
        photo=np.asarray(photo, dtype=str).reshape(n),
        face=np.asarray(face, dtype=np.int64),
        sha256=np.asarray(sha256 if sha256 is not None else [""] * n, dtype=str).reshape(n),
        person=np.asarray(person if person is not None else [""] * n, dtype=str).reshape(n),
        box=np.zeros((n, 4)) if box is None else np.asarray(box, dtype=np.float64).reshape(n, 4),
        markers=np.asarray(markers, dtype=np.float64).reshape(n, N_MARKERS, 2),
        descriptor=desc,
        **_quality_columns([{}] * n),
    )


def load_bank(conn: sqlite3.Connection) -> FaceBank:
    """Every face of every indexed photo, ordered by (photo, face)."""
    return _bank(conn, "", ())


_BANKS: dict[str, tuple[tuple[int, ...], FaceBank]] = {}
_BANKS_KEPT = 2  # archives whose faces stay in memory (a web page serves one)


def cached_bank(conn: sqlite3.Connection, db_path: str | os.PathLike[str]) -> FaceBank:
    """``load_bank``, kept in memory while the archive file and its WAL are unchanged: a web
    page searching a million faces reads them once, not on every request."""
    path = os.path.realpath(db_path)
    stamp = tuple(
        v
        for suffix in ("", "-wal")
        if os.path.exists(path + suffix)
        for v in (os.stat(path + suffix).st_mtime_ns, os.stat(path + suffix).st_size)
    )
    hit = _BANKS.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    bank = load_bank(conn)
    while len(_BANKS) >= _BANKS_KEPT:
        _BANKS.pop(next(iter(_BANKS)))
    _BANKS[path] = (stamp, bank)
    return bank


def load_bank_of(conn: sqlite3.Connection, photo_id: str) -> FaceBank:
    """The faces of one indexed photo (none if it has none or is not indexed)."""
    return _bank(conn, "WHERE f.photo = ?", (photo_id,))


def bank_from_records(*records: PhotoRecord) -> FaceBank:
    """The faces of photos extracted but not stored (a query photo)."""
    faces = [(r, k, f) for r in records for k, f in enumerate(r.faces)]
    n = len(faces)
    desc = np.full((n, DESCRIPTOR_SIZE), np.nan, dtype=np.float32)
    for i, (_, _, f) in enumerate(faces):
        if f.descriptor is not None:
            desc[i] = f.descriptor
    return FaceBank(
        photo=np.array([r.photo_id for r, _, _ in faces], dtype=str).reshape(n),
        face=np.array([k + 1 for _, k, _ in faces], dtype=np.int64),
        sha256=np.array([r.sha256 or "" for r, _, _ in faces], dtype=str).reshape(n),
        person=np.array([""] * n, dtype=str).reshape(n),
        box=np.array([f.box for _, _, f in faces], dtype=np.float64).reshape(n, 4),
        markers=np.array([f.markers for _, _, f in faces], dtype=np.float64).reshape(
            n, N_MARKERS, 2
        ),
        descriptor=desc,
        **_quality_columns([f.quality for _, _, f in faces]),
    )


def _bank(conn: sqlite3.Connection, where: str, args: tuple[str, ...]) -> FaceBank:
    rows = conn.execute(
        "SELECT f.photo, f.face, p.sha256, coalesce(l.person, ''), f.box_left, f.box_top, "
        "f.box_right, f.box_bottom, f.markers, f.descriptor, f.quality FROM faces f "
        "JOIN photos p ON p.id = f.photo LEFT JOIN labels l ON l.photo = f.photo "
        f"{where} ORDER BY f.photo, f.face",
        args,
    ).fetchall()
    n = len(rows)
    empty = np.full(DESCRIPTOR_SIZE, np.nan, dtype="<f4").tobytes()
    # One buffer per column, decoded at once: ~1 s per million faces instead of a loop.
    markers = np.frombuffer(b"".join(r[8] for r in rows), dtype="<f8").reshape(n, N_MARKERS, 2)
    desc = np.frombuffer(b"".join(r[9] or empty for r in rows), dtype="<f4")
    return FaceBank(
        photo=np.array([r[0] for r in rows], dtype=str).reshape(n),
        face=np.array([r[1] for r in rows], dtype=np.int64),
        sha256=np.array([r[2] or "" for r in rows], dtype=str).reshape(n),
        person=np.array([r[3] for r in rows], dtype=str).reshape(n),
        box=np.array([r[4:8] for r in rows], dtype=np.float64).reshape(n, 4),
        markers=markers.astype(np.float64),
        descriptor=desc.reshape(n, DESCRIPTOR_SIZE).copy(),
        **_quality_columns([json.loads(r[10]) for r in rows]),
    )


QUALITY = ("eye_distance", "yaw", "pitch", "mouth_open", "smiling")
"""The quality values a bank keeps per face (``ffmatch.matcher.photos.quality.FaceQuality``)."""


def _quality_columns(rows: Sequence[Mapping[str, object]]) -> dict[str, Any]:
    """Quality dicts as the bank's columns; unknown values NaN (eye distance), 0 or False."""
    n = len(rows)

    def col(key: str, default: float) -> FloatArray:
        return np.array([float(r.get(key, default)) for r in rows], dtype=np.float64).reshape(n)  # type: ignore[arg-type]

    return {
        "eye_distance": col("eye_distance", np.nan),
        "yaw": col("yaw", 0.0),
        "pitch": col("pitch", 0.0),
        "mouth_open": col("mouth_open", 0.0) > 0,
        "smiling": col("smiling", 0.0) > 0,
    }
