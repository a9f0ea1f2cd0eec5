"""The MLP at GA-chosen settings, with the GA inside one fold's training people only.

The training people are split again (seeded, ``inner_fraction`` of them held out). The
paper's GA (``search.ga.evolve``: hidden size, epochs, learning rate) scores each setting
by ROC-AUC on the held-out training people's pairs after training on the others; the best
setting is then trained on all the fold's training pairs. The fold's test people are never
seen by the search, so the reported number is not the search's own best score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ffmatch.benchmark.models import FEATURES, PairFeatures, Scorer, fit_preprocess
from ffmatch.core.metrics import binary_metrics
from ffmatch.core.pairs import person_pairs
from ffmatch.core.table import FloatArray, IntArray, PairTable, PhotoTable
from ffmatch.matcher.train import split_people
from ffmatch.paper.nn.train import TrainJob, train_many
from ffmatch.paper.search.encoding import Genes
from ffmatch.paper.search.ga import GAConfig, evolve


@dataclass(frozen=True, kw_only=True, slots=True)
class GASettings:
    """A small GA: the paper's operators, fewer individuals (it runs once per fold)."""

    population: int = 6
    generations: int = 3
    inner_fraction: float = 0.25  # share of the training people the GA validates on
    max_genuine_per_person: int = 5  # inner training pairs per person (cost)
    features: str = "aligned"  # the pair features the MLP sees (benchmark.models.FEATURES)


def _job(x: FloatArray, y: IntArray, genes: Genes, config: GAConfig, seed: int) -> TrainJob:
    return TrainJob(
        x_train=np.asarray(x, dtype=np.float32),
        y_train=np.asarray(y, dtype=np.int64),
        hidden=config.layout.hidden_sizes(genes),
        epochs=genes.epochs,
        lr=genes.learning_rate,
        batch_size=12,
        seed=seed,
    )


def _pair_rows(
    photos: PhotoTable, pairs: PairTable, features: PairFeatures
) -> tuple[FloatArray, IntArray]:
    c = photos.coords
    return features(c[pairs.first], c[pairs.second]), pairs.label


def fit_ga_mlp(
    train_ph: PhotoTable,
    train_pairs: PairTable,
    *,
    settings: GASettings,
    seed: int,
    engine: str = "auto",
) -> tuple[Scorer, Genes]:
    """The MLP at the settings the GA chose on ``train_ph``'s people; also those settings.
    ``engine``: ``train_many``'s, for every network the search and the final fit train."""
    features = FEATURES[settings.features]
    split_seed, pair_seed, ga_seed, net_seed = (
        int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(4)
    )
    inner_train, inner_val = split_people(
        train_ph.person, val_fraction=settings.inner_fraction, seed=split_seed
    )
    fit_ph = train_ph.subset(np.flatnonzero(inner_train))
    val_ph = train_ph.subset(np.flatnonzero(inner_val))
    x_fit, y_fit = _pair_rows(
        fit_ph,
        person_pairs(
            fit_ph, seed=pair_seed, max_genuine_per_person=settings.max_genuine_per_person
        ),
        features,
    )
    x_val, y_val = _pair_rows(val_ph, person_pairs(val_ph, seed=pair_seed), features)
    prep = fit_preprocess(x_fit)  # fitted on the GA's own training people only
    config = GAConfig(
        population=settings.population, generations=settings.generations, fitness="roc_auc"
    )

    def evaluate(population: Sequence[Genes]) -> list[float]:
        jobs = [_job(prep(x_fit), y_fit, g, config, net_seed) for g in population]
        out = []
        for result in train_many(jobs, engine=engine):
            proba = result.weights.predict_proba(prep(x_val))[:, 1]
            out.append(max(0.0, binary_metrics(y_val, proba).roc_auc))
        return out

    best = evolve(evaluate, config=config, seed=ga_seed % 2**31).best.genes
    x, y = _pair_rows(train_ph, train_pairs, features)
    final_prep = fit_preprocess(x)
    (trained,) = train_many([_job(final_prep(x), y, best, config, net_seed)], engine=engine)
    weights = trained.weights

    def score(cx: FloatArray, cy: FloatArray) -> FloatArray:
        return np.asarray(weights.predict_proba(final_prep(features(cx, cy)))[:, 1])

    return score, best
