"""The MUCT benchmark's report: summary table with intervals, ROC, CMC and score figures.

Reads a ``BenchmarkResult`` only. Intervals are 95% Student-t intervals over the repeats'
means (``evaluation.metrics.summarize_values``); with one repeat, over folds (too narrow).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ffmatch.benchmark.config import BenchmarkConfig
from ffmatch.benchmark.models import MODELS
from ffmatch.benchmark.protocol import BenchmarkResult, FoldScore
from ffmatch.core.io.atomic import atomic_write
from ffmatch.core.metrics import Summary, summarize_values
from ffmatch.core.serial import to_mapping
from ffmatch.matcher.operating import roc_points
from ffmatch.paper.report.document import Block, Code, Heading, Paragraph, Table, write_reports
from ffmatch.paper.report.document import Figure as FigureBlock

METRICS: tuple[tuple[str, str], ...] = (
    ("roc_auc", "ROC-AUC"),
    ("eer", "EER"),
    ("tar_at_far_1pct", "accept @1% FA"),
    ("accuracy", "accuracy"),
    ("f1", "F1"),
    ("rank1", "rank-1"),
    ("rank5", "rank-5"),
)
_SPEC = {m.name: m for m in MODELS}
_SCORE_FIGURE_MODELS = ("procrustes", "mlp_raw", "mlp_position", "plda")


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelSummary:
    """One model in one variant: each of ``METRICS`` over folds (mean and 95% interval), and
    the mean CMC curve (NaN without identification). ``results.json`` holds it as written by
    ``ffmatch.core.serial.to_mapping``."""

    roc_auc: Summary
    eer: Summary
    tar_at_far_1pct: Summary
    accuracy: Summary
    f1: Summary
    rank1: Summary
    rank5: Summary
    cmc: tuple[float, ...]


BenchmarkSummary = dict[str, ModelSummary]
"""Per ``"variant/model"`` key."""


def summarize_result(result: BenchmarkResult) -> BenchmarkSummary:
    """Per "variant/model": each metric's mean and 95% interval, and the mean CMC curve."""
    out: BenchmarkSummary = {}
    for key, folds in result.scores.items():
        repeat = [f.repeat for f in folds]
        out[key] = ModelSummary(
            **{
                name: summarize_values(
                    [f.metrics[name] for f in folds], repeat=repeat, bounds=(0, 1)
                )
                for name, _ in METRICS
            },
            cmc=tuple(float(v) for v in cmc_curve(folds, result.config.cmc_ranks)),
        )
    return out


def cmc_curve(folds: list[FoldScore], ranks: int) -> np.ndarray:
    """(ranks,) share of queries whose first same-person photo is within rank k, k=1..ranks.

    Averaged over folds (each fold's gallery is its own test people).
    """
    k = np.arange(1, ranks + 1)
    if not any(len(f.ranks) for f in folds):  # no identification (the paper's rows)
        return np.full(ranks, np.nan)
    return np.asarray(
        np.mean([(f.ranks[:, None] <= k[None, :]).mean(axis=0) for f in folds], axis=0)
    )


def summary_cell(s: Summary) -> str:
    """``mean [ci_low, ci_high]``, the mean alone without an interval, a dash when undefined."""
    if math.isnan(s.mean):
        return "-"
    if math.isnan(s.ci_low) or math.isnan(s.ci_high):
        return f"{s.mean:.3f}"
    return f"{s.mean:.3f} [{s.ci_low:.3f}, {s.ci_high:.3f}]"


def summary_blocks(result: BenchmarkResult, summary: BenchmarkSummary) -> list[Block]:
    """One table per variant: models as rows, metrics with intervals as columns."""
    blocks: list[Block] = []
    for variant in result.config.variants:
        rows = []
        for key, entry in summary.items():
            v, name = key.split("/", 1)
            if v != variant:
                continue
            spec = _SPEC[name]
            label = f"{name} (control of {spec.control_of})" if spec.control_of else name
            rows.append((label, *(summary_cell(getattr(entry, m)) for m, _ in METRICS)))
        blocks += [
            Heading(
                text=f"{variant}: {result.people[variant]} people, {result.photos[variant]} photos",
                level=3,
            ),
            Table(header=("model", *(label for _, label in METRICS)), rows=tuple(rows)),
        ]
    return blocks


def _save(fig: Figure, path: Path) -> None:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    with atomic_write(path, "wb") as fh:
        fh.write(buf.getvalue())


def _pooled(folds: list[FoldScore]) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores of repeat 0's folds together (each fold's scores are its own)."""
    first = [f for f in folds if f.repeat == 0]
    return np.concatenate([f.labels for f in first]), np.concatenate([f.scores for f in first])


def roc_figure(result: BenchmarkResult, variant: str) -> Figure:
    """ROC curves of every model but the majority, repeat 0's test pairs pooled over folds.

    Pooling mixes folds whose score scales differ for fitted scorers; the per-fold AUCs in
    the table are the numbers to quote.
    """
    fig = Figure(figsize=(5.5, 5))
    ax = fig.add_subplot()
    for key, folds in result.scores.items():
        v, name = key.split("/", 1)
        if v != variant or name == "majority":
            continue
        labels, scores = _pooled(folds)
        far, tar, _ = roc_points(labels, scores)
        ax.plot(far, tar, label=name, lw=1.2, ls="--" if _SPEC[name].control_of else "-")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    ax.set(xlabel="false accept rate", ylabel="true accept rate", title=f"ROC, {variant}")
    if ax.get_legend_handles_labels()[0]:  # none when the majority is the only model
        ax.legend(fontsize=7, loc="lower right")
    return fig


def cmc_figure(result: BenchmarkResult, summary: BenchmarkSummary, variant: str) -> Figure:
    """Cumulative match characteristic of every model (mean over folds)."""
    fig = Figure(figsize=(5.5, 4.5))
    ax = fig.add_subplot()
    for key, entry in summary.items():
        v, name = key.split("/", 1)
        if v != variant:
            continue
        cmc = np.asarray(entry.cmc)
        ax.plot(np.arange(1, len(cmc) + 1), cmc, marker=".", lw=1, label=name,
                ls="--" if _SPEC[name].control_of else "-")  # fmt: skip
    ax.set(xlabel="rank", ylabel="identification rate", ylim=(0, 1.01), title=f"CMC, {variant}")
    ax.legend(fontsize=7, loc="lower right")
    return fig


def scores_figure(result: BenchmarkResult, variant: str) -> Figure:
    """Histograms of genuine and impostor scores for a few models (repeat 0, fold 0)."""
    names = [n for n in _SCORE_FIGURE_MODELS if f"{variant}/{n}" in result.scores]
    fig = Figure(figsize=(3.2 * max(len(names), 1), 3))
    for k, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), k + 1)
        f = result.scores[f"{variant}/{name}"][0]
        lo, hi = np.percentile(f.scores, [0.5, 99.5])
        bins = np.linspace(lo, hi, 40).tolist()
        ax.hist(f.scores[f.labels == 0], bins=bins, alpha=0.6, density=True, label="impostor")
        ax.hist(f.scores[f.labels == 1], bins=bins, alpha=0.6, density=True, label="genuine")
        ax.set(title=name, xlabel="score")
        if k == 0:
            ax.legend(fontsize=7)
    fig.suptitle(f"score distributions, {variant} (one fold)", fontsize=9)
    return fig


_PAPER_PROTOCOL = (
    "Grouped {folds}-fold cross-validation over the 12 sets of three photos (a set never on "
    "both sides), {repeats} repeats, seed {seed}; validation rows: the paper's A&B, B&C, C&A "
    "rows of the held-out sets. Accuracy and F1 at the threshold of equal error rates on the "
    "training rows. Means with 95% intervals over repeats. No identification (one photo "
    "pair per person). Position-only controls are shown beside the raw-coordinate models."
)


def write_benchmark_report(
    result: BenchmarkResult, folder: Path, *, command: str
) -> BenchmarkSummary:
    """Write ``report.md``, ``results.json`` and ``figures/`` into ``folder``; return summary."""
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    summary = summarize_result(result)
    figures: list[Block] = []
    for variant in result.config.variants:
        made = [("roc", roc_figure(result, variant)), ("scores", scores_figure(result, variant))]
        if variant != "paper":
            made.insert(1, ("cmc", cmc_figure(result, summary, variant)))
        for stem, fig in made:
            rel = f"figures/{stem}_{variant}.png"
            _save(fig, folder / rel)
            figures.append(FigureBlock(path=rel, caption=f"{stem.upper()} {variant}"))
    cfg = result.config
    paper = cfg.variants == ("paper",)
    blocks: list[Block] = [
        Heading(text="Benchmark on the paper's rows" if paper else "MUCT benchmark", level=1),
        Code(text=command),
        Paragraph(text=_PAPER_PROTOCOL.format(folds=cfg.folds, repeats=cfg.repeats, seed=cfg.seed))
        if paper
        else Paragraph(
            text=(
                f"Subject-disjoint {cfg.folds}-fold cross-validation, {cfg.repeats} repeat(s), "
                f"seed {cfg.seed}; test pairs: every genuine pair of the test people and "
                f"{cfg.impostor_ratio:g} impostor pairs per genuine pair. Accuracy and F1 at "
                "the threshold of equal error rates on the training pairs; identification: "
                "each test photo against all other test photos. Means with 95% intervals "
                "over repeats (over folds with one repeat). Position-only controls are shown "
                "beside the raw-coordinate models they control."
            )
        ),
        *summary_blocks(result, summary),
        Heading(text="Figures", level=2),
        *figures,
    ]
    write_reports(blocks, folder, title="ffmatch MUCT benchmark", html_too=False)
    with atomic_write(folder / "results.json") as fh:
        document = {"config": cfg, "command": command, "results": summary}
        json.dump(to_mapping(document), fh, indent=1, allow_nan=False)
    return summary


def run_benchmark_folder(
    config: BenchmarkConfig,
    out_dir: Path,
    *,
    command: str,
    on_step: Callable[[int, int], None] | None = None,
    jobs: int = 1,
) -> BenchmarkSummary:
    """One benchmark run, assembled: load ``config.data``, run the models (the paper's rows
    when ``config.variants`` is ``("paper",)``, else photos with person ids), then write the
    report, ``results.json`` and ``config.toml`` into ``out_dir``; returns the summary.
    ``jobs`` processes share the folds of a photo benchmark (the results do not change)."""
    from ffmatch.benchmark.paper import run_paper_benchmark
    from ffmatch.benchmark.protocol import run_benchmark
    from ffmatch.core.configio import write_toml
    from ffmatch.core.io.output import replacing_run
    from ffmatch.core.sources import load_pairs, load_photos

    if config.variants == ("paper",):
        result = run_paper_benchmark(load_pairs(config.data), config)
    else:
        result = run_benchmark(load_photos(config.data), config, on_step=on_step, jobs=jobs)
    with replacing_run(out_dir) as staging:  # an earlier run's files stay until all is written
        summary = write_benchmark_report(result, staging, command=command)
        write_toml(config, staging / "config.toml")
    return summary
