"""Fixtures for the web page: sample photos, a test client, and a real server on loopback.

Photos of real faces come from the data home (``shared_photos``: the tests that need them
skip without it, and fail in CI); broken and oversized uploads are made here.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed: pip install -e '.[web]'")


@dataclass
class Server:
    """A uvicorn server running ``app`` in a thread on a free loopback port."""

    url: str
    server: Any
    thread: threading.Thread


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(app: Any) -> Server:
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:  # start-up is a few milliseconds; wait for the event
        if not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return Server(url=f"http://127.0.0.1:{port}", server=server, thread=thread)


def stop_server(s: Server) -> None:
    s.server.should_exit = True
    s.thread.join(timeout=30)


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(app)`` starts a real server on loopback; every one is stopped at the end."""
    started: list[Server] = []

    def _serve(app: Any) -> Server:
        started.append(start_server(app))
        return started[-1]

    yield _serve
    for s in started:
        stop_server(s)


# A small archive of real faces: people in folders (their names become known labels), and
# one file that is no photo, so the Archive page has a failure to show.
ARCHIVE_PHOTOS = ("obama-1.jpg", "obama-2.jpg", "obama-3.jpg", "biden-1.jpg", "biden-2.jpg",
                  "kit-harington-1.jpg", "kit-harington-2.jpg", "rose-leslie-1.jpg")  # fmt: skip


def _index(shared_photos: Path, root: Path, *, names: bool) -> Path:
    """ARCHIVE_PHOTOS (and notes.jpg) indexed by ``ffmatch.archive.index_folder`` under ``root``."""
    from ffmatch.archive import index_folder

    photos = root / "photos"
    for name in ARCHIVE_PHOTOS:
        person = photos / name.rsplit("-", 1)[0]
        person.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared_photos / name, person / name)
    (photos / "notes.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a photo")
    db = root / "archive.db"
    index_folder(photos, db, labels_from_folder=names)
    return db


def _copy(db: Path, to: Path) -> Path:
    """A copy of archive ``db`` at ``to`` (with its write-ahead log), for one test to change."""
    for suffix in ("", "-wal"):
        source = Path(f"{db}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{to}{suffix}")
    return to


@pytest.fixture(scope="session")
def indexed_archive(shared_photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive indexed once per session, its folders giving each face a known name."""
    return _index(shared_photos, tmp_path_factory.mktemp("archive"), names=True)


@pytest.fixture(scope="session")
def unnamed_archive(shared_photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same photos indexed without names: only the faces and decisions group them."""
    return _index(shared_photos, tmp_path_factory.mktemp("unnamed"), names=False)


@pytest.fixture
def archive_db(indexed_archive: Path, tmp_path: Path) -> Path:
    """A copy of the session's archive, so each test's decisions are its own."""
    return _copy(indexed_archive, tmp_path / "archive.db")


@pytest.fixture
def unnamed_db(unnamed_archive: Path, tmp_path: Path) -> Path:
    """A copy of the session's unnamed archive, so each test's decisions are its own."""
    return _copy(unnamed_archive, tmp_path / "unnamed.db")
