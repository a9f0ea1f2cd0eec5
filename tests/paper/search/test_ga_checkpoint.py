"""Tests of the GA checkpoint file: exact round trip, atomic writes, version and format errors."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest

from ffmatch.core.errors import DataError
from ffmatch.paper.search import GAState, load_state, save_state


def _state(generation: int = 3) -> GAState:
    rng = random.Random(9)
    rng.random()
    return GAState(
        config={"population": 2, "layout": {"hidden_bits": 7}},
        seed=9,
        generation=generation,
        population=("0101", "1100"),
        cache={"0101": 0.1 + 0.2, "1100": 2 / 3},  # floats that must survive exactly
        history=tuple({"generation": g, "best": 2 / 3} for g in range(generation + 1)),
        best={"chromosome": "1100", "fitness": 2 / 3},
        random_state=rng.getstate(),
    )


def test_round_trip_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ga.json"
    save_state(path, _state())
    loaded = load_state(path)
    assert loaded == _state()
    restored = random.Random()
    restored.setstate(loaded.random_state)
    original = random.Random(9)
    original.random()
    assert restored.random() == original.random()


def test_save_replaces_the_previous_checkpoint_without_leftovers(tmp_path: Path) -> None:
    path = tmp_path / "ga.json"
    save_state(path, _state(generation=1))
    save_state(path, _state(generation=2))
    assert load_state(path).generation == 2
    assert [p.name for p in tmp_path.iterdir()] == ["ga.json"]


def test_failed_write_keeps_the_previous_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "ga.json"
    save_state(path, _state(generation=1))
    bad = dataclasses.replace(_state(), cache={"x": float("nan")})
    with pytest.raises(ValueError, match="not JSON compliant"):
        save_state(path, bad)
    assert load_state(path).generation == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ga.json"]


def test_other_version_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "ga.json"
    save_state(path, _state())
    data = json.loads(path.read_text())
    data["version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(
        DataError, match=r"ga.json: expected a GA checkpoint of version 1, found 99"
    ):
        load_state(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"ga.json: cannot read the GA checkpoint"),
        ('{"version": 1, "seed": 0}', r"ga.json: GA checkpoint is incomplete or malformed"),
        ("[1, 2]", r"expected a GA checkpoint of version 1, found 'list'"),
    ],
)
def test_malformed_checkpoint_is_a_data_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "ga.json"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        load_state(path)


def test_missing_checkpoint_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"missing.json: cannot read the GA checkpoint"):
        load_state(tmp_path / "missing.json")


def _tampered(tmp_path: Path, **changes: object) -> Path:
    data = _state().to_dict()
    data.update(changes)
    path = tmp_path / "ga.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cache": {"0101": 0.3, "1100": 5.0}}, r"chromosome 1100: expected a fitness in \[0, 1\]"),
        ({"cache": {"0101": 0.3, "1100": float("nan")}}, r"chromosome 1100: expected a fitness"),
        ({"population": []}, "'population': expected a non-empty population"),
        ({"population": ["0101", "1111"]}, "chromosome 1111 has no fitness in the cache"),
        ({"population": ["01x1"]}, r"chromosome '01x1': expected 4 characters of 0/1"),
        ({"seed": -1}, r"'seed': expected an integer in 0..2\*\*32-1, found -1"),
        ({"generation": 9}, "'history': expected 10 generation records, found 4"),
        ({"best": {"chromosome": "0101", "fitness": 0.3}}, "'best': expected the cache's best"),
        ({"random_state": [3, [2**40] * 625, None]}, "'random_state': expected the state"),
        ({"history": "abc"}, "'history': expected 4 generation records, found 3"),
        ({"cache": []}, "GA checkpoint is incomplete or malformed"),
    ],
)  # fmt: skip
def test_tampered_checkpoint_names_the_field(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_state(_tampered(tmp_path, **changes))
