"""Benchmark the archive at scale: search over 1M faces, the ANN graph's recall, indexing.

- ``search``: one query against N synthetic faces (random 128-number descriptors around
  ``--people`` centres, markers jittered around one face), through the archive's own
  ``search.rank`` with the default scorer of ``--evidence``: wall time (median of
  ``--repeats``) and the memory the search itself allocates (tracemalloc peak), beside the
  bank's own size.
- ``ann``: recall@20 of FAISS HNSW (``neighbours.approximate_neighbours``) against the exact
  search (``neighbours.exact_neighbours``) on ``--ann-faces`` synthetic descriptors.
- ``index``: ``index_folder`` on ``--photos`` ORL photos: in this process, then on a local Dask
  cluster of 1 and of 2 worker processes (fresh archive each; cluster start-up included),
  photos per second and per core.

Usage::

    .venv/bin/python benchmarks/bench_archive.py                       # all three
    .venv/bin/python benchmarks/bench_archive.py --only search --faces 1000000
    FFMATCH_DATA=../shared/data .venv/bin/python benchmarks/bench_archive.py --only index
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from ffmatch.archive.neighbours import approximate_neighbours, exact_neighbours, recall_at
from ffmatch.archive.scoring import default_scorer
from ffmatch.archive.search import Query, rank
from ffmatch.archive.store import FaceBank, bank_from_arrays


def synthetic_bank(n: int, people: int, seed: int) -> FaceBank:
    """``n`` faces of ``people`` people: descriptors (spread 0.1 around each person's centre,
    as dlib's same-person distances run about 0.4) and markers jittered around one face."""
    from ffmatch.core.markers import N_MARKERS

    rng = np.random.default_rng(seed)
    who = rng.integers(0, people, n)
    centres = rng.normal(0.0, 0.1, (people, 128)).astype(np.float32)
    desc = centres[who] + rng.normal(0.0, 0.03, (n, 128)).astype(np.float32)
    base = rng.uniform(30, 90, (N_MARKERS, 2))
    markers = base[None] + rng.normal(0.0, 1.0, (n, N_MARKERS, 2))
    bank = bank_from_arrays(
        photo=[f"p{k:07d}.jpg" for k in range(n)],
        face=np.ones(n, dtype=np.int64),
        markers=markers,
        descriptor=desc,
        sha256=[""] * n,
    )
    return bank


def bench_search(args: argparse.Namespace) -> list[tuple[str, str]]:
    bank = synthetic_bank(args.faces, args.people, args.seed)
    scorer = default_scorer(args.evidence)
    query = Query(source="query", sha256="q", faces=bank.take([0]), in_archive=(), error="")
    rank(query, bank, scorer, top=10)  # warm-up (first calls allocate caches)
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        rank(query, bank, scorer, top=10)
        times.append(time.perf_counter() - t)
    tracemalloc.start()
    rank(query, bank, scorer, top=10)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = bank.descriptor.nbytes + bank.markers.nbytes + bank.photo.nbytes + bank.box.nbytes
    return [
        ("search: faces", f"{args.faces:,}"),
        ("search: evidence (scorer)", scorer.name),
        (
            f"search: seconds per query (median of {args.repeats})",
            f"{statistics.median(times):.3f}",
        ),
        ("search: memory the search allocates (MB, tracemalloc peak)", f"{peak / 2**20:.0f}"),
        ("search: the bank in memory (MB)", f"{size / 2**20:.0f}"),
    ]


def bench_ann(args: argparse.Namespace) -> list[tuple[str, str]]:
    bank = synthetic_bank(args.ann_faces, args.ann_faces // 10, args.seed + 1)
    t = time.perf_counter()
    exact = exact_neighbours(bank.descriptor, 20)
    t_exact = time.perf_counter() - t
    t = time.perf_counter()
    approx = approximate_neighbours(bank.descriptor, 20)
    t_approx = time.perf_counter() - t
    return [
        ("ann: faces", f"{args.ann_faces:,}"),
        ("ann: recall@20 (FAISS HNSW vs exact)", f"{recall_at(approx, exact):.4f}"),
        ("ann: seconds, exact k-NN graph", f"{t_exact:.1f}"),
        ("ann: seconds, HNSW build + search", f"{t_approx:.1f}"),
    ]


def bench_index(args: argparse.Namespace) -> list[tuple[str, str]]:
    from ffmatch.archive import index_folder

    home = Path(
        os.environ.get("FFMATCH_DATA", Path(__file__).parents[1] / ".." / "shared" / "data")
    )
    orl = home / "faces-orl"
    tmp = Path(tempfile.mkdtemp(prefix="bench_archive_"))
    try:
        photos = tmp / "photos"
        files = sorted(orl.glob("s*/*.pgm"))[: args.photos]
        for f in files:
            (photos / f.parent.name).mkdir(parents=True, exist_ok=True)
            shutil.copy(f, photos / f.parent.name / f.name)
        rows: list[tuple[str, str]] = [("index: ORL photos", str(len(files)))]
        runs: dict[str, Any] = {}
        for label, workers in (("this process", 0), ("Dask, 1 worker", 1), ("Dask, 2 workers", 2)):
            t = time.perf_counter()
            report = index_folder(photos, tmp / f"w{workers}.db", workers=workers)
            runs[label] = time.perf_counter() - t
            assert report.extracted == len(files)
            cores = max(workers, 1)
            rows.append(
                (
                    f"index: {label}: photos/s (per core)",
                    f"{len(files) / runs[label]:.2f} ({len(files) / runs[label] / cores:.2f})",
                )
            )
        rows.append(
            (
                "index: speed-up of 2 Dask workers over 1",
                f"{runs['Dask, 1 worker'] / runs['Dask, 2 workers']:.2f}x",
            )
        )
        return rows
    finally:
        shutil.rmtree(tmp)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", action="append", choices=("search", "ann", "index"))
    ap.add_argument("--faces", type=int, default=1_000_000, help="faces searched")
    ap.add_argument("--people", type=int, default=100_000, help="people among them")
    ap.add_argument("--evidence", default=None, help="geometry, appearance or both")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ann-faces", type=int, default=50_000)
    ap.add_argument("--photos", type=int, default=40, help="ORL photos indexed")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    todo = args.only or ["search", "ann", "index"]
    rows: list[tuple[str, str]] = []
    for name, fn in (("search", bench_search), ("ann", bench_ann), ("index", bench_index)):
        if name in todo:
            rows += fn(args)
    print("| measure | value |\n| --- | --- |")
    for k, v in rows:
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()
