"""Distinctiveness pruning (Gedeon 1995; paper section 2.3) of a trained ``MLPWeights``.

For each pruned hidden layer, in this order (the whole procedure is deterministic):

1. dead/constant units (root-mean-square deviation from their mean <= ``dead_tol``) are
   removed, ascending unit index; each one's constant activation times its outgoing weights
   is added to the next layer's bias, so outputs on the training patterns are unchanged;
2. similar pairs (angle < ``similar_deg``), by ascending angle, ties by (unit_a, unit_b):
   the higher unit b is removed and folded into the lower unit a. With ``merge="affine"``
   (default) ``a_b ~ s * a_a + c`` is fitted by least squares over the patterns and
   ``W_a += s * W_b``, ``bias += c * W_b``: exact when the centred vectors are parallel, so
   two identical units merge with outputs unchanged. ``merge="gedeon"`` is ``s = 1, c = 0``;
3. complementary pairs (angle > ``complementary_deg``), by descending angle, ties by
   (unit_a, unit_b): both units are removed, their mean activations times their outgoing
   weights folded into the next layer's bias.

A unit removed once takes part in no later pair; a kept unit keeps absorbing merges (its
activations do not change, only its outgoing weights). A layer never loses its last unit:
the one with the largest raw activation norm is kept and the report says so. Removed units
are physically cut: columns of the layer's weight and bias, rows of the next layer's weight.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import DataError
from ffmatch.paper.nn.mlp import MLPWeights
from ffmatch.paper.pruning.config import PruningConfig
from ffmatch.paper.pruning.distinctiveness import centre, centred_angles
from ffmatch.paper.pruning.report import DeadUnit, KeptUnit, PairAction, PruningReport

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.floating]


@dataclass(frozen=True, kw_only=True, slots=True)
class PruningResult:
    """The pruned network, what was done, and each pruned layer's angle matrix (degrees)."""

    weights: MLPWeights
    report: PruningReport
    angles: tuple[FloatArray, ...] = field(default=())  # per pruned layer, (h, h) before


@dataclass(frozen=True, kw_only=True, slots=True)
class _LayerOutcome:
    weights: MLPWeights
    angles: FloatArray
    pairs: tuple[PairAction, ...]
    dead: tuple[DeadUnit, ...]
    kept_last: tuple[KeptUnit, ...]


def prune(weights: MLPWeights, x_train: FloatArray, *, config: PruningConfig) -> PruningResult:
    """Prune ``weights`` by distinctiveness on the training inputs ``x_train`` (n, d).

    Only the training rows may be passed: the pruning decisions are learned from them.
    Returns a new network; ``weights`` is not modified.
    """
    net, layers = _prune_layers(weights, x_train, config, record=True)
    report = PruningReport(
        config=config,
        sizes_before=weights.sizes,
        sizes_after=net.sizes,
        params_before=weights.n_params,
        params_after=net.n_params,
        pairs=tuple(p for out in layers for p in out.pairs),
        dead=tuple(d for out in layers for d in out.dead),
        kept_last=tuple(u for out in layers for u in out.kept_last),
    )
    return PruningResult(weights=net, report=report, angles=tuple(out.angles for out in layers))


def prune_weights(weights: MLPWeights, x_train: FloatArray, *, config: PruningConfig) -> MLPWeights:
    """``prune(...).weights`` without the report: for a caller that scores the pruned network
    and keeps nothing else (the GA prunes some 900 networks a search, and building their
    records took a fifth of the pruning). The same network, bit for bit."""
    return _prune_layers(weights, x_train, config, record=False)[0]


def _prune_layers(
    weights: MLPWeights, x_train: FloatArray, config: PruningConfig, *, record: bool
) -> tuple[MLPWeights, list[_LayerOutcome]]:
    """The pruned network and each pruned layer's outcome (with its records if ``record``)."""
    x = np.asarray(x_train, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != weights.sizes[0] or x.shape[0] < 2:
        raise DataError(
            f"x_train: expected an (n >= 2, {weights.sizes[0]}) array, found shape {x.shape}"
        )
    if not np.isfinite(x).all():
        row, col = (int(v) for v in np.argwhere(~np.isfinite(x))[0])
        raise DataError(f"x_train: row {row + 1}, column {col + 1}: expected a finite number")
    n_hidden = len(weights.hidden)
    todo = range(min(1, n_hidden)) if config.layers == "first" else range(n_hidden)
    net = weights
    layers: list[_LayerOutcome] = []
    for k in todo:
        # Recomputed per layer: pruning layer k changes what layer k + 1 receives.
        acts = net.hidden_activations(x, layers=k + 1)[k]  # (n, h_k)
        out = _prune_layer(net, k, acts, config, record=record)
        net = out.weights
        layers.append(out)
        log.info("pruned hidden layer %d: %d -> %d units", k, acts.shape[1], net.hidden[k])
    return net, layers


def _prune_layer(
    net: MLPWeights, k: int, acts: FloatArray, config: PruningConfig, *, record: bool
) -> _LayerOutcome:
    """Prune hidden layer ``k`` given its activations ``acts`` (n, h) on the training rows;
    the records of what it did (pairs, dead and kept units) only if ``record``."""
    n, h = acts.shape
    w_next = np.array(net.weights[k + 1], dtype=np.float64)  # (h, out), rows edited in place
    b_next = np.array(net.biases[k + 1], dtype=np.float64)  # (out,)
    alive = np.ones(h, dtype=bool)
    means = np.add.reduce(acts, axis=0) / n  # (h,), as acts.mean(axis=0) computes it
    dev = acts - means  # (n, h) mean-centred, used for the dead test and the affine fit
    dev_norm = np.sqrt(np.add.reduce(dev * dev, axis=0))  # np.linalg.norm's own formula
    raw_norm = np.sqrt(np.add.reduce(acts * acts, axis=0))
    # Constancy, not shortness of the centred vector, decides "dead": with "half" centring a
    # dead ReLU unit is -0.5 everywhere, long but carrying nothing.
    is_dead = dev_norm <= config.dead_tol * np.sqrt(n)
    kept: list[KeptUnit] = []
    if is_dead.all():
        keep = int(np.argmax(raw_norm))  # first of the largest: ties low-first
        is_dead[keep] = False
        kept.append(
            KeptUnit(
                layer=k, unit=keep, reason="every unit was dead or constant; a layer keeps one unit"
            )
        )

    gone = np.flatnonzero(is_dead)
    b_next = _add_rows_in_order(b_next, means[gone, None] * w_next[gone])
    alive[gone] = False
    dead = (
        [
            DeadUnit(layer=k, unit=int(j), norm=float(dev_norm[j]), mean=float(means[j]))
            for j in gone
        ]
        if record
        else []
    )

    if config.centring == "mean":
        # ``dev`` and its lengths are this centring's vectors and norms: not computed again,
        # and dead units are NaN in the angles already (their centred vectors are short).
        angles = centred_angles(dev, dead_tol=config.dead_tol, norms=dev_norm)
    else:
        angles = centred_angles(centre(acts, centring=config.centring), dead_tol=config.dead_tol)
        if is_dead.any():
            angles[is_dead, :] = np.nan  # constant units take part in no pair
            angles[:, is_dead] = np.nan
    ia, ib = _upper_pairs(h)
    ang = angles[ia, ib]
    with np.errstate(invalid="ignore"):  # NaN compares False: dead units never fire
        similar = np.flatnonzero(ang < config.similar_deg)
        complementary = np.flatnonzero(ang > config.complementary_deg)
    # np.lexsort sorts by its last key first: angle, then unit_a, then unit_b.
    similar = similar[np.lexsort((ib[similar], ia[similar], ang[similar]))]
    complementary = complementary[
        np.lexsort((ib[complementary], ia[complementary], -ang[complementary]))
    ]

    pairs: list[PairAction] = []
    for p in similar:
        a, b = int(ia[p]), int(ib[p])
        if not (alive[a] and alive[b]):
            continue
        s, c = _merge_coefficients(dev[:, a], dev[:, b], means[a], means[b], config.merge)
        w_next[a] += s * w_next[b]
        b_next += c * w_next[b]
        alive[b] = False
        if record:
            pairs.append(
                PairAction(
                    layer=k,
                    unit_a=a,
                    unit_b=b,
                    angle=float(ang[p]),
                    action="merged",
                    scale=s,
                    shift=c,
                )
            )
    for p in complementary:
        a, b = int(ia[p]), int(ib[p])
        if not (alive[a] and alive[b]):
            continue
        removed = [a, b]
        action: Literal["removed_both", "removed_one"] = "removed_both"
        if alive.sum() == 2:  # the layer's last two units: keep the larger, ties low-first
            survivor = a if raw_norm[a] >= raw_norm[b] else b
            removed.remove(survivor)
            action = "removed_one"
            kept.append(
                KeptUnit(
                    layer=k,
                    unit=survivor,
                    reason=(
                        f"complementary pair ({a}, {b}) were the layer's last two units; "
                        "a layer keeps one unit"
                    ),
                )
            )
        for u in removed:
            b_next += means[u] * w_next[u]
            alive[u] = False
        if record:
            pairs.append(
                PairAction(layer=k, unit_a=a, unit_b=b, angle=float(ang[p]), action=action)
            )

    return _LayerOutcome(
        weights=_cut(net, k, alive, w_next, b_next),
        angles=angles,
        pairs=tuple(pairs),
        dead=tuple(dead),
        kept_last=tuple(kept),
    )


def _add_rows_in_order(
    start: npt.NDArray[np.float64], rows: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``start + rows[0] + rows[1] + ...``, added left to right as a loop of ``+=`` would.

    One call instead of a loop (a GA network has some twenty dead units). A running sum
    (``np.add.accumulate``) adds one row at a time by definition, so its last row rounds as
    the loop does; ``np.add.reduce`` may sum pairwise (it does for a single column).
    """
    if len(rows) == 0:
        return start
    return np.asarray(np.add.accumulate(np.vstack([start, rows]), axis=0)[-1], dtype=np.float64)


@functools.lru_cache(maxsize=128)  # the GA's genes give at most 100 first-layer sizes
def _upper_pairs(h: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """``np.triu_indices(h, k=1)``, kept per size: a GA search prunes some 900 networks of a
    few dozen sizes, and building the indices took a tenth of the pruning."""
    ia, ib = np.triu_indices(h, k=1)
    ia.flags.writeable = False
    ib.flags.writeable = False
    return ia, ib


def _merge_coefficients(
    dev_a: FloatArray, dev_b: FloatArray, mean_a: float, mean_b: float, merge: str
) -> tuple[float, float]:
    """``(s, c)`` with ``a_b ~ s * a_a + c``: least squares ("affine") or Gedeon's (1, 0)."""
    if merge == "gedeon":
        return 1.0, 0.0
    s = float(dev_a @ dev_b / (dev_a @ dev_a))  # dev_a is not constant: dead units are gone
    return s, float(mean_b - s * mean_a)


def _cut(
    net: MLPWeights,
    k: int,
    alive: npt.NDArray[np.bool_],
    w_next: FloatArray,
    b_next: FloatArray,
) -> MLPWeights:
    """``net`` with hidden layer ``k`` reduced to its ``alive`` units and the edited next layer.

    Arrays keep the dtype they came in (float32 from the trainer stays float32).
    """
    ws, bs = list(net.weights), list(net.biases)
    ws[k] = np.ascontiguousarray(ws[k][:, alive])
    bs[k] = np.ascontiguousarray(bs[k][alive])
    ws[k + 1] = np.ascontiguousarray(w_next[alive].astype(net.weights[k + 1].dtype))
    bs[k + 1] = b_next.astype(net.biases[k + 1].dtype)
    return MLPWeights(weights=tuple(ws), biases=tuple(bs))
