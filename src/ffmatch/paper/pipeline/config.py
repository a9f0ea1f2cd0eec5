"""The root run configuration: one TOML file with a section per pipeline part.

Every command resolves its options into a ``RunConfig`` and writes it as ``config.toml``
beside its results, so a run can be repeated exactly with ``--config``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ffmatch.core.configio import load_toml, write_toml
from ffmatch.core.errors import ConfigError
from ffmatch.core.splits import Protocol
from ffmatch.paper.nn.config import MLPConfig
from ffmatch.paper.pruning.config import PruningConfig
from ffmatch.paper.search.ga import GAConfig


@dataclass(frozen=True, kw_only=True, slots=True)
class DataConfig:
    """Which data, and how a pair is represented."""

    data: str = "paper"  # dataset name (paper, paper-workbook, muct) or landmark file
    representation: str = "ffms"  # ffms, distances, proportions, or "selected" (by the rule)
    selection_rule: str = "paper"  # the rule that picks the representation when "selected"


@dataclass(frozen=True, kw_only=True, slots=True)
class EvalConfig:
    """How results are measured."""

    protocol: Protocol = "grouped"  # "paper" reproduces the paper's leaky protocol
    n_splits: int = 10  # folds; the paper's 10 (fewer when there are fewer groups)
    repeats: int = 1  # repetitions of the whole cross-validation with new seeds
    holdout: float = 0.25  # the paper's 3:1 train/holdout split (9 of 36 rows)

    def __post_init__(self) -> None:
        if self.n_splits < 2:
            raise ConfigError(f"eval.n_splits: expected an integer >= 2, found {self.n_splits}")
        if self.repeats < 1:
            raise ConfigError(f"eval.repeats: expected an integer >= 1, found {self.repeats}")
        if not 0 < self.holdout < 1:
            raise ConfigError(f"eval.holdout: expected a fraction in (0, 1), found {self.holdout}")


@dataclass(frozen=True, kw_only=True, slots=True)
class RunConfig:
    """Everything one run depends on; ``seed`` drives every random choice."""

    seed: int = 0
    device: str = "cpu"  # "cpu" or "cuda"
    # How networks train: "auto" (compiled on the CPU, stacked on a GPU), "compiled" or
    # "stacked" (ffmatch.paper.nn.train.train_many); "stacked" on the CPU gives the
    # numbers of ffmatch 0.1, whose trainer had only that engine.
    engine: str = "auto"
    data: DataConfig = field(default_factory=DataConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    mlp: MLPConfig = field(default_factory=MLPConfig)
    pruning: PruningConfig = field(default_factory=PruningConfig)
    ga: GAConfig = field(default_factory=GAConfig)
    finetune_epochs: int = 0  # epochs of fine-tuning after pruning; 0 as in the paper


def load_run_config(path: Path | None) -> RunConfig:
    """The configuration in ``path``, or the defaults when None."""
    return RunConfig() if path is None else load_toml(RunConfig, path)


def write_run_config(
    config: RunConfig, path: Path, comments: Mapping[str, str] | None = None
) -> None:
    """Write the resolved configuration as TOML (``comments``: see ``write_toml``)."""
    write_toml(config, path, comments)


def override(config: Any, **changes: Any) -> Any:
    """A copy of a config dataclass with the given fields changed (None values ignored)."""
    return dataclasses.replace(config, **{k: v for k, v in changes.items() if v is not None})
