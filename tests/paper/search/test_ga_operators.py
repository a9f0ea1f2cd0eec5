"""Tests of one generation's breeding: roulette, one-point crossover, bit-flip mutation, elitism."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from ffmatch.core.errors import DataError
from ffmatch.paper.search import GAConfig, breed

N_BITS = GAConfig().layout.n_bits


def _random_population(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice("01") for _ in range(N_BITS)) for _ in range(n)]


def test_children_come_from_two_parents_cut_at_one_point() -> None:
    parents = _random_population(6, seed=1)
    config = GAConfig(population=6, crossover_prob=1.0, mutation_prob=0.0)
    for seed in range(20):
        children = breed(parents, [1.0] * 6, config=config, rng=random.Random(seed))
        for x, y in zip(children[0::2], children[1::2], strict=True):
            assert any(
                x == a[:cut] + b[cut:] and y == b[:cut] + a[cut:]
                for a in parents
                for b in parents
                for cut in range(1, N_BITS)
            ), (x, y)


def test_crossover_cut_is_uniform_over_inner_points() -> None:
    zeros, ones = "0" * N_BITS, "1" * N_BITS
    config = GAConfig(population=400, crossover_prob=1.0, mutation_prob=0.0)
    children = breed([zeros, ones] * 200, [1.0] * 400, config=config, rng=random.Random(3))
    cuts = Counter()
    for x, y in zip(children[0::2], children[1::2], strict=True):
        if x != y:  # parents differed: x is 0^cut 1^rest or 1^cut 0^rest
            cut = x.index(x[-1])
            assert x[:cut] + x[cut:] == x[0] * cut + x[-1] * (N_BITS - cut)
            assert y == "".join("1" if b == "0" else "0" for b in x)
            cuts[cut] += 1
    assert set(cuts) == set(range(1, N_BITS))  # never 0 or 16: the chromosome is always cut


def test_no_crossover_and_no_mutation_copy_parents() -> None:
    parents = _random_population(10, seed=2)
    config = GAConfig(crossover_prob=0.0, mutation_prob=0.0)
    children = breed(parents, [1.0] * 10, config=config, rng=random.Random(0))
    assert set(children) <= set(parents)


def test_mutation_flips_each_bit_at_the_configured_rate() -> None:
    n = 2000
    config = GAConfig(population=n, crossover_prob=0.0, mutation_prob=0.1)
    children = breed(["0" * N_BITS] * n, [1.0] * n, config=config, rng=random.Random(5))
    flips = sum(c.count("1") for c in children)
    draws = n * N_BITS  # 32 000 Bernoulli(0.1) draws: sd = sqrt(32000 * 0.09) ~ 54
    assert abs(flips - 0.1 * draws) < 4 * 54
    per_position = [sum(c[i] == "1" for c in children) / n for i in range(N_BITS)]
    assert min(per_position) > 0.06
    assert max(per_position) < 0.14


def test_roulette_picks_in_proportion_to_fitness() -> None:
    fit, unfit = "1" * N_BITS, "0" * N_BITS
    n = 2000
    config = GAConfig(population=n, crossover_prob=0.0, mutation_prob=0.0)
    population = [fit, unfit] * (n // 2)
    fitnesses = [0.8, 0.2] * (n // 2)
    children = breed(population, fitnesses, config=config, rng=random.Random(7))
    share = children.count(fit) / n  # expected 0.8, sd = sqrt(0.16 / 2000) ~ 0.009
    assert share == pytest.approx(0.8, abs=0.04)


def test_zero_fitness_is_selected_uniformly_when_all_are_zero() -> None:
    a, b = "1" * N_BITS, "0" * N_BITS
    config = GAConfig(population=1000, crossover_prob=0.0, mutation_prob=0.0)
    children = breed([a, b] * 500, [0.0] * 1000, config=config, rng=random.Random(8))
    assert children.count(a) / 1000 == pytest.approx(0.5, abs=0.07)


def test_zero_fitness_among_fitter_ones_is_almost_never_selected() -> None:
    a, b = "1" * N_BITS, "0" * N_BITS
    config = GAConfig(population=1000, crossover_prob=0.0, mutation_prob=0.0)
    children = breed([a, b] * 500, [0.5, 0.0] * 500, config=config, rng=random.Random(9))
    assert children.count(b) <= 2


def test_elitism_keeps_the_best_unchanged_in_front() -> None:
    parents = _random_population(10, seed=4)
    fitnesses = [0.1 * i for i in range(10)]
    config = GAConfig(elitism=2, mutation_prob=0.5)
    children = breed(parents, fitnesses, config=config, rng=random.Random(0))
    assert children[:2] == [parents[9], parents[8]]
    assert len(children) == 10


def test_breed_depends_only_on_its_rng_and_restores_global_random() -> None:
    parents = _random_population(10, seed=6)
    before = random.getstate()
    first = breed(parents, [0.5] * 10, config=GAConfig(), rng=random.Random(11))
    assert random.getstate() == before
    random.random()  # the caller's global draws must not matter
    assert breed(parents, [0.5] * 10, config=GAConfig(), rng=random.Random(11)) == first


def test_breed_rejects_mismatched_fitnesses() -> None:
    with pytest.raises(DataError, match="10 chromosomes but 9 fitness values"):
        breed(_random_population(10, 0), [1.0] * 9, config=GAConfig(), rng=random.Random(0))


def test_breed_advances_its_rng() -> None:
    parents = _random_population(10, seed=6)
    rng = random.Random(12)
    first = breed(parents, [0.5] * 10, config=GAConfig(), rng=rng)
    assert breed(parents, [0.5] * 10, config=GAConfig(), rng=rng) != first
