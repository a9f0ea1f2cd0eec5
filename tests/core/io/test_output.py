"""The output layer: targets checked before work, never an input, strict JSON."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from ffmatch.core.errors import DataError
from ffmatch.core.io.output import check_output_file, check_output_folder, json_text


def test_a_missing_parent_folder_is_created(tmp_path: Path) -> None:
    target = check_output_file(tmp_path / "a" / "b" / "out.csv")
    assert target.parent.is_dir()
    assert not target.exists()


def test_a_folder_or_an_input_is_never_the_output_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"--out .*: is a folder; expected a file name"):
        check_output_file(tmp_path)
    data = tmp_path / "in.csv"
    data.write_text("x")
    with pytest.raises(DataError, match=r"in.csv: is also this command's input"):
        check_output_file(tmp_path / "." / "in.csv", inputs=[str(data)])
    (tmp_path / "link.csv").symlink_to(data)
    with pytest.raises(DataError, match=r"link.csv: is also this command's input"):
        check_output_file(tmp_path / "link.csv", inputs=[data])
    with pytest.raises(DataError, match=r"in.csv is a file, not a folder"):
        check_output_file(data / "out.csv")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_a_read_only_folder_is_named(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(DataError, match=r"locked: permission denied"):
        check_output_file(locked / "out.csv")


def test_a_folder_holding_a_run_needs_overwrite(tmp_path: Path) -> None:
    run = tmp_path / "run"
    check_output_folder(run)
    (run / "config.toml").write_text("seed = 0\n")
    with pytest.raises(DataError, match=r"run: holds an earlier run; pass --overwrite"):
        check_output_folder(run)
    assert check_output_folder(run, overwrite=True) == run
    assert check_output_folder(run, resume=True) == run
    other = tmp_path / "photos"
    other.mkdir()
    (other / "a.jpg").write_bytes(b"")
    with pytest.raises(DataError, match=r"photos: is a folder with other files"):
        check_output_folder(other)
    with pytest.raises(DataError, match=r"holds this command's input"):
        check_output_folder(other, overwrite=True, inputs=[other / "a.jpg"])
    with pytest.raises(DataError, match=r"exists and is not a folder"):
        check_output_folder(other / "a.jpg")


def test_overwrite_removes_only_an_earlier_runs_files(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "figures").mkdir(parents=True)
    for name in ("config.toml", "checkpoint.json", "report.md", "figures/ga_genes.png"):
        (run / name).write_text("x")
    assert check_output_folder(run, overwrite=True) == run
    assert [p for p in run.rglob("*") if p.is_file()] == []
    (run / "config.toml").write_text("x")
    (run / "figures" / "mine.svg").write_text("x")
    with pytest.raises(DataError, match=r"run: holds figures/mine.svg, which no ffmatch run"):
        check_output_folder(run, overwrite=True)
    assert (run / "config.toml").exists()
    (run / "figures" / "mine.svg").unlink()
    (run / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"holds notes.txt, which no ffmatch run writes"):
        check_output_folder(run, overwrite=True)
    assert check_output_folder(run, resume=True) == run
    assert (run / "notes.txt").exists()


def test_json_is_strict() -> None:
    text = json_text({"a": math.nan, "b": [np.float64(np.inf), np.int64(3)], "c": np.ones(2)})
    assert json.loads(text) == {"a": None, "b": [None, 3], "c": [1.0, 1.0]}
    assert "NaN" not in text
    assert "Infinity" not in text
