"""The pruning report: JSON-ready dict, markdown section, and the cross-validation summary."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import numpy as np
import pytest

from ffmatch.core.serial import to_mapping
from ffmatch.paper.nn.mlp import MLPWeights
from ffmatch.paper.pruning import PruningConfig, PruningReport, prune, summarize_folds

Build = Callable[..., MLPWeights]  # the conftest fixture's type
E = np.eye(3)


@pytest.fixture
def report(build: Build, x_train: np.ndarray) -> PruningReport:
    """Clone pair (2, 3) merged, opposite pair (0, 1) removed, unit 5 dead: 6 -> 2 units."""
    w = np.column_stack([E[0], -E[0], E[1], E[1], E[2], np.zeros(3)])
    net = build(w, np.array([10.0, 10.0, 10.0, 10.0, 10.0, -1.0]))
    return prune(net, x_train, config=PruningConfig()).report


def test_to_mapping_has_the_agreed_keys_and_is_json(report: PruningReport) -> None:
    d = json.loads(json.dumps(to_mapping(report)))
    assert d["units_before"] == [6, 4]
    assert d["units_after"] == [2, 4]
    assert d["params_before"] == (3 * 6 + 6) + (6 * 4 + 4) + (4 * 2 + 2)
    assert d["params_after"] == (3 * 2 + 2) + (2 * 4 + 4) + (4 * 2 + 2)
    assert [(p["layer"], p["unit_a"], p["unit_b"], p["action"]) for p in d["pairs"]] == [
        (0, 2, 3, "merged"),
        (0, 0, 1, "removed_both"),
    ]
    assert d["pairs"][1]["angle"] == pytest.approx(180.0, abs=1e-4)
    assert [(x["layer"], x["unit"], x["norm"]) for x in d["dead"]] == [(0, 5, 0.0)]
    assert d["config"]["similar_deg"] == 15.0
    assert d["config"]["centring"] == "mean"


def test_markdown_lists_sizes_pairs_and_dead_units(report: PruningReport) -> None:
    md = report.to_markdown()
    assert md.startswith("## Distinctiveness pruning\n")
    assert "| layer sizes | 3-6-4-2 | 3-2-4-2 |" in md
    assert "| 0 | 2, 3 | 0.00 | merged |" in md
    assert "| 0 | 0, 1 | 180.00 | removed_both |" in md
    assert "| 0 | 5 | 0 | 0 |" in md


def test_markdown_shows_metrics_added_by_the_caller(report: PruningReport) -> None:
    metrics = {
        "before": {"accuracy": 0.75, "roc_auc": None, "confusion": [[6, 0], [3, 0]], "n": 9},
        "pruned": {"accuracy": 0.5, "f1": 0.0},
    }
    md = dataclasses.replace(report, metrics=metrics).to_markdown()
    assert "| metric | before | pruned |" in md
    assert "| accuracy | 0.75 | 0.5 |" in md
    assert "| f1 |  | 0 |" in md
    assert "| roc_auc | n/a |  |" in md
    assert "| n | 9 |  |" in md
    assert "confusion" not in md
    assert (
        json.loads(json.dumps(to_mapping(dataclasses.replace(report, metrics=metrics))))["metrics"]
        == metrics
    )
    assert "metric" not in report.to_markdown()


def test_summarize_folds_means_and_per_fold_counts(
    report: PruningReport, build: Build, x_train: np.ndarray
) -> None:
    untouched = prune(
        build(np.column_stack([E[0], E[1], E[2], -E[1], E[0], E[2]]), np.zeros(6)),
        x_train,
        config=PruningConfig(similar_deg=0.0, complementary_deg=180.0, dead_tol=0.0),
    ).report
    s = summarize_folds([report, untouched])
    assert s.n_folds == 2
    assert s.units_before_mean == (6.0, 4.0)
    assert s.units_after_mean == (4.0, 4.0)
    assert s.params_after_mean == (report.params_after + untouched.params_after) / 2
    assert s.units_after == ((2, 4), (6, 4))
    assert (s.merged_per_fold, s.complementary_per_fold, s.dead_per_fold) == (
        (1, 0),
        (1, 0),
        (1, 0),
    )
    d = json.loads(json.dumps(to_mapping(s)))
    assert d["units_after_mean"] == [4.0, 4.0]
    md = s.to_markdown()
    assert "6.0-4.0 before, 4.0-4.0 after" in md
    assert "| 0 | 2-4 | 1 | 1 | 1 |" in md


def test_summarize_no_folds_is_an_error() -> None:
    with pytest.raises(ValueError, match="expected at least one report, found none"):
        summarize_folds([])
