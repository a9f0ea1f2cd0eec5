"""A kill -9 in the middle of ``ffmatch index`` loses at most the photo in flight."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ffmatch
from ffmatch.archive import archive_summary, index_folder

N_PEOPLE, PER_PERSON = 6, 4  # 24 small ORL photos: about 10 s to extract here


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM photos").fetchone()[0])
    except sqlite3.OperationalError:  # created but the schema not yet committed
        return 0


@pytest.mark.slow
def test_kill_9_then_rerun_completes_without_duplicates(orl_faces: Path, tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    orl = orl_faces
    photos = tmp_path / "photos"
    for p in range(1, N_PEOPLE + 1):
        (photos / f"s{p}").mkdir(parents=True)
        for k in range(1, PER_PERSON + 1):
            shutil.copy(orl / f"s{p}" / f"{k}.pgm", photos / f"s{p}" / f"{k}.pgm")
    db = tmp_path / "archive.db"
    env = {**os.environ, "PYTHONPATH": str(Path(ffmatch.__file__).parents[1])}
    cmd = [
        sys.executable,
        "-c",
        "from ffmatch.cli import main; main()",
        "index",
        str(photos),
        "--db",
        str(db),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while _count(db) < 2 and proc.poll() is None:  # two photos committed: mid-run
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL  # killed, not finished
    assert 2 <= _count(db) < N_PEOPLE * PER_PERSON
    report = index_folder(photos, db)
    assert report.found == N_PEOPLE * PER_PERSON
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        photos_n, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT id) FROM photos"
        ).fetchone()
        faces_n, distinct_faces = conn.execute(
            "SELECT count(*), count(DISTINCT photo || '#' || face) FROM faces"
        ).fetchone()
    assert photos_n == distinct == N_PEOPLE * PER_PERSON
    assert faces_n == distinct_faces == archive_summary(db).photos_with_faces
    assert archive_summary(db).photos_with_faces >= N_PEOPLE * PER_PERSON - 2
