"""Helpers shared by the CLI commands: consoles, JSON output, progress bars."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console, ConsoleDimensions
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class _Console(Console):
    """A console that wraps only on a terminal: piped or captured output keeps each line whole,
    so what scripts and tests read does not depend on COLUMNS or on the length of a path."""

    @property
    def size(self) -> ConsoleDimensions:
        # Rich wraps non-terminal output at COLUMNS or 80; a wide virtual page keeps lines whole
        # (tables size to their content, so they do not grow with it).
        if self.is_terminal:
            return super().size
        return ConsoleDimensions(10_000, 25)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


out = _Console()
err = _Console(stderr=True)


def print_json(data: Any) -> None:
    """Machine-readable output on stdout: one strict JSON document (NaN as null), nothing else."""
    from ffmatch.core.io.output import json_text

    sys.stdout.write(json_text(data) + "\n")


@contextmanager
def progress_bar(
    description: str, total: int, *, quiet: bool = False
) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; yields ``update(done, total)``. Hidden when ``quiet``."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=total)

        def update(done: int, total_: int) -> None:
            progress.update(task, completed=done, total=total_)

        yield update


@contextmanager
def notice_if_slow(message: str, *, after_s: float = 3.0, quiet: bool = False) -> Iterator[None]:
    """Print ``message`` on stderr if the block is still running after ``after_s`` seconds:
    for a wait that is usually short. On a terminal only, as the progress bars."""
    if quiet or not err.is_terminal:
        yield
        return
    timer = threading.Timer(after_s, err.print, args=(message,), kwargs={"highlight": False})
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
