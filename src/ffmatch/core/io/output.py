"""Where a command's results go, checked before the work starts, swapped in when it ends.

Every writer of ffmatch checks its target here first: a missing parent folder is created
(or refused in one line), a folder is never taken for a file (nor a file for a folder), a
command never writes over one of its own inputs, a folder that holds another run is kept
unless ``--overwrite`` (or ``--resume``) says so, and a folder that cannot be written is
named. A run then writes into a fresh staging folder (``replacing_run``,
``replacing_files``) whose files replace the earlier run's only once the run has finished,
so a refusal costs nothing and a failure, Ctrl-C or SIGTERM half-way leaves what was there.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import socket
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

from ffmatch.core.errors import DataError
from ffmatch.core.io.atomic import sigterm_exits

RUN_MARKER = "config.toml"
"""A file every run folder holds (the resolved configuration): its presence marks a run."""

RUN_FILES = frozenset(
    {RUN_MARKER, "metrics.json", "checkpoint.json", "results.json", "report.md", "report.html"}
)
"""The files a run writes at the top of its folder (``RunFolder``, the benchmark report, the
GA checkpoint); with ``figures/*.png`` they are all ``--overwrite`` may remove."""


_STAGING = re.compile(r"\..*\.([A-Za-z0-9-]+)\.(\d+)-[0-9a-f]{12}\.ffmatch-(new|old)")
"""The name of a staging folder (``new``: a run being written; ``old``: an earlier run's
files during the swap), with the machine and the id of the process that made it."""


def _host() -> str:
    """This machine's name as it goes into a staging folder's name (letters, digits, -)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _classify(folder: Path) -> tuple[list[Path], list[Path]]:
    """(an earlier run's own files in ``folder``, everything else but staging folders)."""
    own: list[Path] = []
    other: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if _STAGING.fullmatch(entry.name):
            continue
        if entry.is_dir() and not entry.is_symlink() and entry.name == "figures":
            for f in sorted(entry.iterdir()):
                plain = f.is_file() and not f.is_symlink()
                (own if plain and f.suffix == ".png" else other).append(f)
        elif entry.is_file() and not entry.is_symlink() and entry.name in RUN_FILES:
            own.append(entry)
        else:
            other.append(entry)
    return own, other


def run_files(folder: Path) -> list[Path]:
    """The files an earlier run left in ``folder`` (none if it does not exist)."""
    return _classify(folder)[0] if folder.is_dir() else []


def _run_artefacts(folder: Path, option: str) -> list[Path]:
    """The files an earlier run left in ``folder``; DataError naming any other file."""
    own, other = _classify(folder)
    if other:
        raise DataError(
            f"{option} {folder}: holds {other[0].relative_to(folder)}, which no ffmatch run "
            "writes; --overwrite replaces only an earlier run's files: move it or choose "
            "another folder"
        )
    return own


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _writable_folder(folder: Path, option: str) -> None:
    """Create ``folder`` (and its parents); DataError naming it if that or writing fails."""
    for parent in (folder, *folder.parents):
        if parent.exists() and not parent.is_dir():
            raise DataError(f"{option} {folder}: {parent} is a file, not a folder")
        if parent.exists():
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"{option} {folder}: cannot create the folder ({err.strerror})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DataError(f"{option} {folder}: permission denied; choose a folder you can write")


def check_output_file(
    path: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str]] = (),
    option: str = "--out",
) -> Path:  # fmt: skip
    """``path`` ready to be written as a file: its folder exists and is writable.

    DataError, before any work, if ``path`` is a folder, is one of ``inputs`` (the command's
    own input files), or its folder cannot be created or written.
    """
    target = Path(path)
    if target.is_dir():
        raise DataError(f"{option} {target}: is a folder; expected a file name")
    for source in inputs:
        if _same_file(target, Path(source)):
            raise DataError(
                f"{option} {target}: is also this command's input; write to another file"
            )
    if target.exists() and not os.access(target, os.W_OK):
        raise DataError(f"{option} {target}: permission denied; the file is read-only")
    _writable_folder(target.parent if str(target.parent) else Path("."), option)
    return target


def check_output_files(
    folder: Path,
    names: Iterable[str],
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    option: str,
) -> list[Path]:
    """The files ``names`` in ``folder`` (overlays, one per photo) ready to be written: the
    folder created and writable; DataError, before any work, if one of them is a folder or
    one of ``inputs`` (the input photos, which sit in the folder given as often as not)."""
    _writable_folder(folder, option)
    taken = {Path(p).resolve(): Path(p) for p in inputs}
    targets = [folder / name for name in names]
    for target in targets:
        if target.is_dir():
            raise DataError(f"{option} {folder}: {target.name} is a folder; expected a file name")
        if target.resolve() in taken:
            raise DataError(
                f"{option} {folder}: {target.name} would replace this command's input "
                f"{taken[target.resolve()]}; choose another folder"
            )
    return targets


def check_output_folder(
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    resume: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
    option: str = "--out",
) -> Path:
    """``path`` ready to receive a run: created, writable, and not holding another run.

    A folder already holding a run (``config.toml``) is refused unless ``overwrite`` or
    ``resume``. With ``overwrite`` any file no run writes (not in ``RUN_FILES`` nor
    ``figures/*.png``) is refused, never touched; the earlier run's own files stay until
    the new run has finished (``replacing_run``). A non-empty folder that holds no run is
    refused too.
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise DataError(f"{option} {target}: exists and is not a folder; --out needs a folder")
    for source in inputs:
        src = Path(source)
        if _same_file(target, src) or (src.exists() and target.resolve() in src.resolve().parents):
            raise DataError(f"{option} {target}: holds this command's input {src}; use another")
    if target.is_dir() and not (overwrite or resume):
        if (target / RUN_MARKER).exists():
            raise DataError(
                f"{option} {target}: holds an earlier run; pass --overwrite to replace it "
                "or choose another folder"
            )
        if _classify(target) != ([], []):
            raise DataError(
                f"{option} {target}: is a folder with other files; choose an empty or new "
                "folder (or pass --overwrite)"
            )
    if target.is_dir() and overwrite and not resume:
        _run_artefacts(target, option)
    _writable_folder(target, option)
    return target


@contextmanager
def replacing_run(target: Path, *, in_place: Collection[str] = ()) -> Iterator[Path]:
    """A fresh staging folder to write a run into; when the block ends without error, its
    files replace the earlier run's own files in ``target`` (``run_files``).

    Use as ``with replacing_run(out) as staging: write(staging)``. The staging folder sits
    beside ``target`` (same file system: every move is a rename), or inside it where that
    cannot be. On an error, Ctrl-C or
    SIGTERM it is removed and ``target`` is left as it was; files no run writes are never
    touched. ``in_place`` names files the run writes straight into ``target`` (the GA
    checkpoint, which must outlive a killed run to resume it): the swap leaves them alone.
    """
    target.mkdir(parents=True, exist_ok=True)
    # A folder mounted on its own (a container's volume) cannot rename to its parent, and a
    # parent we may not write cannot hold the staging folder: then it goes inside ``target``.
    parent = target.parent
    usable = os.access(parent, os.W_OK | os.X_OK) and _same_device(target, parent)
    beside = parent if usable else target
    keep = {target / name for name in in_place}
    with _staged(target, beside, lambda: [f for f in run_files(target) if f not in keep]) as st:
        yield st


@contextmanager
def replacing_files(paths: Sequence[Path]) -> Iterator[list[Path]]:
    """Where to write new versions of ``paths``, which replace them when the block ends
    without error; on an error nothing is replaced.

    Use as ``with replacing_files([a, b]) as (new_a, new_b): ...``. Files of one folder are
    swapped together; files of several folders folder by folder, after all were written.
    """
    folders = list(dict.fromkeys(p.parent for p in paths))
    if len(set(paths)) < len(paths):
        raise ValueError(f"replacing_files: expected distinct files, found {paths}")
    with ExitStack() as stack:
        staged = {}
        for folder in folders:
            own = [p for p in paths if p.parent == folder]
            staged[folder] = stack.enter_context(_staged(folder, folder, _existing(own)))
        yield [staged[p.parent] / p.name for p in paths]


def _existing(paths: list[Path]) -> Callable[[], list[Path]]:
    """Which of ``paths`` are files when called (at swap time)."""
    return lambda: [p for p in paths if p.is_file()]


@contextmanager
def _staged(target: Path, beside: Path, old: Callable[[], list[Path]]) -> Iterator[Path]:
    """A staging folder in ``beside``; on success its files move into ``target``, ``old()``
    (files of ``target``) having moved aside first; always removed at the end."""
    _sweep(beside)
    with sigterm_exits():
        staging = _new_folder(beside, target.name, "new")
        try:
            yield staging
            _swap(staging, target, old())
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _new_folder(beside: Path, name: str, kind: str) -> Path:
    """A new hidden folder in ``beside`` named after ``name``, this process and ``kind``."""
    # Short enough for any file system's name limit (255 bytes), whatever ``name`` is.
    stem = name.encode()[:100].decode(errors="ignore") or "out"
    tag = f"{_host()}.{os.getpid()}-{secrets.token_hex(6)}"
    folder = beside / f".{stem}.{tag}.ffmatch-{kind}"
    try:
        folder.mkdir()
    except OSError as err:
        raise DataError(
            f"{beside}: cannot create a folder to write into ({err.strerror})"
        ) from None
    return folder


def _swap(staging: Path, target: Path, old: list[Path]) -> None:
    """Move ``old`` aside, move ``staging``'s files into ``target``, then delete ``old``;
    on any error the moves already made are undone, in reverse."""
    new = sorted(p for p in staging.rglob("*") if p.is_file())
    if old and not new:  # never trade an earlier run for nothing
        raise DataError(f"{staging}: holds no new file; the earlier files in {target} are kept")
    aside = _new_folder(staging.parent, target.name, "old") if old else None
    moved: list[tuple[Path, Path]] = []
    try:
        for f in old:
            _move(f, aside / f.relative_to(target) if aside else f, moved)
        for f in new:
            _move(f, target / f.relative_to(staging), moved)
    except BaseException:
        for src, dst in reversed(moved):
            with suppress(OSError):
                os.replace(dst, src)
        if aside is not None and not any(p.is_file() for p in aside.rglob("*")):
            shutil.rmtree(aside, ignore_errors=True)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    with suppress(OSError):  # an earlier run's figures/ that the new run does not refill
        (target / "figures").rmdir()


def _move(src: Path, dst: Path, moved: list[tuple[Path, Path]]) -> None:
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.exists() or dst.is_symlink():
            raise DataError(f"{dst}: is in the way of the new run's file; move it and rerun")
        os.rename(src, dst)
    except OSError as err:
        raise DataError(f"{dst}: cannot move the new file into place ({err.strerror})") from None
    moved.append((src, dst))


def _same_device(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


def _sweep(beside: Path) -> None:
    """Remove the staging folders of runs killed outright (SIGKILL: no clean-up ran).

    Only ``new`` folders (an unfinished run's output), only of this machine (a shared folder
    may hold another machine's live run) and only when their process is gone; an ``old``
    folder holds an earlier run's files and is left for a person to look at.
    """
    if os.name != "posix":  # os.kill(pid, 0) terminates the process on Windows
        return
    for entry in beside.iterdir() if beside.is_dir() else ():
        found = _STAGING.fullmatch(entry.name)
        if found is None or found[3] != "new" or found[1] != _host():
            continue
        if int(found[2]) == os.getpid():
            continue
        try:
            os.kill(int(found[2]), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass  # alive, under another user


def strict(value: Any) -> Any:
    """``value`` made strict-JSON-ready: NaN and infinities as None, NumPy scalars as Python."""
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    if isinstance(value, np.ndarray):
        return strict(value.tolist())
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(value: Any, *, indent: int | None = 2) -> str:
    """Strict JSON (RFC 8259) of ``value``: NaN and infinities as null, never ``NaN``."""
    return json.dumps(strict(value), indent=indent, allow_nan=False)
