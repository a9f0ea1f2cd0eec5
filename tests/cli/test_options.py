"""Options with ranges: each out-of-range value is one line and exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ffmatch.cli.app import run


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cv", "--seed", "-1"], "--seed: expected an integer in 0..4294967295, found -1"),
        (["cv", "--seed", str(2**32)], "--seed: expected an integer in 0..4294967295"),
        (["cv", "--hidden", "1000000"], "--hidden: expected 1 to 8 sizes in 1..4096"),
        (["cv", "--hidden", "20,x"], "--hidden: expected sizes separated by commas"),
        (["cv", "--repeats", "100000000"], "--repeats: expected an integer in 1..1000"),
        (["prune", "--finetune-epochs", "-1"], "--finetune-epochs: expected an integer in 0.."),
        (["--threads", "100000", "cv"], "Invalid value for '--threads'"),
        (
            ["train", "--seed", "-1", "--data", "paper"],
            "seed: expected an integer in 0..4294967295",
        ),
        (["match", "a.jpg", "b.jpg", "--top", "0"], "Invalid value for '--top'"),
        (["benchmark", "paper", "--folds", "1"], "folds: expected at least 2, found 1"),
        (["benchmark", "muct", "--jobs", "-1"], "--jobs: expected an integer in 0..64, found -1"),
        (["cv", "--bogus"], "No such option: --bogus"),
        (["evolve", "--engine", "fast"], "engine: expected one of auto, compiled, stacked"),
        (
            ["benchmark", "paper", "--engine", "x"],
            "engine: expected one of auto, compiled, stacked",
        ),
    ],
)
def test_out_of_range_options_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert run([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("ffmatch: error: ")
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_asked_for_but_absent_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["cv", "--device", "cuda", "--out", str(tmp_path / "o")]) == 2
    assert "--device cuda: CUDA is not available on this machine" in capsys.readouterr().err


def test_a_config_file_out_of_range_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("seed = -5\n")
    assert run(["cv", "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    assert "seed: expected an integer in 0..4294967295, found -5" in capsys.readouterr().err
    config.write_text('engine = "fastest"\n')
    assert run(["cv", "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    assert "engine: expected one of auto, compiled, stacked, found 'fastest'" in (
        capsys.readouterr().err
    )
    config.write_text("[mlp]\nlr = 1e308\n")
    assert run(["cv", "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    assert "lr: expected a number in (0, 10.0], found 1e+308" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "expected a configuration file, found a folder"),
        (b"seed = 1 # \xe9\n", "expected UTF-8 text, found byte 0xe9 at offset 11"),
        (b"[eval]\nholdout = 0.99\n", "eval.holdout = 0.99: leaves no rows to train on"),
    ],
)
def test_a_config_that_cannot_be_used_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    config = tmp_path / "c.toml"
    if content is None:
        config.mkdir()
    else:
        config.write_bytes(content)
    assert run(["-q", "cv", "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
