"""What a benchmark will cost, estimated before it starts: the guard of ``ffmatch benchmark``.

The same arithmetic as the experiment commands' guard (``ffmatch.paper.pipeline.cost``), on
the benchmark's own work: its MLPs (networks x epochs x training pairs x 8 FLOPs per weight,
at the trainer's measured rate), the peak memory of its largest trainer call (every MLP of a
variant trains in one ``train_many`` call on the MUCT benchmark, the variants side by side
with ``--jobs``; one call at a time on the paper's rows) beside the test folds'
identification (n x n score matrices, one per process with ``--jobs``). An upper bound:
every variant is counted with all photos, every training person with
``max_genuine_per_person`` genuine pairs. The models without an MLP
(PLDA, logistic regression, Procrustes) are not counted: they cost seconds where the MLPs
cost hours.
"""

from __future__ import annotations

import math

import numpy as np

from ffmatch.benchmark.config import BenchmarkConfig
from ffmatch.benchmark.ga_mlp import GASettings
from ffmatch.benchmark.models import FEATURES, select_models
from ffmatch.paper.nn.config import MLPConfig
from ffmatch.paper.pipeline.cost import (
    BYTES_PER_PARAM,
    FLOP_PER_S,
    GA_EPOCHS,
    GA_HIDDEN,
    Cost,
    n_params,
)

IDENTIFICATION_BYTES = 32  # per cell of a test fold's n x n scores: float64 scores, two
# masked float64 copies and the boolean masks (``protocol.identification_ranks``)


def _width(features: str) -> int:
    """Columns of a pair feature set, measured on one made-up pair of faces."""
    face = np.random.default_rng(0).normal(100.0, 20.0, (1, 14, 2))
    return int(FEATURES[features](face, face[:, ::-1]).shape[1])


def estimate_benchmark(config: BenchmarkConfig, *, people: int, photos: int, jobs: int = 1) -> Cost:
    """The training work and peak memory of a benchmark of ``people`` and ``photos`` (for
    the paper's rows: sets of three and pair rows) whose folds run in ``jobs`` processes."""
    specs = select_models(config.models)
    paper = config.variants == ("paper",)
    splits = config.folds * config.repeats
    train_people = math.ceil(people * (config.folds - 1) / config.folds)
    if paper:  # the pair rows of the training folds
        rows = math.ceil(photos * (config.folds - 1) / config.folds)
    else:
        pairs_each = config.max_genuine_per_person * (1 + config.impostor_ratio)
        rows = math.ceil(train_people * pairs_each)
    hidden = MLPConfig().hidden
    mlps = [s for s in specs if s.kind == "mlp"]
    # (networks, epochs each, sizes, training rows, networks trained in one call)
    parts = [
        (splits, config.mlp_epochs, (_width(s.features), *hidden, 2), rows,
         1 if paper else splits * len(mlps))
        for s in mlps
    ]  # fmt: skip
    if any(s.kind == "mlp_ga" for s in specs):
        ga = GASettings()
        inner = math.ceil(train_people * (1 - ga.inner_fraction) * ga.max_genuine_per_person * 3)
        sizes = (_width(ga.features), *GA_HIDDEN, 2)
        parts.append((splits * ga.population * (ga.generations + 1), GA_EPOCHS, sizes, inner,
                      ga.population))  # fmt: skip
        parts.append((splits, GA_EPOCHS, sizes, rows, 1))
    variants = len(config.variants)
    test_photos = 0 if paper else math.ceil(photos / config.folds)
    peak = min(jobs, splits) * IDENTIFICATION_BYTES * test_photos**2  # folds side by side
    if parts:
        # beside them, each variant's MLPs train in one call, the variants side by side on
        # as many processes
        trainer = max(
            k * (BYTES_PER_PARAM * n_params(s) + 4 * r * sum(s)) for _, _, s, r, k in parts
        )
        peak += min(jobs, 1 if paper else variants) * trainer
    flops = float(variants * sum(n * e * 8 * n_params(s) * r for n, e, s, r, _ in parts))
    widest = max(parts, key=lambda p: n_params(p[2]))[2] if parts else ()
    return Cost(
        networks=variants * sum(p[0] for p in parts),
        network_epochs=variants * sum(p[0] * p[1] for p in parts),
        shape="-".join(map(str, widest)) or "no MLP",
        flops=flops,
        peak_bytes=peak,
        seconds=flops / FLOP_PER_S,
    )


def benchmark_size(config: BenchmarkConfig) -> tuple[int, int]:
    """(people, photos) the benchmark of ``config`` runs on (for the paper's rows: sets of
    three and pair rows); loads the table, which takes a second or two."""
    from ffmatch.core.sources import load_pairs, load_photos

    if config.variants == ("paper",):
        pairs = load_pairs(config.data)
        return len(np.unique(pairs.group)), len(pairs.label)
    photos = load_photos(config.data)
    people = np.unique(photos.person)
    if config.people is not None and config.people < len(people):
        keep = np.isin(photos.person, people[: config.people])
        return config.people, int(keep.sum())
    return len(people), len(photos)
