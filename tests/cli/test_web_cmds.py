"""``ffmatch serve``: refuses unsafe or impossible options in one line, and serves the page."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ffmatch.archive.db import opened
from ffmatch.cli.app import run
from ffmatch.cli.web_cmds import is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True),
     ("[::1]", True), ("0.0.0.0", False), ("192.168.1.5", False), ("example.org", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serve_needs_an_existing_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["serve", "--db", str(tmp_path / "none.db")]) == 2
    assert (
        "none.db: no such archive; make one with 'ffmatch index PHOTOS" in capsys.readouterr().err
    )


def test_another_address_needs_a_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "a.db"
    db.touch()
    assert run(["serve", "--db", str(db), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "ffmatch: error: --host 0.0.0.0: other computers could reach the page; add --token new\n"
    )


@pytest.mark.parametrize("size", ["nan", "inf", "0", "-1", "1025"])
def test_an_upload_limit_out_of_range_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], size: str
) -> None:
    db = tmp_path / "a.db"
    db.touch()
    assert run(["serve", "--db", str(db), "--max-upload-mb", size]) == 2
    assert capsys.readouterr().err == (
        "ffmatch: error: --max-upload-mb: expected a size in MB above 0 and up to 1024, "
        f"found {float(size)}\n"
    )


@pytest.mark.parametrize(
    ("content", "found"),
    [(b"", "not an ffmatch archive (empty file)"),
     (b"photo,person\n", "not an ffmatch archive (file is not a database)")],
)  # fmt: skip
def test_a_file_that_is_no_archive_is_refused_before_serving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, found: str
) -> None:
    db = tmp_path / "a.db"
    db.write_bytes(content)
    assert run(["serve", "--db", str(db)]) == 2
    assert capsys.readouterr().err == f"ffmatch: error: {db}: {found}\n"
    assert db.read_bytes() == content


@pytest.mark.slow
def test_serve_answers_on_loopback_until_stopped(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn", reason="the web extra is not installed")
    db = tmp_path / "a.db"
    with opened(db, create=True):  # an empty archive
        pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    code = "from ffmatch.cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == f"ffmatch: serving {db} at http://127.0.0.1:{port}/ (Ctrl-C stops)\n"
        import httpx

        for _ in range(300):  # the line comes just before uvicorn binds the port
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/")
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert r.status_code == 200
        assert "Compare two photos" in r.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
