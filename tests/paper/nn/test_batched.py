"""The batched trainer: against the plain PyTorch loop, against autograd, and its contract."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import torch

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.paper.nn import batched
from ffmatch.paper.nn.batched import bucket_jobs, stacked_gradients
from ffmatch.paper.nn.init import init_weights
from ffmatch.paper.nn.sequential import train_sequential
from ffmatch.paper.nn.train import TrainJob, TrainResult, train_many

TOL = 1e-5


@pytest.fixture(scope="module")
def rows() -> tuple[np.ndarray, np.ndarray]:
    """36 rows of 56 features in [0, 1], a third labelled 1 (the paper's workbook shape)."""
    rng = np.random.default_rng(0)
    x = rng.random((36, 56)).astype(np.float32)
    y = np.zeros(36, np.int64)
    y[rng.permutation(36)[:12]] = 1
    return x, y


@pytest.fixture(params=["compiled", "stacked"])
def engine(request: pytest.FixtureRequest) -> str:
    """Both CPU engines: each must give the reference loop's networks."""
    return str(request.param)


def _job(rows: tuple[np.ndarray, np.ndarray], n_train: int = 32, **kw: object) -> TrainJob:
    x, y = rows
    return TrainJob(
        x_train=x[:n_train], y_train=y[:n_train], x_val=x[n_train:], y_val=y[n_train:], **kw
    )  # type: ignore[arg-type]


def _assert_same(a: TrainResult, b: TrainResult, tol: float = TOL) -> None:
    arrays_a = a.weights.weights + a.weights.biases
    for wa, wb in zip(arrays_a, b.weights.weights + b.weights.biases, strict=True):
        np.testing.assert_allclose(wa, wb, atol=tol, rtol=0)
    for name in ("train_loss", "train_acc", "val_loss", "val_acc"):
        np.testing.assert_allclose(
            getattr(a.history, name), getattr(b.history, name), atol=tol, rtol=0, err_msg=name
        )
    if a.val_proba is None or b.val_proba is None:
        assert a.val_proba is None
        assert b.val_proba is None
    else:
        np.testing.assert_allclose(a.val_proba, b.val_proba, atol=tol, rtol=0)


def test_one_network_matches_the_plain_pytorch_loop(rows, engine) -> None:
    job = _job(rows, epochs=40, lr=1e-3, seed=5)  # 32 rows: batches of 12, 12 and 8
    batched = train_many([job], engine=engine)[0]
    _assert_same(batched, train_sequential(job))
    assert batched.history.train_loss.shape == (40,)
    assert batched.history.train_loss[-1] < batched.history.train_loss[0]


def test_gradients_match_autograd() -> None:
    gen = torch.Generator().manual_seed(0)
    n, b, sizes = 3, 5, (7, 6, 4, 2)
    x = torch.rand(n, b, sizes[0], generator=gen)
    w = torch.tensor([[1 / 5] * 5, [1 / 3] * 3 + [0.0] * 2, [1.0] + [0.0] * 4])[:, :, None]
    y = torch.randint(0, 2, (n, b), generator=gen)
    params = []
    for a, c in itertools.pairwise(sizes):
        params += [torch.randn(n, a, c, generator=gen), torch.randn(n, 1, c, generator=gen)]
    layers = list(zip(params[::2], params[1::2], strict=True))
    onehot = torch.nn.functional.one_hot(y, 2).float()
    grads = stacked_gradients(layers, x, w, -onehot * w)

    leaves = [p.clone().requires_grad_(True) for p in params]
    h = x
    for k in range(0, len(leaves), 2):
        h = torch.baddbmm(leaves[k + 1], h, leaves[k])
        h = h.relu() if k + 2 < len(leaves) else h
    loss = -(torch.log_softmax(h, dim=2) * onehot * w).sum()  # sum over networks of means
    want = torch.autograd.grad(loss, leaves)
    for got, ref in zip(grads, want, strict=True):
        torch.testing.assert_close(got, ref.reshape(got.shape), rtol=1e-5, atol=1e-6)


def test_a_network_does_not_depend_on_the_others_in_the_batch(rows, engine) -> None:
    """Job 0 alone and inside a mix of sizes, depths, fold sizes, epochs and learning rates."""
    target = _job(rows, n_train=30, hidden=(9, 4), epochs=12, lr=3e-3, seed=1)
    others = [
        _job(rows, n_train=33, hidden=(17, 8), epochs=20, lr=1e-2, seed=2),
        _job(rows, n_train=20, hidden=(9, 4), epochs=5, lr=1e-4, seed=3),  # 2 batches, not 3
        _job(rows, n_train=36, hidden=(3,), epochs=7, seed=4),
        _job(rows, n_train=24, hidden=(12, 6, 3), epochs=12, seed=5),
        _job(rows, n_train=31, hidden=(2, 1), epochs=15, batch_size=5, seed=6),
    ]
    alone = train_many([target], engine=engine)[0]
    mixed_jobs = [others[0], target, *others[1:]]
    assert {0, 1} in [set(b) for b in bucket_jobs(mixed_jobs)]  # target padded to 17-8, trained
    mixed = train_many(mixed_jobs, engine=engine)  # alongside a network with more epochs and rows
    _assert_same(mixed[1], alone)
    for job, result in zip(others, [mixed[0], *mixed[2:]], strict=True):
        _assert_same(result, train_sequential(job))
        assert result.weights.hidden == job.hidden


def test_same_seed_same_numbers_other_seed_different(rows, engine) -> None:
    job = _job(rows, epochs=5, seed=11)
    a, b = train_many([job, job], engine=engine)
    np.testing.assert_array_equal(a.weights.weights[0], b.weights.weights[0])
    np.testing.assert_array_equal(
        a.history.val_loss, train_many([job], engine=engine)[0].history.val_loss
    )
    c = train_many([dataclasses.replace(job, seed=12)], engine=engine)[0]
    assert not np.allclose(a.weights.weights[0], c.weights.weights[0])


def test_init_starts_from_the_given_weights(rows, engine) -> None:
    start = train_many([_job(rows, epochs=10, lr=1e-2, seed=0)], engine=engine)[0].weights
    job = _job(rows, epochs=1, lr=1e-4, seed=9, init=start)
    tuned = train_many([job], engine=engine)[0]
    _assert_same(tuned, train_sequential(job))
    # Three Adam steps move each weight by at most about 3 * lr.
    for w0, w1 in zip(start.weights, tuned.weights.weights, strict=True):
        assert np.abs(w1 - w0).max() <= 3.1e-4
    assert not np.array_equal(start.weights[0], init_weights((56, 20, 10, 2), 9).weights[0])


def test_without_validation_rows_val_metrics_are_nan(rows, engine) -> None:
    x, y = rows
    result = train_many([TrainJob(x_train=x, y_train=y, epochs=3)], engine=engine)[0]
    assert result.val_proba is None
    assert np.isnan(result.history.val_loss).all()
    assert np.isnan(result.history.val_acc).all()
    assert np.isfinite(result.history.train_loss).all()


def test_on_epoch_follows_the_longest_job(rows) -> None:
    calls: list[tuple[int, int]] = []
    jobs = [_job(rows, epochs=3, hidden=(4, 2)), _job(rows, epochs=5, hidden=(30, 15))]
    train_many(jobs, on_epoch=lambda done, total: calls.append((done, total)), engine="stacked")
    assert calls == [(e, 5) for e in range(1, 6)]
    assert train_many([]) == []


def test_on_epoch_rises_to_the_longest_job_as_networks_finish(rows) -> None:
    calls: list[tuple[int, int]] = []
    jobs = [_job(rows, epochs=3, hidden=(4, 2), seed=k) for k in range(40)]
    jobs.append(_job(rows, epochs=5, hidden=(30, 15)))
    train_many(jobs, on_epoch=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (5, 5)
    assert len(calls) > 1
    assert all(a[0] < b[0] for a, b in itertools.pairwise(calls))


def test_engines_are_checked() -> None:
    x = np.zeros((4, 3), np.float32)
    job = TrainJob(x_train=x, y_train=np.zeros(4, np.int64), epochs=1)
    with pytest.raises(ConfigError, match="engine: expected one of auto, compiled, stacked"):
        train_many([job], engine="fast")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="engine 'compiled' trains on the CPU"):
        train_many([job], device="cuda", engine="compiled")


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (
            {"y_train": np.full(32, 2)},
            DataError,
            r"job 0: y_train: expected labels 0 and 1, found 2",
        ),
        (
            {"x_val": np.zeros((4, 3), np.float32)},
            DataError,
            r"x_val: expected shape \(n_val, 56\)",
        ),
        ({"y_val": None}, DataError, "give both x_val and y_val"),
        ({"lr": 0.0}, ConfigError, r"lr: expected a number > 0, found 0.0"),
        ({"hidden": (4, 0)}, ConfigError, r"hidden: expected one or more sizes >= 1"),
        ({"init": init_weights((56, 3, 2), 0)}, ConfigError, r"init has layer sizes \(56, 3, 2\)"),
    ],
)
def test_bad_jobs_are_reported_by_index(rows, change, error, match) -> None:
    good = _job(rows, epochs=1)
    with pytest.raises(error, match=match):
        train_many([good, dataclasses.replace(good, **change)][1:])


@pytest.mark.slow
def test_learns_a_separable_problem(engine) -> None:
    rng = np.random.default_rng(3)
    x = rng.random((140, 10)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 1.0).astype(np.int64)
    job = TrainJob(
        x_train=x[:100],
        y_train=y[:100],
        x_val=x[100:],
        y_val=y[100:],
        hidden=(16, 8),
        epochs=100,
        lr=1e-2,
        seed=0,
    )
    h = train_many([job], engine=engine)[0].history
    assert h.train_acc[-1] >= 0.9
    assert h.val_acc[-1] >= 0.85
    assert h.train_loss[-1] < 0.5 * h.train_loss[0]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_gives_the_cpu_numbers(rows) -> None:
    jobs = [
        _job(rows, n_train=30, hidden=(9, 4), epochs=12, lr=3e-3, seed=1),
        _job(rows, n_train=33, hidden=(40, 20), epochs=20, lr=1e-2, seed=2),
    ]
    for on_gpu, on_cpu in zip(train_many(jobs, device="cuda"), train_many(jobs), strict=True):
        _assert_same(on_gpu, on_cpu, tol=1e-4)


def test_last_epoch_evaluation_gives_the_same_final_numbers(rows, engine) -> None:
    jobs = [
        _job(rows, epochs=6, hidden=(8, 4), seed=1),
        _job(rows, epochs=3, hidden=(8, 4), seed=2),  # finishes mid-stack
        _job(rows, epochs=5, hidden=(8, 4), seed=3),
    ]
    full = train_many(jobs, engine=engine)
    last = train_many(jobs, evaluate="last_epoch", engine=engine)
    for f, s, job in zip(full, last, jobs, strict=True):
        np.testing.assert_array_equal(s.weights.weights[0], f.weights.weights[0])
        np.testing.assert_array_equal(s.val_proba, f.val_proba)
        for name in ("train_loss", "train_acc", "val_loss", "val_acc"):
            got, want = getattr(s.history, name), getattr(f.history, name)
            assert got[-1] == want[-1]
            assert np.isnan(got[:-1]).all()
            assert len(got) == job.epochs
        _assert_same(s, train_sequential(job, evaluate="last_epoch"))
    with pytest.raises(ConfigError, match="evaluate: expected 'every_epoch' or 'last_epoch'"):
        train_many(jobs, evaluate="sometimes")  # type: ignore[arg-type]


def test_buckets_cover_every_job_once_and_never_mix_step_counts(rows) -> None:
    jobs = [
        _job(rows, n_train=n, hidden=(h, max(1, h // 2)), epochs=e, seed=k)
        for k, (n, h, e) in enumerate(
            [(32, 1, 10), (33, 100, 50), (24, 20, 30), (32, 50, 99), (30, 5, 5), (36, 70, 10)]
        )
    ]
    jobs.append(_job(rows, hidden=(4,)))
    for device in ("cpu", "cuda"):
        buckets = bucket_jobs(jobs, device=device)
        assert sorted(k for b in buckets for k in b) == list(range(len(jobs)))
        for b in buckets:
            keys = {(len(jobs[k].hidden), -(-len(jobs[k].y_train) // 12)) for k in b}
            assert len(keys) == 1
    # Padding is nearly free on a GPU: no more buckets there than on the CPU.
    assert len(bucket_jobs(jobs, device="cuda")) <= len(bucket_jobs(jobs, device="cpu"))


@pytest.mark.parametrize("fused", [True, False])
def test_compiled_and_eager_adam_give_the_same_bits(rows, monkeypatch, fused) -> None:
    """The compiled Adam (CPU) and the eager one step the same numbers, whichever the trainer
    picks; mixed widths, inputs, fold sizes and epochs, so padding and finished networks."""
    x, y = rows
    jobs = [
        _job(rows, n_train=30, hidden=(9, 4), epochs=7, lr=3e-3, seed=1),
        _job(rows, n_train=33, hidden=(13, 6), epochs=4, lr=1e-2, seed=2),
        _job(rows, n_train=31, hidden=(1, 1), epochs=7, lr=1e-3, seed=3),
        TrainJob(x_train=x[:32, :50], y_train=y[:32], hidden=(11, 5), epochs=5, seed=4),
    ]
    monkeypatch.setattr(batched, "_use_fused", lambda *_: fused)
    got = train_many(jobs, engine="stacked")
    monkeypatch.setattr(batched, "_use_fused", lambda *_: not fused)
    want = train_many(jobs, engine="stacked")
    for a, b in zip(got, want, strict=True):
        _assert_same(a, b, tol=0.0)
