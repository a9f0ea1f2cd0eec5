"""The genetic algorithm of the paper's section 2.4, on DEAP's operators.

A generational GA in the style of ``deap.algorithms.eaSimple``: roulette-wheel selection,
single-point crossover of consecutive pairs, per-bit flip mutation, the whole population
replaced each generation (optionally keeping ``elitism`` best individuals). Fitness comes
from a function the caller injects, evaluated once per generation for all new chromosomes
(the caller trains every individual x every fold as one batched job).
"""

from __future__ import annotations

import difflib
import logging
import math
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.serial import from_mapping, to_mapping
from ffmatch.paper.search.checkpoint import GAState, load_state, save_state
from ffmatch.paper.search.encoding import GeneLayout, Genes

logger = logging.getLogger(__name__)

FITNESS_METRICS = ("accuracy", "f1", "balanced_accuracy", "roc_auc")

# Roulette needs positive weights: an individual of fitness f is drawn with probability
# (f + eps) / sum(f_j + eps). With all fitnesses 0 selection is uniform; one of fitness 0
# among fitter ones is almost never drawn. Reported fitnesses are never shifted.
SELECTION_EPSILON = 1e-6

Evaluate = Callable[[Sequence[Genes]], Sequence[float]]

_GENE_KEYS = ("hidden", "epochs", "learning_rate")  # Genes' fields, flat in an individual


@dataclass(frozen=True, kw_only=True, slots=True)
class GAConfig:
    """Settings of one GA run; the defaults are the paper's preset."""

    population: int = 10  # the paper: "The initial population is 10"
    generations: int = 10  # generations bred after the initial one (eaSimple's ngen)
    crossover_prob: float = 0.9  # probability that a consecutive pair is crossed over
    mutation_prob: float = 0.1  # probability that each bit flips (every child is mutated)
    elitism: int = 0  # best individuals copied unchanged; 0 in the paper
    fitness: str = "accuracy"  # the metric the caller's evaluate averages over folds
    layout: GeneLayout = field(default_factory=GeneLayout)

    def __post_init__(self) -> None:
        _check_int("population", self.population, low=2)
        _check_int("generations", self.generations, low=0)
        for name in ("crossover_prob", "mutation_prob"):
            p = getattr(self, name)
            if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
                raise ConfigError(f"GA config: {name} must be a probability in [0, 1], found {p!r}")
        _check_int("elitism", self.elitism, low=0)
        if self.elitism >= self.population:
            raise ConfigError(
                f"GA config: elitism must be smaller than population ({self.population}), "
                f"found {self.elitism}"
            )
        if self.fitness not in FITNESS_METRICS:
            hint = difflib.get_close_matches(str(self.fitness), FITNESS_METRICS, n=1)
            did_you_mean = f"; did you mean {hint[0]!r}?" if hint else ""
            raise ConfigError(
                f"GA config: fitness must be one of {', '.join(FITNESS_METRICS)}, "
                f"found {self.fitness!r}{did_you_mean}"
            )
        if not isinstance(self.layout, GeneLayout):
            raise ConfigError(f"GA config: layout must be a GeneLayout, found {self.layout!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Individual:
    """A chromosome, the genes it decodes to, and its fitness."""

    chromosome: str
    genes: Genes
    fitness: float

    def to_dict(self) -> dict[str, Any]:
        """Flat dict: chromosome, hidden, epochs, learning_rate, fitness."""
        return {"chromosome": self.chromosome, **to_mapping(self.genes), "fitness": self.fitness}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Individual:
        """Inverse of ``to_dict``."""
        return cls(
            chromosome=str(data["chromosome"]),
            genes=from_mapping(Genes, {k: data[k] for k in _GENE_KEYS}, "individual"),
            fitness=float(data["fitness"]),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class GenerationRecord:
    """One generation: its population in order, how many were new, and the best so far."""

    generation: int  # 0 = the initial random population
    individuals: tuple[Individual, ...]
    n_new: int  # chromosomes evaluated for the first time in this generation
    best_ever: float  # fitness of the best individual seen up to and including this one

    @property
    def fitnesses(self) -> tuple[float, ...]:
        """Fitness of each individual, in population order."""
        return tuple(ind.fitness for ind in self.individuals)

    @property
    def best(self) -> float:
        """Highest fitness in this generation."""
        return max(self.fitnesses)

    @property
    def mean(self) -> float:
        """Mean fitness of this generation."""
        return math.fsum(self.fitnesses) / len(self.individuals)

    @property
    def min(self) -> float:
        """Lowest fitness in this generation."""
        return min(self.fitnesses)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the summary statistics and the population."""
        return {
            "generation": self.generation,
            "best": self.best,
            "mean": self.mean,
            "min": self.min,
            "best_ever": self.best_ever,
            "n_new": self.n_new,
            "population": [ind.to_dict() for ind in self.individuals],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationRecord:
        """Inverse of ``to_dict`` (the statistics are recomputed)."""
        return cls(
            generation=int(data["generation"]),
            individuals=tuple(Individual.from_dict(d) for d in data["population"]),
            n_new=int(data["n_new"]),
            best_ever=float(data["best_ever"]),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class GAResult:
    """Outcome of ``evolve``: the best-ever individual, the history, and what was trained."""

    best: Individual  # hall of fame of one: the first individual to reach the top fitness
    history: tuple[GenerationRecord, ...]  # generations 0..config.generations
    evaluated: tuple[Individual, ...]  # distinct chromosomes, in the order evaluated
    config: GAConfig
    seed: int

    @property
    def n_evaluated(self) -> int:
        """Distinct chromosomes evaluated (each is trained once per fold by the caller)."""
        return len(self.evaluated)

    @property
    def epochs_per_fold(self) -> int:
        """Sum of the evaluated chromosomes' epochs: network-epochs trained per CV fold."""
        return sum(ind.genes.epochs for ind in self.evaluated)

    @property
    def fitness_by_generation(self) -> list[dict[str, float]]:
        """``[{generation, best, mean}, ...]`` as ``metrics.json`` records it."""
        return [
            {"generation": rec.generation, "best": rec.best, "mean": rec.mean}
            for rec in self.history
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of everything in the result."""
        return {
            "best": self.best.to_dict(),
            "hidden_sizes": list(self.config.layout.hidden_sizes(self.best.genes)),
            "n_evaluated": self.n_evaluated,
            "epochs_per_fold": self.epochs_per_fold,
            "seed": self.seed,
            "config": to_mapping(self.config),
            "fitness_by_generation": self.fitness_by_generation,
            "history": [rec.to_dict() for rec in self.history],
            "evaluated": [ind.to_dict() for ind in self.evaluated],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GAResult:
        """Inverse of ``to_dict``."""
        return cls(
            best=Individual.from_dict(data["best"]),
            history=tuple(GenerationRecord.from_dict(d) for d in data["history"]),
            evaluated=tuple(Individual.from_dict(d) for d in data["evaluated"]),
            config=from_mapping(GAConfig, data["config"], "config"),
            seed=int(data["seed"]),
        )


def evolve(
    evaluate: Evaluate,
    *,
    config: GAConfig | None = None,
    seed: int,
    checkpoint: Path | None = None,
    resume: bool = False,
    on_generation: Callable[[GenerationRecord], None] | None = None,
) -> GAResult:
    """Run the GA and return the best-ever individual with the full history.

    The loop, as in ``deap.algorithms.eaSimple`` with per-bit mutation::

        population = n random chromosomes (each bit 0 or 1 with probability 1/2)
        evaluate(population)                                 # generation 0
        for g in 1..generations:
            elite     = the `elitism` fittest of population  (none in the paper's preset)
            offspring = selRoulette(population, n - elitism) # p_i = f_i / sum f_j (formula 6)
            for each consecutive pair in offspring:
                with probability crossover_prob: cxOnePoint(pair)
            for each child: mutFlipBit(child, indpb=mutation_prob)
            population = elite + offspring
            evaluate(new chromosomes of population)          # one call per generation

    Parameters
    ----------
    evaluate
        Maps a sequence of ``Genes`` to one fitness each (finite, >= 0; higher is better).
        It is called once per generation with only the chromosomes never evaluated before
        (deduplicated), and not at all when there are none.
    config
        GA settings; ``GAConfig()`` (the paper's preset) when omitted.
    seed
        Seeds the GA's own ``random.Random``; DEAP's operators draw from the global ``random``
        module, which is lent this state only while they run and restored afterwards (also on
        error), so neither the caller's state nor ``evaluate`` affects the search.
    checkpoint
        JSON file written atomically after every generation.
    resume
        Continue from ``checkpoint`` if it exists (a missing one starts a new run). The result
        equals an uninterrupted run's. A checkpoint of another config or seed is a ConfigError.
    on_generation
        Called with each generation's record after it is evaluated and checkpointed.
    """
    config = GAConfig() if config is None else config
    _check_int("seed", seed, low=0)
    state = None
    if resume and checkpoint is not None:
        state = _load(checkpoint, config, seed)
    if state is None:
        state = _State(rng=random.Random(seed))
        with _lent_random(state.rng):
            population = [
                _random_chromosome(config.layout.n_bits) for _ in range(config.population)
            ]
        _advance(state, population, evaluate, config, seed, checkpoint, on_generation)

    for _generation in range(len(state.history), config.generations + 1):
        fitnesses = [state.cache[c] for c in state.population]
        population = breed(state.population, fitnesses, config=config, rng=state.rng)
        _advance(state, population, evaluate, config, seed, checkpoint, on_generation)

    assert state.best is not None  # generation 0 always sets it
    return GAResult(
        best=state.best,
        history=tuple(state.history),
        evaluated=tuple(
            Individual(chromosome=c, genes=config.layout.decode(c), fitness=f)
            for c, f in state.cache.items()
        ),
        config=config,
        seed=seed,
    )


@dataclass(kw_only=True, slots=True)
class _State:
    """The loop's working state (mutable, private): what a checkpoint holds."""

    rng: random.Random
    population: list[str] = field(default_factory=list)
    cache: dict[str, float] = field(default_factory=dict)  # chromosome -> fitness
    history: list[GenerationRecord] = field(default_factory=list)
    best: Individual | None = None


@dataclass(frozen=True, slots=True, order=True)
class _Weight:
    """What ``selRoulette`` reads as ``ind.fitness``: comparable, with ``values[0]``."""

    values: tuple[float]


@dataclass(frozen=True, slots=True)
class _Candidate:
    """An individual as DEAP's roulette sees it."""

    chromosome: str
    fitness: _Weight


@contextmanager
def _lent_random(rng: random.Random) -> Iterator[None]:
    """Lend ``rng``'s state to the global ``random`` module (DEAP's source), then take it back."""
    outer = random.getstate()
    random.setstate(rng.getstate())
    try:
        yield
    finally:
        rng.setstate(random.getstate())
        random.setstate(outer)


def _random_chromosome(n_bits: int) -> str:
    """Bits drawn one by one with ``random.randint(0, 1)``, as DEAP's examples initialise."""
    return "".join(str(random.randint(0, 1)) for _ in range(n_bits))


def breed(
    population: Sequence[str],
    fitnesses: Sequence[float],
    *,
    config: GAConfig,
    rng: random.Random,
) -> list[str]:
    """The next generation's chromosomes: elite, then roulette + one-point crossover + bit flips.

    Draws from ``rng`` only (lent to DEAP's global ``random`` for the call, then restored).
    """
    if len(population) != len(fitnesses):
        raise DataError(
            f"GA breed: {len(population)} chromosomes but {len(fitnesses)} fitness values"
        )
    with _lent_random(rng):
        return _breed(population, fitnesses, config)


def _breed(population: Sequence[str], fitnesses: Sequence[float], config: GAConfig) -> list[str]:
    """``breed`` drawing from the global ``random`` module (the caller lends it a state)."""
    # Imported here: deap.tools pulls in moocore and urllib (~0.15 s), and every command
    # imports this module for GAConfig.
    from deap import tools

    n, k = len(population), config.elitism
    # Stable sort: among equal fitnesses the earlier individual is the elite.
    order = sorted(range(n), key=lambda i: -fitnesses[i])
    elite = [population[i] for i in order[:k]]
    candidates = [
        _Candidate(chromosome=c, fitness=_Weight((f + SELECTION_EPSILON,)))
        for c, f in zip(population, fitnesses, strict=True)
    ]
    chosen = tools.selRoulette(candidates, n - k)  # k spins, each p_i = w_i / sum w_j
    offspring = [[int(b) for b in cand.chromosome] for cand in chosen]
    for i in range(1, len(offspring), 2):
        if random.random() < config.crossover_prob:
            tools.cxOnePoint(offspring[i - 1], offspring[i])  # in place, cut in 1..n_bits-1
    for child in offspring:
        tools.mutFlipBit(child, indpb=config.mutation_prob)  # in place
    return elite + ["".join(map(str, child)) for child in offspring]


def _advance(
    state: _State,
    population: list[str],
    evaluate: Evaluate,
    config: GAConfig,
    seed: int,
    checkpoint: Path | None,
    on_generation: Callable[[GenerationRecord], None] | None,
) -> None:
    """Evaluate a new generation, record it, update the best-ever, checkpoint, report."""
    layout = config.layout
    new = list(dict.fromkeys(c for c in population if c not in state.cache))
    if new:
        values = _checked(evaluate([layout.decode(c) for c in new]), new)
        state.cache.update(zip(new, values, strict=True))
    individuals = tuple(
        Individual(chromosome=c, genes=layout.decode(c), fitness=state.cache[c]) for c in population
    )
    for ind in individuals:  # strict ">": the first to reach a fitness keeps the title
        if state.best is None or ind.fitness > state.best.fitness:
            state.best = ind
    assert state.best is not None
    record = GenerationRecord(
        generation=len(state.history),
        individuals=individuals,
        n_new=len(new),
        best_ever=state.best.fitness,
    )
    state.population = population
    state.history.append(record)
    logger.info(
        "GA generation %d: best %.4f, mean %.4f, best ever %.4f, %d new",
        record.generation,
        record.best,
        record.mean,
        record.best_ever,
        record.n_new,
    )
    if checkpoint is not None:
        save_state(checkpoint, _snapshot(state, config, seed))
    if on_generation is not None:
        on_generation(record)


def _checked(values: Sequence[float], chromosomes: Sequence[str]) -> list[float]:
    """Fitness values as floats, after checking there is one finite value >= 0 per chromosome."""
    values = list(values)
    if len(values) != len(chromosomes):
        raise DataError(
            f"GA fitness: evaluate returned {len(values)} values for {len(chromosomes)} individuals"
        )
    out = []
    for chromosome, value in zip(chromosomes, values, strict=True):
        f = float(value)
        if not (math.isfinite(f) and f >= 0):
            raise DataError(
                f"GA fitness: chromosome {chromosome}: expected a finite fitness >= 0, found {f}"
            )
        out.append(f)
    return out


def _snapshot(state: _State, config: GAConfig, seed: int) -> GAState:
    """The checkpoint of the state after its last generation."""
    assert state.best is not None
    return GAState(
        config=to_mapping(config),
        seed=seed,
        generation=len(state.history) - 1,
        population=tuple(state.population),
        cache=dict(state.cache),
        history=tuple(rec.to_dict() for rec in state.history),
        best=state.best.to_dict(),
        random_state=state.rng.getstate(),
    )


def _load(checkpoint: Path, config: GAConfig, seed: int) -> _State | None:
    """The state saved in ``checkpoint``, None if there is none; ConfigError if it differs."""
    if not Path(checkpoint).exists():
        logger.info("no GA checkpoint at %s; starting a new run", checkpoint)
        return None
    saved = load_state(checkpoint)
    asked = {"seed": seed, **to_mapping(config)}
    found = {"seed": saved.seed, **saved.config}
    diff = [key for key in asked if asked[key] != found.get(key)]
    if diff:
        was = ", ".join(f"{key}={found.get(key)!r}" for key in diff)
        now = ", ".join(f"{key}={asked[key]!r}" for key in diff)
        raise ConfigError(
            f"{checkpoint}: the checkpoint was written with {was}; this run asks {now}. "
            "Resume with the same settings, or start a new run without resume."
        )
    rng = random.Random()
    rng.setstate(saved.random_state)
    try:
        history = [GenerationRecord.from_dict(d) for d in saved.history]
        best = Individual.from_dict(saved.best)
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(
            f"{checkpoint}: GA checkpoint history or best is malformed ({err!r})"
        ) from None
    logger.info("resuming the GA from %s after generation %d", checkpoint, saved.generation)
    return _State(
        rng=rng,
        population=list(saved.population),
        cache=dict(saved.cache),
        history=history,
        best=best,
    )


def _check_int(name: str, value: object, *, low: int) -> None:
    """ConfigError unless ``value`` is an int (not a bool) >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"GA config: {name} must be an integer >= {low}, found {value!r}")
