"""The compiled CPU engine: padding, threads and packing leave each network's numbers alone."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ffmatch.paper.nn import cpu
from ffmatch.paper.nn._train_kernel import LANES
from ffmatch.paper.nn.init import init_weights
from ffmatch.paper.nn.train import TrainJob


def _jobs() -> list[TrainJob]:
    rng = np.random.default_rng(0)
    x = rng.random((36, 13)).astype(np.float32)  # 13 inputs: not a multiple of anything
    y = (rng.random(36) < 0.4).astype(np.int64)
    return [
        TrainJob(
            x_train=x[:n],
            y_train=y[:n],
            x_val=x[n:],
            y_val=y[n:],
            hidden=h,
            epochs=e,
            lr=lr,
            batch_size=b,
            seed=k,
        )
        for k, (n, h, e, lr, b) in enumerate(
            [(32, (9, 4), 6, 1e-2, 12), (30, (1,), 4, 1e-3, 12), (33, (17, 8, 3), 5, 3e-3, 5)]
        )
    ]


def _train(jobs: list[TrainJob], threads: int) -> cpu.Packed:
    packed = cpu.pack(jobs)
    cpu.run(packed, jobs, every_epoch=True, threads=threads)
    return packed


def test_lanes_agree_between_the_loop_and_its_packing() -> None:
    assert cpu.LANES == LANES


def test_padding_holds_the_initial_weights_and_unpack_strips_it() -> None:
    # Two networks of one seed and different sizes: they share one draw, cut to each.
    jobs = [*_jobs(), replace(_jobs()[0], hidden=(20, 3))]
    packed = cpu.pack(jobs)
    cpu.init_weights_(packed, jobs, range(len(jobs)), cpu.init_draws_by_seed(packed, jobs))
    assert (packed.sizes[:, 1:][packed.real[:, 1:] > 0] % LANES == 0).all()
    for i, job in enumerate(jobs):
        weights, _, _ = cpu.unpack(packed, i)
        want = init_weights((13, *job.hidden, 2), job.seed)
        for got, ref in zip(
            weights.weights + weights.biases, want.weights + want.biases, strict=True
        ):
            np.testing.assert_array_equal(got, ref)
    # Everything outside the real weights is zero: padded units start, and stay, silent.
    real = sum(init_weights((13, *j.hidden, 2), 0).n_params for j in jobs)
    assert np.count_nonzero(packed.params) == real


def test_threads_and_company_do_not_change_a_networks_bits() -> None:
    jobs = _jobs()
    one, two = _train(jobs, threads=1), _train(jobs, threads=2)
    np.testing.assert_array_equal(one.params, two.params)
    np.testing.assert_array_equal(one.stats, two.stats)
    alone = _train(jobs[2:], threads=1)
    w_mixed, stats_mixed, p_mixed = cpu.unpack(two, 2)
    w_alone, stats_alone, p_alone = cpu.unpack(alone, 0)
    for a, b in zip(w_mixed.weights, w_alone.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(stats_mixed, stats_alone)
    np.testing.assert_array_equal(p_mixed, p_alone)
    assert np.isfinite(stats_alone).all()


def test_progress_reaches_one_in_rising_steps() -> None:
    jobs = _jobs() * 4
    seen: list[float] = []
    cpu.run(
        cpu.pack(jobs),
        jobs,
        every_epoch=False,
        threads=2,
        on_done=lambda piece, fraction: seen.append(fraction),
    )
    assert seen == sorted(seen)
    assert seen[-1] == 1.0


def test_an_interrupt_drops_the_pieces_not_yet_started() -> None:
    jobs = _jobs() * 20
    packed = cpu.pack(jobs)
    seen: list[float] = []

    def stop(piece: np.ndarray, fraction: float) -> None:
        seen.append(fraction)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cpu.run(packed, jobs, every_epoch=False, threads=2, on_done=stop)
    assert len(seen) == 1
    last = packed.stats_at + 4 * (packed.epochs - 1)  # each network's final train loss
    finished = int(np.isfinite(packed.stats[last]).sum())
    assert 0 < finished < len(jobs)  # the pieces not yet started never ran


def test_prepare_engine_loads_the_compiled_loop_only_where_it_trains() -> None:
    from ffmatch.core.errors import ConfigError
    from ffmatch.paper.nn.train import prepare_engine

    assert prepare_engine() is True  # "auto" on the CPU: the compiled engine
    assert prepare_engine(engine="compiled") is True
    assert prepare_engine(engine="stacked") is False
    with pytest.raises(ConfigError, match="engine: expected one of"):
        prepare_engine(engine="fast")
