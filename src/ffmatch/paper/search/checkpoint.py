"""Saving and loading the GA's state after a generation, so a killed run can resume exactly.

The state is one JSON file (readable, diffable, floats round-trip exactly) with a version
field. It is written to a temporary file beside the target, flushed, and moved over it with
``os.replace`` (``ffmatch.core.io.atomic``), so a crash leaves either the previous checkpoint or
the new one, never half. Cost: a few milliseconds per generation (JSON and two fsyncs).

Loading checks the file against what a run writes before anything is resumed from it: a
tampered or damaged checkpoint (a fitness of 5.0, a population the cache does not know, a
random state out of range) is one line naming the field, never a wrong resumed run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ffmatch.core.errors import DataError
from ffmatch.core.io.atomic import atomic_write

CHECKPOINT_VERSION = 1
MAX_CHECKPOINT_BYTES = 64 * 2**20  # a 16-bit layout caches at most 65536 fitnesses: ~3 MB
_MT_WORDS = 625  # random.Random's Mersenne Twister state: 624 words and a position

RandomState = tuple[Any, ...]  # what random.Random.getstate() returns: (3, 625 ints, None)


@dataclass(frozen=True, kw_only=True, slots=True)
class GAState:
    """Everything needed to continue a GA run after generation ``generation``."""

    config: dict[str, Any]  # to_mapping(GAConfig): resuming with another config is refused
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
    """Read a checkpoint written by ``save_state``; DataError naming what is wrong otherwise."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_CHECKPOINT_BYTES:
            raise DataError(
                f"{path}: {path.stat().st_size} bytes; a GA checkpoint takes at most "
                f"{MAX_CHECKPOINT_BYTES}"
            )
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
        state = GAState(
            config=data["config"],
            seed=int(data["seed"]),
            generation=int(data["generation"]),
            population=tuple(str(c) for c in data["population"]),
            cache={str(k): float(v) for k, v in data["cache"].items()},
            history=tuple(data["history"]),
            best=data["best"],
            random_state=(int(version), tuple(int(i) for i in internal), gauss),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise DataError(f"{path}: GA checkpoint is incomplete or malformed ({err!r})") from err
    problem = _problem(state, data)
    if problem:
        raise DataError(f"{path}: GA checkpoint field {problem}")
    return state


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _problem(state: GAState, data: dict[str, Any]) -> str | None:
    """What in a parsed checkpoint a run could not have written, or None."""
    if not isinstance(state.config, dict):
        return f"'config': expected a table of settings, found {state.config!r}"
    if not (_is_int(data["seed"]) and 0 <= state.seed < 2**32):
        return f"'seed': expected an integer in 0..2**32-1, found {data['seed']!r}"
    if not (_is_int(data["generation"]) and state.generation >= 0):
        return f"'generation': expected an integer >= 0, found {data['generation']!r}"
    chromosomes = [*state.population, *state.cache]
    if not state.population or not state.cache:
        return "'population': expected a non-empty population and fitness cache"
    width = len(chromosomes[0])
    for c in chromosomes:
        if len(c) != width or not c or set(c) - {"0", "1"}:
            return f"'population': chromosome {c!r}: expected {width} characters of 0/1"
    for c, fitness in state.cache.items():
        if not (math.isfinite(fitness) and 0.0 <= fitness <= 1.0):
            return f"'cache': chromosome {c}: expected a fitness in [0, 1], found {fitness}"
    unknown = [c for c in state.population if c not in state.cache]
    if unknown:
        return f"'population': chromosome {unknown[0]} has no fitness in the cache"
    if len(state.history) != state.generation + 1 or not all(
        isinstance(h, dict) for h in state.history
    ):
        return (
            f"'history': expected {state.generation + 1} generation records, found "
            f"{len(state.history)}"
        )
    best = state.best
    top = max(state.cache.values())
    if not isinstance(best, dict) or best.get("chromosome") not in state.cache:
        return "'best': expected the best individual, one of the cache's chromosomes"
    if best.get("fitness") != top or state.cache[best["chromosome"]] != top:
        return f"'best': expected the cache's best fitness {top}, found {best.get('fitness')!r}"
    version, internal, gauss = state.random_state
    if (
        version != 3
        or len(internal) != _MT_WORDS
        or not all(0 <= i < 2**32 for i in internal)
        or internal[-1] > _MT_WORDS - 1
        or not (gauss is None or isinstance(gauss, float))
    ):
        return "'random_state': expected the state of Python's random.Random (version 3)"
    return None
