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

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ffmatch.benchmark.config import VARIANTS, BenchmarkConfig
from ffmatch.benchmark.ga_mlp import GASettings, fit_ga_mlp
from ffmatch.benchmark.models import (
    FEATURES,
    ModelSpec,
    Scorer,
    fit_logistic,
    fit_plda,
    fit_plda_pose,
    fit_preprocess,
    select_models,
    untrained_scorer,
)
from ffmatch.core.errors import DataError
from ffmatch.core.io.muct import muct_camera
from ffmatch.core.metrics import binary_metrics
from ffmatch.core.pairs import person_pairs
from ffmatch.core.table import FloatArray, IntArray, PairTable, PhotoTable
from ffmatch.matcher.operating import accept_rate_at_far, equal_error_rate
from ffmatch.paper.nn.batched import TrainJob, train_many
from ffmatch.paper.nn.config import MLPConfig

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
        s[lo:hi] = scorer(photos.coords[i[lo:hi]], photos.coords[j[lo:hi]])
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
    c = pairs.photos.coords
    scores = scorer(c[pairs.first], c[pairs.second])
    if np.ptp(scores) == 0:  # a constant scorer (majority): accept nothing or everything
        return float(scores[0]) + (0.0 if pairs.label.mean() > 0.5 else 1.0)
    return equal_error_rate(pairs.label, scores)[1]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Pending:
    """A fold's MLP waiting for the batched trainer."""

    spec: ModelSpec
    split: FoldSplit
    job_index: int
    prep: Callable[[FloatArray], FloatArray]


def _variant_photos(photos: PhotoTable, variant: str) -> PhotoTable:
    if variant == "all":
        return photos
    return photos.subset(np.flatnonzero(muct_camera(photos.photo_id) == "a"))


def run_benchmark(
    photos: PhotoTable,
    config: BenchmarkConfig,
    *,
    on_step: Callable[[int, int], None] | None = None,
) -> BenchmarkResult:
    """Run every model of ``config`` on every fold of every variant (see the module doc)."""
    specs = select_models(config.models)
    if config.people is not None:
        keep = np.unique(photos.person)[: config.people]
        photos = photos.subset(np.flatnonzero(np.isin(photos.person, keep)))
    scores: dict[str, list[FoldScore]] = {}
    people: dict[str, int] = {}
    n_photos: dict[str, int] = {}
    variant_seeds = np.random.SeedSequence(config.seed).spawn(len(VARIANTS))
    total = len(config.variants) * config.folds * config.repeats
    done = 0
    for variant in config.variants:
        vphotos = _variant_photos(photos, variant)
        people[variant], n_photos[variant] = len(np.unique(vphotos.person)), len(vphotos)
        fold_seed, pair_seed = variant_seeds[VARIANTS.index(variant)].spawn(2)
        splits = subject_folds(
            vphotos.person,
            folds=config.folds,
            repeats=config.repeats,
            seed=int(fold_seed.generate_state(1)[0]),
        )
        split_seeds = pair_seed.spawn(len(splits))
        jobs: list[TrainJob] = []
        pending: list[tuple[_Pending, PairTable, PairTable, PhotoTable]] = []  # MLPs to score
        for split, sseed in zip(splits, split_seeds, strict=True):
            check_disjoint(vphotos, split)
            train_ph, test_ph = vphotos.subset(split.train), vphotos.subset(split.test)
            s_train, s_test, s_mlp = (int(s.generate_state(1)[0]) for s in sseed.spawn(3))
            train_pairs = person_pairs(
                train_ph,
                impostor_ratio=config.impostor_ratio,
                seed=s_train,
                max_genuine_per_person=config.max_genuine_per_person,
            )
            test_pairs = person_pairs(test_ph, impostor_ratio=config.impostor_ratio, seed=s_test)
            tc = train_ph.coords
            for spec in specs:
                if spec.kind == "mlp":
                    features = FEATURES[spec.features]
                    x = features(tc[train_pairs.first], tc[train_pairs.second])
                    prep = fit_preprocess(x)
                    jobs.append(mlp_job(prep(x), train_pairs.label, config, s_mlp))
                    item = _Pending(spec=spec, split=split, job_index=len(jobs) - 1, prep=prep)
                    pending.append((item, train_pairs, test_pairs, test_ph))
                    continue
                scorer = fit_scorer(spec, train_ph, train_pairs, s_mlp)
                key = f"{variant}/{spec.name}"
                scores.setdefault(key, []).append(
                    _score_fold(spec.name, split, scorer, train_pairs, test_pairs, test_ph)
                )
            done += 1
            if on_step is not None:
                on_step(done, total)
        if jobs:
            logger.info("%s: training %d MLPs at once", variant, len(jobs))
            trained = train_many(jobs)
            for item, train_pairs, test_pairs, test_ph in pending:
                weights = trained[item.job_index].weights
                features = FEATURES[item.spec.features]
                scorer = mlp_scorer(weights, features, item.prep)
                key = f"{variant}/{item.spec.name}"
                scores.setdefault(key, []).append(
                    _score_fold(
                        item.spec.name, item.split, scorer, train_pairs, test_pairs, test_ph
                    )
                )
    ordered = {
        f"{v}/{s.name}": sorted(scores[f"{v}/{s.name}"], key=lambda f: (f.repeat, f.fold))
        for v in config.variants
        for s in specs
    }
    return BenchmarkResult(config=config, scores=ordered, people=people, photos=n_photos)


def fit_scorer(spec: ModelSpec, train_ph: PhotoTable, train_pairs: PairTable, seed: int) -> Scorer:
    """A fitted scorer of a model that is not an MLP, from the training part only."""
    if spec.kind == "none":
        majority = int(train_pairs.label.mean() > 0.5)
        return untrained_scorer(spec.name, majority)
    if spec.kind == "plda":
        return fit_plda(train_ph)
    if spec.kind == "mlp_ga":
        scorer, _ = fit_ga_mlp(train_ph, train_pairs, settings=GASettings(), seed=seed)
        return scorer
    if spec.kind == "plda_pose":
        return fit_plda_pose(train_ph, muct_camera(train_ph.photo_id))
    features = FEATURES[spec.features]
    c = train_ph.coords
    x = features(c[train_pairs.first], c[train_pairs.second])
    return fit_logistic(x, train_pairs.label, features)


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
    weights: Any, features: Callable[[FloatArray, FloatArray], FloatArray],
    prep: Callable[[FloatArray], FloatArray],
) -> Scorer:  # fmt: skip
    def score(cx: FloatArray, cy: FloatArray) -> FloatArray:
        return np.asarray(weights.predict_proba(prep(features(cx, cy)))[:, 1])

    return score


def _score_fold(
    name: str,
    split: FoldSplit,
    scorer: Scorer,
    train_pairs: PairTable,
    test_pairs: PairTable,
    test_ph: PhotoTable,
) -> FoldScore:
    c = test_ph.coords
    s = scorer(c[test_pairs.first], c[test_pairs.second])
    ranks = identification_ranks(test_ph, scorer)
    threshold = training_threshold(train_pairs, scorer)
    return FoldScore(
        model=name,
        repeat=split.repeat,
        fold=split.index,
        labels=test_pairs.label,
        scores=s,
        ranks=ranks,
        metrics=fold_metrics(test_pairs.label, s, threshold, ranks),
    )
