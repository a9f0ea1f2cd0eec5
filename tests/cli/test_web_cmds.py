"""``ffmatch serve``: refuses unsafe or impossible options in one line, and serves the page."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


@pytest.mark.slow
def test_serve_answers_on_loopback_until_stopped(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn", reason="the web extra is not installed")
    db = tmp_path / "a.db"
    db.touch()
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
