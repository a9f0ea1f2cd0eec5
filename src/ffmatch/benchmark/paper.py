"""The benchmark's models on the paper's 36 pair rows, under grouped cross-validation.

The paper's data are 12 sets of three photos: A and B show one person, C another. Folds
keep each set on one side (``evaluation.splits.make_folds``, grouped, stratified), repeated
with new seeds; every model is fitted on the training sets' rows and photos only (for PLDA
A and B are one person, C its own) and scored on the validation sets' rows. Nine
validation rows per fold make every number coarse: read the intervals.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ffmatch.benchmark.config import BenchmarkConfig
from ffmatch.benchmark.models import (
    FEATURES,
    ROW_FEATURES,
    ModelSpec,
    Scorer,
    fit_preprocess,
    select_models,
)
from ffmatch.benchmark.protocol import (
    BenchmarkResult,
    FoldScore,
    FoldSplit,
    fit_scorer,
    fold_metrics,
    mlp_job,
    mlp_scorer,
    training_threshold,
)
from ffmatch.core.errors import ConfigError
from ffmatch.core.splits import make_folds
from ffmatch.core.table import PairTable, PhotoTable
from ffmatch.paper.nn.train import train_many

PAPER_MODELS: tuple[str, ...] = (
    "majority", "procrustes", "logistic_raw", "logistic_position", "mlp_raw", "mlp_position",
    "logistic_aligned", "mlp_aligned", "plda",
)  # fmt: skip
"""Models that fit on 12 sets (no camera poses, too few people for a GA's inner split)."""


def _persons(photos: PhotoTable) -> PhotoTable:
    """The photos with C photos as their own person (A and B keep the set's id)."""
    person = np.where(photos.role == "C", np.char.add(photos.person, "-C"), photos.person)
    return PhotoTable(
        photo_id=photos.photo_id,
        person=person.astype(str),
        role=photos.role,
        coords=photos.coords,
        derived=photos.derived,
        source=photos.source,
    )


def _restricted(pairs: PairTable, rows: np.ndarray) -> tuple[PhotoTable, PairTable]:
    """The photos of ``rows``' pairs and those pairs re-indexed onto them."""
    used = np.unique(np.concatenate([pairs.first[rows], pairs.second[rows]]))
    where = {int(p): k for k, p in enumerate(used)}
    photos = pairs.photos.subset(used)
    sub = PairTable(
        photos=photos,
        first=np.array([where[int(p)] for p in pairs.first[rows]], dtype=np.int64),
        second=np.array([where[int(p)] for p in pairs.second[rows]], dtype=np.int64),
        label=pairs.label[rows],
        group=pairs.group[rows],
    )
    return photos, sub


def run_paper_benchmark(pairs: PairTable, config: BenchmarkConfig) -> BenchmarkResult:
    """Every model of ``PAPER_MODELS`` (or ``config.models``) on grouped folds of ``pairs``."""
    names = config.models or PAPER_MODELS
    unsupported = [n for n in names if n not in PAPER_MODELS]
    if unsupported:
        raise ConfigError(
            f"--models: {unsupported[0]!r} does not run on the paper's rows; expected some of "
            f"{', '.join(PAPER_MODELS)}"
        )
    specs = select_models(tuple(names))
    relabeled = PairTable(
        photos=_persons(pairs.photos),
        first=pairs.first,
        second=pairs.second,
        label=pairs.label,
        group=pairs.group,
        name=pairs.name,
    )
    folds = make_folds(
        pairs.label, pairs.group, protocol="grouped", n_splits=config.folds,
        repeats=config.repeats, seed=config.seed,
    )  # fmt: skip
    seeds = np.random.SeedSequence(config.seed).spawn(len(folds))
    scores: dict[str, list[FoldScore]] = {f"paper/{s.name}": [] for s in specs}
    for fold, child in zip(folds, seeds, strict=True):
        train_ph, train_pairs = _restricted(relabeled, fold.train)
        val_ph, val_pairs = _restricted(relabeled, fold.val)
        seed = int(child.generate_state(1)[0])
        split = FoldSplit(repeat=fold.repeat, index=fold.index, train=fold.train, test=fold.val)
        for spec in specs:
            scorer = _paper_scorer(spec, train_ph, train_pairs, config, seed)
            vc = val_ph.coords
            s = scorer(vc[val_pairs.first], vc[val_pairs.second])
            threshold = training_threshold(train_pairs, scorer)
            scores[f"paper/{spec.name}"].append(
                FoldScore(
                    model=spec.name,
                    repeat=split.repeat,
                    fold=split.index,
                    labels=val_pairs.label,
                    scores=s,
                    ranks=np.empty(0, dtype=np.int64),
                    metrics=fold_metrics(val_pairs.label, s, threshold, np.empty(0, np.int64)),
                )
            )
    cfg = dataclasses.replace(config, models=tuple(names), variants=("paper",))
    n_people = len(np.unique(relabeled.photos.person))
    return BenchmarkResult(
        config=cfg, scores=scores, people={"paper": n_people}, photos={"paper": len(pairs.photos)}
    )


def _paper_scorer(
    spec: ModelSpec,
    train_ph: PhotoTable,
    train_pairs: PairTable,
    config: BenchmarkConfig,
    seed: int,
) -> Scorer:
    """A fold's fitted scorer; MLPs train one at a time here (36 rows are cheap)."""
    if spec.kind != "mlp":
        return fit_scorer(spec, train_ph, train_pairs, seed, engine=config.engine)
    features = FEATURES[spec.features]
    c = train_ph.coords
    x = features(c[train_pairs.first], c[train_pairs.second])
    prep = fit_preprocess(x)
    (trained,) = train_many(
        [mlp_job(prep(x), train_pairs.label, config, seed)], engine=config.engine
    )
    return mlp_scorer(trained.weights, ROW_FEATURES[spec.features], prep)
