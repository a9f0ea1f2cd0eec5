"""The benchmark's cost guard: its MLPs and identification matrices, counted from the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from ffmatch.benchmark.config import PAPER_BENCHMARK, BenchmarkConfig
from ffmatch.benchmark.cost import benchmark_size, estimate_benchmark
from ffmatch.cli.app import run
from ffmatch.core.errors import ConfigError
from ffmatch.paper.pipeline.cost import MAX_SECONDS, check_cost

MUCT = {"people": 276, "photos": 3755}  # what benchmark_size gives for MUCT (tested below)
GB = 10**9


def test_the_default_benchmarks_pass_unprompted() -> None:
    muct = estimate_benchmark(BenchmarkConfig(), **MUCT)
    # 2 variants x 5 folds x 3 repeats x 3 MLPs (raw, position, aligned), 80 epochs each
    assert (muct.networks, muct.network_epochs) == (90, 7200)
    assert muct.shape == "119-20-10-2"  # the aligned features' MLP, the widest
    paper = estimate_benchmark(PAPER_BENCHMARK, people=12, photos=36)
    assert (paper.networks, paper.network_epochs) == (120, 9600)  # 4 folds x 10 repeats x 3
    for cost in (muct, paper):
        assert cost.seconds < MAX_SECONDS
        check_cost(cost, memory=4 * GB)


def test_the_work_grows_with_repeats_and_epochs() -> None:
    base = estimate_benchmark(BenchmarkConfig(), **MUCT)
    big = estimate_benchmark(BenchmarkConfig(repeats=30, mlp_epochs=800), **MUCT)
    assert big.network_epochs == 100 * base.network_epochs
    assert big.flops == pytest.approx(100 * base.flops)
    assert big.peak_bytes > base.peak_bytes  # every MLP of a variant trains in one call


def test_the_ga_model_and_the_identification_matrices_are_counted() -> None:
    ga = estimate_benchmark(BenchmarkConfig(models=("mlp_ga",)), **MUCT)
    # per split: 6 individuals x 4 generations, then the chosen one; 2 variants x 15 splits
    assert ga.networks == 2 * 15 * (6 * 4 + 1)
    assert ga.shape == "119-100-50-2"
    plain = estimate_benchmark(BenchmarkConfig(models=("procrustes",)), **MUCT)
    assert (plain.networks, plain.seconds, plain.shape) == (0, 0.0, "no MLP")
    assert plain.peak_bytes == 32 * 751**2  # a test fold of 3755 / 5 photos, n x n scores
    side_by_side = estimate_benchmark(BenchmarkConfig(models=("procrustes",)), **MUCT, jobs=4)
    assert side_by_side.peak_bytes == 4 * plain.peak_bytes  # four folds at once
    huge = estimate_benchmark(BenchmarkConfig(models=("procrustes",)), people=10**5,
                              photos=10**6)  # fmt: skip
    with pytest.raises(ConfigError, match=r"this job needs about 1,280.0 GB of memory"):
        check_cost(huge, memory=4 * GB)


def test_the_size_is_read_from_the_table(muct_first24: Path) -> None:
    assert benchmark_size(PAPER_BENCHMARK) == (12, 36)
    assert benchmark_size(BenchmarkConfig(data=str(muct_first24))) == (24, 360)
    assert benchmark_size(BenchmarkConfig(data=str(muct_first24), people=5)) == (5, 75)


def test_muct_has_the_size_the_estimates_above_assume(
    muct_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default config finds MUCT through $FFMATCH_DATA: point it at the tests' data home
    # (``../shared/data`` when the variable is unset).
    monkeypatch.setenv("FFMATCH_DATA", str(muct_file.parents[1]))
    assert benchmark_size(BenchmarkConfig()) == (MUCT["people"], MUCT["photos"])


def test_a_huge_benchmark_stops_with_its_estimate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench"
    args = ["benchmark", "paper", "--repeats", "1000", "--epochs", "100000", "--out", str(out)]
    assert run(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("ffmatch: error: this job needs about ")
    assert "(1,200,000,000 network-epochs of 119-20-10-2); run with --yes to start it" in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_yes_starts_it_anyway(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    started: list[BenchmarkConfig] = []
    monkeypatch.setattr(
        "ffmatch.benchmark.report.run_benchmark_folder",
        lambda config, out_dir, **kw: started.append(config) or {},
    )
    args = ["-q", "benchmark", "paper", "--repeats", "1000", "--epochs", "100000", "--out",
            str(tmp_path / "bench"), "--yes"]  # fmt: skip
    assert run(args) == 0
    assert (started[0].repeats, started[0].mlp_epochs) == (1000, 100000)
