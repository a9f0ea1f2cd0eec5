"""Write a file all at once or not at all: every output file of ffmatch goes through here.

The data go to a temporary file beside the target, are flushed to disk, and only then
replace the target (``os.replace`` is atomic on POSIX and Windows). On any error the
temporary file is removed and an existing target is left as it was, so a crash, a full
disk or a bad value found half-way never leaves a half-written result behind.
"""

from __future__ import annotations

import os
import secrets
import signal
import stat
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, overload

from ffmatch.core.errors import DataError


@overload
def atomic_write(
    path: str | os.PathLike[str],
    mode: Literal["w"] = "w",
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> AbstractContextManager[TextIO]: ...


@overload
def atomic_write(
    path: str | os.PathLike[str],
    mode: Literal["wb"],
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> AbstractContextManager[BinaryIO]: ...


def atomic_write(
    path: str | os.PathLike[str],
    mode: Literal["w", "wb"] = "w",
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> AbstractContextManager[Any]:
    """Open ``path`` for writing so that it appears complete on success and unchanged on error.

    ``mode`` is ``"w"`` (text, ``encoding`` and ``newline`` as for ``open``) or ``"wb"``.
    Use as ``with atomic_write(path) as fh: fh.write(...)``. The folder must exist.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', found {mode!r}")
    return _atomic(Path(path), binary=mode == "wb", encoding=encoding, newline=newline)


@contextmanager
def _atomic(target: Path, *, binary: bool, encoding: str, newline: str | None) -> Iterator[IO[Any]]:
    fd, tmp = _create_temp(target)
    try:
        # open() takes ownership of fd and closes it even if the body raises.
        if binary:
            fh: IO[Any] = open(fd, "wb")  # noqa: SIM115 - closed by the with below
        else:
            fh = open(fd, "w", encoding=encoding, newline=newline)  # noqa: SIM115
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_folder(target.parent)


def _create_temp(target: Path) -> tuple[int, Path]:
    """A new, exclusively created file beside ``target``, with the mode a plain open would give."""
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            # 0o666 minus the umask, like open(); O_EXCL: never reuse someone else's file.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as err:  # no folder, no permission, read-only: name the target
            raise DataError(f"{target}: cannot write the file ({err.strerror or err})") from None
        with suppress(FileNotFoundError):
            # Replacing a file keeps its permissions, as writing it in place would.
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        return fd, tmp
    raise FileExistsError(f"{target}: could not create a unique temporary file beside it")


def _fsync_folder(folder: Path) -> None:
    """Flush the rename to disk where the platform allows it (POSIX; not Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open folders; its rename is durable enough for us.
    try:
        with suppress(OSError):  # some file systems refuse it; the data file itself is synced
            os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def sigterm_exits() -> Iterator[None]:
    """While the block runs, SIGTERM raises SystemExit (as SIGINT raises KeyboardInterrupt),
    so the block's ``finally`` clean-ups run: a killed writer leaves no temporary file.

    Only the main thread can set signal handlers; elsewhere the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)
