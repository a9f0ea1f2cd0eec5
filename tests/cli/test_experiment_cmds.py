"""The experiment commands end to end on the paper's data, with tiny settings."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from ffmatch.cli.app import run
from ffmatch.core.errors import DataError

TINY = """
seed = 3

[eval]
n_splits = 3

[mlp]
epochs = 6
hidden = [8, 4]

[ga]
population = 4
generations = 2
"""


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def _metrics(folder: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((folder / "metrics.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["paper", "grouped"])
def test_cv_writes_the_run_folder(tmp_path: Path, tiny_config: Path, protocol: str) -> None:
    out = tmp_path / "run"
    assert run(["-q", "cv", "--config", str(tiny_config), "--protocol", protocol,
                "--out", str(out)]) == 0  # fmt: skip
    m = _metrics(out)
    assert m["protocol"] == protocol
    assert m["n_folds"] == 3
    assert set(m["stages"]) == {"mlp"}
    assert m["majority_baseline"]["holdout"]["accuracy"] == pytest.approx(6 / 9)
    assert len(m["stages"]["mlp"]["holdout"]["confusion"]) == 2
    for name in ("fig1_1_train_accuracy", "fig1_4_val_loss", "learning_curves", "confusion"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
    assert "## Results" in (out / "report.md").read_text()
    saved = tomllib.loads((out / "config.toml").read_text())
    assert saved["eval"]["protocol"] == protocol
    assert saved["mlp"]["epochs"] == 6


@pytest.mark.slow
def test_saved_config_reruns_to_the_same_numbers(tmp_path: Path, tiny_config: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert run(["-q", "cv", "--config", str(tiny_config), "--out", str(first)]) == 0
    assert run(["-q", "cv", "--config", str(first / "config.toml"), "--out", str(second)]) == 0
    assert _metrics(first)["stages"] == _metrics(second)["stages"]


@pytest.mark.slow
def test_another_seed_gives_other_numbers(tmp_path: Path, tiny_config: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(["-q", "cv", "--config", str(tiny_config), "--out", str(a)]) == 0
    assert run(["-q", "cv", "--config", str(tiny_config), "--seed", "4", "--out", str(b)]) == 0
    assert _metrics(a)["cv_folds"]["folds"] != _metrics(b)["cv_folds"]["folds"]


@pytest.mark.slow
def test_prune_reports_units_and_pairs(tmp_path: Path, tiny_config: Path) -> None:
    out = tmp_path / "prune"
    assert run(["-q", "prune", "--config", str(tiny_config), "--out", str(out)]) == 0
    p = _metrics(out)["pruning"]
    for key in ("units_before", "units_after", "params_before", "params_after", "pairs"):
        assert key in p
    assert p["units_before"][0] == 8
    assert p["params_after"] <= p["params_before"]
    assert "Pruning" in (out / "report.md").read_text()


@pytest.mark.slow
def test_evolve_records_generations_and_resumes(tmp_path: Path, tiny_config: Path) -> None:
    out = tmp_path / "ga"
    assert run(["-q", "evolve", "--config", str(tiny_config), "--out", str(out)]) == 0
    m = _metrics(out)
    assert [g["generation"] for g in m["stages"]["ga"]["fitness_by_generation"]] == [0, 1, 2]
    assert (out / "checkpoint.json").exists()
    assert (out / "figures" / "ga_fitness.png").exists()
    best = m["stages"]["ga"]["best"]
    assert 1 <= best["hidden"] <= 100
    assert 10 <= best["epochs"] <= 100
    assert len(best["chromosome"]) == 16
    # resuming a finished run trains nothing new and gives the same result
    again = tmp_path / "ga2"
    again.mkdir()
    (again / "checkpoint.json").write_bytes((out / "checkpoint.json").read_bytes())
    assert run(["-q", "evolve", "--config", str(tiny_config), "--resume",
                "--out", str(again)]) == 0  # fmt: skip
    assert _metrics(again)["stages"]["ga"]["best"] == best
    assert (again / "checkpoint.json").exists()  # resumed in place: kept by the swap


@pytest.mark.slow
def test_reproduce_writes_every_file(tmp_path: Path, tiny_config: Path) -> None:
    out = tmp_path / "paper"
    assert run(["-q", "reproduce", "--config", str(tiny_config), "--out", str(out)]) == 0
    m = _metrics(out)
    assert m["selection"]["rule"] == "paper"
    assert set(m["selection"]["weights"]) == {"distances", "proportions", "ffms"}
    assert set(m["stages"]) == {"mlp", "pruned", "ga"}
    for stage in m["stages"].values():
        assert {"accuracy", "precision", "recall", "f1", "confusion"} <= set(stage["holdout"])
        assert "mean" in stage["cv"]["accuracy"]
        assert "sd" in stage["cv"]["accuracy"]
    assert {"hidden", "epochs", "learning_rate", "chromosome"} <= set(m["stages"]["ga"]["best"])
    assert m["stages"]["ga"]["fitness_by_generation"][0].keys() >= {"generation", "best", "mean"}
    assert {"networks_trained", "network_epochs", "seconds"} <= set(m["stages"]["ga"]["cost"])
    assert "majority_baseline" in m
    assert m["other_protocol"]["protocol"] == "paper"
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html
    assert "<table>" in html
    assert (out / "report.md").exists()
    assert (out / "config.toml").exists()
    assert m["schema_version"] == 1
    for protocol in ("", "paper_"):  # the leading protocol's figures, then the other's
        for name in ("fig1_2_val_accuracy", "confusion", "ga_fitness"):
            assert (out / "figures" / f"{protocol}{name}.png").stat().st_size > 1000
    assert "Figures, protocol 'paper'" in (out / "report.md").read_text()


@pytest.mark.slow
def test_config_records_the_folds_actually_used(tmp_path: Path, tiny_config: Path) -> None:
    wide = tmp_path / "wide.toml"
    wide.write_text(tiny_config.read_text().replace("n_splits = 3", "n_splits = 20"))
    out = tmp_path / "cv"
    assert run(["-q", "cv", "--config", str(wide), "--out", str(out)]) == 0
    assert _metrics(out)["n_folds"] == 9  # the 9 sets of three outside the holdout
    text = (out / "config.toml").read_text()
    assert "n_splits = 20  # folds used: grouped 9 (at most one per group)" in text
    assert tomllib.loads(text)["eval"]["n_splits"] == 20


def _without_timing(m: dict) -> dict:  # type: ignore[type-arg]
    for part in (m, m["other_protocol"]):
        part["stages"]["ga"]["cost"].pop("seconds")
    return m


@pytest.mark.slow
def test_reproduce_same_seed_same_metrics(tmp_path: Path, tiny_config: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(["-q", "reproduce", "--config", str(tiny_config), "--out", str(a)]) == 0
    assert run(["-q", "reproduce", "--config", str(tiny_config), "--out", str(b)]) == 0
    assert _without_timing(_metrics(a)) == _without_timing(_metrics(b))
    lo, hi = _metrics(a)["stages"]["ga"]["holdout"]["accuracy_ci95"]
    assert 0 <= lo <= _metrics(a)["stages"]["ga"]["holdout"]["accuracy"] <= hi <= 1


def test_bad_config_key_gets_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[mlp]\nepoch = 5\n")
    assert run(["cv", "--config", str(bad), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'epoch'; did you mean 'epochs'?" in err
    assert not (tmp_path / "x").exists()


def test_out_that_is_a_file_is_refused(tmp_path: Path, tiny_config: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    assert run(["-q", "cv", "--config", str(tiny_config), "--out", str(target)]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def test_unknown_representation_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["cv", "--representation", "pixels", "--out", str(tmp_path / "x")]) == 2
    assert "unknown representation 'pixels'" in capsys.readouterr().err


@pytest.mark.slow
def test_overwrite_removes_the_earlier_runs_files(
    tmp_path: Path, tiny_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert run(["-q", "evolve", "--config", str(tiny_config), "--out", str(out)]) == 0
    assert (out / "checkpoint.json").exists()
    assert run(["-q", "cv", "--config", str(tiny_config), "--out", str(out), "--overwrite"]) == 0
    assert not (out / "checkpoint.json").exists()
    assert not list((out / "figures").glob("ga_*.png"))
    assert (out / "figures" / "confusion.png").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging
    (out / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert run(["-q", "cv", "--config", str(tiny_config), "--out", str(out), "--overwrite"]) == 2
    assert "holds notes.txt, which no ffmatch run writes" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "metrics.json").exists()


def test_a_huge_job_stops_with_its_estimate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "huge"
    args = ["cv", "--hidden", "4096,4096,4096,4096", "--repeats", "1000", "--out", str(out)]
    assert run(args) == 2
    err = capsys.readouterr().err
    assert "this job needs about" in err
    assert "network-epochs of 56-4096-4096-4096-4096-2); run with --yes to start it" in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def _earlier_run(folder: Path) -> dict[str, bytes]:
    """An earlier evolve run's files in ``folder``; returns every path under its parent."""
    (folder / "figures").mkdir(parents=True)
    for name in ("config.toml", "metrics.json", "checkpoint.json", "report.md", "figures/a.png"):
        (folder / name).write_bytes(f"earlier {name}".encode())
    return _tree(folder.parent)


def _tree(root: Path) -> dict[str, bytes]:
    """Every file and folder under ``root`` (staging folders too), files with their bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(root.rglob("*"))
    }


def _broken(*args: object, **kwargs: object) -> None:
    raise DataError("the stage broke half-way")


@pytest.mark.parametrize(
    ("command", "stage"),
    [
        ("cv", "mlp_stage"),
        pytest.param("prune", "pruned_stage", marks=pytest.mark.slow),
        ("reproduce", "run_protocol"),
    ],
)
def test_a_failed_overwrite_leaves_the_earlier_run_as_it_was(
    tmp_path: Path,
    tiny_config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    stage: str,
) -> None:
    out = tmp_path / "run"
    before = _earlier_run(out)
    # pruned_stage: after the MLP stage has trained and its figures are written
    monkeypatch.setattr(f"ffmatch.paper.pipeline.run.{stage}", _broken)
    args = ["-q", command, "--config", str(tiny_config), "--out", str(out), "--overwrite"]
    assert run(args) == 2
    assert "the stage broke half-way" in capsys.readouterr().err
    assert _tree(tmp_path) == before


@pytest.mark.slow
def test_a_killed_evolve_leaves_the_earlier_run_and_its_checkpoint(
    tmp_path: Path, tiny_config: Path
) -> None:
    """SIGTERM once the new run has checkpointed a generation (into its staging folder)."""
    out = tmp_path / "run"
    before = _earlier_run(out)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    args = ["-q", "evolve", "--config", str(tiny_config), "--out", str(out), "--overwrite"]
    child = subprocess.Popen(
        [sys.executable, "-m", "ffmatch", *args], env=env, stderr=subprocess.DEVNULL
    )
    try:
        while not list(tmp_path.glob(".run.*.ffmatch-new/checkpoint.json")):
            assert child.poll() is None, "evolve ended before its first checkpoint"
            time.sleep(0.05)
        assert (out / "checkpoint.json").read_bytes() == b"earlier checkpoint.json"
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        child.kill()
        child.wait()
    assert _tree(tmp_path) == before


@pytest.mark.parametrize(
    ("options", "engine", "threads"),
    [
        ([], "auto", 3),  # the compiled engine's default: OMP_NUM_THREADS, else every CPU
        (["--threads", "2"], "auto", 2),
        ([], "stacked", 1),  # torch's tiny products stall on more threads
        (["--threads", "2"], "stacked", 2),
    ],
)
def test_threads_default_to_every_cpu_for_the_compiled_engine(
    tmp_path: Path,
    tiny_config: Path,
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
    engine: str,
    threads: int,
) -> None:
    from ffmatch.paper.nn import batched, cpu
    from ffmatch.paper.nn.train import set_threads, training_threads

    seen: list[int | None] = []
    compiled, stacked = cpu.run, batched.train_stacked

    def spy_compiled(*args: object, threads: int, **kw: object) -> None:
        seen.append(threads)
        compiled(*args, threads=threads, **kw)  # type: ignore[arg-type]

    def spy_stacked(*args: object, threads: int | None, **kw: object) -> object:
        seen.append(threads)
        return stacked(*args, threads=threads, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(cpu, "run", spy_compiled)
    monkeypatch.setattr(batched, "train_stacked", spy_stacked)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    before = training_threads()
    try:
        argv = ["-q", *options, "cv", "--config", str(tiny_config), "--engine", engine]
        assert run([*argv, "--out", str(tmp_path / "run")]) == 0
    finally:
        set_threads(before)
    assert seen
    assert set(seen) == {threads}


@pytest.mark.parametrize("engine", ["auto", "stacked"])
def test_the_training_loop_is_prepared_before_training(
    tmp_path: Path, tiny_config: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    from ffmatch.paper.nn import train

    calls: list[tuple[str, str]] = []
    prepare = train.prepare_engine

    def spy(*, engine: str, device: str) -> bool:
        calls.append((engine, device))
        return prepare(engine=engine, device=device)

    monkeypatch.setattr(train, "prepare_engine", spy)
    argv = ["-q", "cv", "--config", str(tiny_config), "--engine", engine]
    assert run([*argv, "--out", str(tmp_path / "run")]) == 0
    assert calls == [(engine, "cpu")]
