"""Profile the compiled CPU engine under ``perf``, with numba's functions named.

numba's code lives in memory perf cannot name, so this script compiles the training loop
afresh (a temporary ``NUMBA_CACHE_DIR``: code loaded from numba's cache carries no function
table) and writes ``/tmp/perf-<pid>.map``, which ``perf report`` reads. It then trains the
networks of the paper's GA (all generations, ``bench_ga``'s search, recorded once) on one
thread, ``--rounds`` times, after printing ``ready``: start ``perf record`` then.

    perf record -D 30000 -o /tmp/engine.data -- python benchmarks/profile_engine.py --rounds 8
    perf report -i /tmp/engine.data --sort sym

``-D`` skips the compile and the GA's recording (about 25-35 s). The loop's helpers are
inlined, so nearly all samples fall in ``train_networks``; to see which instructions,
``--dump DIR`` also writes each function's machine code to ``DIR/<address>.bin``:
``objdump -D -b binary -mi386:x86-64 --adjust-vma=0x<address> DIR/<address>.bin`` reads it,
beside ``perf script -F ip``'s sample addresses. ``--scaling`` instead times a loop of
square roots on one thread and on two (twice the work), to see how far this machine's two
CPUs run side by side.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="ffmatch-numba-")  # before numba loads

import numba
import numpy as np


def _ga_jobs(seed: int) -> list[object]:
    """The jobs of every generation of the paper's GA, as ``bench_ga``'s search trains them."""
    sys.path.insert(0, str(Path(__file__).parent))
    import bench_ga
    from ffmatch.paper.nn import cpu

    jobs: list[object] = []
    pack = cpu.pack

    def recording(batch):  # type: ignore[no-untyped-def]
        jobs.extend(batch)
        return pack(batch)

    cpu.pack = recording  # type: ignore[assignment]
    try:
        bench_ga._run_ffmatch(seed, "batched", generations=10)
    finally:
        cpu.pack = pack  # type: ignore[assignment]
    return jobs


def _write_perf_map(dispatcher: numba.core.registry.CPUDispatcher, dump: Path | None) -> int:
    """Name every compiled function of ``dispatcher`` in ``/tmp/perf-<pid>.map`` (and write
    its machine code to ``dump/<address>.bin``)."""
    entries = set()
    for cres in dispatcher.overloads.values():
        library = cres.library
        for fn in library._final_module.functions:  # numba has no public function table
            if not fn.is_declaration:
                entries.add((library.get_pointer_to_function(fn.name), fn.name))
    ordered = sorted(e for e in entries if e[0])
    # A function ends where the next begins, or its memory mapping does (never read past it).
    ends = [
        min(_mapping_end(at), nxt)
        for (at, _), nxt in zip(ordered, [a for a, _ in ordered[1:]] + [2**64], strict=True)
    ]
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as out:
        for (at, name), end in zip(ordered, ends, strict=True):
            out.write(f"{at:x} {end - at:x} {name}\n")
            if dump is not None:
                dump.mkdir(parents=True, exist_ok=True)
                (dump / f"{at:x}.bin").write_bytes(ctypes.string_at(at, end - at))
    return len(ordered)


def _mapping_end(address: int) -> int:
    """The end of the memory mapping of this process that holds ``address``."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
        if lo <= address < hi:
            return hi
    raise ValueError(f"{address:#x} is in no mapping of this process")


@numba.njit(nogil=True)
def _roots(n: int) -> float:
    total = 0.0
    for i in range(n):
        total += np.sqrt(i * 1.0)
    return total


def _scaling(n: int = 200_000_000) -> None:
    _roots(10)
    for threads in (1, 2):
        workers = [threading.Thread(target=_roots, args=(n,)) for _ in range(threads)]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        print(f"{threads} thread(s), {threads}x the work: {time.perf_counter() - start:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="times the GA's networks train")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scaling", action="store_true", help="only the 1-vs-2-thread check")
    parser.add_argument("--dump", type=Path, help="also write the machine code here")
    args = parser.parse_args()
    if args.scaling:
        _scaling()
        return
    from ffmatch.paper.nn import _train_kernel, cpu

    jobs = _ga_jobs(args.seed)
    named = _write_perf_map(_train_kernel.train_networks, args.dump)
    print(f"{named} functions named; ready", flush=True)
    for _ in range(args.rounds):
        packed = cpu.pack(jobs)
        start = time.process_time()
        cpu.run(packed, jobs, every_epoch=False, threads=1)
        print(f"{len(jobs)} networks: {time.process_time() - start:.2f} s of CPU", flush=True)


if __name__ == "__main__":
    main()
