"""Benchmark: ``ffmatch benchmark muct`` wall time, old revision against the current tree.

Runs the command once per tree in a fresh interpreter (the current tree and, with
``--baseline REV``, git revision REV's ``src/`` extracted by ``git archive``), one after
the other in this one run, then compares the two ``results.json`` number by number: every
number must be equal, or within ``--rtol`` where summation order changed. Extra arguments
after ``--`` go to both runs (e.g. ``-- --people 40 --repeats 1`` for a quick check);
``--jobs`` goes to the current tree only (older revisions have no such option).

    python benchmarks/bench_muct.py --baseline d03f27f --jobs 2
    python benchmarks/bench_muct.py --baseline d03f27f -- --people 40 --repeats 1
    python benchmarks/bench_muct.py --compare runs/muct-old runs/muct-new
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def compare_numbers(old: Any, new: Any, *, rtol: float, path: str = "") -> tuple[int, list[str]]:
    """(numbers compared, differences) of two JSON documents, walked in step.

    Numbers must be equal (NaN equals NaN), or within ``rtol`` relative when ``rtol`` > 0;
    strings must be equal except the ``command`` line (it names the output folder).
    """
    if isinstance(old, dict) and isinstance(new, dict):
        if old.keys() != new.keys():
            return 0, [f"{path}: keys differ: {sorted(old.keys() ^ new.keys())}"]
        count, diffs = 0, []
        for key in old:
            if key == "command":
                continue
            n, d = compare_numbers(old[key], new[key], rtol=rtol, path=f"{path}/{key}")
            count, diffs = count + n, diffs + d
        return count, diffs
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return 0, [f"{path}: lengths differ: {len(old)} and {len(new)}"]
        count, diffs = 0, []
        for k, (a, b) in enumerate(zip(old, new, strict=True)):
            n, d = compare_numbers(a, b, rtol=rtol, path=f"{path}/{k}")
            count, diffs = count + n, diffs + d
        return count, diffs
    numbers = (int, float)
    if isinstance(old, numbers) and isinstance(new, numbers) and not isinstance(old, bool):
        a, b = float(old), float(new)
        same = a == b or (math.isnan(a) and math.isnan(b))
        if not same and rtol > 0:
            same = math.isclose(a, b, rel_tol=rtol, abs_tol=0.0)
        return 1, [] if same else [f"{path}: {old!r} != {new!r}"]
    return 0, [] if old == new else [f"{path}: {old!r} != {new!r}"]


def _load(path: Path) -> Any:
    # results.json writes NaN as null (allow_nan=False upstream); plain json reads both
    return json.loads(path.read_text())


def _extract(root: Path, rev: str) -> Path:
    """REV's ``src/`` in a temporary folder (``git archive``), for PYTHONPATH."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-muct-"))
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", rev, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    return tmp / "src"


def _timed_run(src: Path, out: Path, extra: list[str]) -> float:
    """Wall seconds of ``python -m ffmatch benchmark muct --out OUT EXTRA`` on ``src``."""
    cmd = [sys.executable, "-m", "ffmatch", "-q", "benchmark", "muct", "--out", str(out), *extra]
    start = time.perf_counter()
    subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(src)}, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - start


def _report_lines(folder: Path) -> list[str]:
    """``report.md`` without the command line (it names the output folder)."""
    return [ln for ln in (folder / "report.md").read_text().splitlines() if "ffmatch" not in ln]


def compare_folders(old: Path, new: Path, rtol: float) -> bool:
    """Print how two result folders compare (``results.json`` numbers, ``report.md`` text)."""
    a, b = _load(old / "results.json"), _load(new / "results.json")
    count, diffs = compare_numbers(a, b, rtol=rtol)
    _, inexact = compare_numbers(a, b, rtol=0.0)
    print(f"results.json: {count} numbers compared, {count - len(inexact)} bit-for-bit equal, "
          f"{len(inexact) - len(diffs)} within {rtol:g} relative, {len(diffs)} differ")  # fmt: skip
    for line in diffs[:20]:
        print(f"  differs: {line}")
    same_report = _report_lines(old) == _report_lines(new)
    print(f"report.md (command line aside): {'identical' if same_report else 'DIFFERS'}")
    return not diffs and same_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", metavar="REV", help="also run this git revision's src/")
    parser.add_argument("--jobs", type=int, default=None, help="--jobs of the current tree")
    parser.add_argument("--rtol", type=float, default=0.0, help="relative tolerance (0: exact)")
    parser.add_argument("--out", type=Path, default=None, help="keep the result folders here")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"),
                        help="only compare two result folders")  # fmt: skip
    parser.add_argument("extra", nargs="*", help="arguments for both runs, after --")
    args = parser.parse_args()
    if args.compare:
        sys.exit(0 if compare_folders(*args.compare, args.rtol) else 1)
    root = Path(__file__).resolve().parents[1]
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-muct-out-"))
    print(
        f"# bench_muct: load average {os.getloadavg()[0]:.2f} at the start, {os.cpu_count()} CPUs"
    )
    times = {}
    if args.baseline:
        times[f"rev {args.baseline}"] = _timed_run(
            _extract(root, args.baseline), out / "old", args.extra
        )
    jobs = [] if args.jobs is None else ["--jobs", str(args.jobs)]
    times["current"] = _timed_run(root / "src", out / "new", [*args.extra, *jobs])
    for tree, seconds in times.items():
        print(f"{tree:<20}{seconds:>9.1f} s")
    print(f"# load average {os.getloadavg()[0]:.2f} at the end")
    if args.baseline:
        old_s, new_s = times[f"rev {args.baseline}"], times["current"]
        print(f"speed-up {old_s / new_s:.2f}x")
        sys.exit(0 if compare_folders(out / "old", out / "new", args.rtol) else 1)


if __name__ == "__main__":
    main()
