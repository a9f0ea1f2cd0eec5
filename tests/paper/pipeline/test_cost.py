"""The cost guard: the estimate is arithmetic on the configuration; huge jobs need --yes."""

from __future__ import annotations

import dataclasses

import pytest

from ffmatch.core.errors import ConfigError
from ffmatch.paper.nn.config import MLPConfig
from ffmatch.paper.pipeline.config import EvalConfig, RunConfig
from ffmatch.paper.pipeline.cost import MAX_SECONDS, check_cost, estimate

GB = 10**9


def test_the_paper_settings_pass_unprompted() -> None:
    for command in ("cv", "prune", "evolve", "reproduce"):
        cost = estimate(RunConfig(), command)
        assert cost.seconds < MAX_SECONDS
        check_cost(cost, memory=4 * GB)
    cv = estimate(RunConfig(), "cv")
    assert (cv.networks, cv.network_epochs, cv.shape) == (11, 880, "56-20-10-2")
    assert estimate(RunConfig(), "reproduce").network_epochs == 2 * (880 + 11 * 11 * 10 * 100)


def test_a_huge_job_is_refused_with_its_estimate_unless_yes() -> None:
    huge = dataclasses.replace(
        RunConfig(), mlp=MLPConfig(hidden=(1_000_000,)), eval=EvalConfig(repeats=100)
    )
    cost = estimate(huge, "cv")
    assert cost.network_epochs == 100 * 11 * 80
    assert cost.shape == "56-1000000-2"
    with pytest.raises(
        ConfigError,
        match=r"^this job needs about [\d,]+\.\d GB of memory \(this machine has 16\.0 GB\) "
        r"and [\d,]+ h of CPU \(88,000 network-epochs of 56-1000000-2\); run with --yes to "
        r"start it anyway$",
    ):
        check_cost(cost, memory=16 * GB)
    check_cost(cost, memory=16 * GB, yes=True)


def test_hours_of_work_alone_are_refused() -> None:
    long = dataclasses.replace(RunConfig(), eval=EvalConfig(repeats=1000))
    long = dataclasses.replace(long, mlp=MLPConfig(epochs=100_000))
    cost = estimate(long, "prune")
    assert cost.peak_bytes < GB
    with pytest.raises(ConfigError, match=r"and 8 h of CPU \(1,100,000,000 network-epochs"):
        check_cost(cost, memory=16 * GB)
    check_cost(cost, memory=16 * GB, yes=True)
    assert estimate(long, "prune") == cost  # deterministic
