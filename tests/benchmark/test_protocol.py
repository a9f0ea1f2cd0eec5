"""MUCT benchmark protocol: subject-disjoint folds, leakage, identification ranks, a tiny run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ffmatch.benchmark import models as bench_models
from ffmatch.benchmark import protocol
from ffmatch.benchmark.config import BenchmarkConfig
from ffmatch.benchmark.models import select_models
from ffmatch.benchmark.protocol import (
    FoldSplit,
    check_disjoint,
    identification_ranks,
    run_benchmark,
    subject_folds,
)
from ffmatch.benchmark.report import write_benchmark_report
from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.geometry import procrustes_distance
from ffmatch.core.io.muct import read_muct
from ffmatch.core.table import PhotoTable


@pytest.fixture(scope="module")
def muct12(muct_first24: Path) -> PhotoTable:
    photos = read_muct(muct_first24)
    keep = np.unique(photos.person)[:12]
    return photos.subset(np.flatnonzero(np.isin(photos.person, keep)))


def test_folds_keep_each_person_on_one_side_and_cover_everyone(muct12: PhotoTable) -> None:
    splits = subject_folds(muct12.person, folds=4, repeats=2, seed=3)
    assert len(splits) == 8
    for split in splits:
        check_disjoint(muct12, split)
        assert not set(muct12.person[split.train]) & set(muct12.person[split.test])
    for r in (0, 1):
        tests = np.concatenate([s.test for s in splits if s.repeat == r])
        assert sorted(tests.tolist()) == list(range(len(muct12)))
    again = subject_folds(muct12.person, folds=4, repeats=2, seed=3)
    assert all(np.array_equal(a.test, b.test) for a, b in zip(splits, again, strict=True))
    other = subject_folds(muct12.person, folds=4, repeats=2, seed=4)
    assert not all(np.array_equal(a.test, b.test) for a, b in zip(splits, other, strict=True))


def test_a_leaking_split_is_refused(muct12: PhotoTable) -> None:
    rows = np.arange(len(muct12))
    leaky = FoldSplit(repeat=0, index=0, train=rows[:-1], test=rows[-2:])
    with pytest.raises(DataError, match="is on both sides"):
        check_disjoint(muct12, leaky)


@pytest.mark.slow
def test_models_are_fitted_on_training_people_only(
    muct12: PhotoTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    fitted: list[set[str]] = []  # people each PLDA and each scaler was fitted on
    tested: list[set[str]] = []  # people each fold was scored on
    real_plda, real_prep = bench_models.fit_plda, bench_models.fit_preprocess
    real_ranks = protocol.identification_ranks
    train_pairs_people: list[set[str]] = []

    def spy_plda(photos: PhotoTable):  # type: ignore[no-untyped-def]
        fitted.append(set(photos.person.tolist()))
        return real_plda(photos)

    def spy_ranks(photos: PhotoTable, scorer):  # type: ignore[no-untyped-def]
        tested.append(set(photos.person.tolist()))
        return real_ranks(photos, scorer)

    real_person_pairs = protocol.person_pairs

    def spy_pairs(photos: PhotoTable, **kw):  # type: ignore[no-untyped-def]
        if kw.get("max_genuine_per_person") is not None:  # the training pairs
            train_pairs_people.append(set(photos.person.tolist()))
        return real_person_pairs(photos, **kw)

    monkeypatch.setattr(protocol, "fit_plda", spy_plda)
    monkeypatch.setattr(protocol, "identification_ranks", spy_ranks)
    monkeypatch.setattr(protocol, "person_pairs", spy_pairs)
    monkeypatch.setattr(protocol, "fit_preprocess", real_prep)
    cfg = BenchmarkConfig(folds=3, repeats=2, models=("plda", "logistic_aligned"),
                          variants=("all",))  # fmt: skip
    run_benchmark(muct12, cfg)
    assert len(fitted) == 6
    assert len(tested) == 12  # two models per fold
    for k, fit_people in enumerate(fitted):
        assert fit_people == train_pairs_people[k]  # classifiers' pairs: the same people
        assert not fit_people & tested[2 * k]  # nobody fitted on is tested
        assert len(fit_people | tested[2 * k]) == 12


def test_identification_ranks_count_better_impostors() -> None:
    coords = np.zeros((4, 14, 2))
    photos = PhotoTable(
        photo_id=np.array(["a", "b", "c", "d"]),
        person=np.array(["1", "1", "2", "3"]),
        role=np.array([""] * 4),
        coords=coords,
        derived=np.zeros((4, 14), dtype=bool),
    )
    table = {(0, 1): 0.5, (0, 2): 0.9, (0, 3): 0.1, (1, 2): 0.2, (1, 3): 0.3, (2, 3): 0.0}

    def scorer(cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
        # the pairs come in triu order: (0,1), (0,2), (0,3), (1,2), (1,3), (2,3)
        return np.array(list(table.values()))[: len(cx)]

    ranks = identification_ranks(photos, scorer)
    assert ranks.tolist() == [2, 1]  # query a: c beats b; query b: a is best
    constant = identification_ranks(photos, lambda cx, cy: np.zeros(len(cx)))
    assert constant.tolist() == [3, 3]  # ties count against a constant scorer


def test_procrustes_distance_is_zero_for_similar_shapes() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 14, 2))
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])
    y = x @ rot.T * 3 + 5
    np.testing.assert_allclose(procrustes_distance(x, y), 0.0, atol=1e-12)
    assert (procrustes_distance(x, x[::-1]) > 0.01).all()


@pytest.mark.slow
def test_tiny_benchmark_runs_reproducibly_and_writes_its_report(
    muct12: PhotoTable, tmp_path: Path
) -> None:
    names = ("majority", "procrustes", "mlp_raw", "mlp_position", "plda")
    cfg = BenchmarkConfig(folds=3, repeats=1, mlp_epochs=2, models=names)
    first = run_benchmark(muct12, cfg)
    again = run_benchmark(muct12, cfg)
    for key, folds in first.scores.items():
        for a, b in zip(folds, again.scores[key], strict=True):
            np.testing.assert_array_equal(a.scores, b.scores)
    assert first.scores["all/majority"][0].metrics["roc_auc"] == 0.5
    assert np.mean([f.metrics["roc_auc"] for f in first.scores["all/plda"]]) > 0.8
    summary = write_benchmark_report(first, tmp_path, command="ffmatch benchmark muct")
    assert "all/plda" in summary
    text = (tmp_path / "report.md").read_text()
    assert "mlp_position (control of mlp_raw)" in text
    assert (tmp_path / "figures" / "cmc_all.png").stat().st_size > 1000


def test_config_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match="unknown model 'gbm'"):
        select_models(("gbm",))
    with pytest.raises(ConfigError, match="folds: expected at least 2"):
        BenchmarkConfig(folds=1)


def test_ga_mlp_searches_inside_the_training_people(
    muct12: PhotoTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ffmatch.benchmark import ga_mlp

    searched: list[set[str]] = []
    real_split = ga_mlp.split_people

    def spy_split(persons, **kw):  # type: ignore[no-untyped-def]
        searched.append(set(np.asarray(persons).tolist()))
        return real_split(persons, **kw)

    monkeypatch.setattr(ga_mlp, "split_people", spy_split)
    settings = ga_mlp.GASettings(population=2, generations=0, inner_fraction=0.34)
    train = muct12
    pairs = protocol.person_pairs(train, seed=0, max_genuine_per_person=3)
    scorer, genes = ga_mlp.fit_ga_mlp(train, pairs, settings=settings, seed=1)
    assert searched == [set(np.unique(train.person).tolist())]
    assert genes.epochs >= 10
    assert scorer(muct12.coords[:3], muct12.coords[3:6]).shape == (3,)


def test_ga_mlp_trains_on_the_engine_asked_for(
    muct12: PhotoTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ffmatch.benchmark import ga_mlp

    engines: list[str] = []
    real_train, real_fit = ga_mlp.train_many, ga_mlp.fit_ga_mlp

    def spy_train(jobs, **kw):  # type: ignore[no-untyped-def]
        engines.append(kw["engine"])
        return real_train(jobs, **kw)

    def small_fit(train, pairs, *, settings, seed, engine):  # type: ignore[no-untyped-def]
        small = ga_mlp.GASettings(population=2, generations=0, inner_fraction=0.34)
        return real_fit(train, pairs, settings=small, seed=seed, engine=engine)

    monkeypatch.setattr(ga_mlp, "train_many", spy_train)
    monkeypatch.setattr(protocol, "fit_ga_mlp", small_fit)
    (spec,) = select_models(("mlp_ga",))
    pairs = protocol.person_pairs(muct12, seed=0, max_genuine_per_person=3)
    protocol.fit_scorer(spec, muct12, pairs, 1, engine="stacked")
    assert engines == ["stacked", "stacked"]  # the search's generation, then the final fit


def test_row_features_equal_the_pair_features_bit_for_bit(muct12: PhotoTable) -> None:
    c = muct12.coords[:60]  # some side views among them lack a marker
    i, j = np.triu_indices(len(c), k=1)
    for name, features in bench_models.FEATURES.items():
        np.testing.assert_array_equal(
            bench_models.ROW_FEATURES[name](c, i, j), features(c[i], c[j]), err_msg=name
        )


def test_row_scorers_rank_as_their_pair_form(muct12: PhotoTable) -> None:
    train = muct12.subset(np.flatnonzero(np.isin(muct12.person, np.unique(muct12.person)[:8])))
    test = muct12.subset(np.flatnonzero(~np.isin(muct12.person, train.person)))
    scorer = bench_models.fit_plda(train)
    assert isinstance(scorer, bench_models.RowScorer)
    c = test.coords
    i, j = np.arange(len(c) - 1), np.arange(1, len(c))
    np.testing.assert_array_equal(bench_models.score_rows(scorer, c, i, j), scorer(c[i], c[j]))
    by_rows = identification_ranks(test, scorer)
    by_pairs = identification_ranks(test, lambda cx, cy: scorer(cx, cy))  # not a RowScorer
    np.testing.assert_array_equal(by_rows, by_pairs)


@pytest.mark.slow
def test_jobs_give_the_same_results(muct12: PhotoTable) -> None:
    models = ("procrustes", "logistic_aligned", "mlp_raw", "plda_pose")
    cfg = BenchmarkConfig(folds=3, repeats=1, mlp_epochs=2, models=models)
    steps: list[tuple[int, int]] = []
    one = run_benchmark(muct12, cfg, jobs=1)
    two = run_benchmark(muct12, cfg, jobs=2, on_step=lambda d, t: steps.append((d, t)))
    assert steps == [(k, 6) for k in range(1, 7)]  # two variants, three folds each
    assert one.scores.keys() == two.scores.keys()
    for key, folds in one.scores.items():
        for a, b in zip(folds, two.scores[key], strict=True):
            assert (a.repeat, a.fold) == (b.repeat, b.fold)
            np.testing.assert_array_equal(a.scores, b.scores)
            np.testing.assert_array_equal(a.ranks, b.ranks)
            assert a.metrics == b.metrics


_POOL_CHILD = """
import sys, time
from ffmatch.benchmark import protocol
with protocol._worker_pool(2) as pool:
    busy = [pool.submit(time.sleep, 300) for _ in range(2)]
    time.sleep(1)
    print(" ".join(str(pid) for pid in pool._processes), flush=True)
    time.sleep(300)
"""


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, ended but not yet reaped, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_workers_end_when_the_main_process_is_killed() -> None:
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src}
    child = subprocess.Popen(
        [sys.executable, "-c", _POOL_CHILD], stdout=subprocess.PIPE, text=True, env=env
    )
    workers: list[int] = []
    try:
        assert child.stdout is not None
        workers = [int(pid) for pid in child.stdout.readline().split()]
        assert len(workers) == 2
        assert all(_running(pid) for pid in workers)
        child.kill()  # SIGKILL: no clean-up runs in the main process
        child.wait()
        deadline = time.monotonic() + 60  # the workers look every second
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_running(pid) for pid in workers)
    finally:
        child.kill()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
