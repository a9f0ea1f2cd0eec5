"""Extract many photos in several processes: MediaPipe runs one photo at a time per process.

Each worker process opens its own ``FaceMeshExtractor`` once (MediaPipe graphs cannot be
shared or pickled) and keeps it for every photo it is given; results come back in input
order. Workers are started with ``spawn``: forking a process that already runs MediaPipe's
threads can deadlock. Starting one costs about a second (imports and graphs), so a few
dozen photos are faster in one process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ffmatch.matcher.photos.extract import (
    ExtractConfig,
    Extraction,
    FaceChoice,
    FaceMeshExtractor,
    extract_or_flag,
    extract_photos,
    photo_ids,
)

log = logging.getLogger(__name__)

MIN_PHOTOS_PER_JOB = 32  # below this, a worker's start-up costs more than it saves

# The extractor of this worker process (set by ``_start``; None in the parent process).
_worker: dict[str, FaceMeshExtractor] = {}


def default_jobs(n_photos: int) -> int:
    """Processes worth starting for ``n_photos``: up to the CPUs, at most 8."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cpus or 1, 8, n_photos // MIN_PHOTOS_PER_JOB))


def _start(config: ExtractConfig) -> None:
    _worker["extractor"] = FaceMeshExtractor(config)


def _one(task: tuple[str, str, FaceChoice]) -> Extraction:
    path, pid, choice = task
    return extract_or_flag(path, _worker["extractor"], choice=choice, photo_id=pid)


def extract_many(
    paths: Sequence[str | os.PathLike[str]],
    *,
    config: ExtractConfig | None = None,
    choice: FaceChoice | None = None,
    jobs: int = 1,
) -> Iterator[Extraction]:
    """``extract_photos`` over ``jobs`` processes (1: in this process), in input order."""
    cfg, pick = config or ExtractConfig(), choice or FaceChoice()
    if jobs <= 1:
        with FaceMeshExtractor(cfg) as extractor:
            yield from extract_photos(paths, extractor, choice=pick)
        return
    tasks = [(str(Path(p)), pid, pick) for p, pid in zip(paths, photo_ids(paths), strict=True)]
    done = 0
    try:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start,
                                 initargs=(cfg,)) as pool:  # fmt: skip
            # Small chunks keep the progress bar moving and the workers evenly loaded.
            for result in pool.map(_one, tasks, chunksize=4):
                done += 1
                yield result
    except (BrokenProcessPool, OSError) as err:  # no processes here (sandboxes, limits)
        log.warning("photo extraction in %d processes failed (%s); continuing in one", jobs, err)
        with FaceMeshExtractor(cfg) as extractor:
            for path, pid, _ in tasks[done:]:
                yield extract_or_flag(path, extractor, choice=pick, photo_id=pid)
