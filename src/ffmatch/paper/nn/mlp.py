"""The paper's multilayer perceptron (section 2.2) as plain weight arrays.

A trained network is held as ``MLPWeights``: one ``(in, out)`` matrix and one ``(out,)``
bias per layer, ReLU between layers, two output logits (softmax cross-entropy). Plain NumPy
arrays keep pruning, saving and inspection independent of how the network was trained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]


@dataclass(frozen=True, kw_only=True, slots=True)
class MLPWeights:
    """Weights of one MLP: ``weights[k]`` is ``(in_k, out_k)``, ``biases[k]`` is ``(out_k,)``."""

    weights: tuple[FloatArray, ...]
    biases: tuple[FloatArray, ...]

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.biases) or not self.weights:
            raise ValueError("an MLP needs one bias per weight matrix and at least one layer")
        for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if w.ndim != 2 or b.shape != (w.shape[1],):
                raise ValueError(f"layer {k}: weight {w.shape} and bias {b.shape} do not fit")
            if k and self.weights[k - 1].shape[1] != w.shape[0]:
                raise ValueError(
                    f"layer {k}: expects {w.shape[0]} inputs, previous gives "
                    f"{self.weights[k - 1].shape[1]}"
                )

    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer widths from input to output, e.g. ``(56, 20, 10, 2)``."""
        return (self.weights[0].shape[0], *(w.shape[1] for w in self.weights))

    @property
    def hidden(self) -> tuple[int, ...]:
        """Hidden layer widths, e.g. ``(20, 10)``."""
        return self.sizes[1:-1]

    @property
    def n_params(self) -> int:
        """Number of weights and biases."""
        return int(sum(w.size + b.size for w, b in zip(self.weights, self.biases, strict=True)))

    def hidden_activations(self, x: FloatArray, *, layers: int | None = None) -> list[FloatArray]:
        """Post-ReLU activations of each hidden layer for inputs ``x`` (n, in): list of (n, h).

        ``layers`` stops after that many hidden layers (all by default).
        """
        out: list[FloatArray] = []
        h = np.asarray(x, dtype=np.float64)
        n = len(self.weights) - 1 if layers is None else layers
        for w, b in zip(self.weights[:n], self.biases[:n], strict=True):
            h = np.maximum(h @ w + b, 0.0)
            out.append(h)
        return out

    def logits(self, x: FloatArray) -> FloatArray:
        """Output logits (n, n_outputs)."""
        h = np.asarray(x, dtype=np.float64)
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h = np.maximum(h @ w + b, 0.0)
        return np.asarray(h @ self.weights[-1] + self.biases[-1])

    def predict_proba(self, x: FloatArray) -> FloatArray:
        """Softmax probabilities (n, n_outputs); column 1 is the match probability."""
        z = self.logits(x)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))
