"""The MLP's training settings, with the paper's values (section 2.2) as defaults."""

from __future__ import annotations

from dataclasses import dataclass

from ffmatch.core.errors import ConfigError

MAX_LR = 10.0  # Adam steps beyond this overflow the weights to NaN within an epoch
# How networks train (ffmatch.paper.nn.train.train_many): "compiled" is one compiled loop
# per network on the CPU, "stacked" one tensor program for all (CPU or GPU), "auto" the
# first on the CPU and the second elsewhere.
ENGINES = ("auto", "compiled", "stacked")


def check_engine(engine: str, device: str) -> None:
    """ConfigError unless ``engine`` is one of ENGINES and can train on ``device``."""
    if engine not in ENGINES:
        raise ConfigError(f"engine: expected one of {', '.join(ENGINES)}, found {engine!r}")
    if engine == "compiled" and device != "cpu":
        raise ConfigError(f"engine 'compiled' trains on the CPU; for {device} use 'stacked'")


@dataclass(frozen=True, kw_only=True, slots=True)
class MLPConfig:
    """Hidden sizes and training schedule of one MLP (the paper's 56-20-10-2 network)."""

    hidden: tuple[int, ...] = (20, 10)  # hidden layer widths; the paper's 56-20-10-2
    epochs: int = 80  # full passes over the training rows; the paper compared 50-200
    lr: float = 1e-4  # Adam step size; the paper tried 0.1 down to 1e-4
    batch_size: int = 12  # rows per Adam step; the last batch of an epoch may be shorter

    def __post_init__(self) -> None:
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ConfigError(f"hidden: expected one or more sizes >= 1, found {self.hidden}")
        if self.epochs < 1:
            raise ConfigError(f"epochs: expected an integer >= 1, found {self.epochs}")
        if not 0 < self.lr <= MAX_LR:  # also refuses NaN and infinity
            raise ConfigError(f"lr: expected a number in (0, {MAX_LR}], found {self.lr}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size: expected an integer >= 1, found {self.batch_size}")
