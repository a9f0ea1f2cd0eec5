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
    from ffmatch.matcher.photos.match import Matcher, PhotoMatch

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
    from ffmatch.core.io.output import check_output_file

    choice = _choice(face, largest)
    files = _photo_files(photos)
    check_output_file(out_file, inputs=files)
    if overlay_dir is not None:
        overlay_dir.mkdir(parents=True, exist_ok=True)
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


def _model(model_file: Path | None) -> Matcher:
    from ffmatch.matcher.photos.models import photo_model

    if model_file is not None:
        from ffmatch.matcher.model import load_model

        return load_model(model_file)
    return photo_model()


@app.command("match")
def match_cmd(
    photos: list[Path] | None = typer.Argument(None, help="Two photos to compare."),
    model_file: Path | None = typer.Option(
        None,
        "--model",
        "-m",
        help="A model file from 'ffmatch train'. [default: the shipped photo model]",
    ),
    figure: Path | None = typer.Option(
        None, "--figure", help="PNG of both faces with the markers and the telling distances."
    ),
    pairs_file: Path | None = typer.Option(
        None, "--pairs", help="Batch: CSV with columns file_x,file_y (other columns kept)."
    ),
    photos_dir: Path | None = typer.Option(
        None, "--photos", help="Batch: the folder the file names in --pairs are relative to."
    ),
    out_file: Path | None = typer.Option(
        None, "--out", "-o", help="Batch: CSV to write (adds probability, match, error)."
    ),
    top: int = typer.Option(
        5, "--top", min=1, help="How many agreeing and differing features to show."
    ),
    jobs: int = _JOBS,
    face: int | None = _FACE,
    largest: bool = _LARGEST,
    json_out: bool = _JSON,
) -> None:
    """Do two photos show the same person? P(same), the decision, and the evidence.

    The evidence lists the inter-marker distances (over the eye width) that differ most and
    that agree best, each relative to the gap the model learned as ordinary for one person.

    Example: ffmatch match a.jpg b.jpg --figure match.png

    Batch example: ffmatch match --pairs pairs.csv --photos photos/ --out scores.csv
    """
    choice = _choice(face, largest)
    if pairs_file is not None:
        if photos:
            raise ConfigError("give two photos, or --pairs with --photos and --out, not both")
        if photos_dir is None or out_file is None:
            raise ConfigError("--pairs needs --photos DIR (where the files are) and --out FILE")
        _match_batch(pairs_file, photos_dir, out_file, _model(model_file), choice, jobs, json_out)
        return
    if not photos or len(photos) != 2:
        found = len(photos or [])
        raise ConfigError(
            f"expected two photos (or --pairs FILE --photos DIR --out FILE), found {found}"
        )
    if photos_dir is not None or out_file is not None:
        raise ConfigError("--photos and --out belong to the batch mode (--pairs)")
    _match_two(photos[0], photos[1], _model(model_file), choice, figure, top, json_out)


def _match_two(
    a: Path, b: Path, model: Matcher, choice: FaceChoice, figure: Path | None, top: int,
    json_out: bool,
) -> None:  # fmt: skip
    from ffmatch.matcher.photos.extract import FaceMeshExtractor
    from ffmatch.matcher.photos.match import match_photos

    with FaceMeshExtractor() as extractor:
        result = match_photos(a, b, model, extractor, choice=choice)
    if figure is not None:
        from ffmatch.matcher.photos.figure import save_match_figure
        from ffmatch.matcher.photos.image import read_photo

        save_match_figure(result, read_photo(a), read_photo(b), figure)
    if json_out:
        data = result.to_dict(top)
        data["model"] = getattr(model, "training_data", "")
        if figure is not None:
            data["figure"] = str(figure)
        print_json(data)
        return
    _print_match(result, model, top)
    if figure is not None:
        out.print(f"wrote {figure}")


def _print_match(result: PhotoMatch, model: Any, top: int) -> None:
    verdict = "same person" if result.match else "different people"
    out.print(f"{result.x.source} vs {result.y.source}", markup=False, highlight=False,
              soft_wrap=True)  # fmt: skip
    out.print(
        f"P(same person) = {result.probability:.3f} (threshold {result.threshold:.3f}): {verdict}"
    )
    if getattr(model, "training_data", ""):
        out.print(f"model trained on: {model.training_data}", markup=False, highlight=False,
                  soft_wrap=True)  # fmt: skip
    for title, items in (
        ("differ most", result.differing(top)),
        ("agree best", result.agreeing(top)),
    ):
        out.print(f"{title} (distance / eye width: x vs y, gap in typical same-person gaps):")
        for e in items:
            out.print(
                f"  {e.name:<26} {e.value_x:7.3f} vs {e.value_y:7.3f}  {e.score:5.1f}x",
                markup=False,
                highlight=False,
            )


def _match_batch(
    pairs_file: Path, photos_dir: Path, out_file: Path, model: Matcher, choice: FaceChoice,
    jobs: int, json_out: bool,
) -> None:  # fmt: skip
    from ffmatch.core.io.output import check_output_file
    from ffmatch.matcher.photos.match import (
        extract_pair_photos,
        read_pairs,
        score_pairs,
        write_scores,
    )

    if not photos_dir.is_dir():
        raise ConfigError(f"--photos {photos_dir}: expected a folder of photos")
    check_output_file(out_file, inputs=[pairs_file])
    pairs = read_pairs(pairs_file)
    n_photos = len(pairs.distinct_files())
    with progress_bar("extracting", n_photos, quiet=is_quiet()) as update:
        extracted = extract_pair_photos(pairs, photos_dir, choice=choice, on_photo=update,
                                        jobs=_jobs(jobs, n_photos))  # fmt: skip
    scores = score_pairs(pairs, extracted, model)
    write_scores(pairs, scores, out_file)
    failed = sum(bool(s.error) for s in scores)
    matched = sum(bool(s.match) for s in scores)
    if failed:
        log.warning("%d of %d pairs not scored (see the error column of %s)", failed,
                    len(scores), out_file)  # fmt: skip
    if json_out:
        print_json({"out": str(out_file), "pairs": len(scores), "match": matched,
                    "errors": failed})  # fmt: skip
    else:
        out.print(f"wrote {out_file} ({len(scores)} pairs: {matched} match, {failed} not scored)")
