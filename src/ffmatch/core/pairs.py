"""Pairs of photos to classify: the paper's three per set, or genuine/impostor person pairs.

The paper's sets are three photos A, B, C where A and B show one person and C another; its
rows are A&B (match), B&C and C&A (no match), in that order. Data with person ids (MUCT)
give all or a sample of the same-person (genuine) pairs and a seeded sample of
different-person (impostor) pairs; both persons stay available (``PairTable.persons``) so
splits can keep each person's photos on one side.
"""

from __future__ import annotations

import math

import numpy as np

from ffmatch.core.errors import ConfigError, DataError
from ffmatch.core.table import ROLES, IntArray, PairTable, PhotoTable

# Small tables enumerate every candidate impostor pair; larger ones sample by rejection.
_ENUMERATE_BELOW = 2_000_000


def paper_sets(photos: PhotoTable) -> dict[str, tuple[int, int, int]]:
    """Each set's A, B and C photo (row indices), sets in order of first appearance.

    DataError naming the set when it lacks exactly one photo of each role.
    """
    members: dict[str, list[int]] = {}
    for i, person in enumerate(photos.person):
        members.setdefault(str(person), []).append(i)
    sets: dict[str, tuple[int, int, int]] = {}
    for person, rows in members.items():
        found = ", ".join(f"{photos.photo_id[i]!s} ({photos.role[i] or 'no role'})" for i in rows)
        by_role = {role: [i for i in rows if photos.role[i] == role] for role in ROLES}
        wrong = [role for role in ROLES if len(by_role[role]) != 1]
        unknown = [i for i in rows if photos.role[i] not in ROLES]
        if wrong or unknown:
            raise DataError(
                f"{photos.source}: set {person!r} must have exactly one photo with role A, "
                f"B and C; found {found}"
            )
        sets[person] = (by_role["A"][0], by_role["B"][0], by_role["C"][0])
    return sets


def paper_pairs(photos: PhotoTable) -> PairTable:
    """The paper's rows: per set A&B (1), B&C (0), C&A (0), sets in order of appearance."""
    sets = paper_sets(photos)
    first, second, label, group = [], [], [], []
    for person, (a, b, c) in sets.items():
        first += [a, b, c]
        second += [b, c, a]
        label += [1, 0, 0]
        group += [person] * 3
    return PairTable(
        photos=photos,
        first=np.array(first, dtype=np.int64),
        second=np.array(second, dtype=np.int64),
        label=np.array(label, dtype=np.int64),
        group=np.array(group, dtype=str),
    )


def person_pairs(
    photos: PhotoTable,
    *,
    impostor_ratio: float = 2.0,
    seed: int,
    max_genuine_per_person: int | None = None,
) -> PairTable:
    """Genuine (same person) and impostor (different persons) pairs, seeded.

    Genuine pairs are every same-person pair, or a random ``max_genuine_per_person`` of each
    person's; impostor pairs are ``round(impostor_ratio * n_genuine)`` distinct
    different-person pairs drawn uniformly. Each pair has ``first < second`` (photo order);
    the table is sorted by (first, second) so the result does not depend on sampling order.
    ``group`` is the first photo's person. The paper's ratio is 1 genuine : 2 impostors.
    """
    if not (math.isfinite(impostor_ratio) and impostor_ratio >= 0):
        raise ConfigError(f"impostor_ratio: expected a number >= 0, found {impostor_ratio!r}")
    if max_genuine_per_person is not None and max_genuine_per_person < 1:
        raise ConfigError(
            f"max_genuine_per_person: expected None or an integer >= 1, "
            f"found {max_genuine_per_person!r}"
        )
    genuine_rng, impostor_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)
    )
    genuine = _genuine_pairs(photos, genuine_rng, max_genuine_per_person)
    if len(genuine) == 0:
        raise DataError(
            f"{photos.source}: no person has two photos, so there are no genuine pairs; "
            "person pairs need at least one person with two or more photos"
        )
    n_impostors = round(impostor_ratio * len(genuine))
    impostors = _impostor_pairs(photos, impostor_rng, n_impostors)
    pairs = np.concatenate([genuine, impostors])  # (m, 2) photo rows, first < second
    label = np.concatenate([np.ones(len(genuine), np.int64), np.zeros(len(impostors), np.int64)])
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    pairs, label = pairs[order], label[order]
    return PairTable(
        photos=photos,
        first=pairs[:, 0].copy(),
        second=pairs[:, 1].copy(),
        label=label,
        group=photos.person[pairs[:, 0]],
    )


def _genuine_pairs(photos: PhotoTable, rng: np.random.Generator, limit: int | None) -> IntArray:
    """(g, 2) same-person pairs, first < second; at most ``limit`` per person, drawn by ``rng``."""
    chunks = []
    _, person_codes = np.unique(photos.person, return_inverse=True)
    for code in range(int(person_codes.max(initial=-1)) + 1):
        rows = np.flatnonzero(person_codes == code)
        a, b = np.triu_indices(len(rows), k=1)
        pairs = np.stack([rows[a], rows[b]], axis=1)
        if limit is not None and len(pairs) > limit:
            pairs = pairs[np.sort(rng.choice(len(pairs), size=limit, replace=False))]
        chunks.append(pairs)
    return np.concatenate(chunks) if chunks else np.empty((0, 2), dtype=np.int64)


def _impostor_pairs(photos: PhotoTable, rng: np.random.Generator, count: int) -> IntArray:
    """(count, 2) distinct different-person pairs, first < second, drawn uniformly."""
    n = len(photos)
    _, person = np.unique(photos.person, return_inverse=True)
    sizes = np.bincount(person)
    available = (n * (n - 1) - int((sizes * (sizes - 1)).sum())) // 2
    if count > available:
        raise ConfigError(
            f"{photos.source}: {count} impostor pairs requested, but only {available} "
            "different-person pairs exist; lower impostor_ratio"
        )
    if count == 0:
        return np.empty((0, 2), dtype=np.int64)
    if n * (n - 1) // 2 <= _ENUMERATE_BELOW or count > available // 2:
        a, b = np.triu_indices(n, k=1)
        keep = person[a] != person[b]
        chosen = rng.choice(int(keep.sum()), size=count, replace=False)
        return np.stack([a[keep][chosen], b[keep][chosen]], axis=1).astype(np.int64)
    # Rejection sampling: draw batches of random pairs, keep new different-person ones.
    # At most half of the candidates are wanted, so few batches are needed.
    chosen_codes: dict[int, None] = {}  # insertion-ordered set of a * n + b codes
    while len(chosen_codes) < count:
        draw = rng.integers(0, n, size=(2 * (count - len(chosen_codes)) + 16, 2))
        lo, hi = draw.min(axis=1), draw.max(axis=1)
        ok = person[lo] != person[hi]  # also drops lo == hi
        for code in (lo[ok] * n + hi[ok]).tolist():
            chosen_codes.setdefault(code)
            if len(chosen_codes) == count:
                break
    codes = np.fromiter(chosen_codes, dtype=np.int64, count=count)
    return np.stack([codes // n, codes % n], axis=1)
