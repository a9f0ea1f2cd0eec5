"""Figures of a GA run: fitness per generation (the paper's Fig. 2-1) and the genes explored.

Each function reads a ``GAResult`` and returns a matplotlib ``Figure`` built without pyplot
(no global figure state; rendering uses the Agg canvas), to be saved with ``fig.savefig``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ffmatch.paper.search.ga import GAResult

_FITNESS_LABELS = {
    "accuracy": "mean validation accuracy",
    "f1": "mean validation F1",
    "balanced_accuracy": "mean validation balanced accuracy",
    "roc_auc": "mean validation ROC AUC",
}


def _new_figure(width: float, height: float) -> Figure:
    """A figure attached to an Agg canvas, so it renders and saves without a display."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def fitness_figure(
    result: GAResult, *, baseline: float | None = None, protocol: str | None = None
) -> Figure:
    """Best, mean and best-ever fitness per generation, with the population's range shaded;
    ``baseline``: the majority class's score of the same fitness on the same folds."""
    generations = np.array([rec.generation for rec in result.history])
    best = np.array([rec.best for rec in result.history])
    mean = np.array([rec.mean for rec in result.history])
    low = np.array([rec.min for rec in result.history])
    best_ever = np.array([rec.best_ever for rec in result.history])

    fig = _new_figure(8.4, 4.0)
    ax = fig.add_subplot()
    ax.fill_between(generations, low, best, color="tab:blue", alpha=0.12, label="min to max")
    ax.plot(generations, best, "o-", color="tab:blue", label="best of generation")
    ax.plot(generations, mean, "s--", color="tab:orange", label="mean of generation")
    ax.step(generations, best_ever, where="post", color="black", lw=1.2, label="best ever")
    if baseline is not None:
        ax.axhline(
            baseline, color="tab:red", lw=1.8, ls=":", label=f"majority class {baseline:.3f}"
        )
    ax.set_xlabel("generation (0 = initial population)")
    ax.set_ylabel(_FITNESS_LABELS.get(result.config.fitness, result.config.fitness))
    ax.set_xticks(generations)
    where = "" if protocol is None else f" ({protocol} protocol)"
    ax.set_title(f"Fitness by generation{where}")
    ax.grid(alpha=0.3)
    # outside the axes: the lines reach every corner
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return fig


def genes_figure(result: GAResult) -> Figure:
    """The population's hidden neurons, epochs and learning rate over generations, one dot each.

    Dots are spread a little sideways within a generation so repeats stay visible, and
    coloured by fitness; the dashed line is the best-ever individual's value.
    """
    layout = result.config.layout
    fitness = np.array([ind.fitness for rec in result.history for ind in rec.individuals])
    x = np.array(
        [
            rec.generation + 0.6 * ((i + 0.5) / len(rec.individuals) - 0.5)
            for rec in result.history
            for i in range(len(rec.individuals))
        ]
    )
    panels = (
        ("hidden neurons (first layer)", "hidden", layout.hidden_range, False),
        ("epochs", "epochs", layout.epochs_range, False),
        ("learning rate", "learning_rate", layout.learning_rate_range, True),
    )
    fig = _new_figure(6.4, 7.0)
    axes = fig.subplots(3, 1, sharex=True)
    scatter = None
    for ax, (label, attr, value_range, log) in zip(axes, panels, strict=True):
        values = np.array(
            [getattr(ind.genes, attr) for rec in result.history for ind in rec.individuals]
        )
        scatter = ax.scatter(
            x, values, c=fitness, cmap="viridis", s=18, vmin=fitness.min(), vmax=fitness.max()
        )
        ax.axhline(getattr(result.best.genes, attr), color="black", ls="--", lw=1, label="best")
        ax.set_ylabel(label)
        ax.set_ylim(*_padded(value_range, log))
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper right", fontsize="small")
    axes[-1].set_xlabel("generation (0 = initial population)")
    axes[-1].set_xticks([rec.generation for rec in result.history])
    axes[0].set_title("Genes of the population by generation")
    if scatter is not None:
        fig.colorbar(scatter, ax=list(axes), label="fitness", shrink=0.6)
    return fig


def _padded(value_range: tuple[float, float], log: bool) -> tuple[float, float]:
    """The gene's range with a 5% margin (multiplicative on a log axis)."""
    lo, hi = value_range
    if log:
        return lo / 1.3, hi * 1.3
    margin = max((hi - lo) * 0.05, 0.5)
    return lo - margin, hi + margin
