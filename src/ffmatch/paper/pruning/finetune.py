"""Optional fine-tuning of pruned networks for a few epochs, through the batched trainer.

Pruning a tiny network costs accuracy (paper, section 3.3); a few epochs from the pruned
weights show how much of it training recovers. Each pruned network becomes one ``TrainJob``
whose ``init`` is the pruned weights, so the folds of a cross-validation fine-tune together
in one ``train_many`` call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import ConfigError
from ffmatch.paper.nn.mlp import MLPWeights
from ffmatch.paper.nn.train import TrainJob, TrainResult, train_many


@dataclass(frozen=True, kw_only=True, slots=True)
class FinetuneConfig:
    """Schedule of fine-tuning after pruning."""

    epochs: int = 10  # "a few epochs" (issue 4): enough to re-fit the folded biases
    lr: float = 1e-4  # the paper's Adam step size
    batch_size: int = 12  # the paper's batch size

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ConfigError(f"finetune.epochs: expected an integer >= 1, found {self.epochs}")
        if not self.lr > 0:
            raise ConfigError(f"finetune.lr: expected a number > 0, found {self.lr}")
        if self.batch_size < 1:
            raise ConfigError(
                f"finetune.batch_size: expected an integer >= 1, found {self.batch_size}"
            )


def finetune_job(
    pruned: MLPWeights,
    x_train: npt.ArrayLike,
    y_train: npt.ArrayLike,
    *,
    x_val: npt.ArrayLike | None = None,
    y_val: npt.ArrayLike | None = None,
    config: FinetuneConfig,
    seed: int,
) -> TrainJob:
    """One ``TrainJob`` that continues training ``pruned`` on the (already scaled) rows."""
    return TrainJob(
        x_train=np.asarray(x_train, dtype=np.float32),
        y_train=np.asarray(y_train, dtype=np.int64),
        x_val=None if x_val is None else np.asarray(x_val, dtype=np.float32),
        y_val=None if y_val is None else np.asarray(y_val, dtype=np.int64),
        hidden=pruned.hidden,
        epochs=config.epochs,
        lr=config.lr,
        batch_size=config.batch_size,
        seed=seed,  # only the batch order is random: the start is the pruned weights
        init=pruned,
    )


def finetune(
    jobs: Sequence[TrainJob], *, device: str = "cpu", engine: str = "auto"
) -> list[TrainResult]:
    """Fine-tune every job (from ``finetune_job``) in one batched run; results in job order."""
    return train_many(jobs, device=device, engine=engine)
