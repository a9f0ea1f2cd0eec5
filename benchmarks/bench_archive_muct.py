"""MUCT as an archive (hand-placed markers, geometry only): search rank-1 and rank-5.

The MUCT benchmark's own split and model (``ffmatch benchmark muct``, variant ``frontal``):
the same subject-disjoint folds from the same seed (``protocol.subject_folds``), and in each
fold the benchmark's PLDA on aligned markers (``benchmark.models.fit_plda``) fitted on the
training people only. The test people of the fold are the archive:

- gallery: one frontal photo per test person (the first by photo id), stored as archive
  faces with their labels hidden from the scorer;
- probes: every other frontal photo of the test people, each ranked against that gallery
  by the archive's own ranking function ``archive.search.rank``.

Beside it, on the same folds and fitted models, the benchmark's own identification
(``protocol.identification_ranks``: each test photo a query against all other test photos).

The archive indexes photos through MediaPipe and cannot take hand-placed markers without
photos, so the gallery is a ``FaceBank`` built from the MUCT table (``store.bank_from_arrays``)
and ``search.rank`` is driven directly. Its scorer is a thin adapter over the benchmark's
PLDA: P(same) = sigmoid(log-likelihood ratio), i.e. the posterior at even prior odds (the
shipped verdict model's calibration was fitted on MediaPipe markers of ORL, not MUCT's).

Usage::

    FFMATCH_DATA=../shared/data .venv/bin/python benchmarks/bench_archive_muct.py --repeats 3
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from ffmatch.archive.scoring import Explanation, Verdict
from ffmatch.archive.search import Query, rank
from ffmatch.archive.store import FaceBank, bank_from_arrays
from ffmatch.benchmark.config import VARIANTS, BenchmarkConfig
from ffmatch.benchmark.models import Scorer as PairScorer
from ffmatch.benchmark.models import fit_plda
from ffmatch.benchmark.protocol import check_disjoint, identification_ranks, subject_folds
from ffmatch.core.io.muct import muct_camera
from ffmatch.core.sources import load_photos
from ffmatch.core.table import FloatArray, PhotoTable


class PLDAScorer:
    """The archive's ``Scorer`` over the benchmark's fitted PLDA (geometry only)."""

    name = "geometry"
    same_threshold = 0.5

    def __init__(self, pair_scorer: PairScorer) -> None:
        self.pair_scorer = pair_scorer

    def llr(self, query: FaceBank, gallery: FaceBank) -> FloatArray:
        q = np.broadcast_to(query.markers[:1], gallery.markers.shape)
        return np.asarray(self.pair_scorer(q, gallery.markers), dtype=np.float64)

    def against(self, query: FaceBank, gallery: FaceBank) -> FloatArray:
        # The posterior at even prior odds; monotone in the LLR, so the ranking is the PLDA's.
        return np.asarray(0.5 * (1.0 + np.tanh(0.5 * self.llr(query, gallery))))

    def explain(self, query: FaceBank, candidate: FaceBank, probability: float) -> Explanation:
        verdict: Verdict = "same" if probability >= 0.5 else "different"
        g = float(self.llr(query, candidate)[0])
        return Explanation(verdict=verdict, reasons=(f"PLDA log-likelihood ratio {g:.2f}",),
                           evidence="geometry")  # fmt: skip


def fold_hits(test: PhotoTable, pair_scorer: PairScorer, max_rank: int) -> tuple[np.ndarray, int]:
    """(max_rank,) queries whose person is among the top k, and the number of queries."""
    order = np.lexsort((test.photo_id, test.person))
    first = order[np.r_[True, test.person[order][1:] != test.person[order][:-1]]]
    gallery = bank_from_arrays(
        photo=list(test.photo_id[first]),
        face=[1] * len(first),
        markers=test.coords[first],
    )  # person left "": the labels only decide what is correct
    truth = test.person[first]
    scorer = PLDAScorer(pair_scorer)
    hits = np.zeros(max_rank)
    probes = np.setdiff1d(np.arange(len(test)), first)
    for i in probes:
        face = bank_from_arrays(photo=[str(test.photo_id[i])], face=[1], markers=test.coords[[i]])
        q = Query(source=str(test.photo_id[i]), sha256="query", faces=face, in_archive=(), error="")
        ranked = [
            truth[gallery.index_of(c.photo, c.face)]
            for c in rank(q, gallery, scorer, top=max_rank).candidates
        ]
        k = next((k for k, p in enumerate(ranked) if p == test.person[i]), None)
        if k is not None:
            hits[k:] += 1
    return hits, len(probes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=BenchmarkConfig().repeats)
    ap.add_argument("--max-rank", type=int, default=5)
    args = ap.parse_args()
    config = BenchmarkConfig()
    photos = load_photos(config.data)
    photos = photos.subset(np.flatnonzero(muct_camera(photos.photo_id) == "a"))  # frontal
    # The benchmark's seeds (protocol.run_benchmark): the same people in the same folds.
    variant_seed = np.random.SeedSequence(config.seed).spawn(len(VARIANTS))
    fold_seed, _ = variant_seed[VARIANTS.index("frontal")].spawn(2)
    splits = subject_folds(
        photos.person,
        folds=config.folds,
        repeats=args.repeats,
        seed=int(fold_seed.generate_state(1)[0]),
    )
    rows = []
    for split in splits:
        check_disjoint(photos, split)
        pair_scorer = fit_plda(photos.subset(split.train))
        test = photos.subset(split.test)
        hits, n = fold_hits(test, pair_scorer, args.max_rank)
        # Side by side: the benchmark's own identification on the same fold and model.
        bench = identification_ranks(test, pair_scorer)
        rows.append({"repeat": split.repeat, "fold": split.index, "queries": n,
                     "rank1": hits[0] / n, "rank5": hits[min(4, args.max_rank - 1)] / n,
                     "benchmark_rank1": float((bench <= 1).mean()),
                     "benchmark_rank5": float((bench <= 5).mean())})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    r1 = np.array([r["rank1"] for r in rows])
    r5 = np.array([r["rank5"] for r in rows])
    b1 = np.array([r["benchmark_rank1"] for r in rows])
    b5 = np.array([r["benchmark_rank5"] for r in rows])
    print(
        json.dumps(
            {
                "folds": len(rows),
                "queries_per_fold": float(np.mean([r["queries"] for r in rows])),
                "rank1_mean": round(float(r1.mean()), 3),
                "rank1_sd": round(float(r1.std(ddof=1)), 3) if len(r1) > 1 else 0.0,
                "rank5_mean": round(float(r5.mean()), 3),
                "rank5_sd": round(float(r5.std(ddof=1)), 3) if len(r5) > 1 else 0.0,
                "benchmark_rank1_mean": round(float(b1.mean()), 3),
                "benchmark_rank5_mean": round(float(b5.mean()), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
