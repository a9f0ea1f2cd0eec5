"""A server killed (SIGKILL) while decisions are being saved leaves the archive whole."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

QUERY = "obama/obama-1.jpg"
OTHERS = ("obama/obama-2.jpg", "biden/biden-1.jpg", "rose-leslie/rose-leslie-1.jpg")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_while_saving_decisions_keeps_the_database_consistent(archive_db: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from ffmatch.cli import main; main()", "serve", "--db",
         str(archive_db), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    acknowledged: list[str] = []
    stop = threading.Event()

    def post_decisions() -> None:
        with httpx.Client(timeout=30) as c:
            k = 0
            while not stop.is_set():
                note = f"n{k}"
                body = {"a": QUERY, "b": OTHERS[k % 3], "decision": "different", "note": note}
                try:
                    r = c.post(f"{url}/api/decisions", json=body)
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 201:
                    acknowledged.append(note)
                k += 1

    try:
        for _ in range(600):  # until the server answers (start-up takes a second or two)
            try:
                httpx.get(f"{url}/api/decisions", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        writers = [threading.Thread(target=post_decisions) for _ in range(4)]
        for w in writers:
            w.start()
        while len(acknowledged) < 20:  # killed in the middle of a stream of writes
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    for w in writers:
        w.join(timeout=60)
    with sqlite3.connect(archive_db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = con.execute("SELECT a, b, decision, note, who, decided_at FROM decisions").fetchall()
    assert all(all(v not in (None, "") for v in row) for row in rows)  # no half-written row
    kept = {row[3] for row in rows}
    assert set(acknowledged) <= kept  # every decision the page confirmed survived the kill
