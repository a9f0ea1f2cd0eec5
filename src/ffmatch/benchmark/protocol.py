"""The MUCT benchmark protocol: subject-disjoint folds, verification and identification.

For each variant (``frontal``: camera ``a`` photos only; ``all``: all five cameras) and each
repeat, the people are dealt into ``folds`` folds (a person's photos never sit on both
sides). In each fold every model is fitted on the training people only, then scored on
the test people:

- verification: all genuine pairs of the test people and twice as many impostor pairs
  (the paper's 1:2), seeded: ROC-AUC, equal error rate, accept rate at 1% false accepts,
  and accuracy and F1 at the threshold where the training pairs' error rates are equal;
- identification: each test photo in turn is the query, the other test photos the
  gallery; the rank of the first photo of the same person gives rank-1, rank-5 and the
  cumulative match characteristic (CMC).

Classifiers train on a seeded sample of the training people's pairs (at most
``max_genuine_per_person`` genuine pairs each, impostors at 1:2); every MLP of a variant
(all folds, repeats and feature sets) trains in one ``train_many`` call.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ffmatch.benchmark.config import VARIANTS, BenchmarkConfig
from ffmatch.benchmark.ga_mlp import GASettings, fit_ga_mlp
from ffmatch.benchmark.models import (
    FEATURES,
    ROW_FEATURES,
    ModelSpec,
    RowFeatures,
    RowScorer,
    Scorer,
    fit_logistic,
    fit_plda,
    fit_plda_pose,
    fit_preprocess,
    score_rows,
    select_models,
    untrained_scorer,
)
from ffmatch.core.errors import DataError
from ffmatch.core.io.muct import muct_camera
from ffmatch.core.metrics import binary_metrics
from ffmatch.core.pairs import person_pairs
from ffmatch.core.scaling import MinMax
from ffmatch.core.table import FloatArray, IntArray, PairTable, PhotoTable
from ffmatch.matcher.operating import accept_rate_at_far, equal_error_rate
from ffmatch.paper.nn.config import MLPConfig
from ffmatch.paper.nn.mlp import MLPWeights
from ffmatch.paper.nn.train import TrainJob, set_threads, train_many, training_threads

logger = logging.getLogger(__name__)

_CHUNK = 40_000  # pairs scored at once in identification (memory: chunk x features floats)


@dataclass(frozen=True, kw_only=True, slots=True)
class FoldSplit:
    """One fold of one repeat: the row indices of its training and test photos."""

    repeat: int
    index: int
    train: IntArray
    test: IntArray


@dataclass(frozen=True, kw_only=True, slots=True)
class FoldScore:
    """One model on one fold: its test pairs' labels and scores, metrics and query ranks."""

    model: str
    repeat: int
    fold: int
    labels: IntArray  # (m,) test pairs
    scores: FloatArray  # (m,) higher = same person
    ranks: IntArray  # (q,) rank of the first same-person photo per query
    metrics: dict[str, float]


@dataclass(frozen=True, kw_only=True, slots=True)
class BenchmarkResult:
    """Every fold score of every model in every variant, with the settings that made them."""

    config: BenchmarkConfig
    scores: dict[str, list[FoldScore]]  # key "variant/model"
    people: dict[str, int] = field(default_factory=dict)  # people per variant
    photos: dict[str, int] = field(default_factory=dict)  # photos per variant


def subject_folds(
    persons: npt.ArrayLike, *, folds: int, repeats: int, seed: int
) -> list[FoldSplit]:
    """Folds of photo rows by person: each person's photos in one test fold per repeat."""
    p = np.asarray(persons)
    people = np.unique(p)
    if len(people) < folds:
        raise DataError(f"{len(people)} people are fewer than the {folds} folds asked for")
    out = []
    for r, child in enumerate(np.random.SeedSequence(seed).spawn(repeats)):
        order = np.random.default_rng(child).permutation(people)
        for k, held in enumerate(np.array_split(order, folds)):
            test = np.isin(p, held)
            out.append(
                FoldSplit(repeat=r, index=k, train=np.flatnonzero(~test), test=np.flatnonzero(test))
            )
    return out


def check_disjoint(photos: PhotoTable, split: FoldSplit) -> None:
    """DataError if any person has photos on both sides of ``split`` (a leak)."""
    shared = np.intersect1d(photos.person[split.train], photos.person[split.test])
    if len(shared):
        raise DataError(
            f"fold {split.index} of repeat {split.repeat}: person {shared[0]!r} is on both "
            "sides; subject-disjoint folds keep each person on one side"
        )


def identification_ranks(photos: PhotoTable, scorer: Scorer) -> IntArray:
    """(q,) for each photo with another of its person: the rank of that person's best photo.

    Every other photo is in the gallery; the rank counts gallery photos of other people
    scoring at least as high as the best same-person photo, plus one (ties count against).
    """
    n = len(photos)
    i, j = np.triu_indices(n, k=1)
    s = np.empty(len(i))
    for lo in range(0, len(i), _CHUNK):
        hi = lo + _CHUNK
        s[lo:hi] = score_rows(scorer, photos.coords, i[lo:hi], j[lo:hi])
    sim = np.full((n, n), -np.inf)
    sim[i, j] = s
    sim[j, i] = s
    same = photos.person[:, None] == photos.person[None, :]
    np.fill_diagonal(same, False)
    queries = same.any(axis=1)
    best = np.where(same, sim, -np.inf).max(axis=1)  # (n,)
    other = np.where(~same, sim, -np.inf)
    np.fill_diagonal(other, -np.inf)
    ranks = 1 + (other >= best[:, None]).sum(
        axis=1
    )  # ties count against: a constant scorer ranks last
    return np.asarray(ranks[queries], dtype=np.int64)


def fold_metrics(
    labels: IntArray,
    scores: FloatArray,
    threshold: float,
    ranks: IntArray,
) -> dict[str, float]:
    """Verification and identification numbers of one fold (see the module docstring)."""
    pred = scores >= threshold
    pos = labels == 1
    tp, fp = int((pred & pos).sum()), int((pred & ~pos).sum())
    fn = int((~pred & pos).sum())
    auc = binary_metrics(labels, scores).roc_auc
    eer, _ = equal_error_rate(labels, scores)
    return {
        "roc_auc": auc,
        "eer": eer,
        "tar_at_far_1pct": accept_rate_at_far(labels, scores, 0.01),
        "accuracy": float((pred == pos).mean()),
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        # no identification where there are no queries (the paper's rows)
        "rank1": float((ranks <= 1).mean()) if len(ranks) else math.nan,
        "rank5": float((ranks <= 5).mean()) if len(ranks) else math.nan,
    }


def training_threshold(pairs: PairTable, scorer: Scorer) -> float:
    """The equal-error-rate threshold of ``scorer`` on the training pairs."""
    scores = score_rows(scorer, pairs.photos.coords, pairs.first, pairs.second)
    if np.ptp(scores) == 0:  # a constant scorer (majority): accept nothing or everything
        return float(scores[0]) + (0.0 if pairs.label.mean() > 0.5 else 1.0)
    return equal_error_rate(pairs.label, scores)[1]


@dataclass(frozen=True, kw_only=True, slots=True)
class _FoldPairs:
    """A fold's training and test pairs, and its test photos."""

    train: PairTable
    test: PairTable
    test_photos: PhotoTable


@dataclass(frozen=True, kw_only=True, slots=True)
class _Fold:
    """One fold of one variant with its pairs and seed, all fixed before any model runs, so
    what a fold gives does not depend on which process fits it or when."""

    variant: str
    split: FoldSplit
    train_photos: PhotoTable
    pairs: _FoldPairs
    model_seed: int  # the MLPs' and the GA's seed


@dataclass(frozen=True, kw_only=True, slots=True)
class _MLPFold:
    """A fold's MLP: its training job for the batched trainer, then what scoring needs."""

    variant: str
    spec: ModelSpec
    split: FoldSplit
    job: TrainJob
    prep: MinMax
    pairs: _FoldPairs


def _variant_photos(photos: PhotoTable, variant: str) -> PhotoTable:
    if variant == "all":
        return photos
    return photos.subset(np.flatnonzero(muct_camera(photos.photo_id) == "a"))


def _prepare_fold(
    photos: PhotoTable, variant: str, split: FoldSplit, seed: np.random.SeedSequence,
    config: BenchmarkConfig,
) -> _Fold:  # fmt: skip
    """The fold's photos and seeded pairs (cheap: no model is fitted here)."""
    check_disjoint(photos, split)
    train_ph, test_ph = photos.subset(split.train), photos.subset(split.test)
    s_train, s_test, s_mlp = (int(s.generate_state(1)[0]) for s in seed.spawn(3))
    train_pairs = person_pairs(
        train_ph,
        impostor_ratio=config.impostor_ratio,
        seed=s_train,
        max_genuine_per_person=config.max_genuine_per_person,
    )
    test_pairs = person_pairs(test_ph, impostor_ratio=config.impostor_ratio, seed=s_test)
    pairs = _FoldPairs(train=train_pairs, test=test_pairs, test_photos=test_ph)
    return _Fold(variant=variant, split=split, train_photos=train_ph, pairs=pairs,
                 model_seed=s_mlp)  # fmt: skip


def _mlp_fold(fold: _Fold, spec: ModelSpec, config: BenchmarkConfig) -> _MLPFold:
    """The MLP ``spec``'s training job on ``fold`` (features scaled on its training pairs)."""
    tc, train_pairs = fold.train_photos.coords, fold.pairs.train
    x = FEATURES[spec.features](tc[train_pairs.first], tc[train_pairs.second])
    prep = fit_preprocess(x)
    job = mlp_job(prep(x), train_pairs.label, config, fold.model_seed)
    return _MLPFold(variant=fold.variant, spec=spec, split=fold.split, job=job, prep=prep,
                    pairs=fold.pairs)  # fmt: skip


def _fit_fold(
    fold: _Fold, specs: tuple[ModelSpec, ...], engine: str
) -> list[tuple[str, FoldScore]]:
    """Fit and score the models ``specs`` (no fold MLP) on one fold: ("variant/model", score);
    ``engine`` trains the GA's MLPs."""
    out = []
    for spec in specs:
        scorer = fit_scorer(
            spec, fold.train_photos, fold.pairs.train, fold.model_seed, engine=engine
        )
        score = _score_fold(spec.name, fold.split, scorer, fold.pairs)
        out.append((f"{fold.variant}/{spec.name}", score))
    return out


def _score_mlp(item: _MLPFold, weights: MLPWeights) -> tuple[str, FoldScore]:
    """A trained fold MLP scored on its fold (a worker's task, like ``_fit_fold``)."""
    scorer = mlp_scorer(weights, ROW_FEATURES[item.spec.features], item.prep)
    key = f"{item.variant}/{item.spec.name}"
    return key, _score_fold(item.spec.name, item.split, scorer, item.pairs)


def _train_variant(
    variant: str, jobs: list[TrainJob], engine: str, threads: int | None = None
) -> list[MLPWeights]:
    """The weights of one variant's MLPs, all trained in one batched call; ``threads``: the
    main process's training threads, for a worker (whose own setting is its default)."""
    if threads is not None:
        set_threads(threads)
    logger.info("%s: training %d MLPs at once", variant, len(jobs))
    return [t.weights for t in train_many(jobs, evaluate="last_epoch", engine=engine)]


def _start_worker(main_pid: int) -> None:
    """Set up a worker process: one BLAS thread, and an end when the main process ends.

    One BLAS thread because the workers already fill the cores. Results do not change with
    the thread count (each thread computes its own output blocks);
    ``test_jobs_give_the_same_results`` checks it.

    A worker of a main process killed outright (SIGKILL, the OOM killer) would otherwise
    wait on its queue forever, and so would the forkserver it came from. A daemon thread
    notices that ``main_pid`` is gone and ends the worker and the forkserver.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    threading.Thread(target=_end_with, args=(main_pid,), daemon=True).start()


def _end_with(main_pid: int, every_s: float = 1.0) -> None:
    """Wait until process ``main_pid`` has ended, then end the forkserver and this process."""
    while True:
        time.sleep(every_s)
        try:
            os.kill(main_pid, 0)  # signal 0: only asks whether the process exists
        except ProcessLookupError:
            break
        except PermissionError:  # exists, owned by someone else: cannot be ours
            break
    with contextlib.suppress(OSError):
        os.kill(os.getppid(), signal.SIGTERM)  # the forkserver (see _worker_pool)
    os._exit(1)


@contextmanager
def _worker_pool(jobs: int) -> Iterator[ProcessPoolExecutor | None]:
    """``jobs`` worker processes, or None for ``jobs=1`` (everything in this process)."""
    if jobs <= 1:
        yield None
        return
    # forkserver: workers start from a clean process, not a fork of one holding PyTorch's
    # thread pools (forking those can deadlock)
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)
    ) as pool:
        yield pool


class _FoldsDone:
    """Calls ``on_step(done, total)`` as each watched fold fit finishes, in any order."""

    def __init__(self, total: int, on_step: Callable[[int, int], None] | None) -> None:
        self._lock, self._done, self._total, self._on_step = threading.Lock(), 0, total, on_step

    def watch(self, futures: Sequence[Future[Any]]) -> None:
        for future in futures:
            future.add_done_callback(self._step)

    def _step(self, _: Future[Any]) -> None:
        with self._lock:
            self._done += 1
            if self._on_step is not None:
                self._on_step(self._done, self._total)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Variant:
    """One variant's folds and fold MLPs, every pair and seed fixed, and its size."""

    name: str
    people: int
    photos: int
    folds: tuple[_Fold, ...]
    mlps: tuple[_MLPFold, ...]


def _prepare_variant(
    photos: PhotoTable, variant: str, config: BenchmarkConfig, specs: tuple[ModelSpec, ...]
) -> _Variant:
    """The folds of ``variant`` with their pairs and seeds, and the jobs of its fold MLPs.

    Seeds come from ``config.seed`` and the variant's place in ``VARIANTS``, so a variant
    gets the same folds whichever others run and in whatever order they are prepared.
    """
    vphotos = _variant_photos(photos, variant)
    variant_seed = np.random.SeedSequence(config.seed).spawn(len(VARIANTS))
    fold_seed, pair_seed = variant_seed[VARIANTS.index(variant)].spawn(2)
    splits = subject_folds(
        vphotos.person,
        folds=config.folds,
        repeats=config.repeats,
        seed=int(fold_seed.generate_state(1)[0]),
    )
    folds = [
        _prepare_fold(vphotos, variant, split, sseed, config)
        for split, sseed in zip(splits, pair_seed.spawn(len(splits)), strict=True)
    ]
    mlps = [_mlp_fold(f, s, config) for f in folds for s in specs if s.kind == "mlp"]
    return _Variant(
        name=variant,
        people=len(np.unique(vphotos.person)),
        photos=len(vphotos),
        folds=tuple(folds),
        mlps=tuple(mlps),
    )


def run_benchmark(
    photos: PhotoTable,
    config: BenchmarkConfig,
    *,
    on_step: Callable[[int, int], None] | None = None,
    jobs: int = 1,
) -> BenchmarkResult:
    """Run every model of ``config`` on every fold of every variant (see the module doc).

    With ``jobs`` > 1, worker processes train each variant's MLPs (one batched call each,
    as in one process), fit and score the folds. The results are the same for any
    ``jobs``: every fold's pairs and seeds are fixed before any model runs.
    """
    specs = select_models(config.models)
    if config.people is not None:
        keep = np.unique(photos.person)[: config.people]
        photos = photos.subset(np.flatnonzero(np.isin(photos.person, keep)))
    others = tuple(s for s in specs if s.kind != "mlp")
    with _worker_pool(jobs) as pool:
        if pool is None:
            variants = [_prepare_variant(photos, v, config, specs) for v in config.variants]
            folds = [fold for var in variants for fold in var.folds]
            fitted = []
            for done, fold in enumerate(folds, start=1):
                fitted.append(_fit_fold(fold, others, config.engine))
                if on_step is not None:
                    on_step(done, len(folds))
            scored = []
            for var in variants:
                if var.mlps:
                    weights = _train_variant(var.name, [m.job for m in var.mlps], config.engine)
                    scored += [_score_mlp(m, w) for m, w in zip(var.mlps, weights, strict=True)]
        else:
            variants, fitted, scored = _run_in_pool(pool, photos, config, specs, on_step)
    scores: dict[str, list[FoldScore]] = {}
    for key, score in [*(item for fold in fitted for item in fold), *scored]:
        scores.setdefault(key, []).append(score)
    ordered = {
        f"{v}/{s.name}": sorted(scores[f"{v}/{s.name}"], key=lambda f: (f.repeat, f.fold))
        for v in config.variants
        for s in specs
    }
    size = {var.name: var for var in variants}
    return BenchmarkResult(
        config=config,
        scores=ordered,
        people={v: size[v].people for v in config.variants},
        photos={v: size[v].photos for v in config.variants},
    )


def _run_in_pool(
    pool: ProcessPoolExecutor,
    photos: PhotoTable,
    config: BenchmarkConfig,
    specs: tuple[ModelSpec, ...],
    on_step: Callable[[int, int], None] | None,
) -> tuple[list[_Variant], list[list[tuple[str, FoldScore]]], list[tuple[str, FoldScore]]]:
    """``run_benchmark``'s work on the workers: each variant's MLP training first (the
    longest tasks, the largest variant first; one batched call each, as in one process, so
    the same numbers), handed out as soon as the variant is prepared, then the fold fits;
    each variant's MLPs are scored as soon as they are trained."""
    others = tuple(s for s in specs if s.kind != "mlp")
    threads = training_threads()
    order = sorted(config.variants, key=lambda v: -len(_variant_photos(photos, v)))
    progress = _FoldsDone(config.folds * config.repeats * len(order), on_step)
    variants: dict[str, _Variant] = {}
    trainings: dict[Future[list[MLPWeights]], str] = {}
    fits: list[Future[list[tuple[str, FoldScore]]]] = []
    for name in order:
        var = variants[name] = _prepare_variant(photos, name, config, specs)
        if var.mlps:
            jobs = [m.job for m in var.mlps]
            trainings[pool.submit(_train_variant, name, jobs, config.engine, threads)] = name
    for var in variants.values():
        submitted = [pool.submit(_fit_fold, fold, others, config.engine) for fold in var.folds]
        progress.watch(submitted)
        fits += submitted
    scorings = []
    for done in as_completed(trainings):
        items = variants[trainings[done]].mlps
        scorings += [
            pool.submit(_score_mlp, m, w) for m, w in zip(items, done.result(), strict=True)
        ]
    return list(variants.values()), [f.result() for f in fits], [f.result() for f in scorings]


def fit_scorer(
    spec: ModelSpec, train_ph: PhotoTable, train_pairs: PairTable, seed: int, *, engine: str
) -> Scorer:
    """A fitted scorer of a model that is not a fold MLP, from the training part only
    (``engine``: how ``mlp_ga``'s networks train, ``train_many``'s engines)."""
    if spec.kind == "none":
        majority = int(train_pairs.label.mean() > 0.5)
        return untrained_scorer(spec.name, majority)
    if spec.kind == "plda":
        return fit_plda(train_ph)
    if spec.kind == "mlp_ga":
        scorer, _ = fit_ga_mlp(
            train_ph, train_pairs, settings=GASettings(), seed=seed, engine=engine
        )
        return scorer
    if spec.kind == "plda_pose":
        return fit_plda_pose(train_ph, muct_camera(train_ph.photo_id))
    c = train_ph.coords
    x = FEATURES[spec.features](c[train_pairs.first], c[train_pairs.second])
    return fit_logistic(x, train_pairs.label, ROW_FEATURES[spec.features])


def mlp_job(x: FloatArray, y: IntArray, config: BenchmarkConfig, seed: int) -> TrainJob:
    mlp = MLPConfig(epochs=config.mlp_epochs)
    return TrainJob(
        x_train=np.asarray(x, dtype=np.float32),
        y_train=np.asarray(y, dtype=np.int64),
        hidden=mlp.hidden,
        epochs=mlp.epochs,
        lr=mlp.lr,
        batch_size=mlp.batch_size,
        seed=seed,
    )


def mlp_scorer(
    weights: MLPWeights, features: RowFeatures, prep: Callable[[FloatArray], FloatArray]
) -> Scorer:
    def score(coords: FloatArray, first: IntArray, second: IntArray) -> FloatArray:
        return np.asarray(weights.predict_proba(prep(features(coords, first, second)))[:, 1])

    return RowScorer(score)


def _score_fold(name: str, split: FoldSplit, scorer: Scorer, pairs: _FoldPairs) -> FoldScore:
    test_pairs = pairs.test
    s = score_rows(scorer, pairs.test_photos.coords, test_pairs.first, test_pairs.second)
    ranks = identification_ranks(pairs.test_photos, scorer)
    threshold = training_threshold(pairs.train, scorer)
    return FoldScore(
        model=name,
        repeat=split.repeat,
        fold=split.index,
        labels=test_pairs.label,
        scores=s,
        ranks=ranks,
        metrics=fold_metrics(test_pairs.label, s, threshold, ranks),
    )
