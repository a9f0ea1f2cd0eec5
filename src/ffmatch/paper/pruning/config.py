"""The settings of distinctiveness pruning, with the paper's values as defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ffmatch.core.errors import ConfigError
from ffmatch.paper.pruning.distinctiveness import DEFAULT_DEAD_TOL, Centring, check_centring


@dataclass(frozen=True, kw_only=True, slots=True)
class PruningConfig:
    """Thresholds and choices of distinctiveness pruning; defaults follow the paper."""

    similar_deg: float = 15.0  # pairs closer than this are merged (paper, Gedeon)
    complementary_deg: float = 165.0  # pairs wider than this are both removed (paper, Gedeon)
    centring: Centring = "mean"  # ReLU vectors must be centred for 165 degrees to be reachable
    dead_tol: float = DEFAULT_DEAD_TOL  # RMS deviation at or under which a unit is constant
    layers: Literal["first", "all"] = "first"  # the paper prunes the first hidden layer only
    merge: Literal["affine", "gedeon"] = "affine"  # affine fold is exact for parallel units

    def __post_init__(self) -> None:
        for name in ("similar_deg", "complementary_deg"):
            value = getattr(self, name)
            if not 0.0 <= value <= 180.0:
                raise ConfigError(f"pruning.{name}: expected degrees in [0, 180], found {value}")
        if self.similar_deg > self.complementary_deg:
            raise ConfigError(
                f"pruning: similar_deg ({self.similar_deg}) must not exceed complementary_deg "
                f"({self.complementary_deg}), or a pair could be both similar and complementary"
            )
        check_centring(self.centring)
        if not self.dead_tol >= 0.0:
            raise ConfigError(f"pruning.dead_tol: expected a number >= 0, found {self.dead_tol}")
        if self.layers not in ("first", "all"):
            raise ConfigError(f"pruning.layers: expected 'first' or 'all', found {self.layers!r}")
        if self.merge not in ("affine", "gedeon"):
            raise ConfigError(f"pruning.merge: expected 'affine' or 'gedeon', found {self.merge!r}")
