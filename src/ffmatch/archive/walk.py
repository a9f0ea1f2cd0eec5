"""Find every file under PHOTO_DIR without leaving it, and hash what changed.

Symbolic links are never followed out of PHOTO_DIR: a link to a file inside it is indexed
under its own name, a link to a folder is not entered (its photos are indexed where they
really are), and links that point outside, dangle or loop each get a row with the reason.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ffmatch.core.errors import DataError

HASH_CHUNK = 1 << 20  # bytes read at a time while hashing


@dataclass(frozen=True, kw_only=True, slots=True)
class FoundFile:
    """One file under PHOTO_DIR: its archive id, where to read it, and what stat says."""

    photo_id: str  # path relative to PHOTO_DIR, forward slashes
    path: Path  # absolute; inside PHOTO_DIR
    size: int
    mtime_ns: int
    problem: str = ""  # why it cannot be read (a row with this reason is kept), or ""


def photo_id_of(root: Path, path: Path) -> str:
    """The archive id of ``path``: relative to ``root``, forward slashes on every platform."""
    return path.relative_to(root).as_posix()


def walk(
    photo_dir: str | os.PathLike[str], *, skip: frozenset[Path] = frozenset()
) -> list[FoundFile]:
    """Every file under ``photo_dir`` (recursively, sorted by id), less the paths in ``skip``."""
    root = Path(photo_dir).absolute()
    if not root.is_dir():
        raise DataError(
            f"{photo_dir}: expected a folder of photos, found "
            f"{'a file' if root.exists() else 'nothing'}"
        )
    real_root = root.resolve()
    found: list[FoundFile] = []
    for folder, dirs, files in os.walk(root, followlinks=False, onerror=None):
        here = Path(folder)
        dirs.sort()
        for name in list(dirs):
            p = here / name
            if p.is_symlink():
                found.append(_link_row(root, real_root, p, folder_link=True))
        for name in sorted(files):
            p = here / name
            if p in skip:
                continue
            found.append(
                _link_row(root, real_root, p, folder_link=False)
                if p.is_symlink()
                else _file_row(root, p)
            )
    return sorted(found, key=lambda f: f.photo_id)


def _file_row(root: Path, p: Path, *, stat_path: Path | None = None) -> FoundFile:
    pid = photo_id_of(root, p)
    try:
        st = (stat_path or p).stat()
    except OSError as err:
        return FoundFile(
            photo_id=pid, path=p, size=0, mtime_ns=0, problem=f"unreadable ({err.strerror})"
        )
    problem = "" if st.st_size else "zero-byte file"
    return FoundFile(
        photo_id=pid, path=p, size=st.st_size, mtime_ns=st.st_mtime_ns, problem=problem
    )


def _link_row(root: Path, real_root: Path, p: Path, *, folder_link: bool) -> FoundFile:
    """A symbolic link: read only when it leads to a file inside PHOTO_DIR."""
    pid = photo_id_of(root, p)
    try:
        target = p.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports loops this way
        return FoundFile(photo_id=pid, path=p, size=0, mtime_ns=0, problem="symbolic link loop")
    except OSError as err:
        reason = "symbolic link loop" if err.errno == 40 else "broken symbolic link"
        return FoundFile(photo_id=pid, path=p, size=0, mtime_ns=0, problem=reason)
    if not target.is_relative_to(real_root):
        return FoundFile(
            photo_id=pid,
            path=p,
            size=0,
            mtime_ns=0,
            problem="symbolic link to outside PHOTO_DIR (not followed)",
        )
    if folder_link or target.is_dir():
        return FoundFile(
            photo_id=pid,
            path=p,
            size=0,
            mtime_ns=0,
            problem="symbolic link to a folder (not followed; its photos are "
            "indexed where they are)",
        )
    return _file_row(root, p, stat_path=target)


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of the file's content (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()
