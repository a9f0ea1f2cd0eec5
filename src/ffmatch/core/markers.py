"""The 14 facial feature markers (FFMs) of the paper's Table 1: the schema everything uses.

Two orders matter. ``MARKERS`` follows Table 1 (the paper's order). The paper's workbook and
its wide tables list the same markers in a slightly different order (``WIDE_ORDER``: the two
left-eye corners and pogonion/supramentale are swapped); every wide table and pair
representation uses the workbook's order so that ffmatch's columns equal the paper's.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Literal


@dataclass(frozen=True, kw_only=True, slots=True)
class Marker:
    """One facial feature marker: its name, abbreviation and whether it is paired."""

    name: str
    abbreviation: str
    kind: Literal["bilateral", "median"]


MARKERS: tuple[Marker, ...] = (
    Marker(name="Right exocanthion", abbreviation="rtex", kind="bilateral"),
    Marker(name="Right endocanthion", abbreviation="rten", kind="bilateral"),
    Marker(name="Left exocanthion", abbreviation="ltex", kind="bilateral"),
    Marker(name="Left endocanthion", abbreviation="lten", kind="bilateral"),
    Marker(name="Nasion", abbreviation="nas", kind="median"),
    Marker(name="Sub-nasale", abbreviation="sn", kind="median"),
    Marker(name="Right alare", abbreviation="rtal", kind="bilateral"),
    Marker(name="Left alare", abbreviation="ltal", kind="bilateral"),
    Marker(name="Labiale superius", abbreviation="ls", kind="median"),
    Marker(name="Stomion", abbreviation="sto", kind="median"),
    Marker(name="Labiale inferius", abbreviation="li", kind="median"),
    Marker(name="Pogonion", abbreviation="pg", kind="median"),
    Marker(name="Supramentale", abbreviation="sm", kind="median"),
    Marker(name="Menton", abbreviation="me", kind="median"),
)
"""The 14 FFMs in the order of the paper's Table 1."""

N_MARKERS = len(MARKERS)
BY_ABBREVIATION: dict[str, Marker] = {m.abbreviation: m for m in MARKERS}

WIDE_ORDER: tuple[str, ...] = (
    "rtex", "rten", "lten", "ltex", "nas", "sn", "rtal",
    "ltal", "ls", "sto", "li", "sm", "pg", "me",
)  # fmt: skip
"""Marker abbreviations in the order of the workbook's columns (and all wide tables)."""

MARKER_PAIRS: tuple[tuple[int, int], ...] = tuple(combinations(range(N_MARKERS), 2))
"""The 91 unordered marker pairs, as indices into ``WIDE_ORDER``, in the workbook's order."""

N_DISTANCES = len(MARKER_PAIRS)  # 91

# Bilateral markers and their mirror partner, used to check left/right order in a photo.
MIRROR: dict[str, str] = {"rtex": "ltex", "rten": "lten", "rtal": "ltal"}


def coordinate_columns(prefix: str = "") -> list[str]:
    """Column names ``{prefix}{abbr}-x``, ``{prefix}{abbr}-y`` in ``WIDE_ORDER`` (28 names)."""
    return [f"{prefix}{a}-{axis}" for a in WIDE_ORDER for axis in ("x", "y")]
