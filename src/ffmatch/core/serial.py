"""One generic, versioned serialisation of the frozen-dataclass results and configurations.

``to_mapping`` turns a tree of dataclasses (and the tuples, mappings, NumPy arrays and
scalars inside them) into plain JSON data; ``from_mapping`` builds the tree back from the
field types, checking every key and value. A result class lists the properties a reader of
the JSON also wants in ``serial_derived`` (they are written, and ignored when read back);
a field declared with ``metadata=OMIT_NONE`` is left out of the JSON while it is None.
Replaces one hand-written ``to_dict``/``from_dict`` per class: a renamed field now fails at
type-check time instead of when a report is rendered.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ffmatch.core.errors import DataError, FFMatchError

T = TypeVar("T")

SCHEMA_VERSION = 1
"""Version of the JSON layout ``to_mapping`` writes into ``metrics.json`` (``schema_version``);
raised when a key is renamed or removed, so readers can refuse what they cannot read."""

_OMIT = "serial_omit_none"

OMIT_NONE: Mapping[str, bool] = types.MappingProxyType({_OMIT: True})
"""Field metadata: ``field(default=None, metadata=OMIT_NONE)`` leaves the key out of the JSON
while the value is None (a stage a command did not run)."""


def to_mapping(obj: Any) -> Any:
    """Plain JSON data from ``obj``: dataclasses as dicts (fields in order, then the class's
    ``serial_derived`` properties), tuples and arrays as lists, NaN and infinities as None."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if value is None and f.metadata.get(_OMIT):
                continue
            out[f.name] = to_mapping(value)
        for name in getattr(type(obj), "serial_derived", ()):
            out[name] = to_mapping(getattr(obj, name))
        return out
    if isinstance(obj, Mapping):
        return {str(k): to_mapping(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_mapping(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_mapping(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def from_mapping(
    cls: type[T],
    data: Any,
    where: str = "data",
    *,
    error: type[FFMatchError] = DataError,
    none: object = None,
) -> T:
    """Build dataclass ``cls`` from plain ``data`` (the inverse of ``to_mapping``).

    Unknown keys (with a "did you mean" hint) and values of the wrong type raise ``error``
    naming the key's path from ``where``; ``none`` is how a missing value is spelt (TOML has
    no null, so configurations write ``"none"``).
    """
    return typing.cast(T, _build(cls, data, where, error, none))


def _build(kind: Any, value: Any, where: str, error: type[FFMatchError], none: object) -> Any:
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return _build_dataclass(kind, value, where, error, none)
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if kind is Any:
        return value
    if origin is typing.Literal:
        if value not in args:
            raise error(f"{where}: expected one of {', '.join(map(repr, args))}, found {value!r}")
        return value
    if origin in (types.UnionType, typing.Union):
        if (value is None or value == none) and type(None) in args:
            return None
        if float in args and value is None:
            return math.nan
        messages = []
        for option in args:
            if option is type(None):
                continue
            try:
                return _build(option, value, where, error, none)
            except FFMatchError as err:
                messages.append(str(err))
        raise error(messages[0] if messages else f"{where}: unexpected value {value!r}")
    if origin is tuple or origin is list:
        if not isinstance(value, list | tuple):
            raise error(f"{where}: expected a list, found {value!r}")
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(value):
                raise error(f"{where}: expected {len(args)} items, found {len(value)}")
            items = [_build(a, v, f"{where}[{i}]", error, none) for i, (a, v) in
                     enumerate(zip(args, value, strict=True))]  # fmt: skip
        else:
            item = args[0] if args else Any
            items = [_build(item, v, f"{where}[{i}]", error, none) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or origin is typing.get_origin(Mapping[str, int]):
        if not isinstance(value, Mapping):
            raise error(f"{where}: expected a table, found {value!r}")
        item = args[1] if args else Any
        return {str(k): _build(item, v, f"{where}.{k}", error, none) for k, v in value.items()}
    if origin is np.ndarray:
        return np.asarray(value)
    if kind is float:
        if value is None:  # NaN is written as null
            return math.nan
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif (
        (kind is int and isinstance(value, int) and not isinstance(value, bool))
        or (kind is bool and isinstance(value, bool))
        or (kind is str and isinstance(value, str))
    ):
        return value
    elif kind is Path and isinstance(value, str):
        return Path(value)
    name = getattr(kind, "__name__", str(kind))
    raise error(f"{where}: expected {name}, found {value!r}")


def _build_dataclass(
    cls: type[Any], data: Any, where: str, error: type[FFMatchError], none: object
) -> Any:
    if not isinstance(data, Mapping):
        raise error(f"{where}: expected a table, found {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    derived = set(getattr(cls, "serial_derived", ()))
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in derived:
            continue
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise error(f"{where}: unknown key {key!r}{hint} (known: {', '.join(fields)})")
        kwargs[key] = _build(hints[key], value, f"{where}.{key}", error, none)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        if isinstance(err, FFMatchError):
            raise
        raise error(f"{where}: {err}") from None


def to_document(obj: Any) -> dict[str, Any]:
    """``to_mapping(obj)`` headed by ``schema_version``: what a ``metrics.json`` holds."""
    return {"schema_version": SCHEMA_VERSION, **to_mapping(obj)}


def from_document(cls: type[T], data: Any, where: str = "metrics.json") -> T:
    """Read back what ``to_document`` wrote; DataError if it is of another schema version."""
    if not isinstance(data, Mapping) or data.get("schema_version") != SCHEMA_VERSION:
        found = data.get("schema_version") if isinstance(data, Mapping) else type(data).__name__
        raise DataError(f"{where}: expected schema_version {SCHEMA_VERSION}, found {found!r}")
    return from_mapping(cls, {k: v for k, v in data.items() if k != "schema_version"}, where)
