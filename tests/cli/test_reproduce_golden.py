"""``ffmatch reproduce`` gives the stored metrics.json: the guard for changes to the run path.

The run uses tests/data/golden/reproduce-tiny.toml (3 folds, 6 epochs, a GA of 4 x 2): every
stage runs in seconds; the default settings take minutes. After a change that is meant to
alter the numbers (or the keys), regenerate the stored copy and review its diff:

    python -m ffmatch -q reproduce --config tests/data/golden/reproduce-tiny.toml --out /tmp/g
    cp /tmp/g/metrics.json tests/data/golden/reproduce-tiny-metrics.json
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from ffmatch.cli.app import run

GOLDEN = Path(__file__).parents[1] / "data" / "golden"

WALL_TIME_KEYS = frozenset({"seconds"})
"""Keys that hold wall time, which depends on the machine and its load: never compared."""

REL, ABS = 1e-6, 1e-6
"""Float tolerance: far below any step of an accuracy on 9 rows, above summation-order noise
between CPUs (the stored copy may have been written on another machine)."""


def differences(got: Any, want: Any, path: str = "") -> list[str]:
    """Every place where ``got`` differs from ``want``, as ``path: got != want`` lines."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = [f"{path}/{k}: missing" for k in want.keys() - got.keys() - WALL_TIME_KEYS]
        out += [f"{path}/{k}: unexpected" for k in got.keys() - want.keys() - WALL_TIME_KEYS]
        for k in want.keys() & got.keys() - WALL_TIME_KEYS:
            out += differences(got[k], want[k], f"{path}/{k}")
        return out
    if isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            return [f"{path}: {len(got)} items != {len(want)}"]
        return [
            d
            for k, (g, w) in enumerate(zip(got, want, strict=True))
            for d in differences(g, w, f"{path}[{k}]")
        ]
    both_numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (got, want))
    if both_numbers and (isinstance(want, float) or isinstance(got, float)):
        same = math.isclose(got, want, rel_tol=REL, abs_tol=ABS)
    else:
        same = type(got) is type(want) and got == want
    return [] if same else [f"{path}: {got!r} != {want!r}"]


def test_differences_names_each_path_and_ignores_wall_time() -> None:
    want = {"a": [1, 0.5], "b": {"seconds": 1.0, "c": "x"}, "d": True}
    assert (
        differences({"a": [1, 0.5 + 1e-9], "b": {"seconds": 9.0, "c": "x"}, "d": True}, want) == []
    )
    got = {"a": [2, 0.6], "b": {"c": "y", "e": 0}, "d": 1}
    assert sorted(differences(got, want)) == [
        "/a[0]: 2 != 1",
        "/a[1]: 0.6 != 0.5",
        "/b/c: 'y' != 'x'",
        "/b/e: unexpected",
        "/d: 1 != True",
    ]
    assert differences({"a": [1]}, {"a": [1, 2]}) == ["/a: 1 items != 2"]


@pytest.mark.slow
def test_reproduce_gives_the_stored_metrics(tmp_path: Path) -> None:
    out = tmp_path / "paper"
    config = GOLDEN / "reproduce-tiny.toml"
    assert run(["-q", "reproduce", "--config", str(config), "--out", str(out)]) == 0
    got = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    want = json.loads((GOLDEN / "reproduce-tiny-metrics.json").read_text(encoding="utf-8"))
    assert differences(got, want) == []


@pytest.mark.parametrize("key", sorted(WALL_TIME_KEYS))
def test_the_stored_copy_holds_each_ignored_key(key: str) -> None:
    """An ignored key that no longer exists would hide nothing, but says the list is stale."""
    text = (GOLDEN / "reproduce-tiny-metrics.json").read_text(encoding="utf-8")
    assert f'"{key}":' in text
