"""Fixtures for the web page: sample photos, a test client, and a real server on loopback.

Photos of real faces come from the shared data folder (the tests that need them skip
without it); broken and oversized uploads are made here.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed: pip install -e '.[web]'")


@pytest.fixture(scope="session")
def sample_photos(shared_photos: Path) -> Path:
    """The shared sample photos (real faces): skipped where the data home lacks them, a failure
    in CI (``shared_photos`` in tests/conftest.py)."""
    return shared_photos


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


@pytest.fixture
def archive_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An archive database over a few generated photos (``fake_archive`` until the real
    ``ffmatch.archive`` is on main)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("fake_archive", Path(__file__).parent /
                                                  "fake_archive.py")  # fmt: skip
    assert spec is not None
    assert spec.loader is not None
    fake = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "fake_archive", fake)  # its dataclasses look it up
    spec.loader.exec_module(fake)
    mod = fake.make(tmp_path / "photos")
    monkeypatch.setitem(sys.modules, "ffmatch.archive", mod)
    return tmp_path / "archive.db"
