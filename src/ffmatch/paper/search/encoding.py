"""The GA's chromosome: a bit string holding hidden neurons, epochs and learning rate.

Default layout (16 bits, the paper's length, section 2.4), most significant bit first::

    bits  0-6   hidden   7 bits, v in 0..127 -> 1 + round(v * 99 / 127)      (1..100)
    bits  7-11  epochs   5 bits, v in 0..31  -> 10 + round(v * 90 / 31)      (10..100)
    bits 12-15  lr       4 bits, v in 0..15  -> 10 ** (-4 + 2 * v / 15)      (1e-4..1e-2)

``round`` is round-half-up done in integer arithmetic, so decoding is exact and every decoded
value lies in its range. The gene sets the first hidden layer; the second is
``max(1, round(hidden * second_layer_ratio))`` (0.5, as in the paper's 20/10), or absent when
the ratio is ``None`` or 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ffmatch.core.errors import ConfigError, DataError


def _round_half_up(x: float) -> int:
    """Round to the nearest integer, halves up (Python's ``round`` rounds halves to even)."""
    return math.floor(x + 0.5)


@dataclass(frozen=True, kw_only=True, slots=True)
class Genes:
    """One decoded individual: the hyper-parameters a chromosome stands for."""

    hidden: int  # neurons in the first hidden layer
    epochs: int
    learning_rate: float

    def __post_init__(self) -> None:
        if self.hidden < 1 or self.epochs < 1 or not self.learning_rate > 0:
            raise ConfigError(
                f"genes: expected hidden >= 1, epochs >= 1 and learning_rate > 0, found "
                f"hidden={self.hidden}, epochs={self.epochs}, learning_rate={self.learning_rate}"
            )

    def hidden_sizes(self, ratio: float | None = 0.5) -> tuple[int, ...]:
        """Hidden layer widths: ``(hidden, max(1, round(hidden * ratio)))``; ``(hidden,)`` when
        ``ratio`` is None or 0."""
        if not ratio:
            return (self.hidden,)
        return (self.hidden, max(1, _round_half_up(self.hidden * ratio)))


@dataclass(frozen=True, kw_only=True, slots=True)
class GeneLayout:
    """How many bits each gene gets, the range it maps onto, and the second layer's ratio."""

    hidden_bits: int = 7
    epochs_bits: int = 5
    learning_rate_bits: int = 4  # 16 bits in all: the paper's "rule of thumb" length
    hidden_range: tuple[int, int] = (1, 100)  # the paper: 56 inputs, 2 outputs -> 1..100
    epochs_range: tuple[int, int] = (10, 100)
    learning_rate_range: tuple[float, float] = (1e-4, 1e-2)  # decoded on a log scale
    # 20 -> 10 as in 56-20-10-2; None or 0: one hidden layer (0 is how TOML, with no null,
    # says it)
    second_layer_ratio: float | None = 0.5

    def __post_init__(self) -> None:
        for name in ("hidden_bits", "epochs_bits", "learning_rate_bits"):
            bits = getattr(self, name)
            if not isinstance(bits, int) or not 1 <= bits <= 30:
                raise ConfigError(f"gene layout: {name} must be an integer 1..30, found {bits!r}")
        for name, low in (("hidden_range", 1), ("epochs_range", 1)):
            lo, hi = getattr(self, name)
            if not (isinstance(lo, int) and isinstance(hi, int) and low <= lo <= hi):
                raise ConfigError(
                    f"gene layout: {name} must be two integers {low} <= low <= high, "
                    f"found ({lo!r}, {hi!r})"
                )
        lr_lo, lr_hi = self.learning_rate_range
        if not 0 < lr_lo <= lr_hi <= 10:
            raise ConfigError(
                "gene layout: learning_rate_range must satisfy 0 < low <= high <= 10, "
                f"found ({lr_lo!r}, {lr_hi!r})"
            )
        ratio = self.second_layer_ratio
        if ratio is not None and not 0 <= ratio <= 10:
            raise ConfigError(
                "gene layout: second_layer_ratio must be in [0, 10] (0 or None: one hidden "
                f"layer), found {ratio!r}"
            )

    @property
    def n_bits(self) -> int:
        """Chromosome length."""
        return self.hidden_bits + self.epochs_bits + self.learning_rate_bits

    def _fields(self, chromosome: str) -> tuple[int, int, int]:
        """The three unsigned integers (MSB first) held by a validated chromosome."""
        if len(chromosome) != self.n_bits or set(chromosome) - {"0", "1"}:
            raise DataError(
                f"chromosome {chromosome!r}: expected {self.n_bits} characters of 0/1, "
                f"found {len(chromosome)} characters"
            )
        a = self.hidden_bits
        b = a + self.epochs_bits
        return int(chromosome[:a], 2), int(chromosome[a:b], 2), int(chromosome[b:], 2)

    def decode(self, chromosome: str) -> Genes:
        """Genes of a chromosome such as ``"0011001100110011"``; always within the ranges."""
        vh, ve, vl = self._fields(chromosome)
        return Genes(
            hidden=_linear(vh, self.hidden_bits, self.hidden_range),
            epochs=_linear(ve, self.epochs_bits, self.epochs_range),
            learning_rate=_logarithmic(vl, self.learning_rate_bits, self.learning_rate_range),
        )

    def encode(self, genes: Genes) -> str:
        """The chromosome whose decoded genes are nearest to ``genes`` (values are clipped)."""
        vh = _nearest_code(genes.hidden, self.hidden_bits, self.hidden_range)
        ve = _nearest_code(genes.epochs, self.epochs_bits, self.epochs_range)
        lo, hi = self.learning_rate_range
        m = (1 << self.learning_rate_bits) - 1
        if hi == lo:
            vl = 0
        else:
            t = (math.log10(genes.learning_rate) - math.log10(lo)) / (
                math.log10(hi) - math.log10(lo)
            )
            vl = min(max(_round_half_up(t * m), 0), m)
        return (
            format(vh, f"0{self.hidden_bits}b")
            + format(ve, f"0{self.epochs_bits}b")
            + format(vl, f"0{self.learning_rate_bits}b")
        )

    def hidden_sizes(self, genes: Genes) -> tuple[int, ...]:
        """Hidden layer widths of ``genes`` under this layout's second-layer ratio."""
        return genes.hidden_sizes(self.second_layer_ratio)


def _linear(v: int, bits: int, value_range: tuple[int, int]) -> int:
    """``lo + round(v * (hi - lo) / (2**bits - 1))``, rounded half up in exact integers."""
    lo, hi = value_range
    m = (1 << bits) - 1
    return lo + (2 * v * (hi - lo) + m) // (2 * m)


def _logarithmic(v: int, bits: int, value_range: tuple[float, float]) -> float:
    """``10 ** (log10(lo) + v / (2**bits - 1) * (log10(hi) - log10(lo)))``, clipped to range."""
    lo, hi = value_range
    m = (1 << bits) - 1
    exponent = math.log10(lo) + v / m * (math.log10(hi) - math.log10(lo))
    return float(min(max(10.0**exponent, lo), hi))  # the clip only absorbs float rounding


def _nearest_code(value: int, bits: int, value_range: tuple[int, int]) -> int:
    """The code whose linear decoding is nearest to ``value`` (ties to the lower code)."""
    lo, hi = value_range
    m = (1 << bits) - 1
    if hi == lo:
        return 0
    guess = min(max(_round_half_up((value - lo) * m / (hi - lo)), 0), m)
    # Decoding rounds, so check the neighbours rather than trust the inverse formula.
    candidates = [c for c in (guess - 1, guess, guess + 1) if 0 <= c <= m]
    return min(candidates, key=lambda c: (abs(_linear(c, bits, value_range) - value), c))
