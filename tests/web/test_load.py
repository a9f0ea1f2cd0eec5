"""A bounded load on loopback: compare and search, 8 at a time, every answer a 200.

Latency is measured by ``benchmarks/bench_web.py`` (docs/benchmarks.md), never asserted here.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from ffmatch.web import create_app

PHOTOS = ("kit-harington-1.jpg", "kit-harington-2.jpg", "obama-4.jpg", "rose-leslie-1.jpg")


@pytest.mark.slow
def test_compare_and_search_under_load_answer_without_errors(
    archive_db: Path, shared_photos: Path, serve: Any
) -> None:
    server = serve(create_app(archive_db))
    data = {name: (shared_photos / name).read_bytes() for name in PHOTOS}

    def one(k: int) -> tuple[int, dict[str, Any]]:
        a, b = PHOTOS[k % 4], PHOTOS[(k + 1) % 4]
        with httpx.Client(timeout=600) as c:
            if k % 2:
                r = c.post(f"{server.url}/api/search", files={"photo": (a, data[a])},
                           data={"top": "2"})  # fmt: skip
            else:
                r = c.post(f"{server.url}/api/compare", files={"a": (a, data[a]),
                                                               "b": (b, data[b])})  # fmt: skip
        return r.status_code, r.json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(24)))
    assert [code for code, _ in answers] == [200] * 24
    compares = [body for k, (_, body) in enumerate(answers) if k % 2 == 0]
    searches = [body for k, (_, body) in enumerate(answers) if k % 2]
    # The same pair always gets the same answer, however many requests run beside it.
    for k in range(4, 24, 2):
        assert compares[k // 2]["probability"] == pytest.approx(compares[k // 2 - 2]["probability"])
    assert all(len(s["candidates"]) == 2 for s in searches)
