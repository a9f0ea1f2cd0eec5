"""The paper's data, embedded in the package, and fetchers for the larger optional data.

``load_paper()`` needs no network: the package ships the workbook's FFMs sheet (36 pair
rows) as ``files/paper_ffms.csv`` (provenance in ``files/PROVENANCE.md``). The full
workbook and MUCT's landmarks are found in a data home or downloaded (see ``fetch``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Literal

from ffmatch.core.datasets.fetch import (
    ENV_DATA,
    ENV_URL,
    MUCT_LANDMARKS,
    PAPER_WORKBOOK,
    Limits,
    RemoteFile,
    data_homes,
    fetch_file,
    fetch_muct,
    fetch_paper_workbook,
    get_data_home,
    load_muct,
    user_cache,
)
from ffmatch.core.errors import DataError
from ffmatch.core.io.wide import read_wide_ffms
from ffmatch.core.markers import WIDE_ORDER
from ffmatch.core.table import PairTable, PhotoTable

__all__ = [
    "ENV_DATA",
    "ENV_URL",
    "MUCT_LANDMARKS",
    "PAPER_ERRATA",
    "PAPER_WORKBOOK",
    "Erratum",
    "Limits",
    "RemoteFile",
    "data_homes",
    "fetch_file",
    "fetch_muct",
    "fetch_paper_workbook",
    "get_data_home",
    "load_muct",
    "load_paper",
    "user_cache",
    "with_errata",
]

PAPER_FILE = "paper_ffms.csv"


@dataclass(frozen=True, kw_only=True, slots=True)
class Erratum:
    """One marker whose FFMs-sheet coordinates differ from those the paper computed with."""

    photo_id: str
    marker: str
    published: tuple[float, float]  # in the workbook's FFMs sheet (and paper_ffms.csv)
    computed: tuple[float, float]  # implied exactly by its distances sheet; fits Table 2


PAPER_ERRATA: tuple[Erratum, ...] = (
    Erratum(photo_id="5-1", marker="ltex", published=(34, 215), computed=(345, 215)),
    Erratum(photo_id="6-1", marker="ltex", published=(5, 82), computed=(205, 82)),
    Erratum(photo_id="8-2", marker="li", published=(15, 250), computed=(155, 150)),
    Erratum(photo_id="8-3", marker="lten", published=(57, 224), computed=(257, 224)),
)
"""The four photo markers where the workbook's two sheets disagree.

With the ``computed`` values the FFMs sheet reproduces every distance of the distances
sheet (to 1e-9) and Table 2's FFM cosine distances of sets 5, 6 and 8; the ``published``
ones look like typing slips (a digit lost). Neither is certainly the true mark: 8-2's
computed labiale inferius lies above its sub-nasale, where the published y (250) fits.
"""


def load_paper(*, variant: Literal["published", "computed"] = "published") -> PairTable:
    """The paper's 36 pair rows (12 sets x A&B, B&C, C&A) over its 36 photos; no network.

    ``published``: the workbook's FFMs sheet exactly. ``computed``: with ``PAPER_ERRATA``
    applied, the coordinates behind the workbook's distances sheet and the paper's Table 2.
    """
    if variant not in ("published", "computed"):
        raise ValueError(f"variant: expected 'published' or 'computed', found {variant!r}")
    with resources.as_file(resources.files(__package__) / "files" / PAPER_FILE) as path:
        pairs = read_wide_ffms(path)
    return pairs if variant == "published" else with_errata(pairs, PAPER_ERRATA)


def with_errata(pairs: PairTable, errata: tuple[Erratum, ...] = PAPER_ERRATA) -> PairTable:
    """The same pairs with each erratum's marker moved from ``published`` to ``computed``."""
    photos = pairs.photos
    coords = photos.coords.copy()
    for e in errata:
        (row,) = photos.index_of([e.photo_id])
        m = WIDE_ORDER.index(e.marker)
        if tuple(coords[row, m]) != e.published:
            raise DataError(
                f"{photos.source}: photo {e.photo_id!r}, marker {e.marker}: expected the "
                f"published {e.published}, found {tuple(coords[row, m].tolist())}"
            )
        coords[row, m] = e.computed
    fixed = PhotoTable(
        photo_id=photos.photo_id,
        person=photos.person,
        role=photos.role,
        coords=coords,
        derived=photos.derived,
        source=f"{photos.source} (with errata)",
    )
    return PairTable(
        photos=fixed,
        first=pairs.first,
        second=pairs.second,
        label=pairs.label,
        group=pairs.group,
        name=pairs.name,
    )
