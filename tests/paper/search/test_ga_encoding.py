"""Tests of the chromosome layout: exact decoding, ranges, encode/decode, second layer."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.serial import from_mapping, to_mapping
from ffmatch.paper.search import GeneLayout, Genes

LAYOUT = GeneLayout()


def _bits(v: int, n: int) -> str:
    return format(v, f"0{n}b")


def test_default_layout_is_16_bits_spanning_the_papers_ranges() -> None:
    assert LAYOUT.n_bits == 16
    assert LAYOUT.decode("0" * 16) == Genes(hidden=1, epochs=10, learning_rate=1e-4)
    assert LAYOUT.decode("1" * 16) == Genes(hidden=100, epochs=100, learning_rate=1e-2)


def test_hidden_decodes_as_documented() -> None:
    for v in range(128):  # hidden = 1 + round_half_up(v * 99 / 127), in exact fractions
        expected = 1 + math.floor(Fraction(v * 99, 127) + Fraction(1, 2))
        assert LAYOUT.decode(_bits(v, 7) + "0" * 9).hidden == expected


def test_epochs_and_learning_rate_decode_as_documented() -> None:
    for v in range(32):
        genes = LAYOUT.decode("0" * 7 + _bits(v, 5) + "0000")
        assert genes.epochs == 10 + math.floor(Fraction(v * 90, 31) + Fraction(1, 2))
    rates = [LAYOUT.decode("0" * 12 + _bits(v, 4)).learning_rate for v in range(16)]
    assert rates == pytest.approx([10 ** (-4 + 2 * v / 15) for v in range(16)], rel=1e-12)
    assert rates == sorted(rates)


def test_every_hidden_size_1_to_100_is_reachable() -> None:
    reachable = {LAYOUT.decode(_bits(v, 7) + "0" * 9).hidden for v in range(128)}
    assert reachable == set(range(1, 101))


layouts = st.builds(
    GeneLayout,
    hidden_bits=st.integers(1, 10),
    epochs_bits=st.integers(1, 10),
    learning_rate_bits=st.integers(1, 10),
    hidden_range=st.tuples(st.integers(1, 50), st.integers(0, 500)).map(
        lambda t: (t[0], t[0] + t[1])
    ),
    epochs_range=st.tuples(st.integers(1, 50), st.integers(0, 500)).map(
        lambda t: (t[0], t[0] + t[1])
    ),
    learning_rate_range=st.tuples(st.floats(1e-7, 1.0), st.floats(1.0, 1e4)).map(
        lambda t: (t[0], min(t[0] * t[1], 10.0))  # GeneLayout allows rates up to 10
    ),
)


@given(layout=layouts, data=st.data())
def test_decoded_genes_are_always_in_range(layout: GeneLayout, data: st.DataObject) -> None:
    chromosome = data.draw(st.text(alphabet="01", min_size=layout.n_bits, max_size=layout.n_bits))
    genes = layout.decode(chromosome)
    assert layout.hidden_range[0] <= genes.hidden <= layout.hidden_range[1]
    assert layout.epochs_range[0] <= genes.epochs <= layout.epochs_range[1]
    lo, hi = layout.learning_rate_range
    assert lo <= genes.learning_rate <= hi


@given(chromosome=st.text(alphabet="01", min_size=16, max_size=16))
def test_encode_inverts_decode(chromosome: str) -> None:
    genes = LAYOUT.decode(chromosome)
    assert LAYOUT.decode(LAYOUT.encode(genes)) == genes


def test_encode_picks_the_nearest_code_and_clips() -> None:
    genes = LAYOUT.decode(LAYOUT.encode(Genes(hidden=500, epochs=11, learning_rate=1e-9)))
    assert genes == Genes(hidden=100, epochs=10, learning_rate=1e-4)


@pytest.mark.parametrize(
    ("hidden", "ratio", "sizes"),
    [
        (20, 0.5, (20, 10)),
        (7, 0.5, (7, 4)),  # 3.5 rounds half up
        (1, 0.5, (1, 1)),  # never an empty layer
        (30, None, (30,)),
        (30, 0.0, (30,)),  # 0: one layer, as a TOML file (no null) says it
        (10, 2.0, (10, 20)),
    ],
)
def test_hidden_sizes(hidden: int, ratio: float | None, sizes: tuple[int, ...]) -> None:
    assert Genes(hidden=hidden, epochs=10, learning_rate=1e-3).hidden_sizes(ratio) == sizes


def test_layout_hidden_sizes_use_its_ratio() -> None:
    genes = Genes(hidden=20, epochs=10, learning_rate=1e-3)
    assert GeneLayout().hidden_sizes(genes) == (20, 10)
    assert GeneLayout(second_layer_ratio=None).hidden_sizes(genes) == (20,)


def test_layout_round_trips_through_a_dict() -> None:
    layout = GeneLayout(hidden_bits=6, second_layer_ratio=None, learning_rate_range=(1e-5, 1e-1))
    assert from_mapping(GeneLayout, to_mapping(layout)) == layout


@pytest.mark.parametrize(
    ("chromosome", "message"),
    [("0101", "expected 16 characters of 0/1, found 4"), ("2" * 16, "expected 16 characters")],
)
def test_bad_chromosome_is_a_data_error(chromosome: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        LAYOUT.decode(chromosome)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden_bits": 0}, "hidden_bits must be an integer 1..30, found 0"),
        ({"epochs_range": (50, 10)}, r"epochs_range must be two integers 1 <= low <= high"),
        ({"hidden_range": (0, 10)}, r"hidden_range must be two integers"),
        ({"learning_rate_range": (0.0, 1.0)}, r"learning_rate_range must satisfy 0 < low"),
        ({"second_layer_ratio": -0.5}, r"second_layer_ratio must be in \[0, 10\]"),
    ],
)
def test_bad_layout_is_a_config_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GeneLayout(**kwargs)  # type: ignore[arg-type]


def test_bad_genes_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"expected hidden >= 1.*found hidden=0"):
        Genes(hidden=0, epochs=10, learning_rate=1e-3)
