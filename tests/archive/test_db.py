"""The archive file: schema version, refusal of foreign and newer files, WAL, the writer lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ffmatch.archive.db import SCHEMA_VERSION, connect, opened, transaction, writer_lock
from ffmatch.core.errors import DataError


def test_a_new_archive_has_the_schema_in_wal_mode(tmp_path: Path) -> None:
    with opened(tmp_path / "a.db", create=True) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"meta", "photos", "faces", "labels", "decisions"} <= tables


def test_a_newer_schema_is_refused_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    connect(db, create=True).close()
    with sqlite3.connect(db) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DataError, match=r"schema version 2 is newer than this ffmatch reads \(1\)"):
        connect(db)


def test_missing_foreign_and_garbage_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such archive; create it with 'ffmatch index"):
        connect(tmp_path / "none.db")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as raw:
        raw.execute("CREATE TABLE t (x)")
    with pytest.raises(DataError, match="not an ffmatch archive \\(an SQLite file without"):
        connect(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"x" * 4096)
    with pytest.raises(DataError, match="not an ffmatch archive"):
        connect(junk)


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    with opened(tmp_path / "a.db", create=True) as conn:

        def fail() -> None:
            with transaction(conn):
                conn.execute("INSERT INTO meta VALUES ('x', 'y')")
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            fail()
        assert conn.execute("SELECT count(*) FROM meta WHERE key = 'x'").fetchone()[0] == 0


def test_a_second_writer_stops_with_a_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with (
        writer_lock(db),
        pytest.raises(
            DataError,
            match=r"another 'ffmatch index' is writing this archive "
            r"\(pid \d+\); wait for it to finish",
        ),
        writer_lock(db),
    ):
        pass
    with writer_lock(db):  # released: the next run goes ahead
        pass
