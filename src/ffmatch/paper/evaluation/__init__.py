"""Evaluation: protocols and splits, metrics and baselines, cross-validation, controls."""

from ffmatch.core.metrics import (
    Metrics,
    Summary,
    binary_metrics,
    majority_baseline,
    summarize,
)
from ffmatch.core.splits import (
    PROTOCOLS,
    Fold,
    FoldData,
    GroupedSplitter,
    PaperSplitter,
    Protocol,
    Splitter,
    fold_data,
    holdout_split,
    leave_one_group_out_folds,
    make_folds,
    make_splitter,
)
from ffmatch.paper.evaluation.controls import (
    ControlResult,
    logistic_cv,
    position_size_features,
    procrustes_disparity,
    run_controls,
)
from ffmatch.paper.evaluation.cv import (
    CVResult,
    FoldResult,
    cross_validate,
    evaluate_configs,
    fit_and_score,
    train_configs,
)

__all__ = [
    "PROTOCOLS",
    "CVResult",
    "ControlResult",
    "Fold",
    "FoldData",
    "FoldResult",
    "GroupedSplitter",
    "Metrics",
    "PaperSplitter",
    "Protocol",
    "Splitter",
    "Summary",
    "binary_metrics",
    "cross_validate",
    "evaluate_configs",
    "fit_and_score",
    "fold_data",
    "holdout_split",
    "leave_one_group_out_folds",
    "logistic_cv",
    "majority_baseline",
    "make_folds",
    "make_splitter",
    "position_size_features",
    "procrustes_disparity",
    "run_controls",
    "summarize",
    "train_configs",
]
