"""CV figures: one bar per fold, mean and baseline lines, labelled axes, renderable."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from ffmatch.core.metrics import metrics_from_confusion
from ffmatch.paper.evaluation.cv import CVResult, cross_validate
from ffmatch.paper.nn.config import MLPConfig
from ffmatch.paper.report.cv_figures import (
    PAPER_FIGURES,
    confusion_figure,
    fold_bars_figure,
    learning_curves_figure,
    paper_fold_figures,
)


@pytest.fixture(scope="module")
def cv() -> CVResult:
    rng = np.random.default_rng(0)
    y = np.tile([1, 0, 0], 6)
    groups = np.repeat(np.arange(6), 3)
    X = rng.normal(size=(18, 3)) + y[:, None]
    mlp = MLPConfig(hidden=(4, 2), epochs=5, lr=1e-2, batch_size=4)
    return cross_validate(X, y, groups, mlp=mlp, n_splits=3, seed=0)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    return buf.getvalue()


def test_paper_figures_one_bar_per_fold_with_mean_and_baseline(cv: CVResult) -> None:
    figs = paper_fold_figures(cv)
    assert list(figs) == list(PAPER_FIGURES)
    for stem, fig in figs.items():
        (ax,) = fig.axes
        assert len(ax.patches) == len(cv.folds)
        assert ax.get_xlabel() == "fold"
        assert ax.get_ylabel()
        labels = ax.get_legend_handles_labels()[1]
        assert any(lab.startswith("mean") for lab in labels)
        assert any(lab.startswith("majority") for lab in labels) == stem.endswith("accuracy")
        assert _png(fig).startswith(b"\x89PNG")
    suptitle = figs["fig1_1_train_accuracy"].get_suptitle()
    title = suptitle
    assert "Fig. 1-1" in title
    assert "grouped protocol" in title


def test_bar_heights_are_the_final_epoch_values(cv: CVResult) -> None:
    (ax,) = fold_bars_figure(cv, "val_loss").axes
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, [f.history.val_loss[-1] for f in cv.folds])


def test_learning_curves_have_train_and_val_per_fold(cv: CVResult) -> None:
    fig = learning_curves_figure(cv)
    acc, loss = fig.axes
    # per fold a thin line, plus a mean, for train and validation (and the baseline on acc)
    assert len(loss.lines) == 2 * (len(cv.folds) + 1)
    assert len(acc.lines) == 2 * (len(cv.folds) + 1) + 1
    assert loss.get_xlabel() == "epoch"
    assert _png(fig).startswith(b"\x89PNG")


def test_confusion_figure_shows_counts_and_labels() -> None:
    fig = confusion_figure(metrics_from_confusion(5, 1, 1, 2), title="Table 6")
    (ax,) = fig.axes
    assert sorted(t.get_text() for t in ax.texts) == ["1", "1", "2", "5"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["no match", "match"]
    assert "accuracy 0.778" in ax.get_title()
    with pytest.raises(ValueError, match="must be 2x2"):
        confusion_figure(np.zeros((3, 3)))


def test_many_repeats_draw_the_first_repeat_and_the_overall_mean() -> None:
    rng = np.random.default_rng(1)
    y = np.tile([1, 0, 0], 4)
    groups = np.repeat(np.arange(4), 3)
    X = rng.normal(size=(12, 2))
    mlp = MLPConfig(hidden=(2, 1), epochs=2, lr=1e-2, batch_size=4)
    cv = cross_validate(X, y, groups, mlp=mlp, n_splits=2, repeats=3, seed=0)
    (ax,) = fold_bars_figure(cv, "val_accuracy", max_bars=4).axes
    assert len(ax.patches) == 2
    assert any("all 3 repeats" in lab for lab in ax.get_legend_handles_labels()[1])
    (ax_all,) = fold_bars_figure(cv, "val_accuracy").axes
    assert len(ax_all.patches) == 6
