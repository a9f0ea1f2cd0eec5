"""What a training job's seed decides: its initial weights and its batch order.

Both training engines and the sequential reference loop draw from here, so a network
trained any way starts from the same weights and sees its rows in the same order.

The draws are PyTorch's own, bit for bit, computed without importing torch (about 1.5 s of
start-up that a command training on the compiled CPU engine never needs otherwise): torch's
CPU generator is MT19937 seeded with the low 32 bits of the seed (``init_genrand``), and
numpy's legacy ``RandomState`` is the same generator with the same seeding, its stream
frozen by NumPy's policy (NEP 19). tests/paper/nn/test_init.py checks the replica against
torch's ``nn.Linear`` init and ``torch.rand`` for many sizes and seeds.
"""

from __future__ import annotations

import itertools
import math
import threading

import numpy as np
import numpy.typing as npt

from ffmatch.paper.nn.mlp import MLPWeights

# Second word of the batch-order seed: keeps the order stream apart from the init stream.
_ORDER_STREAM = 0x0BA7C4
_SEED_BITS = 0xFFFFFFFF  # torch's mt19937 keeps the low 32 bits of a 64-bit seed
_FLOAT_BITS = 24  # float32 uniforms: the low 24 bits of a 32-bit draw, times 2**-24


_thread = threading.local()  # one generator per thread, reseeded per call (see below)


def _generator() -> tuple[np.random.RandomState, np.random.MT19937]:
    """This thread's ``RandomState`` (for its legacy seeding) and the MT19937 inside it."""
    pair = getattr(_thread, "pair", None)
    if pair is None:  # making one costs 0.3 ms (OS entropy), reseeding 3 us
        bits = np.random.MT19937()
        pair = _thread.pair = (np.random.RandomState(bits), bits)
    return pair  # type: ignore[no-any-return]


def _torch_uniforms(seed: int, n: int) -> npt.NDArray[np.float64]:
    """The first ``n`` float32 draws of ``torch.rand`` from ``torch.Generator().manual_seed(seed)``
    (exact in float64): torch takes one 32-bit word per float32 element, in element order, so
    consecutive tensors drawn from one generator are consecutive slices of these."""
    state, bits = _generator()
    state.seed(seed & _SEED_BITS)  # RandomState's seeding is torch's (init_genrand)
    raw = bits.random_raw(n)  # the raw 32-bit words; randint(0, 2**32) gives the same, slower
    return (raw & ((1 << _FLOAT_BITS) - 1)).astype(np.float64) * 2.0**-_FLOAT_BITS


def _scaled(
    x: npt.NDArray[np.float64], bounds: npt.NDArray[np.float64], counts: list[int]
) -> npt.NDArray[np.float32]:
    """torch's ``uniform_(-b, b)`` of float32 tensors from the ``_torch_uniforms`` ``x``:
    the first ``counts[0]`` draws with bound ``bounds[0]``, the next ``counts[1]`` with
    ``bounds[1]``, and so on."""
    hi = bounds.astype(np.float32)  # torch casts the bounds to the dtype
    span = np.repeat(2 * hi.astype(np.float64), counts)
    # torch computes fma(x, span, lo), rounded once to float32; float64 arithmetic then
    # one cast gives the same bits because neither float64 step rounds. x is k * 2**-24
    # (k < 2**24) and span is m * 2**e (m < 2**24), so x * span is exact (48 bits). The
    # bounds are (-b, b): span = 2b exactly and lo = -span / 2, so the sum is
    # (k - 2**23) * m * 2**(e - 24), an integer of at most 48 bits times a power of two:
    # exact in float64's 53 bits.
    return (x * span - 0.5 * span).astype(np.float32)


def n_draws(sizes: tuple[int, ...]) -> int:
    """How many draws ``init_weights`` takes for layer ``sizes``: one per parameter."""
    return sum(a * b + b for a, b in itertools.pairwise(sizes))


def init_draws(seed: int, n: int) -> npt.NDArray[np.float64]:
    """The first ``n`` draws of ``seed``'s init stream. Networks of one seed take prefixes of
    it, so a caller that initialises many draws the longest once (``weights_from_draws``)."""
    return _torch_uniforms(seed, n)


def init_weights(sizes: tuple[int, ...], seed: int) -> MLPWeights:
    """PyTorch ``nn.Linear``'s default init for layer ``sizes`` (e.g. ``(56, 20, 10, 2)``).

    Weights and biases are U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn layer by layer (weight
    ``(out, in)`` then bias) from ``torch.Generator().manual_seed(seed)``: the same numbers
    ``nn.Linear`` layers built in that order give after ``torch.manual_seed(seed)``.
    """
    return weights_from_draws(sizes, init_draws(seed, n_draws(sizes)))


def weights_from_draws(sizes: tuple[int, ...], draws: npt.NDArray[np.float64]) -> MLPWeights:
    """``init_weights(sizes, seed)`` from ``init_draws(seed, n)``, for any
    ``n >= n_draws(sizes)``."""
    layers = list(itertools.pairwise(sizes))
    counts = [n for a, b in layers for n in (a * b, b)]  # weight, then bias, of each layer
    bounds = np.repeat([1.0 / math.sqrt(fan_in) for fan_in, _ in layers], 2)
    x = _scaled(draws[: sum(counts)], bounds, counts)
    weights: list[npt.NDArray[np.float32]] = []
    biases: list[npt.NDArray[np.float32]] = []
    at = 0
    for fan_in, fan_out in layers:
        w = x[at : at + fan_in * fan_out].reshape(fan_out, fan_in)
        weights.append(np.ascontiguousarray(w.T))  # stored (in, out), see MLPWeights
        at += fan_in * fan_out
        biases.append(x[at : at + fan_out])
        at += fan_out
    return MLPWeights(weights=tuple(weights), biases=tuple(biases))


def batch_orders(n_rows: int, epochs: int, seed: int) -> npt.NDArray[np.int64]:
    """Row order of every epoch, ``(epochs, n_rows)``: batch k of epoch e is ``[e, kB:(k+1)B]``.

    One random permutation per epoch (a stable argsort of uniform draws: one call per job
    instead of one ``randperm`` per epoch), from a generator whose seed is derived from
    ``seed`` with ``numpy.random.SeedSequence`` so it is independent of the init stream.
    The draws are ``torch.rand(epochs, n_rows, generator=torch.Generator().manual_seed(s))``.
    """
    order_seed = int(np.random.SeedSequence([seed, _ORDER_STREAM]).generate_state(1, np.uint64)[0])
    keys = _torch_uniforms(order_seed, epochs * n_rows).reshape(epochs, n_rows)  # exact floats
    return np.argsort(keys, axis=1, kind="stable").astype(np.int64)
