"""The readable reports of the run commands, built from their typed metrics.

They read only the metrics objects that ``metrics.json`` is written from (and the figure
paths), so a report can never say something the JSON does not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TypeVar

from ffmatch.core.metrics import Summary
from ffmatch.paper.pipeline.results import (
    HoldoutMetrics,
    MLPStage,
    ProtocolMetrics,
    ReproduceMetrics,
    StageScores,
)
from ffmatch.paper.report.document import Block, Code, Figure, Heading, Paragraph, Table
from ffmatch.paper.report.provenance import Provenance

STAGE_NAMES = {
    "mlp": "MLP",
    "pruned": "MLP after distinctiveness pruning",
    "ga": "pruned MLP tuned by the GA",
    "majority": "majority class (always 'no match')",
}


def stage_name(key: str, stage: StageScores) -> str:
    """A stage's row label; the MLP's with its layer sizes (e.g. ``MLP 56-20-10-2``)."""
    if isinstance(stage, MLPStage):
        return "MLP " + "-".join(str(n) for n in stage.sizes)
    return STAGE_NAMES[key]


def pct(v: float | None) -> str:
    """A fraction as a percentage with one decimal, or a dash when undefined."""
    return "–" if v is None or math.isnan(v) else f"{100 * v:.1f}%"


def num(v: float | None, digits: int = 3) -> str:
    """A number with ``digits`` decimals, or a dash when undefined."""
    return "–" if v is None or math.isnan(v) else f"{v:.{digits}f}"


def mean_sd(s: Summary, fmt: str = "pct") -> str:
    """``mean ± sd`` of a summary over folds."""
    f = pct if fmt == "pct" else num
    if math.isnan(s.sd):
        return f(s.mean)
    return f"{f(s.mean)} ± {f(s.sd)}"


def with_interval(holdout: HoldoutMetrics) -> str:
    """Holdout accuracy with its exact 95% interval."""
    lo, hi = holdout.accuracy_ci95
    return f"{pct(holdout.accuracy)} [{pct(lo)}, {pct(hi)}]"


def confusion_table(confusion: Sequence[Sequence[int]], caption: str) -> Table:
    """A 2x2 confusion matrix laid out like the paper's Tables 5 and 6."""
    (tn, fp), (fn, tp) = confusion
    return Table(
        header=("label \\ predicted", "0 (no match)", "1 (match)"),
        rows=(("0", str(tn), str(fp)), ("1", str(fn), str(tp))),
        caption=caption,
    )


def with_baseline(run: ProtocolMetrics) -> list[tuple[str, StageScores]]:
    """``(key, stage)`` of every stage that ran, then the majority baseline."""
    return [*run.stages.items(), ("majority", run.majority_baseline)]


def stage_table(run: ProtocolMetrics) -> Table:
    """Cross-validated and holdout scores of every stage beside the majority baseline."""
    rows = []
    for key, stage in with_baseline(run):
        cv, hold = stage.cv, stage.holdout
        rows.append(
            (
                stage_name(key, stage),
                mean_sd(cv["accuracy"]),
                mean_sd(cv["f1"], "num"),
                mean_sd(cv["roc_auc"], "num"),
                with_interval(hold),
                num(hold.precision),
                num(hold.recall),
                num(hold.f1),
            )
        )
    return Table(
        header=(
            "model",
            "CV accuracy",
            "CV F1",
            "CV ROC-AUC",
            "holdout accuracy [95% CI]",
            "precision",
            "recall",
            "F1",
        ),
        rows=tuple(rows),
        caption=(
            f"Protocol {run.protocol!r}: {run.n_folds}-fold CV on {run.n_cv_rows} rows "
            f"(mean ± sd over folds), holdout of {run.n_holdout} rows"
        ),
    )


S = TypeVar("S", bound=StageScores)


def _need(stage: S | None, run: ProtocolMetrics, key: str) -> S:
    """The stage ``key`` of ``run``, which the report needs (reproduce runs every stage)."""
    if stage is None:
        raise ValueError(f"the {run.protocol!r} run has no {key!r} stage")
    return stage


def _stage(run: ProtocolMetrics, key: str) -> StageScores:
    stage: StageScores | None = getattr(run.stages, key)
    return _need(stage, run, key)


def paper_table(m: ReproduceMetrics) -> Table:
    """The paper's numbers beside ours under both protocols and the majority baseline."""
    paper_run, grouped = m.protocols["paper"], m.protocols["grouped"]
    p = m.paper
    rows: list[tuple[str, ...]] = [
        (
            "CV validation accuracy after pruning",
            pct(p.pruned_cv.val_accuracy),
            pct(_stage(paper_run, "pruned").cv["accuracy"].mean),
            pct(paper_run.majority_baseline.cv["accuracy"].mean),
            pct(_stage(grouped, "pruned").cv["accuracy"].mean),
            pct(grouped.majority_baseline.cv["accuracy"].mean),
        )
    ]
    for stage, label, ref in (
        ("pruned", "after pruning", p.pruned_holdout),
        ("ga", "after the GA", p.ga_holdout),
    ):
        for key in ("accuracy", "precision", "recall", "f1"):
            f = pct if key == "accuracy" else num
            rows.append(
                (
                    f"holdout {key.replace('f1', 'F1')} {label}",
                    f(getattr(ref, key)),
                    f(getattr(_stage(paper_run, stage).holdout, key)),
                    f(getattr(paper_run.majority_baseline.holdout, key)),
                    f(getattr(_stage(grouped, stage).holdout, key)),
                    f(getattr(grouped.majority_baseline.holdout, key)),
                )
            )
    return Table(
        header=(
            "",
            "paper",
            "ffmatch, paper protocol",
            "its majority baseline",
            "ffmatch, grouped protocol",
            "its majority baseline",
        ),
        rows=tuple(rows),
        caption="The paper's results (sections 3.1, 3.2) beside ours, each protocol beside "
        "the majority class on its own folds and holdout",
    )


def controls_table(run: ProtocolMetrics) -> Table:
    """The controls' ROC-AUC on the same folds, beside the networks'."""
    names = {
        "procrustes": "Procrustes shape distance (no training)",
        "logistic_raw": "logistic regression, raw 56 coordinates",
        "logistic_position_size": "logistic regression, position and size only (no shape)",
    }
    rows = [
        (names.get(k, k), mean_sd(c.auc, "num"), num(c.pooled_auc))
        for k, c in (run.controls or {}).items()
    ]
    for key in ("mlp", "ga"):
        stage = _stage(run, key)
        rows.append((stage_name(key, stage), mean_sd(stage.cv["roc_auc"], "num"), "–"))
    return Table(
        header=("score", "ROC-AUC per fold (mean ± sd)", "pooled ROC-AUC"),
        rows=tuple(rows),
        caption=f"Controls on the same folds (protocol {run.protocol!r})",
    )


def selection_blocks(m: ReproduceMetrics) -> list[Block]:
    """Table 2's rank weighting under both rules, beside the paper's sums."""
    rules = m.selection.rules
    if not rules:
        return [Paragraph(text="The photos do not form sets of three; no selection was made.")]
    rows = [
        (rep, str(m.paper.selection_weights[rep]), *(str(r.weights[rep]) for r in rules.values()))
        for rep in ("distances", "proportions", "ffms")
    ]
    rows.append(("selected", "ffms", *(r.selected for r in rules.values())))
    return [
        Table(
            header=("representation", "paper (Table 2)", *(f"rule {r!r}" for r in rules)),
            rows=tuple(rows),
            caption=f"Weight sums of the rank weighting, recomputed from the {m.n_pairs} rows",
        ),
        Paragraph(
            text=(
                "The paper ranks Table 2's values highest first, but those values are cosine "
                "*distances*, so rule 'paper' rewards the least similar A&B pair; rule "
                "'corrected' ranks similarity. This run used the representation "
                f"**{m.representation}**."
            )
        ),
    ]


FIGURE_TITLES = {
    "fig1_1_train_accuracy": "Training accuracy per fold (the paper's Fig. 1-1)",
    "fig1_2_val_accuracy": "Validation accuracy per fold (the paper's Fig. 1-2)",
    "fig1_3_train_loss": "Training loss per fold (the paper's Fig. 1-3)",
    "fig1_4_val_loss": "Validation loss per fold (the paper's Fig. 1-4)",
    "learning_curves": "Learning curves per epoch (thin: folds; thick: mean)",
    "confusion": "Validation confusion matrix of the MLP, pooled over folds",
    "ga_fitness": "GA fitness per generation (the paper's Fig. 2-1)",
    "ga_genes": "The population's genes over generations",
}


def figure_blocks(figures: Mapping[str, str], protocol: str | None = None) -> list[Block]:
    """A Figures section with one captioned figure per saved file (of ``protocol``'s run)."""
    if not figures:
        return []
    where = "" if protocol is None else f", protocol {protocol!r}"
    return [
        Heading(text=f"Figures{where}"),
        *(Figure(path=rel, caption=FIGURE_TITLES.get(k, k) + where) for k, rel in figures.items()),
    ]


def provenance_blocks(provenance: Provenance | None) -> list[Block]:
    """The software and date behind the run, when known."""
    return [] if provenance is None else [Paragraph(text=provenance.line())]


def step_report(
    title: str,
    m: ProtocolMetrics,
    figures: Mapping[str, str],
    command: str,
    extra: Sequence[Block] = (),
    provenance: Provenance | None = None,
) -> list[Block]:
    """The report of one pipeline step (``cv``, ``prune``, ``evolve``)."""
    maj = m.majority_baseline
    blocks: list[Block] = [
        Heading(text=title, level=1),
        Paragraph(text="Produced by:"),
        Code(text=command),
        *provenance_blocks(provenance),
        Heading(text="Results"),
        stage_table(m),
        Paragraph(
            text=(
                f"The majority baseline always predicts the training part's majority class; "
                f"it scores {pct(maj.cv['accuracy'].mean)} in cross-validation and "
                f"{pct(maj.holdout.accuracy)} on the holdout. A model is useful only "
                "where it beats it."
            )
        ),
    ]
    for key, stage in m.stages.items():
        blocks.append(
            confusion_table(
                stage.holdout.confusion,
                f"Holdout confusion matrix: {stage_name(key, stage)}",
            )
        )
    return [*blocks, *extra, *figure_blocks(figures, m.protocol)]


PAPER_DATASETS = ("paper", "paper-computed", "paper-workbook")
"""Dataset names of the paper's own 36 rows: only on them is a comparison with its numbers
meaningful."""


def _rows_apart(diff: int) -> str:
    if diff == 0:
        return "exactly the baseline"
    n = abs(diff)
    return f"{n} row{'s' if n > 1 else ''} {'better' if diff > 0 else 'worse'} than the baseline"


def protocol_reading(run: ProtocolMetrics) -> str:
    """One protocol's GA network beside that protocol's own majority baseline."""
    base = run.majority_baseline.holdout
    ga = _need(run.stages.ga, run, "ga").holdout
    lo, hi = ga.accuracy_ci95
    diff = round((ga.accuracy - base.accuracy) * run.n_holdout)
    return (
        f"Under the {run.protocol!r} protocol a classifier that always answers 'no match' "
        f"scores {pct(base.accuracy)} on the {run.n_holdout}-row holdout, where one prediction "
        f"moves accuracy by {100 / run.n_holdout:.0f} points; the GA network scores "
        f"{pct(ga.accuracy)} ({_rows_apart(diff)}), with an exact 95% interval of {pct(lo)} to "
        f"{pct(hi)}."
    )


def meaning(m: ReproduceMetrics) -> str:
    """The plain reading of the headline numbers, computed from this run alone."""
    parts = ["**What this means.**", *(protocol_reading(r) for r in m.protocols.values())]
    paper_run, grouped = m.protocols["paper"], m.protocols["grouped"]
    if m.dataset in PAPER_DATASETS:
        base = paper_run.majority_baseline.holdout.accuracy
        ref = m.paper
        pruned_diff = round((ref.pruned_holdout.accuracy - base) * paper_run.n_holdout)
        ga_diff = round((ref.ga_holdout.accuracy - base) * paper_run.n_holdout)
        parts.append(
            f"On its own holdout of {paper_run.n_holdout} rows, the paper's "
            f"{pct(ref.pruned_holdout.accuracy)} after pruning is {_rows_apart(pruned_diff)} of "
            f"its protocol, and its {pct(ref.ga_holdout.accuracy)} after the GA is "
            f"{_rows_apart(ga_diff)}."
        )
    parts.append(
        "Under the paper's protocol the folds split rows, so where photos appear in several "
        "rows the same photo sits in training and validation at once, and the Min-Max scaler "
        "sees every row."
    )
    ctrl = grouped.controls or {}
    if {"logistic_position_size", "logistic_raw", "procrustes"} <= set(ctrl):
        position = ctrl["logistic_position_size"].pooled_auc
        shape = ctrl["procrustes"].pooled_auc
        framing = position >= shape
        reading = (
            "how each photo was framed than about the face"
            if framing
            else "the face's shape than about its framing"
        )
        parts.append(
            "On the grouped folds, logistic regression given only where each face sits in the "
            f"frame and how large it is (no shape at all) reaches a pooled ROC-AUC of "
            f"{num(position)}, the raw 56 coordinates {num(ctrl['logistic_raw'].pooled_auc)}, "
            f"and the plain Procrustes shape distance {num(shape)}: on these {grouped.n_pairs} "
            f"rows the coordinates say more about {reading}."
        )
        if framing and m.dataset in PAPER_DATASETS:
            parts.append(
                f"So the paper's {pct(m.paper.ga_holdout.accuracy)} cannot be read as evidence "
                "that the network matches faces."
            )
    return " ".join(parts)


def _sizes(units: Sequence[int]) -> str:
    return "-".join(str(u) for u in units)


def build(
    m: ReproduceMetrics,
    figures: Mapping[str, Mapping[str, str]],
    command: str,
    provenance: Provenance | None = None,
) -> list[Block]:
    """The whole report of a reproduce run; ``figures`` per protocol, the leading first."""
    other = m.other_protocol
    ga = _need(m.stages.ga, m, "ga")
    pruned = _need(m.stages.pruned, m, "pruned")
    pruning = pruned.pruning
    if m.dataset in PAPER_DATASETS:
        source = (
            "on its own data: 36 pair rows (12 sets of three photos, A and B the same person, "
            "C another; Caldwell 2021)"
        )
    else:
        source = f"on the data {m.dataset!r}: {m.n_pairs} pair rows"
    blocks: list[Block] = [
        Heading(text="ffmatch: the paper reproduced", level=1),
        Paragraph(
            text=(
                "Liu, *The Optimization of Pruned Lightweight Neural Network for Sparse Natural "
                f"Person Photo Matching Based on Genetic Algorithm*, {source}. Produced by:"
            )
        ),
        Code(text=command),
        *provenance_blocks(provenance),
        Heading(text="The paper's numbers beside ours"),
        paper_table(m),
        Paragraph(text=meaning(m)),
        Heading(text="Selecting the representation (Table 2)"),
        *selection_blocks(m),
        Heading(text=f"Stages, protocol {m.protocol!r}"),
        stage_table(m),
        Heading(text=f"Stages, protocol {other.protocol!r}"),
        stage_table(other),
        Heading(text="Holdout confusion matrices (the paper's Tables 5 and 6)"),
        confusion_table(
            pruned.holdout.confusion, f"After pruning, before the GA (protocol {m.protocol!r})"
        ),
        confusion_table(ga.holdout.confusion, f"After the GA (protocol {m.protocol!r})"),
        Heading(text="Distinctiveness pruning"),
        Paragraph(
            text=(
                f"Holdout network: hidden units {list(pruning.units_before)} → "
                f"{list(pruning.units_after)}, parameters {pruning.params_before} → "
                f"{pruning.params_after}; {len(pruning.pairs)} pairs merged or removed, "
                f"{len(pruning.dead)} constant units removed."
            )
        ),
        Heading(text="The genetic algorithm"),
        Paragraph(
            text=(
                f"Best individual: {ga.best.hidden} hidden units "
                f"(layers {list(ga.best.hidden_sizes)}), {ga.best.epochs} epochs, learning "
                f"rate {ga.best.learning_rate:.2g} (chromosome {ga.best.chromosome}),"
                f" fitness {num(ga.best.fitness)}. It trained "
                f"{ga.cost.networks_trained} networks ({ga.cost.network_epochs} "
                f"network-epochs) in {ga.cost.seconds:.1f} s."
            )
        ),
        Heading(text="Controls"),
        controls_table(m),
        controls_table(other),
    ]
    return [*blocks, *(b for name, figs in figures.items() for b in figure_blocks(figs, name))]
