"""Group every stored face into likely-same-person sets, honouring people's decisions.

Average-linkage clustering (SciPy) on 1 - P(same person), cut at the scorer's "same person"
band, with two kinds of constraints:

- cannot-link: a "different" decision, two known people, two faces of one photo -> a merge
  that would join them is refused (and so is every merge above it in the tree);
- must-link: a "same" decision, one known person (labels) -> after the cut, the clusters
  holding its two ends become one (unless that joins a cannot-link pair: reported).

Average linkage only merges two clusters whose mean distance is within the cut, which needs
at least one pair within it; so the clusters are exactly those found inside each connected
component of the graph of pairs in the "same" band (plus must-links). The graph's edges come
from scoring every pair (exact) or, past ``ANN_FROM`` faces, each face against its nearest
neighbours by appearance (FAISS HNSW).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import linkage
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from ffmatch.archive import decisions, store
from ffmatch.archive.db import opened
from ffmatch.archive.neighbours import ANN_FROM, approximate_neighbours
from ffmatch.archive.scoring import Scorer, default_scorer
from ffmatch.archive.store import FaceBank
from ffmatch.core.table import FloatArray

NEIGHBOURS = 20  # k of the approximate graph


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupMember:
    photo: str
    face: int
    person: str  # known label, "" if none
    link: float  # mean P(same) with the group's other members; NaN alone


@dataclass(frozen=True, kw_only=True, slots=True)
class Group:
    """One likely-same-person set, with its weakest link marked for review.

    The weakest link: the member least tied to the rest (lowest mean P(same) with them), the
    member it is most alike, and that pair's P(same).
    """

    number: int  # 1 = largest
    members: tuple[GroupMember, ...]
    weakest: tuple[GroupMember, GroupMember, float] | None  # None for a group of one

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def faces(self) -> tuple[GroupMember, ...]:
        """``members``, by the name the web page reads."""
        return self.members


@dataclass(frozen=True, kw_only=True, slots=True)
class Grouping:
    """Every face in exactly one group, largest groups first."""

    groups: tuple[Group, ...]
    evidence: str
    threshold: float  # P(same) at which pairs were cut
    method: str  # "exact" (every pair scored) or "approximate" (nearest neighbours)
    conflicts: tuple[str, ...]  # constraints that contradict each other, in words

    @property
    def faces(self) -> int:
        return sum(g.size for g in self.groups)


@dataclass(frozen=True, kw_only=True, slots=True)
class Constraints:
    """Face-index pairs that must / must not end up in one group, and known people."""

    must: tuple[tuple[int, int], ...] = ()
    cannot: tuple[tuple[int, int], ...] = ()
    people: tuple[str, ...] | None = None  # per face, "" unknown; None: the bank's labels


def _rows(scorer: Scorer, bank: FaceBank) -> FloatArray:
    """(N, N) symmetric P(same) of every pair (the diagonal is 1)."""
    n = len(bank)
    p = np.empty((n, n))
    for i in range(n):
        p[i] = scorer.against(bank.take([i]), bank)
    p = (p + p.T) / 2  # a scorer need not be exactly symmetric
    np.fill_diagonal(p, 1.0)
    return p


def candidate_edges(
    bank: FaceBank, scorer: Scorer, threshold: float, *, approximate: bool
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Pairs (i < j) whose P(same) reaches ``threshold``: all pairs, or nearest neighbours."""
    n = len(bank)
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    if approximate:
        has = np.flatnonzero(bank.has_descriptor)
        neigh = has[approximate_neighbours(bank.descriptor[has], NEIGHBOURS)]  # (n_has, k)
        for q, js in zip(has, neigh, strict=True):
            js = js[js >= 0]
            p = scorer.against(bank.take([q]), bank.take(js))
            hit = js[p >= threshold]
            rows.append(np.full(len(hit), q))
            cols.append(hit)
    else:
        for i in range(n):
            p = scorer.against(bank.take([i]), bank)
            hit = np.flatnonzero(p >= threshold)
            hit = hit[hit > i]
            rows.append(np.full(len(hit), i))
            cols.append(hit)
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    a, b = np.minimum(r, c), np.maximum(r, c)
    return a.astype(np.int64), b.astype(np.int64)


def constrained_average_linkage(
    prob: FloatArray,
    threshold: float,
    *,
    labels: Sequence[str],
    must: Iterable[tuple[int, int]] = (),
    cannot: Iterable[tuple[int, int]] = (),
) -> tuple[npt.NDArray[np.int64], list[list[int]]]:
    """Cluster ids (0..) of ``n`` items from (n, n) P(same), cut at ``threshold``.

    A merge joining two known people or a cannot-linked pair is refused, and so is every
    merge above it. Then each must-link joins the two clusters holding its ends, whole: a
    "same" decision about two faces says their groups show one person (pulling the two faces
    alone together, at distance 0, would tear each from the group it belongs to). Returns
    the ids and the contradictions found (a must-link that would join a cannot-link pair or
    two people: that must-link is not applied), as the items of the two clusters.
    """
    n = len(prob)
    if n == 1:
        return np.zeros(1, dtype=np.int64), []
    dist = np.clip(1.0 - prob, 0.0, 1.0)
    np.fill_diagonal(dist, 0.0)
    iu = np.triu_indices(n, 1)
    z = linkage(dist[iu], method="average")
    cut = 1.0 - threshold
    forbidden: list[set[int]] = [set() for _ in range(n)]
    for a, b in cannot:
        forbidden[a].add(b)
        forbidden[b].add(a)
    members: list[set[int]] = [{i} for i in range(n)]
    people: list[set[str]] = [{labels[i]} - {""} for i in range(n)]
    whole = [True] * n
    for a_, b_, height, _ in z:
        a, b = int(a_), int(b_)
        clash = bool(members[a] & forbidden[b]) or len(people[a] | people[b]) > 1
        members.append(members[a] | members[b])
        forbidden.append(forbidden[a] | forbidden[b])
        people.append(people[a] | people[b])
        whole.append(whole[a] and whole[b] and height <= cut + 1e-12 and not clash)
    # Clusters: the accepted merges (each joins two whole clusters), as components.
    parent = list(range(2 * n - 1))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r, (a_, b_, _, _) in enumerate(z):
        if whole[n + r]:
            parent[root(int(a_))] = n + r
            parent[root(int(b_))] = n + r
    # Must-links, in the order given (known people first, then decisions), each joining two
    # clusters unless that would put a cannot-link pair or two people in one.
    cluster = {r: (members[r], forbidden[r], people[r]) for r in {root(i) for i in range(n)}}
    conflicts: list[list[int]] = []
    for i, j in must:
        ri, rj = root(i), root(j)
        if ri == rj:
            continue
        (mi, fi, pi), (mj, fj, pj) = cluster[ri], cluster[rj]
        if mi & fj or len(pi | pj) > 1:
            conflicts.append(sorted(mi | mj))
            continue
        parent[rj] = ri
        cluster[ri] = (mi | mj, fi | fj, pi | pj)
    roots = [root(i) for i in range(n)]
    _, ids = np.unique(roots, return_inverse=True)
    return ids.astype(np.int64), conflicts


def _local(pos: dict[int, int], pairs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """``pairs`` of bank positions inside one component, as positions in that component."""
    return [(pos[i], pos[j]) for i, j in pairs if i in pos and j in pos]


def cluster_bank(
    bank: FaceBank,
    scorer: Scorer,
    *,
    threshold: float | None = None,
    constraints: Constraints = Constraints(),
    approximate: bool | None = None,
) -> Grouping:
    """Group the faces of ``bank`` (pure: no database)."""
    t = scorer.same_threshold if threshold is None else threshold
    n = len(bank)
    approx = n > ANN_FROM if approximate is None else approximate
    a, b = candidate_edges(bank, scorer, t, approximate=approx)
    must = list(constraints.must)
    ends = np.array([*zip(a, b, strict=True), *must], dtype=np.int64).reshape(-1, 2)
    graph = coo_array((np.ones(len(ends)), (ends[:, 0], ends[:, 1])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    groups: list[list[int]] = []
    links: dict[int, float] = {}
    partner: dict[int, tuple[int, float]] = {}  # face -> (most alike member of its group, P)
    conflicts: list[str] = []
    order = np.argsort(comp, kind="stable")
    bounds = np.flatnonzero(np.diff(comp[order])) + 1
    for idx in np.split(order, bounds):
        if len(idx) == 1:
            groups.append([int(idx[0])])
            continue
        pos = {int(g): k for k, g in enumerate(idx)}
        sub = bank.take(idx)
        prob = _rows(scorer, sub)
        people = sub.person if constraints.people is None else [constraints.people[i] for i in idx]
        ids, clash = constrained_average_linkage(
            prob,
            t,
            labels=list(people),
            must=_local(pos, must),
            cannot=_local(pos, constraints.cannot),
        )
        conflicts += [
            "constraints contradict each other for faces "
            + ", ".join(f"{bank.photo[idx[m]]}#{bank.face[idx[m]]}" for m in c)
            for c in clash
        ]
        for g in range(int(ids.max()) + 1):
            mem = np.flatnonzero(ids == g)
            groups.append([int(idx[m]) for m in mem])
            if len(mem) > 1:
                block = prob[np.ix_(mem, mem)]
                mean = (block.sum(axis=1) - 1.0) / (len(mem) - 1)
                np.fill_diagonal(block, -1.0)
                best = block.argmax(axis=1)
                for r, (m, v) in enumerate(zip(mem, mean, strict=True)):
                    links[int(idx[m])] = float(v)
                    partner[int(idx[m])] = (int(idx[mem[best[r]]]), float(block[r, best[r]]))
    groups.sort(key=lambda g: (-len(g), str(bank.photo[g[0]]), int(bank.face[g[0]])))
    out: list[Group] = []
    for number, members in enumerate(groups, start=1):
        ordered = sorted(members, key=lambda i: (str(bank.photo[i]), int(bank.face[i])))
        made = {
            i: GroupMember(
                photo=str(bank.photo[i]),
                face=int(bank.face[i]),
                person=str(bank.person[i]),
                link=links.get(i, float("nan")),
            )
            for i in ordered
        }
        weakest = None
        if len(ordered) > 1:
            w = min(ordered, key=lambda i: links[i])
            other, p = partner[w]
            weakest = (made[w], made[other], p)
        out.append(Group(number=number, members=tuple(made.values()), weakest=weakest))
    return Grouping(
        groups=tuple(out),
        evidence=scorer.name,
        threshold=t,
        method="approximate" if approx else "exact",
        conflicts=tuple(conflicts),
    )


def archive_constraints(
    bank: FaceBank, decided: Mapping[tuple[str, str], str], scorer: Scorer
) -> Constraints:
    """Constraints from labels, decisions and photos: faces labelled with one person are
    linked (labels bind photos of one face only: in a group photo the label names one of
    several faces); a decision about two photos binds their most alike pair of faces; two
    faces of one photo are never one person."""
    by_photo: dict[str, list[int]] = {}
    for i, p in enumerate(bank.photo):
        by_photo.setdefault(str(p), []).append(i)
    people = tuple(
        str(bank.person[i]) if len(by_photo[str(bank.photo[i])]) == 1 else ""
        for i in range(len(bank))
    )
    must: list[tuple[int, int]] = []
    cannot: list[tuple[int, int]] = []
    first: dict[str, int] = {}
    for i, person in enumerate(people):
        if person and person in first:
            must.append((first[person], i))
        elif person:
            first[person] = i
    for faces in by_photo.values():
        cannot += [(i, j) for k, i in enumerate(faces) for j in faces[k + 1 :]]
    for (pa, pb), d in decided.items():
        if d == "unsure" or pa not in by_photo or pb not in by_photo:
            continue
        fa, fb = by_photo[pa], by_photo[pb]
        best, best_p = (fa[0], fb[0]), -1.0
        if len(fa) > 1 or len(fb) > 1:
            for i in fa:
                p = scorer.against(bank.take([i]), bank.take(fb))
                j = int(np.argmax(p))
                if p[j] > best_p:
                    best, best_p = (i, fb[j]), float(p[j])
        (must if d == "same" else cannot).append(best)
    return Constraints(must=tuple(must), cannot=tuple(cannot), people=people)


def group(
    db_path: str | os.PathLike[str],
    *,
    evidence: str | None = None,
    scorer: Scorer | None = None,
    threshold: float | None = None,
    approximate: bool | None = None,
) -> Grouping:
    """Every face of the archive in likely-same-person groups, largest first."""
    s = scorer or default_scorer(evidence)
    with opened(db_path) as conn:
        bank = store.cached_bank(conn, db_path)
        decided = decisions.latest(conn)
    return cluster_bank(
        bank,
        s,
        threshold=threshold,
        approximate=approximate,
        constraints=archive_constraints(bank, decided, s),
    )
