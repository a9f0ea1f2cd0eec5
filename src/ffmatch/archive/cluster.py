"""The Dask executor of ``index``: photos extracted on a cluster, results streamed back.

A thin adapter: the workers run the same ``extract_record`` as a single process, and the
client (the ``ffmatch index`` process) receives each ``PhotoRecord`` and writes it. At most
``IN_FLIGHT_PER_WORKER`` photos per worker thread are submitted at a time, so a million
photos never sit in the scheduler at once and a kill loses only those in flight.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import ExitStack

from ffmatch.archive.records import Extract, PhotoRecord, PhotoTask
from ffmatch.core.errors import ConfigError

log = logging.getLogger(__name__)

IN_FLIGHT_PER_WORKER = 4


def dask_results(
    tasks: Sequence[PhotoTask],
    extract: Extract,
    *,
    workers: int,
    scheduler: str | None,
    processes: bool = True,
) -> Iterator[PhotoRecord]:
    """``extract`` over ``tasks`` on a Dask cluster, yielded as they complete.

    ``scheduler``: the address of a running scheduler; else a ``LocalCluster`` of
    ``workers`` single-threaded workers (processes, or threads when not ``processes``).
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError(
            "--workers and --scheduler need Dask: pip install 'ffmatch[archive]'"
        ) from None
    with ExitStack() as stack:
        if scheduler is not None:
            try:
                client = stack.enter_context(Client(scheduler, timeout="20s"))
            except OSError as err:
                raise ConfigError(f"--scheduler {scheduler}: cannot reach it ({err})") from None
        else:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=processes,
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(Client(cluster))
        threads = max(1, sum(client.nthreads().values()))
        window = threads * IN_FLIGHT_PER_WORKER
        pending = iter(tasks)
        # pure=False: a photo re-submitted after a change must run again, not hit a cache.
        first = [
            client.submit(extract, t, pure=False)
            for _, t in zip(range(window), pending, strict=False)
        ]
        queue = as_completed(first)
        for future in queue:
            record: PhotoRecord = future.result()
            future.release()
            nxt = next(pending, None)
            if nxt is not None:
                queue.add(client.submit(extract, nxt, pure=False))
            yield record
