"""Where a command's results go, checked before the work starts, and strict JSON.

Every writer of ffmatch checks its target here first: a missing parent folder is created
(or refused in one line), a folder is never taken for a file (nor a file for a folder), a
command never writes over one of its own inputs, a folder that holds another run is kept
unless ``--overwrite`` (or ``--resume``) says so, and a folder that cannot be written is
named. The files themselves are then written by ``atomic`` (all or nothing), so a
refusal costs nothing and a failure half-way leaves what was there.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ffmatch.core.errors import DataError

RUN_MARKER = "config.toml"
"""A file every run folder holds (the resolved configuration): its presence marks a run."""

RUN_FILES = frozenset(
    {RUN_MARKER, "metrics.json", "checkpoint.json", "results.json", "report.md", "report.html"}
)
"""The files a run writes at the top of its folder (``RunFolder``, the benchmark report, the
GA checkpoint); with ``figures/*.png`` they are all ``--overwrite`` may remove."""


def _run_artefacts(folder: Path, option: str) -> list[Path]:
    """The files an earlier run left in ``folder``; DataError naming any other file."""
    found: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and not entry.is_symlink() and entry.name == "figures":
            inner = sorted(entry.iterdir())
            stray = [f for f in inner if f.suffix != ".png" or not f.is_file() or f.is_symlink()]
            found.extend(f for f in inner if f not in stray)
            entry = stray[0] if stray else entry
            if not stray:
                continue
        elif entry.is_file() and not entry.is_symlink() and entry.name in RUN_FILES:
            found.append(entry)
            continue
        raise DataError(
            f"{option} {folder}: holds {entry.relative_to(folder)}, which no ffmatch run "
            "writes; --overwrite replaces only an earlier run's files: move it or choose "
            "another folder"
        )
    return found


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
    ``resume``. With ``overwrite`` the earlier run's files (``RUN_FILES``, ``figures/*.png``)
    are removed here, so none of them stays beside the new report; a file no run writes is
    refused, never deleted. A non-empty folder that holds no run is refused too.
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
        if any(target.iterdir()):
            raise DataError(
                f"{option} {target}: is a folder with other files; choose an empty or new "
                "folder (or pass --overwrite)"
            )
    if target.is_dir() and overwrite and not resume:
        for old in _run_artefacts(target, option):
            try:
                old.unlink()
            except OSError as err:
                raise DataError(f"{option} {old}: cannot remove ({err.strerror})") from None
    _writable_folder(target, option)
    return target


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
