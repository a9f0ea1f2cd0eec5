"""train_many's own seams: its thread setting, device names, and no torch on the CPU path.

(What the engines compute is tested in test_batched.py, test_cpu.py, against the plain
PyTorch loop.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from ffmatch.core.errors import ConfigError
from ffmatch.paper.nn import cpu
from ffmatch.paper.nn.train import (
    TrainJob,
    device_type,
    set_threads,
    train_many,
    training_threads,
)

SRC = str(Path(__file__).resolve().parents[3] / "src")


@pytest.fixture
def restore_threads() -> Iterator[None]:
    before = training_threads(), torch.get_num_threads()
    yield
    set_threads(before[0])
    torch.set_num_threads(before[1])


def _jobs(n: int = 3) -> list[TrainJob]:
    rng = np.random.default_rng(0)
    x = rng.random((20, 5)).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(np.int64)
    return [TrainJob(x_train=x, y_train=y, hidden=(4,), epochs=3, seed=s) for s in range(n)]


def test_the_compiled_engine_trains_with_the_threads_set(restore_threads, monkeypatch) -> None:
    seen: list[int] = []
    run = cpu.run

    def spy(*args: Any, threads: int, **kw: Any) -> None:
        seen.append(threads)
        run(*args, threads=threads, **kw)

    monkeypatch.setattr(cpu, "run", spy)
    set_threads(3)
    assert training_threads() == 3
    three = train_many(_jobs(), engine="compiled")
    set_threads(1)
    one = train_many(_jobs(), engine="compiled")
    assert seen == [3, 1]
    for a, b in zip(three, one, strict=True):  # each network is computed on its own
        np.testing.assert_array_equal(a.weights.weights[0], b.weights.weights[0])


def test_the_stacked_engine_sets_torchs_threads(restore_threads) -> None:
    torch.set_num_threads(2)
    set_threads(1)
    train_many(_jobs(1), engine="stacked")
    assert torch.get_num_threads() == 1


def test_without_set_threads_omp_num_threads_decides_as_for_torch(monkeypatch) -> None:
    monkeypatch.setattr("ffmatch.paper.nn.train._threads", None)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert training_threads() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert training_threads() >= 1  # every CPU this process may run on


def test_threads_below_one_are_refused() -> None:
    with pytest.raises(ConfigError, match="threads: expected an integer >= 1, found 0"):
        set_threads(0)


def test_device_names_are_checked() -> None:
    assert device_type("cpu") == "cpu"
    assert device_type("cuda:1") == "cuda"
    with pytest.raises(ConfigError, match=r"device: expected a torch device .* found 'warp'"):
        device_type("warp")
    with pytest.raises(ConfigError, match=r"device: expected a torch device .* found 'warp'"):
        train_many(_jobs(1), device="warp")


def test_training_on_the_cpu_imports_no_torch() -> None:
    """The compiled engine needs numba only: torch costs 1.5-3 s of start-up."""
    script = (
        "import sys\n"
        "import numpy as np\n"
        "from ffmatch.paper.nn.train import TrainJob, set_threads, train_many\n"
        "set_threads(1)\n"
        "x = np.eye(4, dtype=np.float32)\n"
        "job = TrainJob(x_train=x, y_train=np.array([0, 1, 0, 1]), hidden=(3,), epochs=2)\n"
        "(r,) = train_many([job])\n"
        "print(r.history.train_loss.shape, 'torch' in sys.modules, 'numba' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert proc.stdout.strip().splitlines()[-1] == "(2,) False True"


@pytest.mark.parametrize("engine", ["compiled", "stacked"])
@pytest.mark.parametrize("threads", [1, 2])
def test_on_result_hands_over_each_network_once_as_returned(
    restore_threads: None, engine: str, threads: int
) -> None:
    set_threads(threads)
    jobs = _jobs(40)  # the compiled engine trains them in several pieces
    handed: dict[int, Any] = {}

    def take(k: int, result: Any) -> None:
        assert k not in handed
        handed[k] = result

    results = train_many(jobs, engine=engine, on_result=take)
    assert sorted(handed) == list(range(len(jobs)))
    for k, result in enumerate(results):
        assert handed[k] is result


def test_an_error_in_on_result_stops_the_training(restore_threads: None) -> None:
    set_threads(2)

    def fail(k: int, result: Any) -> None:
        raise RuntimeError(f"network {k}: the caller could not use it")

    with pytest.raises(RuntimeError, match=r"^network \d+: the caller could not use it$"):
        train_many(_jobs(40), engine="compiled", on_result=fail)


def test_the_compiled_engine_hands_over_results_while_it_trains(restore_threads: None) -> None:
    set_threads(1)  # one thread: its pieces run in turn, so the order below is fixed
    events: list[str] = []
    train_many(
        _jobs(40),
        engine="compiled",
        on_epoch=lambda done, total: events.append(f"epoch {done}/{total}"),
        on_result=lambda k, result: events.append("result"),
    )
    assert events.count("result") == 40
    assert events[0] == "result"  # the first piece's networks, before any progress ...
    assert events.index("epoch 3/3") < len(events) - 1  # ... and the last piece's after it
