"""The output layer: targets checked before work, never an input, strict JSON."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ffmatch.core.errors import DataError
from ffmatch.core.io.output import (
    _host,
    check_output_file,
    check_output_files,
    check_output_folder,
    json_text,
    replacing_files,
    replacing_run,
)


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


def test_files_of_a_folder_never_replace_an_input(tmp_path: Path) -> None:
    photo = tmp_path / "x.png"
    photo.write_bytes(b"a photo")
    (tmp_path / "y.png").mkdir()
    targets = check_output_files(tmp_path / "new", ["x.png"], inputs=[photo], option="--overlay")
    assert targets == [tmp_path / "new" / "x.png"]
    assert (tmp_path / "new").is_dir()
    with pytest.raises(DataError, match=r"--overlay .*: x.png would replace this command's input"):
        check_output_files(tmp_path, ["a.png", "x.png"], inputs=[photo], option="--overlay")
    with pytest.raises(DataError, match=r"--overlay .*: y.png is a folder; expected a file"):
        check_output_files(tmp_path, ["y.png"], option="--overlay")
    with pytest.raises(DataError, match=r"x.png is a file, not a folder"):
        check_output_files(photo, ["a.png"], option="--overlay")
    assert photo.read_bytes() == b"a photo"


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


def _earlier_run(folder: Path) -> dict[str, bytes]:
    """An earlier run's files (an evolve run's, with its checkpoint) and a stranger's file
    beside the run folder; returns every file under ``folder``'s parent with its bytes."""
    (folder / "figures").mkdir(parents=True)
    for name in ("config.toml", "metrics.json", "checkpoint.json", "figures/ga_genes.png"):
        (folder / name).write_bytes(f"old {name}".encode())
    (folder.parent / "beside.txt").write_text("not ours")
    return _files(folder.parent)


def _files(root: Path) -> dict[str, bytes]:
    """Every file and folder under ``root`` (hidden ones too), files with their bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(root.rglob("*"))
    }


def _write_new_run(staging: Path) -> None:
    (staging / "figures").mkdir()
    for name in ("config.toml", "metrics.json", "figures/confusion.png"):
        (staging / name).write_text(f"new {name}")


def test_overwrite_is_checked_before_the_work_and_removes_nothing(tmp_path: Path) -> None:
    run = tmp_path / "run"
    before = _earlier_run(run)
    assert check_output_folder(run, overwrite=True) == run
    assert _files(tmp_path) == before
    (run / "figures" / "mine.svg").write_text("x")
    with pytest.raises(DataError, match=r"run: holds figures/mine.svg, which no ffmatch run"):
        check_output_folder(run, overwrite=True)
    (run / "figures" / "mine.svg").unlink()
    (run / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"holds notes.txt, which no ffmatch run writes"):
        check_output_folder(run, overwrite=True)
    assert check_output_folder(run, resume=True) == run
    assert (run / "notes.txt").exists()


def test_a_finished_run_replaces_the_earlier_runs_own_files(tmp_path: Path) -> None:
    run = tmp_path / "run"
    _earlier_run(run)
    (run / "figures" / "notes.txt").write_text("a person's note")  # never touched
    with replacing_run(run) as staging:
        assert staging.parent == tmp_path
        assert staging.name.startswith(".run.")
        _write_new_run(staging)
        assert (run / "checkpoint.json").read_text() == "old checkpoint.json"
    assert _files(tmp_path) == {
        "beside.txt": b"not ours",
        "run": b"<dir>",
        "run/config.toml": b"new config.toml",
        "run/figures": b"<dir>",
        "run/figures/confusion.png": b"new figures/confusion.png",
        "run/figures/notes.txt": b"a person's note",
        "run/metrics.json": b"new metrics.json",
    }


@pytest.mark.parametrize("fault", [DataError("bad row"), KeyboardInterrupt()])
def test_a_run_that_fails_leaves_the_earlier_run_whole(
    tmp_path: Path, fault: BaseException
) -> None:
    run = tmp_path / "run"
    before = _earlier_run(run)

    def fail_half_way() -> None:
        with replacing_run(run) as staging:
            _write_new_run(staging)
            raise fault

    with pytest.raises(type(fault)):
        fail_half_way()
    assert _files(tmp_path) == before


def test_a_failure_while_swapping_is_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    before = _earlier_run(run)
    rename = os.rename

    def fail_on_metrics(src: Path, dst: Path) -> None:
        if Path(dst) == run / "metrics.json":  # after config.toml has moved in
            raise OSError(28, "No space left on device")
        rename(src, dst)

    monkeypatch.setattr(os, "rename", fail_on_metrics)

    def finish() -> None:
        with replacing_run(run) as staging:
            _write_new_run(staging)

    with pytest.raises(DataError, match=r"metrics.json: cannot move the new file into place"):
        finish()
    assert _files(tmp_path) == before


def test_a_folder_on_its_own_file_system_is_staged_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    _earlier_run(run)
    monkeypatch.setattr("ffmatch.core.io.output._same_device", lambda a, b: False)
    with replacing_run(run) as staging:
        assert staging.parent == run
        _write_new_run(staging)
    assert sorted(str(p.relative_to(run)) for p in run.rglob("*")) == [
        "config.toml", "figures", "figures/confusion.png", "metrics.json",
    ]  # fmt: skip


def test_an_earlier_run_is_never_traded_for_nothing(tmp_path: Path) -> None:
    run = tmp_path / "run"
    before = _earlier_run(run)

    def write_nothing() -> None:
        with replacing_run(run):
            pass  # as if another process had emptied the staging folder

    with pytest.raises(DataError, match=r"holds no new file; the earlier files in .*run are kept"):
        write_nothing()
    assert _files(tmp_path) == before


def test_a_resumable_checkpoint_is_left_where_it_is(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    with replacing_run(run, in_place=["checkpoint.json"]) as staging:
        (run / "checkpoint.json").write_text("generation 3")
        _write_new_run(staging)
    assert (run / "checkpoint.json").read_text() == "generation 3"
    assert (run / "metrics.json").read_text() == "new metrics.json"


def test_model_files_are_replaced_together_or_not_at_all(tmp_path: Path) -> None:
    model, config = tmp_path / "m.ffm", tmp_path / "m.config.toml"
    model.write_text("old model")
    config.write_text("old config")

    def fail_after_the_model() -> None:
        with replacing_files([model, config]) as (new_model, _):
            new_model.write_text("new model")
            raise DataError("the config could not be written")

    with pytest.raises(DataError, match="the config could not be written"):
        fail_after_the_model()
    assert (model.read_text(), config.read_text()) == ("old model", "old config")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.config.toml", "m.ffm"]
    with replacing_files([model, config]) as (new_model, new_config):
        new_model.write_text("new model")
        new_config.write_text("new config")
    assert (model.read_text(), config.read_text()) == ("new model", "new config")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.config.toml", "m.ffm"]


def test_files_of_two_folders_are_written_before_either_is_replaced(tmp_path: Path) -> None:
    csv, html = tmp_path / "a" / "list.csv", tmp_path / "b" / "sheet.html"
    for path in (csv, html):
        path.parent.mkdir()
        path.write_text("old")

    def fail_on_the_sheet() -> None:
        with replacing_files([csv, html]) as (new_csv, _):
            new_csv.write_text("new")
            raise DataError("the sheet could not be drawn")

    with pytest.raises(DataError, match="the sheet could not be drawn"):
        fail_on_the_sheet()
    assert _files(tmp_path) == {
        "a": b"<dir>", "a/list.csv": b"old", "b": b"<dir>", "b/sheet.html": b"old"
    }  # fmt: skip
    with replacing_files([csv, html]) as (new_csv, new_html):
        new_csv.write_text("new")
        new_html.write_text("new")
    assert (csv.read_text(), html.read_text()) == ("new", "new")
    assert len(_files(tmp_path)) == 4
    with pytest.raises(ValueError, match="expected distinct files"), replacing_files([csv, csv]):
        pass


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_a_killed_runs_staging_folder_is_swept_by_the_next_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    host, dead = _host(), _dead_pid()
    stale = tmp_path / f".run.{host}.{dead}-0123456789ab.ffmatch-new"
    alive = tmp_path / f".other.{host}.{os.getppid()}-0123456789ab.ffmatch-new"
    aside = tmp_path / f".run.{host}.{dead}-0123456789ab.ffmatch-old"
    elsewhere = tmp_path / f".run.another-machine.{dead}-0123456789ab.ffmatch-new"
    for folder in (stale, alive, aside, elsewhere):
        folder.mkdir()
        (folder / "metrics.json").write_text("x")
    assert check_output_folder(run) == run  # a staging folder is not another file
    with replacing_run(run) as staging:
        _write_new_run(staging)
    assert not stale.exists()
    assert alive.exists()  # its process may still be writing it
    assert aside.exists()  # an earlier run's files, moved aside: left for a person
    assert elsewhere.exists()  # its process id means nothing on this machine


# The child takes Ctrl-C as a terminal's foreground command does, even when the tests run
# in the background (where the shell starts them with SIGINT ignored, and children inherit it).
_KILLED = """
import signal, sys, time
from pathlib import Path
from ffmatch.core.io.output import replacing_run
signal.signal(signal.SIGINT, signal.default_int_handler)
with replacing_run(Path(sys.argv[1])) as staging:
    (staging / "metrics.json").write_text("new")
    print("writing", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_a_killed_run_leaves_the_earlier_run_whole(tmp_path: Path, sig: int) -> None:
    run = tmp_path / "run"
    before = _earlier_run(run)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3] / "src")}
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED, str(run)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "writing\n"
    child.send_signal(sig)
    child.wait(timeout=30)
    child.stdout.close()
    if sig == signal.SIGKILL:  # no clean-up could run: the next run beside it sweeps it
        assert len(_files(tmp_path)) == len(before) + 2  # the staging folder and its file
        with replacing_run(tmp_path / "next"):
            pass
        before = {**before, "next": b"<dir>"}
    assert _files(tmp_path) == before


def test_json_is_strict() -> None:
    text = json_text({"a": math.nan, "b": [np.float64(np.inf), np.int64(3)], "c": np.ones(2)})
    assert json.loads(text) == {"a": None, "b": [None, 3], "c": [1.0, 1.0]}
    assert "NaN" not in text
    assert "Infinity" not in text
