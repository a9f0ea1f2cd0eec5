"""Cross-validation of MLP configurations: every (configuration, fold) network in one batch.

``evaluate_configs`` (and ``train_configs``, its training half) is the seam the genetic
algorithm uses: a whole population times every fold is one ``train_many`` call. Each fold's
network seed comes from (seed, repeat, fold) only, so every configuration sees the same folds
and the same initial random streams (common random numbers): a configuration scores the same
alone or in a population.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import DataError
from ffmatch.core.metrics import (
    Metrics,
    Summary,
    binary_metrics,
    majority_baseline,
    summarize,
    summarize_values,
)
from ffmatch.core.splits import (
    Fold,
    FoldData,
    GroupedSplitter,
    Protocol,
    Scaling,
    Splitter,
    fold_data,
    make_splitter,
)
from ffmatch.paper.nn.config import MLPConfig
from ffmatch.paper.nn.mlp import MLPWeights
from ffmatch.paper.nn.train import History, TrainJob, TrainResult, train_many

logger = logging.getLogger(__name__)

FINAL_EPOCH_KEYS: tuple[str, ...] = ("train_accuracy", "train_loss", "val_accuracy", "val_loss")
"""The last epoch's training record, per fold: what the paper's Fig. 1-1 to 1-4 show."""


def fold_job(
    part: FoldData, config: MLPConfig, *, seed: int, init: MLPWeights | None = None
) -> TrainJob:
    """The training job of one network of ``config`` on one split's scaled rows."""
    return TrainJob(
        x_train=part.x_train,
        y_train=part.y_train,
        x_val=part.x_val,
        y_val=part.y_val,
        hidden=config.hidden,
        epochs=config.epochs,
        lr=config.lr,
        batch_size=config.batch_size,
        seed=seed,
        init=init,
    )


def network_seed(seed: int, repeat: int, index: int) -> int:
    """Seed of the network of fold ``index`` of ``repeat``: a 32-bit draw from the three."""
    ss = np.random.SeedSequence(entropy=seed, spawn_key=(repeat, index))
    return int(ss.generate_state(1)[0])


def _config_to_dict(config: MLPConfig) -> dict[str, Any]:
    return {
        "hidden": list(config.hidden),
        "epochs": config.epochs,
        "lr": config.lr,
        "batch_size": config.batch_size,
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class FoldResult:
    """One fold's trained network, its validation scores and the scaling it was trained with."""

    fold: Fold  # train/val row indices: fold.train, fold.val
    val: Metrics  # of the network on the validation rows
    majority: Metrics  # of the training majority class on the same rows
    history: History  # per epoch: train/val loss and accuracy
    weights: MLPWeights
    val_proba: npt.NDArray[np.float64]  # (n_val,) P(match) after the last epoch
    scaling: Scaling  # apply to raw rows before ``weights`` (fitted as the splitter says)
    train_majority: float = math.nan  # share of the training rows' majority label

    def final_epoch(self) -> dict[str, float]:
        """The last epoch's training and validation loss and accuracy."""
        h = self.history
        return {
            "train_accuracy": float(h.train_acc[-1]),
            "train_loss": float(h.train_loss[-1]),
            "val_accuracy": float(h.val_acc[-1]),
            "val_loss": float(h.val_loss[-1]),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class CVResult:
    """Cross-validation of one configuration: per-fold results and their summaries."""

    config: MLPConfig
    protocol: str  # the splitter's name
    folds: tuple[FoldResult, ...]
    summary: dict[str, Summary]  # validation metrics over folds (see metrics.summarize)
    majority: dict[str, Summary]  # the majority-class baseline on the same folds
    final_epoch: dict[str, Summary]  # FINAL_EPOCH_KEYS over folds
    seed: int

    @property
    def repeats(self) -> int:
        """Number of repetitions of the whole cross-validation."""
        return len({f.fold.repeat for f in self.folds})


def cv_result_from_training(
    *,
    config: MLPConfig,
    protocol: str,
    folds: Sequence[Fold],
    data: Sequence[FoldData],
    results: Sequence[TrainResult],
    seed: int,
) -> CVResult:
    """Score and summarise networks already trained on ``folds`` (one result per fold).

    For callers that train their own way (e.g. fine-tuning pruned networks) but want the same
    scores, baselines and summaries as ``evaluate_configs``.
    """
    if not len(folds) == len(data) == len(results):
        raise ValueError(
            f"expected one data part and one result per fold: {len(folds)} folds, "
            f"{len(data)} data, {len(results)} results"
        )
    fold_results: list[FoldResult] = []
    for fold, part, res in zip(folds, data, results, strict=True):
        fold_results.append(
            FoldResult(
                fold=fold,
                val=val_metrics(fold, part, res),
                majority=majority_baseline(part.y_train, part.y_val),
                history=res.history,
                weights=res.weights,
                val_proba=_val_proba(fold, res),
                scaling=part.scaling,
                train_majority=float(np.bincount(part.y_train, minlength=2).max())
                / len(part.y_train),
            )
        )
    repeat = [f.repeat for f in folds]
    finals = [fr.final_epoch() for fr in fold_results]
    return CVResult(
        config=config,
        protocol=protocol,
        folds=tuple(fold_results),
        summary=summarize([fr.val for fr in fold_results], repeat=repeat),
        majority=summarize([fr.majority for fr in fold_results], repeat=repeat),
        final_epoch={
            k: summarize_values([f[k] for f in finals], repeat=repeat) for k in FINAL_EPOCH_KEYS
        },
        seed=seed,
    )


def _val_proba(fold: Fold, result: TrainResult) -> npt.NDArray[np.float64]:
    """The network's P(match) on ``fold``'s validation rows, as it output them."""
    if result.val_proba is None:
        raise ValueError(f"fold {fold.index} of repeat {fold.repeat}: no validation output")
    return np.asarray(result.val_proba, dtype=np.float64)


def val_metrics(fold: Fold, part: FoldData, result: TrainResult) -> Metrics:
    """The metrics of a network trained on ``fold``, on its validation rows ``part``: the
    ``val`` of its ``FoldResult``, for a caller that needs no baselines or summaries."""
    return binary_metrics(part.y_val, _val_proba(fold, result))


def _check_folds(n: int, groups: npt.ArrayLike, folds: Sequence[Fold], splitter: Splitter) -> None:
    """Folds must index the rows; where the splitter keeps groups, no group on both sides."""
    if not folds:
        raise DataError("folds: no folds given")
    group_arr = np.asarray(groups)
    if len(group_arr) != n:
        raise DataError(f"groups: expected one group per row ({n}), found {len(group_arr)}")
    for f in folds:
        if len(f.val) == 0 or (np.concatenate([f.train, f.val]) >= n).any():
            raise DataError(
                f"folds: fold {f.index} of repeat {f.repeat} is empty or indexes past row {n}"
            )
        if splitter.keeps_groups:
            shared = np.intersect1d(group_arr[f.train], group_arr[f.val])
            if len(shared):
                raise DataError(
                    f"folds: fold {f.index} of repeat {f.repeat} has group {str(shared[0])!r} on "
                    "both sides; the grouped protocol needs whole groups per side"
                )


def evaluate_configs(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    groups: npt.ArrayLike,
    configs: Sequence[MLPConfig],
    *,
    splitter: Splitter | None = None,
    folds: Sequence[Fold],
    seed: int,
    device: str = "cpu",
    engine: str = "auto",
    on_epoch: Callable[[int, int], None] | None = None,
    history: bool = True,
) -> list[CVResult]:
    """Cross-validate every configuration on the same folds, as one batched training run.

    ``history=False`` measures each network only after its last epoch (the GA needs no
    learning curves; the per-epoch evaluation pass is a third of the work).

    Builds ``len(configs) * len(folds)`` jobs (config-major) and calls ``train_many`` once;
    the network of fold k of repeat r is seeded by ``network_seed(seed, r, k)`` whatever the
    configuration, so the results of a configuration do not depend on the others.
    """
    splitter = GroupedSplitter() if splitter is None else splitter
    if not configs:
        return []
    x = np.asarray(X, dtype=np.float64)
    labels = np.asarray(y)
    _check_folds(len(labels), groups, folds, splitter)
    data = [fold_data(x, labels, f, splitter=splitter) for f in folds]  # shared by all configs
    trained = train_configs(
        data,
        folds,
        configs,
        seed=seed,
        device=device,
        engine=engine,
        on_epoch=on_epoch,
        history=history,
    )
    return [
        cv_result_from_training(
            config=cfg, protocol=splitter.name, folds=folds, data=data, results=res, seed=seed
        )
        for cfg, res in zip(configs, trained, strict=True)
    ]


def train_configs(
    data: Sequence[FoldData],
    folds: Sequence[Fold],
    configs: Sequence[MLPConfig],
    *,
    seed: int,
    device: str = "cpu",
    engine: str = "auto",
    on_epoch: Callable[[int, int], None] | None = None,
    history: bool = True,
    on_result: Callable[[int, int, TrainResult], None] | None = None,
) -> list[list[TrainResult]]:
    """Train every configuration on every fold's scaled rows ``data`` in one ``train_many``
    call; per configuration, its networks in fold order. Scores nothing.

    The training half of ``evaluate_configs``, for callers that score other networks (the GA
    scores each network after pruning it) and would discard the per-fold metrics.
    ``on_result(config_index, fold_index, result)`` is called as each network is trained,
    while the others train (``train_many``'s ``on_result``).
    """
    seeds = [network_seed(seed, f.repeat, f.index) for f in folds]
    jobs = [
        fold_job(part, cfg, seed=s) for cfg in configs for part, s in zip(data, seeds, strict=True)
    ]
    logger.info("training %d networks (%d configs x %d folds)", len(jobs), len(configs), len(folds))
    k = len(folds)
    results = train_many(
        jobs,
        device=device,
        engine=engine,
        on_epoch=on_epoch,
        evaluate="every_epoch" if history else "last_epoch",
        on_result=None if on_result is None else lambda i, r: on_result(i // k, i % k, r),
    )
    return [results[i * k : (i + 1) * k] for i in range(len(configs))]


def cross_validate(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    protocol: Protocol = "grouped",
    mlp: MLPConfig | None = None,
    n_splits: int = 10,
    repeats: int = 1,
    seed: int,
    device: str = "cpu",
    engine: str = "auto",
    on_epoch: Callable[[int, int], None] | None = None,
) -> CVResult:
    """``repeats`` x ``n_splits``-fold cross-validation of one configuration (default: paper's)
    under ``protocol``: the one place here that chooses the splitter."""
    splitter = make_splitter(protocol, n_splits=n_splits, repeats=repeats, seed=seed)
    config = MLPConfig() if mlp is None else mlp
    return evaluate_configs(
        X,
        y,
        groups,
        [config],
        splitter=splitter,
        folds=splitter.folds(y, groups),
        seed=seed,
        device=device,
        engine=engine,
        on_epoch=on_epoch,
    )[0]


def fit_and_score(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    train_idx: npt.ArrayLike,
    test_idx: npt.ArrayLike,
    *,
    splitter: Splitter | None = None,
    mlp: MLPConfig | None = None,
    seed: int,
    device: str = "cpu",
    engine: str = "auto",
) -> tuple[TrainResult, Metrics]:
    """Train one network on ``train_idx`` and score it on ``test_idx`` (the final holdout).

    ``seed`` seeds the network directly. The scaling follows the splitter (all rows under
    the paper's; grouped by default); ``fold_data`` with the same indices gives it back.
    """
    config = MLPConfig() if mlp is None else mlp
    part = fold_data(X, y, (train_idx, test_idx), splitter=splitter)
    if len(part.y_val) == 0:
        raise DataError("holdout: the test part is empty")
    (result,) = train_many(
        [fold_job(part, config, seed=seed)],
        device=device,
        engine=engine,
    )
    if result.val_proba is None:
        raise ValueError("the trainer returned no validation output for the holdout rows")
    return result, binary_metrics(part.y_val, result.val_proba)
