"""Both faces side by side with their 14 markers and the distances that decided the match.

Each face is cropped from its photo and drawn at the same height. The distances that differ
most (relative to the spread the model learned for one person) are drawn in red on both
faces, those that agree best in green; a panel beside lists them with their values. Built
without pyplot (no global figure state), like ``report.cv_figures``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ffmatch.core.io.atomic import atomic_write
from ffmatch.core.markers import WIDE_ORDER
from ffmatch.matcher.photos.extract import Extraction
from ffmatch.matcher.photos.image import RGBArray
from ffmatch.matcher.verdict import VERDICT_WORDS, Measurement, PairVerdict
from ffmatch.matcher.words import MARKER_WORDS

DIFFER_COLOUR = "#d62728"
AGREE_COLOUR = "#2ca02c"
MARKER_COLOUR = "#ffdd00"


def marker_pair(feature: str) -> tuple[int, int] | None:
    """Marker indices of a distance feature named ``"a-b / eye width"``; None if not one."""
    head = feature.split(" / ")[0].strip()
    parts = head.split("-")
    if len(parts) == 2 and all(p in WIDE_ORDER for p in parts):
        return WIDE_ORDER.index(parts[0]), WIDE_ORDER.index(parts[1])
    return None


def _draw_face(
    ax: Axes, ex: Extraction, rgb: RGBArray, differ: list[str], agree: list[str]
) -> None:
    """The face's crop (box plus a margin) with markers and the distances named (codes)."""
    m = ex.markers
    ax.imshow(rgb, cmap="gray" if rgb.ndim == 2 else None, interpolation="bilinear")
    eye = float(np.hypot(*(m[WIDE_ORDER.index("ltex")] - m[WIDE_ORDER.index("rtex")])))
    for items, colour, labels, side in ((differ, DIFFER_COLOUR, "1234567890", 1.0),
                                        (agree, AGREE_COLOUR, "abcdefghij", -1.0)):  # fmt: skip
        for k, name in enumerate(items):
            pair = marker_pair(name)
            if pair is None:
                continue
            a, b = m[pair[0]], m[pair[1]]
            # Many telling distances run along the midline: shift each a little sideways
            # (differing to one side, agreeing to the other) so they stay apart.
            normal = np.array([b[1] - a[1], a[0] - b[0]]) / max(float(np.hypot(*(b - a))), 1e-9)
            shift = normal * side * (k + 1) * 0.03 * eye
            (x0, y0), (x1, y1) = a + shift, b + shift
            ax.plot([x0, x1], [y0, y1], "-", color=colour, lw=2.0, alpha=0.85)
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, labels[k % len(labels)], color="white",
                    fontsize=8, ha="center", va="center", zorder=4,
                    bbox={"boxstyle": "circle,pad=0.15", "fc": colour, "ec": "none"})  # fmt: skip
    ax.scatter(m[:, 0], m[:, 1], s=14, c=MARKER_COLOUR, edgecolors="black", linewidths=0.5,
               zorder=3)  # fmt: skip
    if ex.face is not None:
        x0, y0, x1, y1 = ex.face.box
        pad = 0.15 * max(x1 - x0, y1 - y0)
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y1 + pad, y0 - pad)  # image rows grow downwards
    ax.set_axis_off()


def verdict_figure(
    result: PairVerdict,
    x: Extraction,
    y: Extraction,
    rgb_x: RGBArray,
    rgb_y: RGBArray,
    *,
    n: int = 5,
) -> Figure:
    """Both faces, the ``n`` most differing (red, numbered) and best agreeing (green,
    lettered) distances, the same items listed in words beside, and a glossary of markers."""
    differ, agree = result.differing(n), result.agreeing(n)
    fig = Figure(figsize=(13, 6.2), layout="constrained")
    FigureCanvasAgg(fig)
    gs = fig.add_gridspec(1, 3, width_ratios=[1, 1, 1.5])
    for k, (ex, rgb, label) in enumerate(((x, rgb_x, "first"), (y, rgb_y, "second"))):
        ax = fig.add_subplot(gs[0, k])
        _draw_face(ax, ex, rgb, [m.code for m in differ], [m.code for m in agree])
        ax.set_title(f"{label}: {Path(ex.source).name}", fontsize=10)
    _draw_verdict_table(fig.add_subplot(gs[0, 2]), result, differ, agree)
    fig.suptitle(f"{VERDICT_WORDS[result.verdict]}  (P(same person) = {result.probability:.2f}; "
                 f"evidence: {result.evidence})", fontsize=12)  # fmt: skip
    return fig


def _draw_verdict_table(
    ax: Axes, result: PairVerdict, differ: list[Measurement], agree: list[Measurement]
) -> None:
    """The drawn distances in words (codes in brackets), doubts, and the markers' glossary."""
    ax.set_axis_off()
    lines: list[tuple[str, str]] = []
    lines += [(f"Doubt: {reason}", DIFFER_COLOUR) for reason in result.reasons]
    lines += [(f"Note: {note}", "0.3") for note in result.notes]
    lines.append(("Differ most (over the width across the eyes; gap in ordinary gaps)", "k"))
    lines += [(f"  {k + 1} {m.words} [{m.code}]: {m.value_x:.3f} vs {m.value_y:.3f} "
               f"({m.score:.1f}x)", DIFFER_COLOUR) for k, m in enumerate(differ)]  # fmt: skip
    lines.append(("Agree best", "k"))
    lines += [(f"  {'abcdefghij'[k % 10]} {m.words} [{m.code}]: {m.value_x:.3f} vs "
               f"{m.value_y:.3f} ({m.score:.1f}x)", AGREE_COLOUR)
              for k, m in enumerate(agree)]  # fmt: skip
    lines.append(("1x = an ordinary gap between two photos of one person", "0.4"))
    codes = sorted({c for m in (*differ, *agree) for c in m.code.split("-")},
                   key=WIDE_ORDER.index)  # fmt: skip
    lines.append(("Glossary (right and left: the subject's own)", "k"))
    lines += [(f"  {c}: {MARKER_WORDS[c]}", "0.3") for c in codes]
    step = min(0.05, 1.0 / max(len(lines), 1))
    for k, (text, colour) in enumerate(lines):
        ax.text(0.0, 1.0 - k * step, text, color=colour, fontsize=8.5, va="top",
                transform=ax.transAxes, wrap=False)  # fmt: skip


def save_verdict_figure(
    result: PairVerdict,
    x: Extraction,
    y: Extraction,
    path: str | os.PathLike[str],
    *,
    n: int = 5,
) -> Path:
    """Write the verdict figure of two extracted photos as PNG (atomically); its path."""
    from ffmatch.matcher.photos.image import read_photo

    p = Path(path)
    fig = verdict_figure(result, x, y, read_photo(x.source), read_photo(y.source), n=n)
    with atomic_write(p, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)
    return p
