"""``ffmatch landmarks extract`` and ``ffmatch match``: from photos to markers to a decision.

Thin: options are parsed and checked here, the work is in ``ffmatch.matcher.photos``. MediaPipe and
Pillow are imported only when a command runs; without them a command stops with one line
naming the extra to install.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ffmatch.cli.app import app, is_quiet
from ffmatch.cli.common import err, out, print_json, progress_bar
from ffmatch.cli.muct_cmds import landmarks_app
from ffmatch.core.errors import ConfigError

if TYPE_CHECKING:
    from ffmatch.matcher.photos.extract import Extraction, FaceChoice
    from ffmatch.matcher.verdict import Evidence, FusionModel, Measurement, PairVerdict

log = logging.getLogger(__name__)

PHOTO_SUFFIXES = (
    ".jpg", ".jpeg", ".png", ".pgm", ".ppm", ".bmp", ".gif", ".tif", ".tiff", ".webp",
)  # fmt: skip

_FACE = typer.Option(
    None, "--face", help="In photos of several people, take face N (1 = leftmost)."
)
_LARGEST = typer.Option(False, "--largest", help="In photos of several people, take the largest.")
_JSON = typer.Option(False, "--json", help="Print the result as JSON.")
_JOBS = typer.Option(
    1,
    "--jobs",
    "-j",
    help="Processes extracting photos at once (each starts in about a second); 0: one per "
    "CPU up to 8 and one per 32 photos.",
)


def _choice(face: int | None, largest: bool) -> FaceChoice:
    from ffmatch.matcher.photos.extract import FaceChoice

    return FaceChoice(number=face, largest=largest)


def _photo_files(items: list[Path]) -> list[Path]:
    """Files as given, each once; folders replaced by their photos (recursively, sorted)."""
    files: list[Path] = []
    for item in items:
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
            if not found:
                raise ConfigError(f"{item}: no photos in this folder ({', '.join(PHOTO_SUFFIXES)})")
            files += found
        else:
            files.append(item)
    return list(dict.fromkeys(files))  # a photo named twice is extracted once


def _jobs(jobs: int, n_photos: int) -> int:
    """``--jobs``: 0 picks a number for ``n_photos`` (``photos.parallel.default_jobs``)."""
    from ffmatch.cli.options import MAX_JOBS
    from ffmatch.matcher.photos.parallel import default_jobs

    if not 0 <= jobs <= MAX_JOBS:
        raise ConfigError(f"--jobs: expected 0 (automatic) to {MAX_JOBS}, found {jobs}")
    return jobs or default_jobs(n_photos)


def _overlay_name(photo_id: str) -> str:
    return photo_id.replace("/", "_").replace("\\", "_") + ".png"


@landmarks_app.command("extract")
def extract_cmd(
    photos: list[Path] = typer.Argument(..., help="Photos, or folders of photos."),
    out_file: Path = typer.Option(..., "--out", "-o", help="The tidy landmark CSV to write."),
    overlay_dir: Path | None = typer.Option(
        None, "--overlay", help="Folder for each photo with its 14 markers drawn and labelled."
    ),
    face: int | None = _FACE,
    largest: bool = _LARGEST,
    person: str = typer.Option(
        "photo",
        "--person",
        help="Person id of each photo: photo (its own id), prefix (name before '-<n>'), "
        "folder (its folder's name).",
    ),
    turned_copies: int = typer.Option(
        0,
        "--turned-copies",
        help="For training data only: add N rows per photo with the face turned (yaw within "
        "+-30, pitch within +-10 degrees, from the mesh's depth), ids '<photo_id>~turn<k>'.",
    ),
    seed: int = typer.Option(
        0, "--seed", min=0, max=2**32 - 1, help="Seed of the turned copies' random turns."
    ),
    jobs: int = _JOBS,
    json_out: bool = _JSON,
) -> None:
    """Find the 14 markers in photos with MediaPipe's face mesh; write a tidy landmark CSV.

    Photos without a usable face (none, or several without --face/--largest) keep a row with
    empty markers, are listed on stderr, and make the exit status 1.

    Example: ffmatch landmarks extract photos/*.jpg --out ffm.csv --overlay overlays/
    """
    from ffmatch.core.io.tidy import write_tidy
    from ffmatch.matcher.photos.extract import PERSON_RULES, to_table
    from ffmatch.matcher.photos.parallel import extract_many

    if person not in PERSON_RULES:
        raise ConfigError(f"--person: expected one of {', '.join(PERSON_RULES)}, found {person!r}")
    if not 0 <= turned_copies <= 100:
        raise ConfigError(f"--turned-copies: expected 0 to 100, found {turned_copies}")
    from ffmatch.core.io.output import check_output_file, check_output_files
    from ffmatch.matcher.photos.extract import photo_ids

    choice = _choice(face, largest)
    files = _photo_files(photos)
    check_output_file(out_file, inputs=files)
    if overlay_dir is not None:
        names = [_overlay_name(pid) for pid in photo_ids(files)]
        check_output_files(overlay_dir, names, inputs=[*files, out_file], option="--overlay")
    done: list[Extraction] = []
    with progress_bar("extracting", len(files), quiet=is_quiet()) as update:
        for k, ex in enumerate(extract_many(files, choice=choice, jobs=_jobs(jobs, len(files)))):
            done.append(ex)
            if overlay_dir is not None and ex.width:
                _save_overlay(ex, overlay_dir / _overlay_name(ex.photo_id))
            update(k + 1, len(files))
    table = to_table(done, person=person)
    if turned_copies:
        from ffmatch.matcher.photos.augment import with_turned_copies

        table = with_turned_copies(table, done, copies=turned_copies, seed=seed)
    write_tidy(table, out_file)
    failed = [e for e in done if not e.ok]
    for e in failed:
        err.print(f"{e.source}: {e.error}", markup=False, highlight=False, soft_wrap=True)
    if json_out:
        print_json({
            "out": str(out_file), "photos": len(done), "extracted": len(done) - len(failed),
            "failed": [{"file": e.source, "photo_id": e.photo_id, "error": e.error}
                       for e in failed],
        })  # fmt: skip
    else:
        out.print(f"wrote {out_file} ({len(done) - len(failed)} of {len(done)} photos extracted)")
    if failed:
        raise typer.Exit(1)


def _save_overlay(ex: Extraction, path: Path) -> None:
    from ffmatch.matcher.photos.image import read_photo
    from ffmatch.matcher.photos.overlay import save_overlay

    save_overlay(read_photo(ex.source), ex, path)


_EVIDENCE_HELP = (
    "geometry (the 14 markers), appearance (dlib's face descriptor) or both. "
    "[default: both when dlib is installed, else geometry]"
)
_BANDS_HELP = (
    "Verdicts: 'same' when P is at or above the model's 'same' band, where at most 1% of "
    "different-person pairs of people never used for fitting fell; 'different' when P is at "
    "or below the 'different' band, where at most 1% of same-person pairs fell; "
    "'inconclusive' between the bands or when a doubt is printed (small face, implausible "
    "markers, pose or expression too different, geometry and appearance disagree)."
)


@app.command("match", epilog=_BANDS_HELP)
def match_cmd(
    photos: list[Path] | None = typer.Argument(None, help="Two photos to compare."),
    evidence: str | None = typer.Option(None, "--evidence", "-e", help=_EVIDENCE_HELP),
    model_file: Path | None = typer.Option(
        None,
        "--model",
        "-m",
        help="A verdict model (.json, benchmarks/bench_verdict.py --fit). [default: shipped]",
    ),
    figure: Path | None = typer.Option(
        None, "--figure", help="PNG of both faces with the markers and the telling distances."
    ),
    figures_dir: Path | None = typer.Option(
        None, "--figures", help="Batch: folder for one such PNG per pair (pair-<row>.png)."
    ),
    pairs_file: Path | None = typer.Option(
        None,
        "--pairs",
        help="Batch: CSV with columns photo_x,photo_y (file names), optional face_x,face_y "
        "(face number, 1 = leftmost); other columns kept.",
    ),
    photos_dir: Path | None = typer.Option(
        None, "--photos", help="Batch: the folder the file names in --pairs are relative to."
    ),
    out_file: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Batch: CSV to write (adds probability, verdict, evidence, differ_most, "
        "agree_best, error).",
    ),
    top: int = typer.Option(
        5, "--top", min=1, help="How many agreeing and differing distances to show."
    ),
    jobs: int = _JOBS,
    face: int | None = _FACE,
    largest: bool = _LARGEST,
    json_out: bool = _JSON,
) -> None:
    """Do two photos show the same person? The verdict, P(same person) and the evidence.

    P(same person) assumes even odds before the photos are looked at. The evidence lists
    the distances between markers (over the width across the eyes) that differ most and
    agree best, in words with their codes, each relative to the gap that is ordinary for
    two photos of one person.

    Example: ffmatch match a.jpg b.jpg --figure match.png

    Batch example: ffmatch match --pairs pairs.csv --photos photos/ --out verdicts.csv
    """
    from ffmatch.matcher.verdict import check_evidence, default_evidence, load_fusion_model

    choice = _choice(face, largest)
    chosen = check_evidence(evidence) if evidence is not None else default_evidence()
    if pairs_file is not None:
        if photos:
            raise ConfigError("give two photos, or --pairs with --photos and --out, not both")
        if photos_dir is None or out_file is None:
            raise ConfigError("--pairs needs --photos DIR (where the files are) and --out FILE")
        if figure is not None:
            raise ConfigError("--figure is for two photos; in batch mode use --figures DIR")
        model = load_fusion_model(model_file)
        _match_batch(pairs_file, photos_dir, out_file, figures_dir, model, chosen, choice, jobs,
                     top, json_out)  # fmt: skip
        return
    if not photos or len(photos) != 2:
        found = len(photos or [])
        raise ConfigError(
            f"expected two photos (or --pairs FILE --photos DIR --out FILE), found {found}"
        )
    if photos_dir is not None or out_file is not None or figures_dir is not None:
        raise ConfigError("--photos, --out and --figures belong to the batch mode (--pairs)")
    _match_two(photos[0], photos[1], load_fusion_model(model_file), chosen, choice, figure, top,
               json_out)  # fmt: skip


def _match_two(
    a: Path, b: Path, model: FusionModel, evidence: Evidence, choice: FaceChoice,
    figure: Path | None, top: int, json_out: bool,
) -> None:  # fmt: skip
    from ffmatch.matcher.photos.extract import FaceMeshExtractor, extract_photos
    from ffmatch.matcher.verdict import compare_extractions

    with FaceMeshExtractor() as extractor:
        x, y = extract_photos([a, b], extractor, choice=choice)
    result = compare_extractions(x, y, evidence=evidence, model=model)
    if figure is not None:
        from ffmatch.matcher.photos.figure import save_verdict_figure

        save_verdict_figure(result, x, y, figure, n=top)
    if json_out:
        data = verdict_json(result, top)
        data.update(file_x=str(a), file_y=str(b), model=model.training_data)
        if figure is not None:
            data["figure"] = str(figure)
        print_json(data)
        return
    _print_verdict(result, a, b, top)
    if figure is not None:
        out.print(f"wrote {figure}", markup=False, highlight=False, soft_wrap=True)


def verdict_json(result: PairVerdict, top: int) -> dict[str, Any]:
    """The verdict as JSON: probability, verdict and its meaning, doubts, measurements with
    words and codes."""
    from ffmatch.matcher.verdict import BAND_MEANINGS

    def rows(items: list[Measurement]) -> list[dict[str, Any]]:
        return [{"words": m.words, "code": m.code, "value_x": m.value_x, "value_y": m.value_y,
                 "score": m.score} for m in items]  # fmt: skip

    return {
        "probability": round(result.probability, 4),
        "verdict": result.verdict,
        "meaning": BAND_MEANINGS[result.verdict],
        "evidence": result.evidence,
        "bands": {"different": result.bands[0], "same": result.bands[1]},
        "reasons": list(result.reasons),
        "notes": list(result.notes),
        "geometry_probability": result.geometry_probability,
        "appearance_probability": result.appearance_probability,
        "descriptor_distance": result.descriptor_distance,
        "differing": rows(result.differing(top)),
        "agreeing": rows(result.agreeing(top)),
    }


def _print_verdict(result: PairVerdict, a: Path, b: Path, top: int) -> None:
    from ffmatch.matcher.verdict import VERDICT_WORDS

    def say(text: str) -> None:
        out.print(text, markup=False, highlight=False, soft_wrap=True)

    say(f"{a} vs {b}")
    say(f"{VERDICT_WORDS[result.verdict]} (P = {result.probability:.2f}; evidence: "
        f"{result.evidence})")  # fmt: skip
    low, high = result.bands
    say(f"  bands: different at or below {low:.2f}, same at or above {high:.2f} "
        "(at most 1% errors each way on people never used for fitting)")  # fmt: skip
    for reason in result.reasons:
        say(f"  doubt: {reason}")
    for note in result.notes:
        say(f"  note: {note}")
    if result.evidence != "geometry":
        say(f"  appearance: descriptor distance {result.descriptor_distance:.2f} "
            f"(P = {result.appearance_probability:.2f}); markers alone: "
            f"P = {result.geometry_probability:.2f}")  # fmt: skip
    for title, items in (("differ most", result.differing(top)),
                         ("agree best", result.agreeing(top))):  # fmt: skip
        say(f"{title} (over the width across the eyes: first vs second photo; gap in ordinary "
            "same-person gaps):")  # fmt: skip
        for m in items:
            label = f"{m.words} [{m.code}]"
            say(f"  {label:<52} {m.value_x:6.3f} vs {m.value_y:6.3f}  {m.score:5.1f}x")


def _match_batch(
    pairs_file: Path, photos_dir: Path, out_file: Path, figures_dir: Path | None,
    model: FusionModel, evidence: Evidence, choice: FaceChoice, jobs: int, top: int,
    json_out: bool,
) -> None:  # fmt: skip
    from ffmatch.core.io.output import check_output_file
    from ffmatch.matcher.pairs_file import read_pairs
    from ffmatch.matcher.photos.match import (
        BATCH_COLUMNS,
        extract_pair_photos,
        judge_pairs,
        write_verdicts,
    )

    if not photos_dir.is_dir():
        raise ConfigError(f"--photos {photos_dir}: expected a folder of photos")
    check_output_file(out_file, inputs=[pairs_file])
    pairs = read_pairs(pairs_file, added=BATCH_COLUMNS)
    n_photos = len(pairs.distinct_photos())
    with progress_bar("extracting", n_photos, quiet=is_quiet()) as update:
        extracted = extract_pair_photos(pairs, photos_dir, choice=choice, on_photo=update,
                                        jobs=_jobs(jobs, n_photos))  # fmt: skip
    results = judge_pairs(pairs, extracted, model, evidence=evidence)
    write_verdicts(pairs, results, out_file, top=min(top, 3))
    if figures_dir is not None:
        from ffmatch.matcher.photos.figure import save_verdict_figure

        figures_dir.mkdir(parents=True, exist_ok=True)
        for r, row in zip(results, pairs.numbers, strict=True):
            if r.verdict is not None and r.x is not None and r.y is not None:
                save_verdict_figure(r.verdict, r.x, r.y, figures_dir / f"pair-{row}.png", n=top)
    failed = sum(bool(r.error) for r in results)
    counts = {v: sum(r.verdict is not None and r.verdict.verdict == v for r in results)
              for v in ("same", "inconclusive", "different")}  # fmt: skip
    if failed:
        log.warning("%d of %d pairs not judged (see the error column of %s)", failed,
                    len(results), out_file)  # fmt: skip
    if json_out:
        print_json({"out": str(out_file), "pairs": len(results), **counts, "errors": failed})
    else:
        out.print(f"wrote {out_file} ({len(results)} pairs: {counts['same']} same, "
                  f"{counts['inconclusive']} inconclusive, {counts['different']} different, "
                  f"{failed} not judged)", markup=False, highlight=False)  # fmt: skip
