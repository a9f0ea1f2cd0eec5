"""Tests of the evolve loop: history, hall of fame, cache, scoped randomness, resume, errors."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.paper.search import GAConfig, GAResult, GenerationRecord, Genes, evolve, load_state


def synthetic_fitness(genes: Sequence[Genes]) -> list[float]:
    """A cheap fitness peaked at 60 hidden neurons, 70 epochs, learning rate 1e-3."""
    return [
        max(
            0.0,
            1.0
            - abs(g.hidden - 60) / 200
            - abs(g.epochs - 70) / 300
            - abs(math.log10(g.learning_rate) + 3) / 10,
        )
        for g in genes
    ]


class CountingEvaluate:
    """Records every call; raises on call number ``fail_at`` (1-based) to simulate a kill."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls: list[list[Genes]] = []
        self.fail_at = fail_at

    def __call__(self, genes: Sequence[Genes]) -> list[float]:
        self.calls.append(list(genes))
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise KeyboardInterrupt("killed")
        return synthetic_fitness(genes)


def test_history_has_the_initial_population_and_every_generation() -> None:
    result = evolve(synthetic_fitness, config=GAConfig(), seed=0)
    assert [rec.generation for rec in result.history] == list(range(11))
    assert all(len(rec.individuals) == 10 for rec in result.history)
    best_ever = [rec.best_ever for rec in result.history]
    assert best_ever == sorted(best_ever)  # the hall of fame never forgets
    everyone = [ind for rec in result.history for ind in rec.individuals]
    assert result.best.fitness == max(ind.fitness for ind in everyone) == best_ever[-1]
    assert result.best.genes == result.config.layout.decode(result.best.chromosome)
    for rec in result.history:
        assert rec.min <= rec.mean <= rec.best


def test_the_search_improves_on_the_initial_population() -> None:
    config = GAConfig(population=20, generations=15)
    runs = [evolve(synthetic_fitness, config=config, seed=s) for s in range(3)]
    assert sum(r.history[-1].mean - r.history[0].mean for r in runs) > 0


def test_same_seed_same_result_other_seed_different() -> None:
    first = evolve(synthetic_fitness, seed=42).to_dict()
    assert evolve(synthetic_fitness, seed=42).to_dict() == first
    assert evolve(synthetic_fitness, seed=43).to_dict() != first


def test_global_random_state_is_left_untouched() -> None:
    random.seed(1234)
    before = random.getstate()
    evolve(synthetic_fitness, seed=0)
    assert random.getstate() == before
    with pytest.raises(KeyboardInterrupt):
        evolve(CountingEvaluate(fail_at=3), seed=0)
    assert random.getstate() == before


def test_evaluate_using_global_random_does_not_change_the_search() -> None:
    def noisy_caller(genes: Sequence[Genes]) -> list[float]:
        [random.random() for _ in range(7)]  # e.g. a library drawing from `random`
        return synthetic_fitness(genes)

    assert evolve(noisy_caller, seed=5).to_dict() == evolve(synthetic_fitness, seed=5).to_dict()


def test_each_generation_is_one_call_with_only_new_chromosomes() -> None:
    evaluate = CountingEvaluate()
    result = evolve(evaluate, seed=3)
    evaluated_genes = [g for call in evaluate.calls for g in call]
    assert evaluated_genes == [ind.genes for ind in result.evaluated]
    assert len(evaluated_genes) == result.n_evaluated
    chromosomes = [ind.chromosome for ind in result.evaluated]
    assert len(set(chromosomes)) == len(chromosomes)  # never trained twice
    assert set(chromosomes) == {ind.chromosome for r in result.history for ind in r.individuals}
    assert len(evaluate.calls) == sum(rec.n_new > 0 for rec in result.history) <= 11
    assert [len(c) for c in evaluate.calls] == [r.n_new for r in result.history if r.n_new]
    assert result.epochs_per_fold == sum(ind.genes.epochs for ind in result.evaluated)


def test_converged_population_is_not_re_evaluated() -> None:
    # No crossover or mutation: after generation 0 every child is a copy of a parent.
    evaluate = CountingEvaluate()
    result = evolve(evaluate, config=GAConfig(crossover_prob=0.0, mutation_prob=0.0), seed=1)
    assert len(evaluate.calls) == 1
    assert [rec.n_new for rec in result.history[1:]] == [0] * 10


def test_on_generation_sees_every_record_in_order() -> None:
    seen: list[GenerationRecord] = []
    result = evolve(synthetic_fitness, seed=0, on_generation=seen.append)
    assert tuple(seen) == result.history


@pytest.mark.parametrize("fail_at", [1, 2, 5, 11])
def test_resume_after_a_kill_equals_an_uninterrupted_run(tmp_path: Path, fail_at: int) -> None:
    config = GAConfig(generations=12)
    uninterrupted = evolve(synthetic_fitness, config=config, seed=7)
    checkpoint = tmp_path / "ga.json"
    with pytest.raises(KeyboardInterrupt):
        evolve(CountingEvaluate(fail_at=fail_at), config=config, seed=7, checkpoint=checkpoint)
    evaluate = CountingEvaluate()
    resumed = evolve(evaluate, config=config, seed=7, checkpoint=checkpoint, resume=True)
    assert resumed.to_dict() == uninterrupted.to_dict()
    # Only chromosomes not in the checkpoint were evaluated after resuming.
    assert sum(len(c) for c in evaluate.calls) <= uninterrupted.n_evaluated


def test_resume_of_a_finished_run_evaluates_nothing(tmp_path: Path) -> None:
    checkpoint = tmp_path / "ga.json"
    done = evolve(synthetic_fitness, seed=2, checkpoint=checkpoint)
    assert load_state(checkpoint).generation == 10
    evaluate = CountingEvaluate()
    again = evolve(evaluate, seed=2, checkpoint=checkpoint, resume=True)
    assert evaluate.calls == []
    assert again.to_dict() == done.to_dict()


def test_resume_without_a_checkpoint_starts_a_new_run(tmp_path: Path) -> None:
    result = evolve(synthetic_fitness, seed=2, checkpoint=tmp_path / "new.json", resume=True)
    assert result.to_dict() == evolve(synthetic_fitness, seed=2).to_dict()
    assert (tmp_path / "new.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["new.json"]  # no temporary files left


@pytest.mark.parametrize(
    ("config", "seed", "message"),
    [
        (GAConfig(), 8, r"written with seed=7; this run asks seed=8"),
        (GAConfig(population=12), 7, r"written with population=10; this run asks population=12"),
        (GAConfig(fitness="f1"), 7, r"fitness='accuracy'; this run asks fitness='f1'"),
    ],
)
def test_resume_with_other_settings_is_a_config_error(
    tmp_path: Path, config: GAConfig, seed: int, message: str
) -> None:
    checkpoint = tmp_path / "ga.json"
    evolve(synthetic_fitness, config=GAConfig(generations=1), seed=7, checkpoint=checkpoint)
    with pytest.raises(ConfigError, match=message):
        evolve(
            synthetic_fitness,
            config=GAConfig(generations=1, population=config.population, fitness=config.fitness),
            seed=seed,
            checkpoint=checkpoint,
            resume=True,
        )


def test_result_round_trips_through_json() -> None:
    result = evolve(synthetic_fitness, config=GAConfig(elitism=1), seed=0)
    data = json.loads(json.dumps(result.to_dict()))
    assert GAResult.from_dict(data) == result
    assert data["best"].keys() >= {"hidden", "epochs", "learning_rate", "chromosome", "fitness"}
    assert data["fitness_by_generation"][0].keys() == {"generation", "best", "mean"}
    assert data["hidden_sizes"] == list(result.best.genes.hidden_sizes(0.5))


def test_elitism_keeps_the_best_fitness_from_falling() -> None:
    result = evolve(synthetic_fitness, config=GAConfig(elitism=1, mutation_prob=0.3), seed=4)
    bests = [rec.best for rec in result.history]
    assert bests == sorted(bests)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (lambda n: [math.nan] * n, r"expected a finite fitness >= 0, found nan"),
        (lambda n: [-0.5] * n, r"expected a finite fitness >= 0, found -0.5"),
        (lambda n: [0.5] * (n - 1), r"evaluate returned \d+ values for \d+ individuals"),
    ],
)
def test_bad_fitness_values_are_a_data_error(values: object, message: str) -> None:
    def evaluate(genes: Sequence[Genes]) -> list[float]:
        return values(len(genes))  # type: ignore[operator, no-any-return]

    with pytest.raises(DataError, match=message):
        evolve(evaluate, seed=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"population": 1}, r"population must be an integer >= 2, found 1"),
        ({"generations": -1}, r"generations must be an integer >= 0, found -1"),
        ({"crossover_prob": 1.5}, r"crossover_prob must be a probability in \[0, 1\], found 1.5"),
        ({"mutation_prob": -0.1}, r"mutation_prob must be a probability"),
        ({"elitism": 10}, r"elitism must be smaller than population \(10\), found 10"),
        ({"fitness": "acuracy"}, r"found 'acuracy'; did you mean 'accuracy'\?"),
    ],
)
def test_bad_config_is_a_config_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GAConfig(**kwargs)  # type: ignore[arg-type]


def test_negative_seed_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"seed must be an integer >= 0, found -1"):
        evolve(synthetic_fitness, seed=-1)


def test_zero_generations_evaluates_only_the_initial_population() -> None:
    result = evolve(synthetic_fitness, config=GAConfig(generations=0), seed=0)
    assert len(result.history) == 1
    assert result.n_evaluated == len({ind.chromosome for ind in result.history[0].individuals})


def test_best_ever_is_the_first_to_reach_the_top_fitness() -> None:
    result = evolve(lambda genes: [0.5] * len(genes), seed=0)
    assert result.best == result.history[0].individuals[0]
