"""Saving and loading the GA's state after a generation, so a killed run can resume exactly.

The state is one JSON file (readable, diffable, floats round-trip exactly) with a version
field. It is written to a temporary file beside the target, flushed, and moved over it with
``os.replace`` (``ffmatch.core.io.atomic``), so a crash leaves either the previous checkpoint or
the new one, never half. Cost: a few milliseconds per generation (JSON and two fsyncs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ffmatch.core.errors import DataError
from ffmatch.core.io.atomic import atomic_write

CHECKPOINT_VERSION = 1

RandomState = tuple[Any, ...]  # what random.Random.getstate() returns: (3, 625 ints, None)


@dataclass(frozen=True, kw_only=True, slots=True)
class GAState:
    """Everything needed to continue a GA run after generation ``generation``."""

    config: dict[str, Any]  # GAConfig.to_dict(): resuming with another config is refused
    seed: int
    generation: int  # the last generation completed (0 = the initial population)
    population: tuple[str, ...]  # chromosomes of that generation, in order
    cache: dict[str, float]  # chromosome -> fitness, in the order first evaluated
    history: tuple[dict[str, Any], ...]  # GenerationRecord.to_dict() per generation so far
    best: dict[str, Any]  # Individual.to_dict() of the best-ever individual
    random_state: RandomState  # the GA's own random.Random state after that generation

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, with the version field."""
        version, internal, gauss = self.random_state
        return {
            "version": CHECKPOINT_VERSION,
            "config": self.config,
            "seed": self.seed,
            "generation": self.generation,
            "population": list(self.population),
            "cache": self.cache,
            "history": list(self.history),
            "best": self.best,
            "random_state": [version, list(internal), gauss],
        }


def save_state(path: Path, state: GAState) -> None:
    """Write ``state`` to ``path`` atomically (through ``ffmatch.core.io.atomic.atomic_write``)."""
    path = Path(path)
    text = json.dumps(state.to_dict(), allow_nan=False)  # C encoder: ~20x json.dump's speed
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        handle.write(text)


def load_state(path: Path) -> GAState:
    """Read a checkpoint written by ``save_state``; DataError if unreadable or another version."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: cannot read the GA checkpoint ({err})") from err
    if not isinstance(data, dict) or data.get("version") != CHECKPOINT_VERSION:
        found = data.get("version") if isinstance(data, dict) else type(data).__name__
        raise DataError(
            f"{path}: expected a GA checkpoint of version {CHECKPOINT_VERSION}, found {found!r}"
        )
    try:
        version, internal, gauss = data["random_state"]
        return GAState(
            config=data["config"],
            seed=int(data["seed"]),
            generation=int(data["generation"]),
            population=tuple(str(c) for c in data["population"]),
            cache={str(k): float(v) for k, v in data["cache"].items()},
            history=tuple(data["history"]),
            best=data["best"],
            random_state=(int(version), tuple(int(i) for i in internal), gauss),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(f"{path}: GA checkpoint is incomplete or malformed ({err!r})") from err
