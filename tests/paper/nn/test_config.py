"""MLPConfig: the paper's defaults, and ranges checked with a plain message."""

from __future__ import annotations

import pytest

from ffmatch.core.errors import ConfigError
from ffmatch.paper.nn.config import MLPConfig


def test_defaults_are_the_papers() -> None:
    cfg = MLPConfig()
    assert (cfg.hidden, cfg.epochs, cfg.lr, cfg.batch_size) == ((20, 10), 80, 1e-4, 12)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"hidden": ()}, r"hidden: expected one or more sizes >= 1, found \(\)"),
        ({"hidden": (20, 0)}, r"hidden: .* found \(20, 0\)"),
        ({"epochs": 0}, "epochs: expected an integer >= 1, found 0"),
        ({"lr": -1.0}, r"lr: expected a number in \(0, 10.0\], found -1.0"),
        ({"lr": float("inf")}, r"lr: expected a number in \(0, 10.0\], found inf"),
        ({"batch_size": 0}, "batch_size: expected an integer >= 1, found 0"),
    ],
)
def test_out_of_range_values_are_rejected(kw: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        MLPConfig(**kw)  # type: ignore[arg-type]
