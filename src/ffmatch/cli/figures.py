"""Save a run's figures into its folder; returns ``{key: relative path}`` for the report."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ffmatch.paper.evaluation.cv import CVResult
    from ffmatch.paper.pipeline.runfolder import RunFolder
    from ffmatch.paper.search.ga import GAResult


def save_cv_figures(folder: RunFolder, cv: CVResult, prefix: str = "") -> dict[str, str]:
    """The paper's Fig. 1-1 to 1-4, learning curves and the pooled confusion matrix."""
    from ffmatch.core.metrics import pooled_confusion
    from ffmatch.paper.report.cv_figures import (
        confusion_figure,
        learning_curves_figure,
        paper_fold_figures,
    )

    out = {stem: folder.figure(prefix + stem, fig) for stem, fig in paper_fold_figures(cv).items()}
    out["learning_curves"] = folder.figure(prefix + "learning_curves", learning_curves_figure(cv))
    confusion = pooled_confusion([f.val for f in cv.folds])
    out["confusion"] = folder.figure(
        prefix + "confusion",
        confusion_figure(confusion, title="Validation confusion matrix, pooled over folds"),
    )
    return out


def save_ga_figures(folder: RunFolder, result: GAResult, prefix: str = "") -> dict[str, str]:
    """Fitness per generation (Fig. 2-1) and the population's genes."""
    from ffmatch.paper.report.ga_figures import fitness_figure, genes_figure

    return {
        "ga_fitness": folder.figure(prefix + "ga_fitness", fitness_figure(result)),
        "ga_genes": folder.figure(prefix + "ga_genes", genes_figure(result)),
    }
