"""Walking PHOTO_DIR: ids with forward slashes, links never followed out, problems named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ffmatch.archive.walk import sha256_of, walk
from ffmatch.core.errors import DataError


def test_ids_are_relative_paths_with_forward_slashes(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.jpg").write_text("x")
    (tmp_path / "top.jpg").write_text("t")
    (tmp_path / "skip.db").write_text("s")
    found = walk(tmp_path, skip=frozenset({tmp_path / "skip.db"}))
    assert [f.photo_id for f in found] == ["a/b/x.jpg", "top.jpg"]
    assert all(f.problem == "" for f in found)


def test_problem_files_are_named_and_nothing_outside_is_read(tmp_path: Path) -> None:
    root, outside = tmp_path / "photos", tmp_path / "secret"
    root.mkdir()
    outside.mkdir()
    (outside / "s.jpg").write_text("secret")
    (root / "empty.jpg").write_bytes(b"")
    (root / "ok.jpg").write_text("ok")
    os.symlink(root / "loop.jpg", root / "loop.jpg")
    os.symlink(outside / "s.jpg", root / "out.jpg")
    os.symlink(outside, root / "outdir")
    os.symlink(root / "ok.jpg", root / "inside.jpg")
    os.symlink(root / "gone.jpg", root / "dangling.jpg")
    problems = {f.photo_id: f.problem for f in walk(root)}
    assert problems == {
        "dangling.jpg": "broken symbolic link",
        "empty.jpg": "zero-byte file",
        "inside.jpg": "",
        "loop.jpg": "symbolic link loop",
        "ok.jpg": "",
        "out.jpg": "symbolic link to outside PHOTO_DIR (not followed)",
        "outdir": "symbolic link to outside PHOTO_DIR (not followed)",
    }


def test_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="expected a folder of photos, found nothing"):
        walk(tmp_path / "none")


def test_hash_is_sha256_of_the_content(tmp_path: Path) -> None:
    p = tmp_path / "x"
    p.write_bytes(b"abc")
    assert sha256_of(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
