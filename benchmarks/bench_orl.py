"""Measure the photo path on ORL / AT&T (40 people x 10 greyscale photos; evaluation only).

Credit: AT&T Laboratories Cambridge (F. Samaria and A. Harter, 1994). The images are never
copied into the project; this script reads them from the shared data folder.

Sections (all person-disjoint where anything is learned):

1. Extraction: faces found, time per photo, markers the mesh placed outside the frame.
2. Simple scores over all 79,800 pairs (Procrustes disparity, the 91 distances over the eye
   width), to compare with the figures in faces-orl/README.md (0.789, 0.788).
3. The matcher: the shipped model (fitted on MUCT's hand-placed markers, never saw ORL), and
   models fitted with ``train_match_model`` on extracted ORL markers of some people and
   scored on the others: people 1-20 -> 21-40, 21-40 -> 1-20, and 5-fold person-disjoint
   cross-validation. ROC-AUC over every pair of the held-out people, with a 95% bootstrap
   interval over people; rank-1 identification (each photo's best-scoring other photo).
4. Marker variants: the markers as ``landmarks extract`` writes them (``image``: the mesh's
   points averaged with those of the mirrored face), the mesh's own points alone (``mesh``),
   and the mesh frontalised from its 3-D points (``frontal``, ``photos.pose``).
   With ``image`` markers also the shipped recipe: each training photo plus 4 copies of its
   face turned by random yaw (+-30 degrees) and pitch (+-10), ``photos.augment``.
5. Limits: held-out same-person pairs accepted, by difference in head turn and lip gap
   (models fitted the shipped way, with turned copies).
6. MediaPipe vs MUCT: how the extracted markers differ from MUCT's hand-placed ones: the
   mean Procrustes-aligned shape of each data set, marker by marker, in eye widths; with
   ``--with-muct``, whether MUCT's shapes shifted by those offsets help a photo model.

Usage::

    .venv/bin/python benchmarks/bench_orl.py                       # ~1 minute
    .venv/bin/python benchmarks/bench_orl.py --boot 500 --json runs/orl.json --with-muct
    .venv/bin/python benchmarks/bench_orl.py --write-landmarks runs/orl_extracted.csv
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from ffmatch.core.geometry import distance_ratios
from ffmatch.core.io.tidy import write_tidy
from ffmatch.core.markers import MARKER_PAIRS, WIDE_ORDER
from ffmatch.core.table import FloatArray, PhotoTable
from ffmatch.matcher.aligned import TEMPLATE, align
from ffmatch.matcher.model import MatchModel, default_model
from ffmatch.matcher.photos.augment import turned_copies
from ffmatch.matcher.photos.extract import (
    Extraction,
    Face,
    FaceMeshExtractor,
    extract_photos,
    to_table,
)
from ffmatch.matcher.photos.pose import frontal_markers, head_axes
from ffmatch.matcher.train import TrainConfig, train_match_model

MARKER_PAIRS_NAMED = [(WIDE_ORDER[i], WIDE_ORDER[j]) for i, j in MARKER_PAIRS]
ROOT = Path(__file__).resolve().parents[1]
ORL = ROOT.parent / "shared" / "data" / "faces-orl"
MUCT = ROOT.parent / "shared" / "data" / "muct" / "muct68-opencv.csv.gz"

_LS_LI = [f"{a}-{b}" for a, b in MARKER_PAIRS_NAMED].index("ls-li")
Scorer = Callable[[FloatArray], FloatArray]  # (n, 14, 2) photos -> (n, n) similarity


# ----------------------------------------------------------------------------- extraction


def extract_orl(
    folder: Path, cache: Path
) -> tuple[list[str], FloatArray, FloatArray, dict[str, Any]]:
    """Photo paths, (400, 14, 2) markers as ``landmarks extract`` writes them, (400, 478, 3)
    meshes and extraction figures; cached in ``cache``."""
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            paths = [str(p) for p in z["paths"]]
            return paths, z["markers"], z["mesh"], json.loads(str(z["info"]))
    paths = sorted(folder.glob("s*/*.pgm"), key=lambda p: (int(p.parent.name[1:]), int(p.stem)))
    t0 = time.perf_counter()
    with FaceMeshExtractor() as ex:
        done: list[Extraction] = list(extract_photos(paths, ex))
    seconds = time.perf_counter() - t0
    failed = [e.photo_id for e in done if not e.ok]
    mesh = np.stack(
        [e.face.mesh if e.face is not None else np.full((478, 3), np.nan) for e in done]
    )
    markers = np.stack([e.markers for e in done])
    outside = np.sum([e.outside for e in done], axis=0)
    info = {
        "photos": len(done),
        "found": len(done) - len(failed),
        "failed": failed,
        "seconds_per_photo": seconds / len(done),
        "outside_frame": {a: int(n) for a, n in zip(WIDE_ORDER, outside, strict=True) if n},
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        cache,
        paths=np.array([str(p) for p in paths]),
        markers=markers,
        mesh=mesh,
        info=np.array(json.dumps(info)),
    )
    return [str(p) for p in paths], markers, mesh, info


# -------------------------------------------------------------------------------- scores


def procrustes_similarity(coords: FloatArray) -> FloatArray:
    """(n, n) minus the Procrustes disparity (rotation, scale, translation) of every pair."""
    z = coords[..., 0] + 1j * coords[..., 1]
    z = z - z.mean(axis=1, keepdims=True)
    z = z / np.sqrt((np.abs(z) ** 2).sum(axis=1, keepdims=True))
    return -(1.0 - np.abs(np.conj(z) @ z.T) ** 2)


def ratio_similarity(coords: FloatArray) -> FloatArray:
    """(n, n) minus the Euclidean distance of the 91 distances over the outer-eye width."""
    r = distance_ratios(coords)
    d2 = (r**2).sum(1)[:, None] + (r**2).sum(1)[None] - 2 * r @ r.T
    return -np.sqrt(np.maximum(d2, 0.0))


def model_similarity(model: MatchModel) -> Scorer:
    def score(coords: FloatArray) -> FloatArray:
        n = len(coords)
        i, j = np.triu_indices(n, 1)
        s = np.zeros((n, n))
        s[i, j] = s[j, i] = model.scores(coords[i], coords[j])
        return s

    return score


# ---------------------------------------------------------------------------- evaluation


def evaluate(sim: FloatArray, person: np.ndarray, *, boot: int, seed: int) -> dict[str, Any]:
    """ROC-AUC over all pairs with a bootstrap-over-people interval, and rank-1."""
    n = len(person)
    i, j = np.triu_indices(n, 1)
    label = (person[i] == person[j]).astype(int)
    score = sim[i, j]
    auc = float(roc_auc_score(label, score))
    people, code = np.unique(person, return_inverse=True)
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(boot):
        mult = np.bincount(rng.integers(0, len(people), len(people)), minlength=len(people))
        w = np.where(label == 1, mult[code[i]], mult[code[i]] * mult[code[j]]).astype(float)
        if w[label == 1].sum() == 0 or w[label == 0].sum() == 0:
            continue
        keep = w > 0
        aucs.append(roc_auc_score(label[keep], score[keep], sample_weight=w[keep]))
    off = sim.copy()
    np.fill_diagonal(off, -np.inf)
    rank1 = float(np.mean(person[np.argmax(off, axis=1)] == person))
    lo, hi = np.percentile(aucs, [2.5, 97.5]) if aucs else (np.nan, np.nan)
    return {
        "auc": auc,
        "auc_lo": float(lo),
        "auc_hi": float(hi),
        "rank1": rank1,
        "pairs": len(label),
        "genuine": int(label.sum()),
        "people": len(people),
    }


def table_of(coords: FloatArray, person: np.ndarray, rows: np.ndarray, source: str) -> PhotoTable:
    return PhotoTable(
        photo_id=np.array([f"{person[k]}/{k}" for k in rows], dtype=str),
        person=person[rows].astype(str),
        role=np.full(len(rows), "", dtype=str),
        coords=coords[rows],
        derived=np.zeros((len(rows), 14), dtype=bool),
        source=source,
    )


def fit(
    coords: FloatArray,
    person: np.ndarray,
    rows: np.ndarray,
    *,
    turned: FloatArray | None,
    seed: int,
    name: str,
) -> MatchModel:
    """``train_match_model`` on the photos at ``rows``, plus their turned copies if given
    (``turned``: (n, copies, 14, 2) for every photo; only the training rows' are used)."""
    table = table_of(coords, person, rows, name)
    if turned is not None:
        extra = turned[rows].reshape(-1, *coords.shape[1:])
        who = np.repeat(person[rows], turned.shape[1])
        table = PhotoTable(
            photo_id=np.concatenate([table.photo_id, [f"copy{k}" for k in range(len(extra))]]),
            person=np.concatenate([table.person, who]),
            role=np.full(len(table) + len(extra), "", dtype=str),
            coords=np.concatenate([table.coords, extra]),
            derived=np.zeros((len(table) + len(extra), coords.shape[1]), dtype=bool),
            source=name,
        )
    return train_match_model(table, config=TrainConfig(seed=seed), training_data=name)


def held_out(
    coords: FloatArray,
    person: np.ndarray,
    train_people: set[str],
    *,
    boot: int,
    seed: int,
    name: str,
    turned: FloatArray | None = None,
) -> tuple[dict[str, Any], FloatArray, np.ndarray]:
    """Fit on ``train_people``, score every pair of the other people."""
    train = np.array([p in train_people for p in person])
    model = fit(coords, person, np.flatnonzero(train), turned=turned, seed=seed, name=name)
    test = np.flatnonzero(~train)
    sim = model_similarity(model)(coords[test])
    return evaluate(sim, person[test], boot=boot, seed=seed), sim, test


def cross_validated(
    coords: FloatArray,
    person: np.ndarray,
    *,
    folds: int,
    boot: int,
    seed: int,
    turned: FloatArray | None = None,
) -> dict[str, Any]:
    """k-fold person-disjoint CV: mean and range of the per-fold AUCs and rank-1."""
    people = np.unique(person)
    order = np.random.default_rng(seed).permutation(people)
    results = []
    for k in range(folds):
        test_people = set(order[k::folds].tolist())
        r, _, _ = held_out(
            coords,
            person,
            set(people.tolist()) - test_people,
            boot=0,
            seed=seed,
            name=f"ORL fold {k}",
            turned=turned,
        )
        results.append(r)
    aucs = np.array([r["auc"] for r in results])
    r1 = np.array([r["rank1"] for r in results])
    return {
        "auc": float(aucs.mean()),
        "auc_min": float(aucs.min()),
        "auc_max": float(aucs.max()),
        "rank1": float(r1.mean()),
        "folds": folds,
        "test_people": len(people) // folds,
    }


# ---------------------------------------------------------------------------------- limits


def limits(
    coords: FloatArray,
    mesh: FloatArray,
    person: np.ndarray,
    *,
    seed: int,
    turned: FloatArray | None,
) -> dict[str, Any]:
    """Same-person pairs accepted (at each held-out model's threshold) by pose and mouth gap.

    Pose: the difference in head turn (yaw, from the mesh's 3-D axes) of the two photos;
    mouth: the difference in lip opening (ls-li over the eye width). Both halves of the
    people are held out in turn, so every pair is scored by a model that never saw them.
    """
    axes = head_axes(mesh)  # (n, 3, 3); row 0 = the head's left-right axis in the camera frame
    yaw = np.degrees(np.arcsin(np.clip(axes[:, 0, 2], -1, 1)))
    lip = distance_ratios(coords)[:, _LS_LI]
    accepted, d_yaw, d_lip, impostor_accepted = [], [], [], []
    halves = ({f"s{k}" for k in range(1, 21)}, {f"s{k}" for k in range(21, 41)})
    for train_people in halves:
        train = np.array([p in train_people for p in person])
        model = fit(coords, person, np.flatnonzero(train), turned=turned, seed=seed, name="half")
        test = np.flatnonzero(~train)
        i, j = (test[k] for k in np.triu_indices(len(test), 1))
        p = model.probability(coords[i], coords[j])
        same = person[i] == person[j]
        accepted.append(p[same] > model.threshold)
        impostor_accepted.append(p[~same] > model.threshold)
        d_yaw.append(np.abs(yaw[i] - yaw[j])[same])
        d_lip.append(np.abs(lip[i] - lip[j])[same])
    acc, dy, dl = (np.concatenate(v) for v in (accepted, d_yaw, d_lip))
    out: dict[str, Any] = {
        "false_accept": float(np.concatenate(impostor_accepted).mean()),
        "true_accept": float(acc.mean()),
        "by_yaw": {},
        "by_lip": {},
    }
    for name, d, edges in (("by_yaw", dy, (0, 5, 10, 90)), ("by_lip", dl, (0, 0.05, 0.1, 9))):
        for lo, hi in itertools.pairwise(edges):
            inside = (d >= lo) & (d < hi)
            out[name][f"{lo}-{hi}"] = {
                "pairs": int(inside.sum()),
                "true_accept": float(acc[inside].mean()),
            }
    return out


# ------------------------------------------------------------------------ MediaPipe vs MUCT


def marker_offsets(extracted: FloatArray, muct: PhotoTable) -> dict[str, Any]:
    """Mean aligned shape of each set; per-marker offset (MediaPipe - MUCT) in eye widths."""
    from ffmatch.core.io.muct import muct_camera

    frontal = muct.subset(np.flatnonzero(muct_camera(muct.photo_id) == "a"))
    a_mp, a_mu = align(extracted), align(frontal.coords)
    mean_mp, mean_mu = np.nanmean(a_mp, axis=0), np.nanmean(a_mu, axis=0)
    eye = float(np.hypot(*(TEMPLATE[3] - TEMPLATE[0])))  # rtex-ltex of the template frame
    off = (mean_mp - mean_mu) / eye
    sd_mp = np.nanstd(a_mp, axis=0).mean(axis=1) / eye
    sd_mu = np.nanstd(a_mu, axis=0).mean(axis=1) / eye
    return {
        a: {
            "dx": float(off[k, 0]),
            "dy": float(off[k, 1]),
            "dist": float(np.hypot(*off[k])),
            "sd_mediapipe": float(sd_mp[k]),
            "sd_muct": float(sd_mu[k]),
        }
        for k, a in enumerate(WIDE_ORDER)
    }


def with_muct(
    coords: FloatArray, person: np.ndarray, muct: PhotoTable, *, seed: int
) -> dict[str, Any]:
    """Does MUCT help a photo model? MUCT's frontal shapes, shifted by the mean MediaPipe-MUCT
    offset (estimated on the ORL training people only), alone or added to ORL's."""
    from ffmatch.core.io.muct import muct_camera

    frontal = muct.subset(np.flatnonzero(muct_camera(muct.photo_id) == "a"))
    a_mu = align(frontal.coords)

    def fit(train: np.ndarray, *, orl_too: bool) -> MatchModel:
        shifted = a_mu + np.nanmean(align(coords[train]), axis=0) - np.nanmean(a_mu, axis=0)
        parts = [table_of(shifted, frontal.person, np.arange(len(frontal)), "muct")]
        if orl_too:
            parts.append(table_of(coords, person, np.flatnonzero(train), "orl"))
        table = PhotoTable(
            photo_id=np.concatenate([t.photo_id for t in parts]),
            person=np.concatenate([t.person for t in parts]),
            role=np.concatenate([t.role for t in parts]),
            coords=np.concatenate([t.coords for t in parts]),
            derived=np.concatenate([t.derived for t in parts]),
            source="muct+orl",
        )
        return train_match_model(table, config=TrainConfig(seed=seed), training_data="mix")

    first = np.array([int(p[1:]) <= 20 for p in person])
    test = np.flatnonzero(~first)
    out: dict[str, Any] = {}
    for key, orl_too in (
        ("muct_shifted_test_21_40", False),
        ("muct_and_orl_1_20_test_21_40", True),
    ):
        sim = model_similarity(fit(first, orl_too=orl_too))(coords[test])
        out[key] = evaluate(sim, person[test], boot=0, seed=seed)["auc"]
    for s in (seed, seed + 1):  # 5-fold person-disjoint CV, ORL alone vs ORL + MUCT
        order = np.random.default_rng(s).permutation(np.unique(person))
        alone, mixed = [], []
        for k in range(5):
            train = ~np.isin(person, order[k::5])
            te = np.flatnonzero(~train)
            orl = table_of(coords, person, np.flatnonzero(train), "orl")
            orl_model = train_match_model(orl, config=TrainConfig(seed=seed), training_data="orl")
            for models, model in ((alone, orl_model), (mixed, fit(train, orl_too=True))):
                sim = model_similarity(model)(coords[te])
                models.append(evaluate(sim, person[te], boot=0, seed=seed)["auc"])
        out[f"cv_seed{s}"] = {"orl": float(np.mean(alone)), "orl_and_muct": float(np.mean(mixed))}
    return out


# ---------------------------------------------------------------------------------- main


def _fmt(r: dict[str, Any]) -> str:
    if "auc_lo" in r:
        return f"{r['auc']:.3f} ({r['auc_lo']:.3f}-{r['auc_hi']:.3f}) | {r['rank1']:.3f}"
    return f"{r['auc']:.3f} ({r['auc_min']:.3f}-{r['auc_max']:.3f} over folds) | {r['rank1']:.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orl", type=Path, default=ORL)
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "orl_mesh.npz")
    ap.add_argument("--boot", type=int, default=500, help="bootstrap replicates over people")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--copies", type=int, default=4, help="turned copies per training photo")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--with-muct",
        action="store_true",
        help="also test adding offset-corrected MUCT shapes (~1 minute)",
    )
    ap.add_argument(
        "--write-landmarks",
        type=Path,
        default=None,
        help="also write the markers as a tidy CSV (person = folder)",
    )
    args = ap.parse_args(argv)

    paths, markers, mesh, info = extract_orl(args.orl, args.cache)
    person = np.array([Path(p).parent.name for p in paths])
    ok = np.isfinite(mesh).all(axis=(1, 2))
    markers, mesh, person = markers[ok], mesh[ok], person[ok]
    paths = [p for p, k in zip(paths, ok, strict=True) if k]
    # "image": the markers the CLI writes (mesh and mirrored mesh averaged); "mesh": the mesh's
    # own points only; "frontal": the mesh turned to face the camera (photos.pose).
    coords = {
        "image": markers,
        "mesh": np.stack([Face(mesh=m).markers for m in mesh]),
        "frontal": frontal_markers(mesh),
    }
    faces = [
        Face(mesh=m, mirrored=2 * c - Face(mesh=m).markers)
        for m, c in zip(mesh, markers, strict=True)
    ]
    turned = turned_copies(faces, copies=args.copies, seed=args.seed)  # (n, copies, 14, 2)
    if args.write_landmarks:
        ex = [
            Extraction(
                source=p,
                photo_id=f"{Path(p).parent.name}/{Path(p).stem}",
                width=92,
                height=112,
                faces=(Face(mesh=m, mirrored=2 * c - Face(mesh=m).markers),),
                chosen=0,
            )
            for p, m, c in zip(paths, mesh, markers, strict=True)
        ]
        write_tidy(to_table(ex, person="folder"), args.write_landmarks)

    out: dict[str, Any] = {"extraction": info, "results": {}}
    rows: list[tuple[str, str, str]] = []
    b, s = args.boot, args.seed
    first = set(f"s{k}" for k in range(1, 21))
    second = set(f"s{k}" for k in range(21, 41))
    for pose, c in coords.items():
        res: dict[str, Any] = {}
        res["procrustes"] = evaluate(procrustes_similarity(c), person, boot=b, seed=s)
        res["ratios"] = evaluate(ratio_similarity(c), person, boot=b, seed=s)
        if pose == "image":
            res["shipped_muct"] = evaluate(
                model_similarity(default_model())(c), person, boot=b, seed=s
            )
        res["train_1_20_test_21_40"], _, _ = held_out(
            c, person, first, boot=b, seed=s, name="ORL s1-s20"
        )
        res["train_21_40_test_1_20"], _, _ = held_out(
            c, person, second, boot=b, seed=s, name="ORL s21-s40"
        )
        res["cv"] = cross_validated(c, person, folds=args.folds, boot=b, seed=s)
        if pose == "image":  # the shipped recipe: training photos plus turned copies
            kw = {"boot": b, "seed": s, "turned": turned}
            res["turned_train_1_20_test_21_40"], _, _ = held_out(
                c, person, first, **kw, name="ORL s1-s20"
            )
            res["turned_train_21_40_test_1_20"], _, _ = held_out(
                c, person, second, **kw, name="ORL s21-s40"
            )
            res["turned_cv"] = cross_validated(c, person, folds=args.folds, **kw)
        out["results"][pose] = res
        for key, r in res.items():
            rows.append((pose, key, _fmt(r)))
    out["limits"] = lim = limits(coords["image"], mesh, person, seed=s, turned=turned)
    if MUCT.is_file():
        from ffmatch.core.io.muct import read_muct

        muct = read_muct(MUCT)
        out["offsets"] = marker_offsets(coords["image"], muct)
        if args.with_muct:
            out["with_muct"] = with_muct(coords["image"], person, muct, seed=s)
    ms = 1000 * info["seconds_per_photo"]
    print(
        f"extraction: {info['found']}/{info['photos']} faces, {ms:.1f} ms/photo, "
        f"outside the frame: {info['outside_frame']}"
    )
    print("| markers | score | ROC-AUC (95% CI over people) | rank-1 |")
    print("|---|---|---|---|")
    for pose, key, text in rows:
        print(f"| {pose} | {key} | {text} |")
    print(
        f"\nheld-out same-person pairs accepted: {lim['true_accept']:.3f} "
        f"(different people accepted: {lim['false_accept']:.3f})"
    )
    for name, unit in (("by_yaw", "degrees of head turn"), ("by_lip", "eye widths of lip gap")):
        cells = ", ".join(
            f"{k}: {v['true_accept']:.2f} ({v['pairs']} pairs)" for k, v in lim[name].items()
        )
        print(f"  by difference in {unit}: {cells}")
    if "offsets" in out:
        print("\n| marker | dx | dy | offset | sd MediaPipe | sd MUCT |  (eye widths)")
        print("|---|---|---|---|---|---|")
        for a, o in out["offsets"].items():
            print(
                f"| {a} | {o['dx']:+.3f} | {o['dy']:+.3f} | {o['dist']:.3f} | "
                f"{o['sd_mediapipe']:.3f} | {o['sd_muct']:.3f} |"
            )
    if "with_muct" in out:
        print("\nwith MUCT:", json.dumps(out["with_muct"]))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
