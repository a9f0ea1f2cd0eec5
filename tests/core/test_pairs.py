"""Pairs: the paper's three rows per set, and seeded genuine/impostor person pairs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ffmatch.core.datasets import load_paper
from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.markers import N_MARKERS
from ffmatch.core.pairs import paper_pairs, person_pairs
from ffmatch.core.table import PairTable, PhotoTable


def _photos(person: list[str], role: list[str] | None = None) -> PhotoTable:
    n = len(person)
    return PhotoTable(
        photo_id=np.array([f"p{k}" for k in range(n)], dtype=str),
        person=np.array(person, dtype=str),
        role=np.array(role if role is not None else [""] * n, dtype=str),
        coords=np.zeros((n, N_MARKERS, 2)),
        derived=np.zeros((n, N_MARKERS), dtype=bool),
    )


def test_paper_pairs_rows_in_the_workbooks_order(tiny_photos: PhotoTable) -> None:
    pairs = paper_pairs(tiny_photos)
    assert pairs.name.tolist() == ["1-1 & 1-2", "1-2 & 1-3", "1-3 & 1-1",
                                   "2-1 & 2-2", "2-2 & 2-3", "2-3 & 2-1"]  # fmt: skip
    assert pairs.label.tolist() == [1, 0, 0, 1, 0, 0]
    assert pairs.group.tolist() == ["1", "1", "1", "2", "2", "2"]


def test_paper_pairs_reproduce_the_embedded_table() -> None:
    paper = load_paper()
    pairs = paper_pairs(paper.photos)
    assert pairs.first.tolist() == paper.first.tolist()
    assert pairs.second.tolist() == paper.second.tolist()
    assert pairs.label.tolist() == paper.label.tolist()
    assert pairs.group.tolist() == paper.group.tolist()


def test_paper_pairs_use_roles_not_row_order() -> None:
    photos = _photos(["s", "s", "s", "t", "t", "t"], ["C", "A", "B", "B", "C", "A"])
    pairs = paper_pairs(photos)
    assert pairs.first.tolist() == [1, 2, 0, 5, 3, 4]
    assert pairs.second.tolist() == [2, 0, 1, 3, 4, 5]
    assert pairs.group.tolist() == ["s"] * 3 + ["t"] * 3


@pytest.mark.parametrize(
    ("roles", "found"),
    [
        (["A", "B", "B"], r"p0 \(A\), p1 \(B\), p2 \(B\)"),
        (["A", "B"], r"p0 \(A\), p1 \(B\)"),
        (["A", "B", ""], r"p2 \(no role\)"),
        (["A", "B", "C", "C"], r"p3 \(C\)"),
    ],
)
def test_paper_pairs_need_one_a_b_and_c_per_set(roles: list[str], found: str) -> None:
    photos = _photos(["7"] * len(roles), roles)
    with pytest.raises(
        DataError,
        match=r"set '7' must have exactly one photo with role A, B "
        rf"and C; found .*{found}",
    ):
        paper_pairs(photos)


def _check_person_pairs(photos: PhotoTable, pairs: PairTable, ratio: float) -> None:
    a, b = pairs.persons
    genuine = pairs.label == 1
    assert (a[genuine] == b[genuine]).all()
    assert (a[~genuine] != b[~genuine]).all()
    assert (pairs.first < pairs.second).all()
    codes = pairs.first * len(photos) + pairs.second
    assert len(np.unique(codes)) == len(codes)
    assert (np.diff(codes) > 0).all()  # sorted by (first, second)
    assert (~genuine).sum() == round(ratio * genuine.sum())
    assert pairs.group.tolist() == a.tolist()


def test_person_pairs_all_genuine_and_seeded_impostors() -> None:
    photos = _photos(["a", "a", "a", "b", "b", "c", "c", "c", "c", "d"])
    pairs = person_pairs(photos, seed=3)
    assert (pairs.label == 1).sum() == 3 + 1 + 6
    _check_person_pairs(photos, pairs, 2.0)
    again = person_pairs(photos, seed=3)
    assert again.first.tolist() == pairs.first.tolist()
    assert again.second.tolist() == pairs.second.tolist()
    other = person_pairs(photos, seed=4)
    assert (other.first.tolist(), other.second.tolist()) != (
        pairs.first.tolist(),
        pairs.second.tolist(),
    )


def test_person_pairs_genuine_limit_per_person() -> None:
    photos = _photos(["a"] * 6 + ["b"] * 2 + ["c"] * 3)
    pairs = person_pairs(photos, seed=0, max_genuine_per_person=2, impostor_ratio=1.5)
    a, _ = pairs.persons
    per_person = {p: int(((a == p) & (pairs.label == 1)).sum()) for p in "abc"}
    assert per_person == {"a": 2, "b": 1, "c": 2}
    _check_person_pairs(photos, pairs, 1.5)


def test_person_pairs_on_muct_sized_data_use_sampling() -> None:
    rng = np.random.default_rng(0)
    person = [f"{k:03d}" for k in rng.integers(0, 276, size=3755)]
    photos = _photos(person)
    pairs = person_pairs(photos, seed=1)
    _check_person_pairs(photos, pairs, 2.0)


@settings(max_examples=40, deadline=None)
@given(
    persons=st.lists(st.integers(0, 5), min_size=2, max_size=25),
    ratio=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_person_pairs_invariants(persons: list[int], ratio: float, seed: int) -> None:
    photos = _photos([str(p) for p in persons])
    sizes = np.bincount(persons)
    n_genuine = int((sizes * (sizes - 1) // 2).sum())
    n_impostor = (len(persons) * (len(persons) - 1)) // 2 - n_genuine
    if n_genuine == 0:
        with pytest.raises(DataError, match="no person has two photos"):
            person_pairs(photos, seed=seed, impostor_ratio=ratio)
    elif round(ratio * n_genuine) > n_impostor:
        with pytest.raises(ConfigError, match="impostor pairs requested"):
            person_pairs(photos, seed=seed, impostor_ratio=ratio)
    else:
        _check_person_pairs(photos, person_pairs(photos, seed=seed, impostor_ratio=ratio), ratio)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"impostor_ratio": -1.0}, ConfigError, r"impostor_ratio: expected a number >= 0"),
        ({"impostor_ratio": float("nan")}, ConfigError, r"impostor_ratio: expected a number"),
        ({"max_genuine_per_person": 0}, ConfigError, r"max_genuine_per_person: expected None"),
        (
            {"impostor_ratio": 10.0},
            ConfigError,
            r"30 impostor pairs requested, but only 3 "
            r"different-person pairs exist",
        ),
    ],
)
def test_person_pairs_bad_arguments(
    kwargs: dict[str, float], error: type[Exception], message: str
) -> None:
    photos = _photos(["a", "a", "a", "b"])  # 3 genuine pairs, 3 impostor pairs possible
    with pytest.raises(error, match=message):
        person_pairs(photos, seed=0, **kwargs)  # type: ignore[arg-type]


def test_person_pairs_need_a_person_with_two_photos(make_photos: Callable[..., PhotoTable]) -> None:
    with pytest.raises(DataError, match=r"no person has two photos"):
        person_pairs(make_photos(3, per_set=1), seed=0)
