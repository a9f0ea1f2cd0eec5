"""The readable reports of the run commands, built from their ``metrics.json`` content.

They read only the metrics dictionary (and the figure paths), so a report can never say
something the JSON does not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ffmatch.paper.report.document import Block, Code, Figure, Heading, Paragraph, Table

STAGE_NAMES = {
    "mlp": "MLP",
    "pruned": "MLP after distinctiveness pruning",
    "ga": "pruned MLP tuned by the GA",
    "majority": "majority class (always 'no match')",
}


def stage_name(key: str, stage: Mapping[str, Any]) -> str:
    """A stage's row label; the MLP's with its layer sizes (e.g. ``MLP 56-20-10-2``)."""
    sizes = stage.get("sizes")
    if key == "mlp" and sizes:
        return "MLP " + "-".join(str(n) for n in sizes)
    return STAGE_NAMES[key]


def pct(v: float | None) -> str:
    """A fraction as a percentage with one decimal, or a dash when undefined."""
    return "–" if v is None else f"{100 * v:.1f}%"


def num(v: float | None, digits: int = 3) -> str:
    """A number with ``digits`` decimals, or a dash."""
    return "–" if v is None else f"{v:.{digits}f}"


def mean_sd(s: Mapping[str, Any], fmt: str = "pct") -> str:
    """``mean ± sd`` of a summary dictionary."""
    f = pct if fmt == "pct" else num
    if s.get("sd") is None:
        return f(s.get("mean"))
    return f"{f(s.get('mean'))} ± {f(s['sd'])}"


def with_interval(holdout: Mapping[str, Any]) -> str:
    """Holdout accuracy with its exact 95% interval, where recorded."""
    ci = holdout.get("accuracy_ci95")
    text = pct(holdout["accuracy"])
    return f"{text} [{pct(ci[0])}, {pct(ci[1])}]" if ci else text


def confusion_table(confusion: Sequence[Sequence[int]], caption: str) -> Table:
    """A 2x2 confusion matrix laid out like the paper's Tables 5 and 6."""
    (tn, fp), (fn, tp) = confusion
    return Table(
        header=("label \\ predicted", "0 (no match)", "1 (match)"),
        rows=(("0", str(tn), str(fp)), ("1", str(fn), str(tp))),
        caption=caption,
    )


def stage_table(run: Mapping[str, Any]) -> Table:
    """Cross-validated and holdout scores of every stage beside the majority baseline."""
    stages = {**run["stages"], "majority": run["majority_baseline"]}
    rows = []
    for key, stage in stages.items():
        cv, hold = stage["cv"], stage["holdout"]
        rows.append(
            (
                stage_name(key, stage),
                mean_sd(cv["accuracy"]),
                mean_sd(cv["f1"], "num"),
                mean_sd(cv["roc_auc"], "num"),
                with_interval(hold),
                num(hold["precision"]),
                num(hold["recall"]),
                num(hold["f1"]),
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
            f"Protocol {run['protocol']!r}: {run['n_folds']}-fold CV on {run['n_cv_rows']} rows "
            f"(mean ± sd over folds), holdout of {run['n_holdout']} rows"
        ),
    )


def paper_table(m: Mapping[str, Any]) -> Table:
    """The paper's numbers beside ours under both protocols and the majority baseline."""
    runs = {m["protocol"]: m, m["other_protocol"]["protocol"]: m["other_protocol"]}
    paper_run, grouped = runs["paper"], runs["grouped"]
    p = m["paper"]

    def cell(run: Mapping[str, Any], stage: str, key: str) -> str:
        hold = run["stages"][stage]["holdout"]
        return pct(hold[key]) if key == "accuracy" else num(hold[key])

    rows: list[tuple[str, ...]] = [
        (
            "CV validation accuracy after pruning",
            pct(p["pruned_cv"]["val_accuracy"]),
            pct(paper_run["stages"]["pruned"]["cv"]["accuracy"]["mean"]),
            pct(grouped["stages"]["pruned"]["cv"]["accuracy"]["mean"]),
            pct(grouped["majority_baseline"]["cv"]["accuracy"]["mean"]),
        )
    ]
    for stage, label, ref in (("pruned", "after pruning", "pruned_holdout"),
                              ("ga", "after the GA", "ga_holdout")):  # fmt: skip
        for key in ("accuracy", "precision", "recall", "f1"):
            f = pct if key == "accuracy" else num
            rows.append(
                (
                    f"holdout {key.replace('f1', 'F1')} {label}",
                    f(p[ref][key]),
                    cell(paper_run, stage, key),
                    cell(grouped, stage, key),
                    f(grouped["majority_baseline"]["holdout"][key]),
                )
            )
    return Table(
        header=(
            "",
            "paper",
            "ffmatch, paper protocol",
            "ffmatch, grouped protocol",
            "majority baseline (grouped)",
        ),
        rows=tuple(rows),
        caption="The paper's results (sections 3.1, 3.2) beside ours",
    )


def controls_table(run: Mapping[str, Any]) -> Table:
    """The controls' ROC-AUC on the same folds, beside the networks'."""
    names = {
        "procrustes": "Procrustes shape distance (no training)",
        "logistic_raw": "logistic regression, raw 56 coordinates",
        "logistic_position_size": "logistic regression, position and size only (no shape)",
    }
    rows = [
        (names.get(k, k), mean_sd(c["auc"], "num"), num(c["pooled_auc"]))
        for k, c in run["controls"].items()
    ]
    for key in ("mlp", "ga"):
        stage = run["stages"][key]
        rows.append((stage_name(key, stage), mean_sd(stage["cv"]["roc_auc"], "num"), "–"))
    return Table(
        header=("score", "ROC-AUC per fold (mean ± sd)", "pooled ROC-AUC"),
        rows=tuple(rows),
        caption=f"Controls on the same folds (protocol {run['protocol']!r})",
    )


def selection_blocks(m: Mapping[str, Any]) -> list[Block]:
    """Table 2's rank weighting under both rules, beside the paper's sums."""
    rules = m["selection"].get("rules", {})
    if not rules:
        return [Paragraph(text="The photos do not form sets of three; no selection was made.")]
    rows = [
        (rep, str(m["paper"]["selection_weights"][rep]),
         *(str(rules[r]["weights"][rep]) for r in rules))
        for rep in ("distances", "proportions", "ffms")
    ]  # fmt: skip
    rows.append(("selected", "ffms", *(rules[r]["selected"] for r in rules)))
    return [
        Table(
            header=("representation", "paper (Table 2)", *(f"rule {r!r}" for r in rules)),
            rows=tuple(rows),
            caption="Weight sums of the rank weighting, recomputed from the 36 rows",
        ),
        Paragraph(
            text=(
                "The paper ranks Table 2's values highest first, but those values are cosine "
                "*distances*, so rule 'paper' rewards the least similar A&B pair; rule "
                "'corrected' ranks similarity. This run used the representation "
                f"**{m['representation']}**."
            )
        ),
    ]


FIGURE_TITLES = {
    "fig1_1_train_accuracy": "Training accuracy per fold (the paper's Fig. 1-1)",
    "fig1_2_val_accuracy": "Validation accuracy per fold (the paper's Fig. 1-2)",
    "fig1_3_train_loss": "Training loss per fold (the paper's Fig. 1-3)",
    "fig1_4_val_loss": "Validation loss per fold (the paper's Fig. 1-4)",
    "learning_curves": "Learning curves per epoch (thin: folds; thick: mean)",
    "confusion": "Validation confusion matrix, pooled over folds",
    "ga_fitness": "GA fitness per generation (the paper's Fig. 2-1)",
    "ga_genes": "The population's genes over generations",
}


def figure_blocks(figures: Mapping[str, str]) -> list[Block]:
    """A Figures section with one captioned figure per saved file."""
    if not figures:
        return []
    return [
        Heading(text="Figures"),
        *(Figure(path=rel, caption=FIGURE_TITLES.get(k, k)) for k, rel in figures.items()),
    ]


def step_report(
    title: str,
    m: Mapping[str, Any],
    figures: Mapping[str, str],
    command: str,
    extra: Sequence[Block] = (),
) -> list[Block]:
    """The report of one pipeline step (``cv``, ``prune``, ``evolve``)."""
    maj = m["majority_baseline"]
    blocks: list[Block] = [
        Heading(text=title, level=1),
        Paragraph(text="Produced by:"),
        Code(text=command),
        Heading(text="Results"),
        stage_table(m),
        Paragraph(
            text=(
                f"The majority baseline always predicts the training part's majority class; "
                f"it scores {pct(maj['cv']['accuracy']['mean'])} in cross-validation and "
                f"{pct(maj['holdout']['accuracy'])} on the holdout. A model is useful only "
                "where it beats it."
            )
        ),
    ]
    for key, stage in m["stages"].items():
        blocks.append(
            confusion_table(
                stage["holdout"]["confusion"],
                f"Holdout confusion matrix: {stage_name(key, stage)}",
            )
        )
    return [*blocks, *extra, *figure_blocks(figures)]


def meaning(m: Mapping[str, Any], grouped: Mapping[str, Any]) -> str:
    """The plain reading of the headline numbers, from this run's own figures."""
    base = grouped["majority_baseline"]["holdout"]
    ga_hold = grouped["stages"]["ga"]["holdout"]
    lo, hi = ga_hold["accuracy_ci95"]
    ctrl = grouped["controls"]
    return (
        f"**What this means.** A classifier that always answers 'no match' scores "
        f"{pct(base['accuracy'])} on the holdout: the paper's 66.7% after pruning is exactly "
        "that (precision, recall and F1 0). The holdout has "
        f"{grouped['n_holdout']} rows, so one prediction moves accuracy by "
        f"{100 / grouped['n_holdout']:.0f} points: the paper's 77.8% is one row better than "
        f"that baseline, and our grouped GA network's {pct(ga_hold['accuracy'])} has an exact "
        f"95% interval of {pct(lo)} to {pct(hi)}. Under the paper's protocol the folds split "
        "rows, so each photo sits in training and validation at once, and the Min-Max scaler "
        "sees every row. On the grouped folds, logistic regression given only where each face "
        "sits in the frame and how large it is (no shape at all) reaches a pooled ROC-AUC of "
        f"{num(ctrl['logistic_position_size']['pooled_auc'])}, the raw 56 coordinates "
        f"{num(ctrl['logistic_raw']['pooled_auc'])}, and the plain Procrustes shape distance "
        f"{num(ctrl['procrustes']['pooled_auc'])}: on 36 rows the coordinates say more about "
        "how each photo was framed than about the face, so the paper's 77.8% cannot be read "
        "as evidence that the network matches faces."
    )


def build(m: Mapping[str, Any], figures: Mapping[str, str], command: str) -> list[Block]:
    """The whole report of a reproduce run."""
    other = m["other_protocol"]
    grouped = m if m["protocol"] == "grouped" else other
    ga = m["stages"]["ga"]
    blocks: list[Block] = [
        Heading(text="ffmatch: the paper reproduced", level=1),
        Paragraph(
            text=(
                "Liu, *The Optimization of Pruned Lightweight Neural Network for Sparse Natural "
                "Person Photo Matching Based on Genetic Algorithm*, on its own data: 36 pair "
                "rows (12 sets of three photos, A and B the same person, C another; "
                "Caldwell 2021). Produced by:"
            )
        ),
        Code(text=command),
        Heading(text="The paper's numbers beside ours"),
        paper_table(m),
        Paragraph(text=meaning(m, grouped)),
        Heading(text="Selecting the representation (Table 2)"),
        *selection_blocks(m),
        Heading(text=f"Stages, protocol {m['protocol']!r}"),
        stage_table(m),
        Heading(text=f"Stages, protocol {other['protocol']!r}"),
        stage_table(other),
        Heading(text="Holdout confusion matrices (the paper's Tables 5 and 6)"),
        confusion_table(
            m["stages"]["pruned"]["holdout"]["confusion"],
            f"After pruning, before the GA (protocol {m['protocol']!r})",
        ),
        confusion_table(ga["holdout"]["confusion"], f"After the GA (protocol {m['protocol']!r})"),
        Heading(text="Distinctiveness pruning"),
        Paragraph(
            text=(
                f"Holdout network: hidden units {m['stages']['pruned']['pruning']['units_before']}"
                f" → {m['stages']['pruned']['pruning']['units_after']}, parameters "
                f"{m['stages']['pruned']['pruning']['params_before']} → "
                f"{m['stages']['pruned']['pruning']['params_after']}; "
                f"{len(m['stages']['pruned']['pruning']['pairs'])} pairs merged or removed, "
                f"{len(m['stages']['pruned']['pruning']['dead'])} constant units removed."
            )
        ),
        Heading(text="The genetic algorithm"),
        Paragraph(
            text=(
                f"Best individual: {ga['best']['hidden']} hidden units "
                f"(layers {ga['best']['hidden_sizes']}), {ga['best']['epochs']} epochs, learning "
                f"rate {ga['best']['learning_rate']:.2g} (chromosome {ga['best']['chromosome']}),"
                f" fitness {num(ga['best']['fitness'])}. It trained "
                f"{ga['cost']['networks_trained']} networks ({ga['cost']['network_epochs']} "
                f"network-epochs) in {ga['cost']['seconds']:.1f} s."
            )
        ),
        Heading(text="Controls"),
        controls_table(m),
        controls_table(other),
    ]
    return [*blocks, *figure_blocks(figures)]
