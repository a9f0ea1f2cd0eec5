"""The one generic serialisation: dataclass trees to JSON data and back, versioned."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np
import pytest

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.metrics import Metrics, binary_metrics
from ffmatch.core.serial import (
    OMIT_NONE,
    SCHEMA_VERSION,
    from_document,
    from_mapping,
    to_document,
    to_mapping,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Inner:
    value: float
    kind: Literal["a", "b"] = "a"


@dataclass(frozen=True, kw_only=True, slots=True)
class Outer:
    name: str
    sizes: tuple[int, ...]
    pair: tuple[int, str]
    inner: Inner
    by_key: Mapping[str, Inner]
    optional: Inner | None = field(default=None, metadata=OMIT_NONE)

    serial_derived: ClassVar[tuple[str, ...]] = ("n_sizes",)

    @property
    def n_sizes(self) -> int:
        return len(self.sizes)


def _outer(**changes: object) -> Outer:
    base = {
        "name": "x",
        "sizes": (20, 10),
        "pair": (1, "z"),
        "inner": Inner(value=0.5),
        "by_key": {"k": Inner(value=1.0, kind="b")},
    }
    return Outer(**{**base, **changes})  # type: ignore[arg-type]


def test_round_trip_through_json_with_derived_keys_written_and_ignored() -> None:
    obj = _outer()
    data = json.loads(json.dumps(to_mapping(obj)))
    assert data["sizes"] == [20, 10]
    assert data["n_sizes"] == 2
    assert "optional" not in data  # None and marked OMIT_NONE: left out
    assert from_mapping(Outer, data) == obj
    with_optional = _outer(optional=Inner(value=2.0))
    assert from_mapping(Outer, to_mapping(with_optional)) == with_optional


def test_nan_is_null_and_numpy_is_plain() -> None:
    m = binary_metrics([1, 1, 1], [0.9, 0.2, 0.7])  # one class: ROC-AUC undefined
    data = to_mapping(m)
    assert data["roc_auc"] is None
    assert data["confusion"] == [[0, 0], [1, 2]]
    json.dumps(data, allow_nan=False)
    back = from_mapping(Metrics, data)
    assert math.isnan(back.roc_auc)
    assert back.confusion == m.confusion
    assert to_mapping({"a": np.arange(3), "b": np.float32(0.5)}) == {"a": [0, 1, 2], "b": 0.5}


def test_unknown_key_gets_a_hint() -> None:
    data = to_mapping(_outer())
    data["inner"]["valeu"] = data["inner"].pop("value")
    with pytest.raises(DataError, match=r"data\.inner: unknown key 'valeu'; did you mean 'value'"):
        from_mapping(Outer, data)


def test_wrong_types_name_the_key_and_the_error_class() -> None:
    data = to_mapping(_outer())
    data["sizes"] = [20, "ten"]
    with pytest.raises(DataError, match=r"data\.sizes\[1\]: expected int, found 'ten'"):
        from_mapping(Outer, data)
    data = to_mapping(_outer())
    data["inner"]["kind"] = "c"
    with pytest.raises(ConfigError, match=r"cfg\.inner\.kind: expected one of 'a', 'b'"):
        from_mapping(Outer, data, "cfg", error=ConfigError)


def test_document_carries_and_checks_the_schema_version() -> None:
    doc = to_document(_outer())
    assert next(iter(doc)) == "schema_version"
    assert doc["schema_version"] == SCHEMA_VERSION
    assert from_document(Outer, doc) == _outer()
    with pytest.raises(DataError, match=r"run\.json: expected schema_version 1, found 0"):
        from_document(Outer, {**doc, "schema_version": 0}, "run.json")
