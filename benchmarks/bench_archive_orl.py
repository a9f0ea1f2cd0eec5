"""ORL as an archive: search rank-1/rank-5 and CMC, grouping BCubed, on people never fitted.

Needs an archive of ORL faces with ids ``s<k>/<n>.pgm`` holding at least photos 1 and 2 of
every person and all photos of the test people (docs/archive.md gives the commands; indexing
all 400 works too). The fusion model names the ORL people it was
fitted on (``metrics.people_fit`` of the shipped ``verdict_model.json``); only the others are
queried and grouped, so no figure comes from a person the model saw.

- search: the archive holds photos 1 and 2 of all 40 people (80 faces: the fitted people stay
  in as distractors); every other photo (3-10) of each test person is a query, scored
  against those 80 with ``search.rank`` (labels hidden from the scorer: they only decide
  what is correct). Rank-k: share of queries with a photo of their person among the top k.
- grouping: all 10 photos of each test person, grouped by ``group.cluster_bank`` without
  labels or decisions (they would give the answer away); BCubed precision, recall and F1
  against the true people.

Usage::

    .venv/bin/python benchmarks/bench_archive_orl.py --db orl.db --evidence both \\
        --figure docs/images/archive-cmc.png
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections.abc import Sequence

import numpy as np

from ffmatch.archive.group import cluster_bank
from ffmatch.archive.scoring import default_scorer
from ffmatch.archive.search import Query, rank
from ffmatch.archive.store import FaceBank, load_bank


def test_people() -> list[int]:
    """ORL people the shipped fusion model was not fitted on (its file names both sets)."""
    from ffmatch.matcher.verdict import load_fusion_model

    fit = set(load_fusion_model().metrics["people_fit"])
    return [p for p in range(1, 41) if p not in fit]


def _person(photo: str) -> int:
    return int(photo.split("/")[0].removeprefix("s"))


def _number(photo: str) -> int:
    return int(photo.split("/")[1].removesuffix(".pgm"))


def cmc(bank: FaceBank, people: Sequence[int], evidence: str, max_rank: int) -> np.ndarray:
    """(max_rank,) share of queries whose person appears among the top k, k = 1.."""
    scorer = default_scorer(evidence)
    gallery = bank.take([_number(p) in (1, 2) for p in bank.photo])
    gallery = FaceBank(
        **{
            **{f: getattr(gallery, f) for f in gallery.__dataclass_fields__},
            "person": np.full(len(gallery), ""),
        }
    )
    truth = np.array([_person(p) for p in gallery.photo])
    hits = np.zeros(max_rank)
    queries = [i for i, p in enumerate(bank.photo) if _person(p) in people and _number(p) > 2]
    for i in queries:
        q = Query(
            source=str(bank.photo[i]), sha256="query", faces=bank.take([i]), in_archive=(), error=""
        )
        s = rank(q, gallery, scorer, top=max_rank)
        ranked = [_person(c.photo) for c in s.candidates]
        first = next((k for k, p in enumerate(ranked) if p == _person(str(bank.photo[i]))), None)
        if first is not None:
            hits[first:] += 1
    assert len(set(truth)) == 40
    return hits / len(queries)


def bcubed(groups: Sequence[int], people: Sequence[int]) -> tuple[float, float, float]:
    """BCubed precision, recall and F1 of a clustering against the true classes."""
    g, t = np.asarray(groups), np.asarray(people)
    same_group = g[:, None] == g[None, :]
    same_person = t[:, None] == t[None, :]
    both = (same_group & same_person).sum(axis=1)
    p = float(np.mean(both / same_group.sum(axis=1)))
    r = float(np.mean(both / same_person.sum(axis=1)))
    return p, r, 2 * p * r / (p + r)


def grouping(
    bank: FaceBank, people: Sequence[int], evidence: str
) -> tuple[float, float, float, int]:
    scorer = default_scorer(evidence)
    sub = bank.take([_person(p) in people for p in bank.photo])
    sub = FaceBank(
        **{
            **{f: getattr(sub, f) for f in sub.__dataclass_fields__},
            "person": np.full(len(sub), ""),
        }
    )
    result = cluster_bank(sub, scorer)
    where = {(m.photo, m.face): g.number for g in result.groups for m in g.members}
    labels = [where[(str(p), int(f))] for p, f in zip(sub.photo, sub.face, strict=True)]
    return (*bcubed(labels, [_person(str(p)) for p in sub.photo]), len(result.groups))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="archive of the ORL faces")
    ap.add_argument("--evidence", action="append", default=None)
    ap.add_argument("--max-rank", type=int, default=10)
    ap.add_argument("--figure", default=None, help="CMC curves (PNG)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    with sqlite3.connect(args.db) as conn:
        bank = load_bank(conn)
    people = test_people()
    print(f"test people ({len(people)}): {' '.join(f's{p}' for p in people)}")
    n_faces = int(sum(_person(p) in people for p in bank.photo))
    print(f"faces in the archive: {len(bank)}; {n_faces} of them of the test people")
    results = {}
    print("| evidence | rank-1 | rank-5 | BCubed precision | recall | F1 | groups |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for evidence in args.evidence or ["both", "geometry"]:
        curve = cmc(bank, people, evidence, args.max_rank)
        p, r, f1, n_groups = grouping(bank, people, evidence)
        results[evidence] = {"cmc": curve.tolist(), "bcubed": [p, r, f1], "groups": n_groups}
        print(
            f"| {evidence} | {curve[0]:.3f} | {curve[4]:.3f} | {p:.3f} | {r:.3f} | {f1:.3f} | "
            f"{n_groups} |"
        )
    if args.figure:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(5.5, 3.8), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ks = np.arange(1, args.max_rank + 1)
        for evidence, res in results.items():
            ax.plot(ks, res["cmc"], marker="o", label=evidence)
        ax.set_xlabel("rank k")
        ax.set_ylabel("share of queries with their person in the top k")
        ax.set_title(f"ORL archive search, {len(people)} people never fitted (CMC)")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.savefig(args.figure, dpi=110)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"people": people, "results": results}, fh, indent=2)


if __name__ == "__main__":
    main()
