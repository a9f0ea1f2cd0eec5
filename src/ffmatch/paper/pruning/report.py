"""What distinctiveness pruning did to a network: a record for JSON and for report.md.

``PruningReport`` is one network's record (one fold's); ``summarize_folds`` aggregates the
reports of a cross-validation into a ``PruningSummary``. Both only read values: they hold no
weights and do no pruning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from ffmatch.paper.pruning.config import PruningConfig

PairActionKind = Literal["merged", "removed_both", "removed_one"]
"""``merged``: the higher unit folded into the lower (similar pair). ``removed_both``: a
complementary pair, both removed. ``removed_one``: a complementary pair that was the layer's
last two units, so the one with the larger activation norm was kept."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PairAction:
    """A pair of units of one hidden layer that fired a rule, and what was done to it."""

    layer: int  # hidden layer index, 0 = first hidden layer
    unit_a: int  # unit indices within that layer before it was pruned; unit_a < unit_b
    unit_b: int
    angle: float  # degrees
    action: PairActionKind
    scale: float = 1.0  # merged: W_a += scale * W_b, bias += shift * W_b (see prune.py)
    shift: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class DeadUnit:
    """A unit whose activation was (near) constant over the training patterns, removed."""

    layer: int
    unit: int
    norm: float  # length of its mean-centred activation vector (what was tested)
    mean: float  # its mean activation, folded into the next layer's bias


@dataclass(frozen=True, kw_only=True, slots=True)
class KeptUnit:
    """A unit kept only because a layer must keep at least one unit."""

    layer: int
    unit: int
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PruningReport:
    """Units, parameters and every rule that fired when one network was pruned.

    ``metrics`` is empty from ``prune``; callers that evaluate the network add e.g.
    ``{"before": to_mapping(m), "pruned": ..., "finetuned": ...}`` with ``dataclasses.replace``
    (JSON-ready values; the markdown table shows the scalar ones).
    """

    config: PruningConfig
    sizes_before: tuple[int, ...]  # layer widths input..output, e.g. (56, 20, 10, 2)
    sizes_after: tuple[int, ...]
    params_before: int
    params_after: int
    pairs: tuple[PairAction, ...] = ()
    dead: tuple[DeadUnit, ...] = ()
    kept_last: tuple[KeptUnit, ...] = ()
    metrics: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    serial_derived: ClassVar[tuple[str, ...]] = ("units_before", "units_after")
    """Properties ``ffmatch.core.serial.to_mapping`` writes beside the fields."""

    @property
    def units_before(self) -> tuple[int, ...]:
        """Hidden layer widths before pruning."""
        return self.sizes_before[1:-1]

    @property
    def units_after(self) -> tuple[int, ...]:
        """Hidden layer widths after pruning."""
        return self.sizes_after[1:-1]

    @property
    def n_merged(self) -> int:
        """Number of similar pairs merged."""
        return sum(p.action == "merged" for p in self.pairs)

    @property
    def n_complementary(self) -> int:
        """Number of complementary pairs removed (both units, or one if they were the last)."""
        return sum(p.action != "merged" for p in self.pairs)

    def to_markdown(self, *, title: str = "Distinctiveness pruning", level: int = 2) -> str:
        """A readable section for ``report.md``."""
        c = self.config
        h = "#" * level
        lines = [
            f"{h} {title}",
            "",
            f"Rules: similar under {c.similar_deg:g} degrees (merge, {c.merge}), complementary "
            f"over {c.complementary_deg:g} degrees (remove both), dead/constant units removed "
            f"(tolerance {c.dead_tol:g}); centring `{c.centring}`; layers `{c.layers}`. "
            "Layer 0 is the first hidden layer; unit numbers are before pruning.",
            "",
            "| | before | after |",
            "|---|---|---|",
            f"| layer sizes | {_sizes(self.sizes_before)} | {_sizes(self.sizes_after)} |",
            f"| parameters | {self.params_before} | {self.params_after} |",
            "",
        ]
        lines += _pairs_table(self.pairs)
        if self.dead:
            lines += [
                "Dead/constant units removed:",
                "",
                "| layer | unit | norm | mean |",
                "|---|---|---|---|",
            ]
            lines += [f"| {d.layer} | {d.unit} | {d.norm:.3g} | {d.mean:.4g} |" for d in self.dead]
            lines.append("")
        else:
            lines += ["No dead or constant units.", ""]
        lines += [f"Kept unit {k.unit} of layer {k.layer}: {k.reason}." for k in self.kept_last]
        if self.kept_last:
            lines.append("")
        lines += _metrics_table(self.metrics)
        return "\n".join(lines).rstrip() + "\n"


def _sizes(sizes: Sequence[int]) -> str:
    return "-".join(str(s) for s in sizes)


def _pairs_table(pairs: Sequence[PairAction]) -> list[str]:
    if not pairs:
        return ["No pair of units fired a rule.", ""]
    lines = ["| layer | units | angle (deg) | action |", "|---|---|---|---|"]
    lines += [f"| {p.layer} | {p.unit_a}, {p.unit_b} | {p.angle:.2f} | {p.action} |" for p in pairs]
    return [*lines, ""]


def _metrics_table(metrics: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Scalar metrics (numbers, or None for an undefined one) as rows, one column per stage."""
    names = sorted(
        {n for m in metrics.values() for n, v in m.items() if v is None or _is_number(v)}
    )
    if not names:
        return []
    lines = ["| metric | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for name in names:
        cells = [_cell(m.get(name, "")) for m in metrics.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _is_number(v: object) -> bool:
    return isinstance(v, int | float | np.number) and not isinstance(v, bool)


def _cell(v: object) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, int | float | np.number) and not isinstance(v, bool):
        return f"{float(v):.4g}"
    return ""


@dataclass(frozen=True, kw_only=True, slots=True)
class PruningSummary:
    """Pruning across the folds of a cross-validation: per-fold counts and their means."""

    n_folds: int
    units_before_mean: tuple[float, ...]  # per hidden layer
    units_after_mean: tuple[float, ...]
    params_before_mean: float
    params_after_mean: float
    units_after: tuple[tuple[int, ...], ...]  # per fold, per hidden layer
    merged_per_fold: tuple[int, ...]
    complementary_per_fold: tuple[int, ...]
    dead_per_fold: tuple[int, ...]

    def to_markdown(self, *, title: str = "Pruning across folds", level: int = 2) -> str:
        """A readable section for ``report.md``: means, then one row per fold."""

        def fmt(xs: Sequence[float]) -> str:
            return "-".join(f"{x:.1f}" for x in xs)

        h = "#" * level
        lines = [
            f"{h} {title}",
            "",
            f"Mean hidden units over {self.n_folds} folds: {fmt(self.units_before_mean)} before, "
            f"{fmt(self.units_after_mean)} after; mean parameters "
            f"{self.params_before_mean:.1f} before, {self.params_after_mean:.1f} after.",
            "",
            "| fold | hidden units after | merged | complementary | dead |",
            "|---|---|---|---|---|",
        ]
        for i in range(self.n_folds):
            lines.append(
                f"| {i} | {_sizes(self.units_after[i])} | {self.merged_per_fold[i]} | "
                f"{self.complementary_per_fold[i]} | {self.dead_per_fold[i]} |"
            )
        return "\n".join(lines) + "\n"


def summarize_folds(reports: Sequence[PruningReport]) -> PruningSummary:
    """Aggregate per-fold pruning reports (all from networks of the same architecture)."""
    if not reports:
        raise ValueError("summarize_folds: expected at least one report, found none")
    before = np.array([r.units_before for r in reports], dtype=np.float64)  # (folds, layers)
    after = np.array([r.units_after for r in reports], dtype=np.float64)
    if before.ndim != 2:
        raise ValueError(
            "summarize_folds: the folds' networks have different numbers of hidden layers"
        )
    return PruningSummary(
        n_folds=len(reports),
        units_before_mean=tuple(float(v) for v in before.mean(axis=0)),
        units_after_mean=tuple(float(v) for v in after.mean(axis=0)),
        params_before_mean=float(np.mean([r.params_before for r in reports])),
        params_after_mean=float(np.mean([r.params_after for r in reports])),
        units_after=tuple(r.units_after for r in reports),
        merged_per_fold=tuple(r.n_merged for r in reports),
        complementary_per_fold=tuple(r.n_complementary for r in reports),
        dead_per_fold=tuple(len(r.dead) for r in reports),
    )
