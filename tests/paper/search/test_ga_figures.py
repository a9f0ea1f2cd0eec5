"""Tests of the GA figures: they render, show every generation, and leave pyplot alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ffmatch.paper.report.ga_figures import fitness_figure, genes_figure
from ffmatch.paper.search import GAConfig, GAResult, evolve


@pytest.fixture(scope="module")
def result() -> GAResult:
    return evolve(
        lambda genes: [g.hidden / 100 for g in genes], config=GAConfig(generations=4), seed=0
    )


def test_fitness_figure_plots_best_mean_and_best_ever(result: GAResult, tmp_path: Path) -> None:
    fig = fitness_figure(result)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert np.array_equal(lines["best of generation"].get_ydata(), [r.best for r in result.history])
    assert np.allclose(lines["mean of generation"].get_ydata(), [r.mean for r in result.history])
    assert lines["best ever"].get_ydata()[-1] == result.best.fitness
    fig.savefig(tmp_path / "fitness.png")
    assert (tmp_path / "fitness.png").stat().st_size > 1000


def test_genes_figure_has_one_dot_per_individual_in_three_panels(
    result: GAResult, tmp_path: Path
) -> None:
    fig = genes_figure(result)
    panels = fig.axes[:3]
    n = sum(len(r.individuals) for r in result.history)
    assert [len(ax.collections[0].get_offsets()) for ax in panels] == [n, n, n]
    assert panels[2].get_yscale() == "log"
    hidden = [ind.genes.hidden for r in result.history for ind in r.individuals]
    assert np.array_equal(panels[0].collections[0].get_offsets()[:, 1], hidden)
    fig.savefig(tmp_path / "genes.svg")
    assert (tmp_path / "genes.svg").read_text().startswith("<?xml")


def test_figures_do_not_touch_pyplot(result: GAResult) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fitness_figure(result)
    genes_figure(result)
    assert plt.get_fignums() == before
