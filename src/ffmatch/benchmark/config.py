"""The benchmarks' settings: one frozen dataclass, loadable from and written as TOML.

Kept apart from ``protocol`` so the command line can show its defaults in ``--help``
without importing PyTorch.
"""

from __future__ import annotations

from dataclasses import dataclass

from ffmatch.core.errors import ConfigError
from ffmatch.paper.nn.config import check_engine

VARIANTS = ("frontal", "all")


@dataclass(frozen=True, kw_only=True, slots=True)
class BenchmarkConfig:
    """Settings of ``run_benchmark``; defaults are the documented full run on MUCT
    (``PAPER_BENCHMARK`` holds those of ``ffmatch benchmark paper``)."""

    data: str = "muct"  # dataset name or landmark file
    folds: int = 5  # subject-disjoint folds per repeat
    repeats: int = 3  # repeats of the folds, each with its own deal of people
    models: tuple[str, ...] | None = (
        None  # from benchmark.models.MODEL_NAMES; None = DEFAULT_MODELS
    )
    variants: tuple[str, ...] = VARIANTS
    mlp_epochs: int = 80  # the paper's MLP: 56-20-10-2, Adam 1e-4, batch 12 (MLPConfig)
    max_genuine_per_person: int = 10  # classifiers' training pairs per person (cost)
    impostor_ratio: float = 2.0  # impostor pairs per genuine pair (the paper's 1:2)
    people: int | None = None  # use the first N people only (quick runs)
    cmc_ranks: int = 20  # length of the CMC curve
    seed: int = 0
    # How the MLPs train (ffmatch.paper.nn.train.train_many). "stacked" by default: the
    # compiled engine is faster but its rounding moves the MLP metrics (by up to ~1e-3 on
    # MUCT), and the benchmark's published numbers are the stacked engine's.
    engine: str = "stacked"

    def __post_init__(self) -> None:
        if self.folds < 2:
            raise ConfigError(f"folds: expected at least 2, found {self.folds}")
        if self.repeats < 1:
            raise ConfigError(f"repeats: expected at least 1, found {self.repeats}")
        check_engine(self.engine, "cpu")
        bad = [v for v in self.variants if v not in (*VARIANTS, "paper")]
        if bad:
            raise ConfigError(f"variants: expected frontal and/or all, found {bad[0]!r}")
        from ffmatch.benchmark.models import select_models  # torch: only when a run starts

        select_models(self.models)


PAPER_BENCHMARK = BenchmarkConfig(data="paper", folds=4, repeats=10, variants=("paper",))
"""``ffmatch benchmark paper``: the paper's 36 rows, 4 folds of whole sets of three (9 rows
each), repeated 10 times."""
