"""atomic_write: the target appears whole on success and is untouched on any error."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ffmatch.core.errors import DataError
from ffmatch.core.io.atomic import atomic_write


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _write_then_fail(target: Path, error: BaseException) -> None:
    with atomic_write(target) as fh:
        fh.write("new, half written")
        raise error


def test_writes_text_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with atomic_write(target) as fh:
        fh.write("hello\n")
        assert not target.exists()  # nothing visible until the block ends
    assert target.read_text() == "hello\n"
    assert _leftovers(tmp_path) == []


def test_binary_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with atomic_write(target, "wb") as fh:
        fh.write(b"\x00\xff")
    assert target.read_bytes() == b"\x00\xff"


def test_error_keeps_the_old_file_and_removes_the_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="half-way"):
        _write_then_fail(target, RuntimeError("failed half-way"))
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_error_creates_nothing_when_there_was_no_file(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        _write_then_fail(tmp_path / "new.txt", KeyboardInterrupt())
    assert list(tmp_path.iterdir()) == []


def test_replacing_keeps_the_file_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    with atomic_write(target) as fh:
        fh.write("new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_missing_folder_raises_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no/out.txt: cannot write the file \(No such file"):
        atomic_write(tmp_path / "no" / "out.txt").__enter__()
    assert list(tmp_path.iterdir()) == []


def test_rejects_other_modes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode must be"):
        atomic_write(tmp_path / "x", "a")  # type: ignore[call-overload]
