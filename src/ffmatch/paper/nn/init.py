"""What a training job's seed decides: its initial weights and its batch order.

Both the batched trainer and the sequential reference loop draw from here, so a network
trained either way starts from the same weights and sees its rows in the same order.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt
import torch

from ffmatch.paper.nn.mlp import MLPWeights

# Second word of the batch-order seed: keeps the order stream apart from the init stream.
_ORDER_STREAM = 0x0BA7C4


def init_weights(sizes: tuple[int, ...], seed: int) -> MLPWeights:
    """PyTorch ``nn.Linear``'s default init for layer ``sizes`` (e.g. ``(56, 20, 10, 2)``).

    Weights and biases are U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn layer by layer (weight
    ``(out, in)`` then bias) from ``torch.Generator().manual_seed(seed)``: the same numbers
    ``nn.Linear`` layers built in that order give after ``torch.manual_seed(seed)``.
    """
    gen = torch.Generator().manual_seed(seed)
    weights: list[npt.NDArray[np.float32]] = []
    biases: list[npt.NDArray[np.float32]] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        bound = 1.0 / math.sqrt(fan_in)
        w = torch.empty(fan_out, fan_in).uniform_(-bound, bound, generator=gen)
        b = torch.empty(fan_out).uniform_(-bound, bound, generator=gen)
        weights.append(w.T.contiguous().numpy())  # stored (in, out), see MLPWeights
        biases.append(b.numpy())
    return MLPWeights(weights=tuple(weights), biases=tuple(biases))


def batch_orders(n_rows: int, epochs: int, seed: int) -> npt.NDArray[np.int64]:
    """Row order of every epoch, ``(epochs, n_rows)``: batch k of epoch e is ``[e, kB:(k+1)B]``.

    One random permutation per epoch (a stable argsort of uniform draws: one call per job
    instead of one ``randperm`` per epoch), from a generator whose seed is derived from
    ``seed`` with ``numpy.random.SeedSequence`` so it is independent of the init stream.
    """
    order_seed = int(np.random.SeedSequence([seed, _ORDER_STREAM]).generate_state(1, np.uint64)[0])
    gen = torch.Generator().manual_seed(order_seed)
    keys = torch.rand(epochs, n_rows, generator=gen)
    return torch.argsort(keys, dim=1, stable=True).numpy().astype(np.int64)
