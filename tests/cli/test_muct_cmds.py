"""``ffmatch landmarks export``, ``train``, ``predict`` and ``benchmark muct``."""

from __future__ import annotations

import csv
import dataclasses
import json
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest

from ffmatch.cli.app import run
from ffmatch.core.errors import DataError
from ffmatch.core.io.muct import read_muct
from ffmatch.core.io.tidy import read_tidy, write_tidy
from ffmatch.core.table import PhotoTable


@pytest.fixture
def muct_home(muct_file: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """MUCT found in the data home, never downloaded."""
    home = muct_file.parents[1]
    monkeypatch.setenv("FFMATCH_DATA", str(home))
    return home


@pytest.fixture(scope="module")
def small_tidy(muct_first24: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tidy CSV of MUCT's first 24 people."""
    path = tmp_path_factory.mktemp("tidy") / "small.csv"
    write_tidy(read_muct(muct_first24), path)
    return path


def _pairs_csv(path: Path, photos: PhotoTable, rows: list[tuple[int, int]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["note", "photo_x", "photo_y"])
        for k, (a, b) in enumerate(rows):
            w.writerow([f"n{k}", photos.photo_id[a], photos.photo_id[b]])
    return path


def test_export_muct_writes_a_tidy_table_with_person_ids(
    muct_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "muct.csv"
    assert run(["landmarks", "export", "muct", "--out", str(target), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "out": str(target),
        "photos": 3755,
        "people": 276,
    }
    table = read_tidy(target)
    assert len(table) == 3755
    assert table.person[0] == "000"
    assert run(["landmarks", "export", "lfw", "--out", str(target)]) == 2
    assert "expected a dataset name (muct), found 'lfw'" in capsys.readouterr().err


def test_train_then_predict_scores_every_pair_and_keeps_other_columns(
    small_tidy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "m.ffm"
    assert run(["train", "--landmarks", str(small_tidy), "--out", str(model), "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert 0 < trained["threshold"] < 1
    assert trained["metrics"]["poses"] == ["a", "b", "c", "d", "e"]  # MUCT ids give cameras
    photos = read_tidy(small_tidy)
    same = int(np.flatnonzero(photos.person == photos.person[0])[1])
    other = int(np.flatnonzero(photos.person != photos.person[0])[0])
    pairs = _pairs_csv(tmp_path / "pairs.csv", photos, [(0, same), (0, other)])
    scores = tmp_path / "scores.csv"
    args = ["--landmarks", str(small_tidy), "--pairs", str(pairs), "--out", str(scores)]
    assert run(["predict", "--model", str(model), *args]) == 0
    rows = list(csv.DictReader(scores.open()))
    assert [r["note"] for r in rows] == ["n0", "n1"]
    proba = [float(r["probability"]) for r in rows]
    assert all(0.0 <= p <= 1.0 for p in proba)
    assert [r["match"] for r in rows] == ["1" if p > trained["threshold"] else "0" for p in proba]
    assert run(["predict", *args]) == 0  # the shipped model
    assert len(list(csv.DictReader(scores.open()))) == 2


def test_predict_and_train_errors_are_one_line(
    small_tidy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = read_tidy(small_tidy)
    bad = tmp_path / "pairs.csv"
    bad.write_text(f"photo_x,photo_y\n{photos.photo_id[0]},nobody\n")
    out = tmp_path / "s.csv"
    args = ["--landmarks", str(small_tidy), "--out", str(out)]
    assert run(["predict", "--pairs", str(bad), *args]) == 2
    assert "row 2, column photo_y: photo 'nobody' is not in the landmark table" in (
        capsys.readouterr().err
    )
    bad.write_text("a,b\n1,2\n")
    assert run(["predict", "--pairs", str(bad), *args]) == 2
    assert "expected columns photo_x, photo_y (the two photos of each pair), found a, b" in (
        capsys.readouterr().err
    )
    junk = tmp_path / "junk.ffm"
    junk.write_text("nope")
    assert run(["predict", "--model", str(junk), "--pairs", str(bad), *args]) == 2
    assert "not an ffmatch model file" in capsys.readouterr().err
    assert run(["train", "--out", str(tmp_path / "m.ffm")]) == 2
    assert "give exactly one of --landmarks FILE or --data NAME" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_benchmark_muct_writes_its_report(
    muct_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "bench"
    args = ["benchmark", "muct", "--out", str(target), "--people", "12", "--folds", "3",
            "--repeats", "1", "--models", "majority,plda", "--json"]  # fmt: skip
    assert run(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["results"]["all/plda"]["roc_auc"]["mean"] > 0.7
    assert "ffmatch benchmark muct" in (target / "report.md").read_text()
    assert (target / "figures" / "roc_frontal.png").is_file()
    saved = tomllib.loads((target / "config.toml").read_text())
    assert (saved["people"], saved["folds"], saved["models"]) == (12, 3, ["majority", "plda"])
    # the saved config reruns the same benchmark; options given beside it still apply
    again = tmp_path / "again"
    assert run(["benchmark", "muct", "--config", str(target / "config.toml"), "--out",
                str(again), "--seed", "0", "--json"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["results"] == summary["results"]
    assert run(["benchmark", "muct", "--out", str(target), "--models", "gbm"]) == 2
    assert "unknown model 'gbm'" in capsys.readouterr().err


def test_train_writes_its_config_beside_the_model_and_reads_it_back(
    small_tidy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.ffm", tmp_path / "b.ffm"
    args = ["train", "--landmarks", str(small_tidy), "--json"]
    assert run([*args, "--seed", "4", "--val-fraction", "0.25", "--out", str(first)]) == 0
    one = json.loads(capsys.readouterr().out)
    saved = tmp_path / "a.config.toml"
    assert tomllib.loads(saved.read_text())["seed"] == 4
    assert run([*args, "--config", str(saved), "--out", str(second)]) == 0
    assert json.loads(capsys.readouterr().out)["threshold"] == one["threshold"]
    bad = tmp_path / "bad.toml"
    bad.write_text("val_fractoin = 0.3\n")
    assert run([*args, "--config", str(bad), "--out", str(second)]) == 2
    assert "unknown key 'val_fractoin'; did you mean 'val_fraction'?" in capsys.readouterr().err


def test_predict_refuses_markers_of_another_source(
    tmp_path: Path, tiny_photos: PhotoTable, capsys: pytest.CaptureFixture[str]
) -> None:
    from ffmatch.core.table import QUALITY_COLUMNS
    from ffmatch.matcher.model import default_model, save_model

    extracted = dataclasses.replace(
        tiny_photos, quality=np.zeros((len(tiny_photos), len(QUALITY_COLUMNS)))
    )  # as landmarks extract writes it: markers found by MediaPipe
    landmarks, pairs, out = tmp_path / "ffm.csv", tmp_path / "pairs.csv", tmp_path / "s.csv"
    write_tidy(extracted, landmarks)
    pairs.write_text(f"photo_x,photo_y\n{tiny_photos.photo_id[0]},{tiny_photos.photo_id[1]}\n")
    muct = tmp_path / "muct.ffm"
    save_model(default_model(), muct)
    args = ["--landmarks", str(landmarks), "--pairs", str(pairs), "--out", str(out)]
    assert run(["predict", "--model", str(muct), *args]) == 2
    err = capsys.readouterr().err
    assert "muct.ffm was fitted on hand-placed MUCT markers, but" in err
    assert "use the shipped photo model" in err
    assert run(["predict", *args]) == 0  # the photo model is chosen for MediaPipe markers
    assert "model: MediaPipe markers" in capsys.readouterr().out


def _tree(root: Path) -> dict[str, bytes]:
    """Every file and folder under ``root`` (staging folders too), files with their bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(root.rglob("*"))
    }


def _broken_toml(*args: object, **kwargs: object) -> None:
    raise DataError("config.toml could not be written")


def test_a_failed_benchmark_leaves_the_earlier_run_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench"
    (out / "figures").mkdir(parents=True)
    for name in ("config.toml", "results.json", "report.md", "figures/earlier.png"):
        (out / name).write_text(f"earlier {name}")
    before = _tree(tmp_path)
    args = ["-q", "benchmark", "paper", "--out", str(out), "--folds", "3", "--repeats", "1",
            "--models", "procrustes", "--overwrite"]  # fmt: skip
    # the report and figures are written (into the staging folder), then config.toml fails
    monkeypatch.setattr("ffmatch.core.configio.write_toml", _broken_toml)
    assert run(args) == 2
    assert "config.toml could not be written" in capsys.readouterr().err
    assert _tree(tmp_path) == before
    monkeypatch.undo()
    assert run(args) == 0
    assert json.loads((out / "results.json").read_text())["results"]
    assert not (out / "figures" / "earlier.png").exists()  # the earlier run's own file
    assert [p.name for p in tmp_path.iterdir()] == ["bench"]


def test_a_failed_train_keeps_the_earlier_model_and_its_config(
    small_tidy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model = tmp_path / "m.ffm"
    model.write_bytes(b"earlier model")
    (tmp_path / "m.config.toml").write_text("seed = 1\n")
    before = _tree(tmp_path)
    monkeypatch.setattr("ffmatch.core.configio.write_toml", _broken_toml)
    assert run(["train", "--landmarks", str(small_tidy), "--out", str(model)]) == 2
    assert "config.toml could not be written" in capsys.readouterr().err
    assert _tree(tmp_path) == before


def test_a_benchmark_of_the_majority_alone_warns_nothing(tmp_path: Path) -> None:
    args = ["-q", "benchmark", "paper", "--models", "majority", "--repeats", "1", "--out",
            str(tmp_path / "bench")]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's empty-legend warning reached stderr
        assert run(args) == 0
    assert (tmp_path / "bench" / "figures" / "roc_paper.png").is_file()


def test_benchmark_mlps_train_on_the_engine_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ffmatch.benchmark import paper

    engines: list[str] = []
    real = paper.train_many

    def spy(jobs, **kw):  # type: ignore[no-untyped-def]
        engines.append(kw["engine"])
        return real(jobs, **kw)

    monkeypatch.setattr(paper, "train_many", spy)  # the paper benchmark's MLPs train here
    for engine, want in ((None, "stacked"), ("compiled", "compiled")):
        out = tmp_path / str(engine)
        args = ["-q", "benchmark", "paper", "--models", "mlp_raw", "--repeats", "1", "--epochs",
                "2", "--out", str(out)] + (["--engine", engine] if engine else [])  # fmt: skip
        assert run(args) == 0
        assert engines.pop() == want
        assert tomllib.loads((out / "config.toml").read_text())["engine"] == want
