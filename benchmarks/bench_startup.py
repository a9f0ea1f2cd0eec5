"""Benchmark: how long commands take to start, before their work begins (issue 15, item 3).

Each case runs in a fresh interpreter (``python -c``), best of ``--repeats`` wall times,
the current tree and (with ``--baseline REV``) git revision REV's ``src/`` interleaved, so
a shared machine's load hits both alike. It also lists which heavy libraries each case
imported. The cases:

- ``cli``: the CLI with every command registered (what any ``ffmatch ...`` loads first);
- ``match``: that, plus ``ffmatch match``'s modules and the shipped model, up to the point
  where the face-mesh extractor (MediaPipe) starts;
- ``evolve``: the CLI plus the pipeline ``ffmatch evolve`` runs, up to where training starts
  (numba is imported then, by the compiled engine's first use).

Bytecode is cached as in an installed package (``pip`` compiles it): the children write and
read it under one temporary ``PYTHONPYCACHEPREFIX``, even where ``PYTHONDONTWRITEBYTECODE``
is set, and each case runs once untimed first; otherwise every run would compile ffmatch's
sources again (about 0.2 s here).

    python benchmarks/bench_startup.py --baseline cfd2e83 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("torch", "numba", "sklearn", "scipy.stats", "pandas", "matplotlib", "mediapipe")
CASES = {
    "cli": "from ffmatch.cli import commands",
    "match": (
        "from ffmatch.cli import commands\n"
        "from ffmatch.matcher.photos.extract import FaceMeshExtractor\n"
        "from ffmatch.matcher.photos.match import judge_pairs\n"
        "from ffmatch.matcher.photos.models import photo_model\n"
        "photo_model()"
    ),
    "evolve": "from ffmatch.cli import commands\nfrom ffmatch.paper.pipeline.run import run_step",
}


def _run(src: str, code: str, pycache: str) -> tuple[float, list[str]]:
    script = (
        f"import sys, json\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    env = {**os.environ, "PYTHONPATH": src, "PYTHONPYCACHEPREFIX": pycache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    return time.perf_counter() - start, json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", metavar="REV", help="also time this git revision's src/")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    trees = {"current": str(root / "src")}
    if args.baseline:
        tmp = Path(tempfile.mkdtemp())
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", args.baseline, "src"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        trees = {f"rev {args.baseline}": str(tmp / "src"), **trees}
    pycache = tempfile.mkdtemp(prefix="bench_startup_pycache_")
    for src in trees.values():  # warm the file cache and write the bytecode, untimed
        for code in CASES.values():
            _run(src, code, pycache)
    print(
        f"# bench_startup: best of {args.repeats} wall seconds, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'case':<8}{'tree':<16}{'seconds':>9}  heavy libraries imported")
    out = {}
    for case, code in CASES.items():
        best = dict.fromkeys(trees, float("inf"))
        loaded: dict[str, list[str]] = {}
        for _ in range(args.repeats):
            for name, src in trees.items():
                seconds, loaded[name] = _run(src, code, pycache)
                best[name] = min(best[name], seconds)
        for name in trees:
            print(f"{case:<8}{name:<16}{best[name]:>9.3f}  {', '.join(loaded[name]) or '-'}")
        out[case] = {"seconds": best, "imported": loaded}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
