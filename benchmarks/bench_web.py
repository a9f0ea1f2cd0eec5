"""The web page under load on loopback: latency of compare and search, and no errors.

Starts ``ffmatch.web.create_app`` under uvicorn on 127.0.0.1 (a free port), then sends
``--requests`` requests, ``--concurrency`` at a time, alternating ``POST /api/compare`` (two
sample photos) and ``POST /api/search`` (one sample photo against an archive indexed from the
same folder), and prints p50 / p95 / max latency per kind and the number of non-200 answers.
With ``--write docs/benchmarks.md`` the "Web page under load" section there is replaced.

Usage::

    .venv/bin/python benchmarks/bench_web.py                         # 200 requests, 8 at a time
    .venv/bin/python benchmarks/bench_web.py --kinds compare --requests 40
    .venv/bin/python benchmarks/bench_web.py --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import socket
import sys
import tempfile
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import uvicorn

from ffmatch.web import create_app

SECTION = "## Web page under load"
PHOTOS = ("kit-harington-1.jpg", "kit-harington-2.jpg", "obama-4.jpg", "rose-leslie-1.jpg")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(
    client: httpx.Client, url: str, kind: str, k: int, photos: Path
) -> tuple[str, float, int]:
    a, b = PHOTOS[k % len(PHOTOS)], PHOTOS[(k + 1) % len(PHOTOS)]
    t0 = time.perf_counter()
    if kind == "compare":
        files = {"a": (a, (photos / a).read_bytes()), "b": (b, (photos / b).read_bytes())}
        r = client.post(f"{url}/api/compare", files=files)
    else:
        r = client.post(f"{url}/api/search", files={"photo": (a, (photos / a).read_bytes())},
                        data={"top": "5"})  # fmt: skip
    return kind, time.perf_counter() - t0, r.status_code


def run_load(db: Path, photos: Path, *, requests: int, concurrency: int, kinds: list[str],
             workers: int) -> list[tuple[str, float, int]]:  # fmt: skip
    """Every request's (kind, seconds, status), against a fresh server on loopback."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(db, workers=workers), host="127.0.0.1",
                                           port=port, log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=600) as client:
            for kind in kinds:  # warm-up: the model and the extractors open once
                _request(client, url, kind, 0, photos)
            with ThreadPoolExecutor(concurrency) as pool:
                jobs = [pool.submit(_request, client, url, kinds[k % len(kinds)], k, photos)
                        for k in range(requests)]  # fmt: skip
                return [j.result() for j in jobs]
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def report(results: list[tuple[str, float, int]], args: argparse.Namespace, wall: float) -> str:
    intro = (
        "`ffmatch serve`'s app under uvicorn on 127.0.0.1, driven by httpx from the same "
        f"machine: {args.requests} requests, {args.concurrency} at a time, alternating "
        f"{' and '.join(args.kinds)} on the sample photos (`{', '.join(PHOTOS)}`; search: top 5 "
        f"of an archive indexed from the same folder), after one warm-up request of each kind. "
        f"The page measures at most {args.workers} photos at once, so latency includes the wait "
        f"in that queue. Load average before the run: {args.load:.1f} on {os.cpu_count()} CPUs "
        "(the CPUs were shared with other work)."
    )
    lines = [
        SECTION, "", *textwrap.wrap(intro, 95, break_on_hyphens=False), "",
        f"    {args.command}", "",
        "| request | n | errors | p50 s | p95 s | max s |",
        "|---|---|---|---|---|---|",
    ]  # fmt: skip
    for kind in args.kinds:
        t = np.array([s for k, s, _ in results if k == kind])
        errors = sum(1 for k, _, code in results if k == kind and code != 200)
        lines.append(f"| `POST /api/{kind}` | {len(t)} | {errors} | {np.percentile(t, 50):.2f} "
                     f"| {np.percentile(t, 95):.2f} | {t.max():.2f} |")  # fmt: skip
    lines += ["", f"Wall time {wall:.1f} s: {len(results) / wall:.1f} requests/s."]
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str) -> None:
    doc = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    doc = pattern.sub(text + "\n", doc) if pattern.search(doc) else doc.rstrip() + "\n\n" + text
    path.write_text(doc, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data = Path(os.environ.get("FFMATCH_DATA", "../shared/data"))
    ap.add_argument("--photos", type=Path, default=data / "photos")
    ap.add_argument("--db", type=Path, help="an archive to search (default: index --photos)")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2, help="photos measured at once")
    ap.add_argument("--kinds", nargs="+", default=["compare", "search"],
                    choices=["compare", "search"])  # fmt: skip
    ap.add_argument("--write", type=Path, help="replace the section in this Markdown file")
    args = ap.parse_args()
    args.command = shlex.join(["python", "benchmarks/bench_web.py", *sys.argv[1:]])
    args.load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "archive.db"
            if "search" in args.kinds:
                from ffmatch.archive import index_folder

                index_folder(args.photos, db)
        t0 = time.perf_counter()
        results = run_load(db, args.photos, requests=args.requests, kinds=args.kinds,
                           concurrency=args.concurrency, workers=args.workers)  # fmt: skip
        wall = time.perf_counter() - t0
    text = report(results, args, wall)
    sys.stdout.write(text)
    if args.write:
        write_section(args.write, text)
    return 0 if all(code == 200 for _, _, code in results) else 1


if __name__ == "__main__":
    sys.exit(main())
