"""Figures of a cross-validation: the paper's Fig. 1-1 to 1-4, learning curves, confusion.

Each function reads a ``CVResult`` (or a confusion matrix) and returns a matplotlib
``Figure`` built without pyplot (no global figure state; the Agg canvas renders it), to be
saved with ``fig.savefig``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ffmatch.core.metrics import Metrics
from ffmatch.paper.evaluation.cv import CVResult, FoldResult

Quantity = Literal["train_accuracy", "val_accuracy", "train_loss", "val_loss"]

PAPER_FIGURES: dict[str, Quantity] = {
    "fig1_1_train_accuracy": "train_accuracy",
    "fig1_2_val_accuracy": "val_accuracy",
    "fig1_3_train_loss": "train_loss",
    "fig1_4_val_loss": "val_loss",
}
"""File stem of each of the paper's per-fold figures, and the quantity it shows."""

_TITLES: dict[Quantity, str] = {
    "train_accuracy": "Fig. 1-1: training accuracy per fold",
    "val_accuracy": "Fig. 1-2: validation accuracy per fold",
    "train_loss": "Fig. 1-3: training loss per fold",
    "val_loss": "Fig. 1-4: validation loss per fold",
}
_YLABELS: dict[Quantity, str] = {
    "train_accuracy": "accuracy on the training rows",
    "val_accuracy": "accuracy on the validation rows",
    "train_loss": "cross-entropy on the training rows",
    "val_loss": "cross-entropy on the validation rows",
}
_TRAIN, _VAL = "tab:blue", "tab:orange"


def _new_figure(width: float, height: float) -> Figure:
    """A figure attached to an Agg canvas, so it renders and saves without a display."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _fold_labels(folds: Sequence[FoldResult]) -> list[str]:
    """ "1".."k" for one repeat; "r1·f1".. when the folds come from several repeats."""
    if len({f.fold.repeat for f in folds}) == 1:
        return [str(f.fold.index + 1) for f in folds]
    return [f"r{f.fold.repeat + 1}·f{f.fold.index + 1}" for f in folds]


def _subtitle(cv: CVResult) -> str:
    hidden = "-".join(str(h) for h in cv.config.hidden)
    return (
        f"{cv.protocol} protocol, hidden {hidden}, {cv.config.epochs} epochs, "
        f"lr {cv.config.lr:g}, final epoch"
    )


def fold_bars_figure(
    cv: CVResult, quantity: Quantity, *, max_bars: int = 30, paper: float | None = None
) -> Figure:
    """One bar per fold of the last epoch's ``quantity``, the mean as a line; on accuracy
    panels also the majority-class baseline of each fold (training or validation rows, to
    match) as a red mark on its bar; ``paper``: the paper's value, as a green line.

    With more than ``max_bars`` folds (many repeats) only the first repeat's folds are drawn,
    and the mean over all repeats is added as a second line.
    """
    shown = list(cv.folds)
    if len(shown) > max_bars:
        first = shown[0].fold.repeat
        shown = [f for f in cv.folds if f.fold.repeat == first]
    values = np.array([f.final_epoch()[quantity] for f in shown])
    labels = _fold_labels(shown)
    x = np.arange(len(values))
    colour = _TRAIN if quantity.startswith("train") else _VAL
    fig = _new_figure(max(7.6, 0.35 * len(values) + 3.2), 4.0)
    ax = fig.add_subplot()
    ax.bar(x, values, color=colour, alpha=0.8, label="fold")
    ax.axhline(
        float(np.nanmean(values)), color="black", lw=1.5, ls="--",
        label=f"mean {np.nanmean(values):.3f}",
    )  # fmt: skip
    if len(shown) < len(cv.folds):
        overall = float(np.nanmean([f.final_epoch()[quantity] for f in cv.folds]))
        ax.axhline(
            overall, color="dimgray", lw=1.2, ls="-.",
            label=f"mean of all {cv.repeats} repeats {overall:.3f}",
        )  # fmt: skip
    if quantity.endswith("accuracy"):
        if quantity == "train_accuracy":
            base = np.array([f.train_majority for f in shown])
        else:
            base = np.array([f.majority.accuracy for f in shown])
        # a mark per fold, wider than the bar: a line at the mean hid under the mean of the
        # bars whenever the network only learnt the majority class
        ax.hlines(
            base, x - 0.48, x + 0.48, colors="tab:red", lw=2.5, zorder=4,
            label=f"majority class, per fold (mean {np.nanmean(base):.3f})",
        )  # fmt: skip
        ax.set_ylim(0.0, 1.05)
    else:
        top = max(float(np.nanmax(values)), paper or 0.0)
        ax.set_ylim(0.0, max(0.8, top * 1.15))
    if paper is not None:
        ax.axhline(
            paper, color="tab:green", lw=1.8, ls="-.", zorder=3,
            label=f"the paper, after pruning {paper:.3f}",
        )  # fmt: skip
    ax.set_xticks(x, labels, rotation=90 if len(values) > 12 else 0, fontsize="small")
    ax.set_xlabel("fold")
    ax.set_ylabel(_YLABELS[quantity])
    shown_note = f", repeat 1 of {cv.repeats} shown" if len(shown) < len(cv.folds) else ""
    # a figure title, not an axes title: the legend beside the axes leaves it too narrow
    fig.suptitle(f"{_TITLES[quantity]}\n{_subtitle(cv)}{shown_note}", fontsize="medium")
    ax.grid(axis="y", alpha=0.3)
    # outside the axes: bars reach every height, so any corner inside would hide one
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return fig


def paper_fold_figures(
    cv: CVResult, paper: Mapping[Quantity, float] | None = None
) -> dict[str, Figure]:
    """The paper's Fig. 1-1 to 1-4, keyed by the file stems of ``PAPER_FIGURES``; ``paper``
    holds the paper's value of each quantity, marked on its figure."""
    paper = paper or {}
    return {stem: fold_bars_figure(cv, q, paper=paper.get(q)) for stem, q in PAPER_FIGURES.items()}


def learning_curves_figure(cv: CVResult) -> Figure:
    """Accuracy and loss per epoch: each fold a thin line, the mean over folds thick;
    training rows in blue, validation rows in orange."""
    fig = _new_figure(10.0, 4.0)
    acc_ax, loss_ax = fig.subplots(1, 2)
    curves = {
        (acc_ax, _TRAIN): [f.history.train_acc for f in cv.folds],
        (acc_ax, _VAL): [f.history.val_acc for f in cv.folds],
        (loss_ax, _TRAIN): [f.history.train_loss for f in cv.folds],
        (loss_ax, _VAL): [f.history.val_loss for f in cv.folds],
    }
    for (ax, colour), runs in curves.items():
        stacked = np.vstack(runs)  # (folds, epochs): every fold of one config has equal epochs
        epochs = np.arange(1, stacked.shape[1] + 1)
        # fainter as folds multiply, so that 100 folds of 10 repeats stay readable
        alpha = min(0.35, max(0.06, 3.0 / len(stacked)))
        for run in stacked:
            ax.plot(epochs, run, color=colour, lw=0.6, alpha=alpha)
        name = "training" if colour == _TRAIN else "validation"
        ax.plot(epochs, np.nanmean(stacked, axis=0), color=colour, lw=2.2, label=f"{name} (mean)")
    majority = float(np.nanmean([f.majority.accuracy for f in cv.folds]))
    acc_ax.axhline(
        majority, color="tab:red", lw=1.2, ls=":", label=f"majority class {majority:.3f}"
    )
    acc_ax.set_ylim(0.0, 1.05)
    acc_ax.set_ylabel("accuracy")
    acc_ax.set_title("Accuracy per epoch")
    loss_ax.set_ylabel("cross-entropy loss")
    loss_ax.set_title("Loss per epoch")
    for ax in (acc_ax, loss_ax):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    # one legend below both panels: thin fold lines fill every corner of the axes
    fig.legend(
        *acc_ax.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize="small"
    )
    hidden = "-".join(str(h) for h in cv.config.hidden)
    fig.suptitle(
        f"Learning curves, {len(cv.folds)} folds (thin: one fold); {cv.protocol} protocol, "
        f"hidden {hidden}, lr {cv.config.lr:g}",
        fontsize="medium",
    )
    return fig


def confusion_figure(
    confusion: Metrics | tuple[tuple[int, int], tuple[int, int]] | np.ndarray,
    *,
    title: str = "Confusion matrix",
) -> Figure:
    """Counts of a 2x2 confusion matrix ``[[tn, fp], [fn, tp]]`` (rows: true label)."""
    cm = np.asarray(confusion.confusion if isinstance(confusion, Metrics) else confusion)
    if cm.shape != (2, 2):
        raise ValueError(f"a confusion matrix must be 2x2, found shape {cm.shape}")
    names = ["no match", "match"]
    fig = _new_figure(4.4, 3.9)
    ax = fig.add_subplot()
    ax.imshow(cm, cmap="Blues", vmin=0, vmax=max(int(cm.max()), 1))
    for i in range(2):
        for j in range(2):
            dark = cm[i, j] > 0.6 * max(int(cm.max()), 1)
            ax.text(
                j, i, str(int(cm[i, j])), ha="center", va="center", fontsize="x-large",
                color="white" if dark else "black",
            )  # fmt: skip
    ax.set_xticks([0, 1], names)
    ax.set_yticks([0, 1], names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    n = int(cm.sum())
    acc = (cm[0, 0] + cm[1, 1]) / n if n else float("nan")
    ax.set_title(f"{title}\n{n} pairs, accuracy {acc:.3f}", fontsize="medium")
    return fig
