"""The archive database: one SQLite file in WAL mode, its versioned schema, transactions, lock.

The schema is documented in docs/archive.md and versioned with ``PRAGMA user_version``: a
database written by a newer ffmatch is refused with one line instead of being misread. Every
write goes through ``transaction`` (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on error),
so a kill at any moment leaves the last committed state; WAL lets the web page read while
``ffmatch index`` writes.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ffmatch.core.errors import DataError

SCHEMA_VERSION = 1
"""The schema this ffmatch writes; bump it (with a migration) whenever a table changes."""

BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another one's transaction to end

SCHEMA = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE photos (
    id         TEXT PRIMARY KEY,      -- path relative to PHOTO_DIR, forward slashes
    sha256     TEXT,                  -- content hash (hex); NULL when the file cannot be read
    size       INTEGER NOT NULL,      -- bytes
    mtime_ns   INTEGER NOT NULL,      -- modification time, ns since the epoch
    width      INTEGER,               -- upright pixels; NULL when not decoded
    height     INTEGER,
    status     TEXT NOT NULL CHECK (status IN ('ok', 'no_face', 'failed')),
    error      TEXT NOT NULL DEFAULT '',  -- why it failed or has no face
    extractor  TEXT NOT NULL,         -- versions of what extracted it
    indexed_at TEXT NOT NULL          -- UTC, ISO 8601
);
CREATE INDEX photos_by_sha256 ON photos (sha256);
CREATE TABLE faces (
    photo      TEXT NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    face       INTEGER NOT NULL,      -- 1 = leftmost
    box_left   REAL NOT NULL,         -- face box in the photo's upright pixels
    box_top    REAL NOT NULL,
    box_right  REAL NOT NULL,
    box_bottom REAL NOT NULL,
    markers    BLOB NOT NULL,         -- (14, 2) float64 little-endian, WIDE_ORDER, pixels
    descriptor BLOB,                  -- (128,) float32 little-endian appearance; NULL if none
    quality    TEXT NOT NULL,         -- JSON object: eye distance in px, yaw, pitch, ...
    extractor  TEXT NOT NULL,
    PRIMARY KEY (photo, face)
);
CREATE TABLE labels (
    photo  TEXT PRIMARY KEY REFERENCES photos (id) ON DELETE CASCADE,
    person TEXT NOT NULL,
    source TEXT NOT NULL              -- 'csv:<file name>' or 'folder'
);
CREATE TABLE decisions (
    id         INTEGER PRIMARY KEY,   -- order of recording; the latest per pair counts
    a          TEXT NOT NULL,         -- photo ids, a < b
    b          TEXT NOT NULL,
    decision   TEXT NOT NULL CHECK (decision IN ('same', 'different', 'unsure')),
    note       TEXT NOT NULL DEFAULT '',
    who        TEXT NOT NULL,
    decided_at TEXT NOT NULL,         -- UTC, ISO 8601
    CHECK (a < b)
);
CREATE INDEX decisions_by_pair ON decisions (a, b);
"""


def utc_now() -> str:
    """The current time as UTC ISO 8601 to the second, as every table stores it."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def connect(db_path: str | os.PathLike[str], *, create: bool = False) -> sqlite3.Connection:
    """Open the archive at ``db_path`` (creating it when ``create``), schema checked.

    DataError when the file is missing (and not ``create``), is not an ffmatch archive, or
    was written by a newer ffmatch.
    """
    path = Path(db_path)
    if not create and not path.is_file():
        raise DataError(
            f"{path}: no such archive; create it with 'ffmatch index PHOTO_DIR --db {path}'"
        )
    if path.is_dir():
        raise DataError(f"{path}: expected an archive file, found a folder")
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as err:
        raise DataError(f"{path}: cannot open the archive ({err})") from None
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise DataError(
                f"{path}: archive schema version {version} is newer than this ffmatch reads "
                f"({SCHEMA_VERSION}); upgrade ffmatch"
            )
        if version == 0 and tables:
            raise DataError(f"{path}: not an ffmatch archive (an SQLite file without its schema)")
        if version == 0:
            if not create:
                raise DataError(f"{path}: not an ffmatch archive (empty file)")
            _create(conn)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints
    except sqlite3.DatabaseError as err:
        conn.close()
        raise DataError(f"{path}: not an ffmatch archive ({err})") from None
    except BaseException:
        conn.close()
        raise
    return conn


def _create(conn: sqlite3.Connection) -> None:
    """The tables, version and creation time, in one transaction (all or nothing)."""
    conn.executescript(
        f"BEGIN IMMEDIATE; {SCHEMA}; PRAGMA user_version = {SCHEMA_VERSION}; "
        f"INSERT INTO meta VALUES ('created_at', '{utc_now()}'); COMMIT;"
    )


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed at the end, rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def opened(
    db_path: str | os.PathLike[str], *, create: bool = False
) -> Iterator[sqlite3.Connection]:
    """``connect`` as a context manager that closes the connection."""
    conn = connect(db_path, create=create)
    try:
        yield conn
    finally:
        conn.close()


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Set one meta value (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


@contextmanager
def writer_lock(db_path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold ``ARCHIVE.db.lock`` exclusively while indexing: a second ``ffmatch index`` on the
    same archive stops with one line instead of interleaving its photos.

    An OS file lock (``fcntl.flock``) rather than a row: the kernel drops it when the process
    dies, so a kill -9 never leaves a stale lock behind.
    """
    import fcntl

    lock_path = Path(f"{db_path}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "another process"
            raise DataError(
                f"{db_path}: another 'ffmatch index' is writing this archive ({holder}); "
                "wait for it to finish, then run again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
