"""Distinctiveness pruning (Gedeon 1995) of trained MLPs, and the report of what it removed.

Typical use, inside one fold (fit on that fold's training rows only)::

    result = prune(weights, x_train, config=PruningConfig())
    result.weights        # the smaller network
    to_mapping(result.report), result.report.to_markdown()  # ffmatch.core.serial

``prune_weights`` returns the same network without the report, for callers that only score it.
"""

from ffmatch.paper.pruning.config import PruningConfig
from ffmatch.paper.pruning.distinctiveness import CENTRINGS, Centring, centre, unit_angles
from ffmatch.paper.pruning.prune import PruningResult, prune, prune_weights
from ffmatch.paper.pruning.report import (
    DeadUnit,
    KeptUnit,
    PairAction,
    PruningReport,
    PruningSummary,
    summarize_folds,
)

__all__ = [
    "CENTRINGS",
    "Centring",
    "DeadUnit",
    "KeptUnit",
    "PairAction",
    "PruningConfig",
    "PruningReport",
    "PruningResult",
    "PruningSummary",
    "centre",
    "prune",
    "prune_weights",
    "summarize_folds",
    "unit_angles",
]
