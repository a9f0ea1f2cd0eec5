"""``ffmatch train``, ``predict``, ``benchmark muct`` and ``landmarks export``: the matching model.

``landmarks_app`` is the ``ffmatch landmarks`` group; the photo commands register
``extract`` on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ffmatch.benchmark.config import PAPER_BENCHMARK, BenchmarkConfig
from ffmatch.cli.app import app, command_line, is_quiet, prepare_training
from ffmatch.cli.common import out, print_json
from ffmatch.cli.options import OVERWRITE, YES, shown
from ffmatch.core.errors import DataError
from ffmatch.matcher.train import TrainConfig
from ffmatch.paper.pipeline.config import override

if TYPE_CHECKING:
    from ffmatch.benchmark.report import BenchmarkSummary
    from ffmatch.core.table import PhotoTable, StrArray
    from ffmatch.matcher.model import MatchModel

landmarks_app = typer.Typer(
    help="Landmark tables: export a dataset as a tidy CSV (and extract markers from photos).\n\n"
    "Example: ffmatch landmarks export muct --out muct.csv",
    no_args_is_help=True,
)
app.add_typer(landmarks_app, name="landmarks")

benchmark_app = typer.Typer(
    help="Benchmarks of the matching models.\n\nExample: ffmatch benchmark muct --out runs/muct",
    no_args_is_help=True,
)
app.add_typer(benchmark_app, name="benchmark")


_LANDMARKS = typer.Option(
    None, "--landmarks", "-l", help="A tidy landmark CSV (photo_id, person, markers)."
)
_DATA = typer.Option(None, "--data", "-d", help="A dataset name (muct) instead of --landmarks.")
_JSON = typer.Option(False, "--json", help="Print the result as JSON.")
_CONFIG = typer.Option(
    None, "--config", "-c", help="A config.toml (as written beside every result) to start from."
)


def _photos(landmarks: Path | None, data: str | None) -> PhotoTable:
    """The photo table of ``--landmarks`` or ``--data``, exactly one of them."""
    from ffmatch.core.sources import load_photos

    if (landmarks is None) == (data is None):
        raise DataError("give exactly one of --landmarks FILE or --data NAME (e.g. --data muct)")
    return load_photos(str(landmarks) if landmarks is not None else str(data))


@landmarks_app.command("export")
def landmarks_export(
    dataset: str = typer.Argument(..., help="The dataset to export: muct."),
    out_file: Path = typer.Option(..., "--out", "-o", help="The tidy CSV to write."),
    json_out: bool = _JSON,
) -> None:
    """Write a dataset's landmarks as a tidy CSV with person ids (the format --landmarks reads).

    Example: ffmatch landmarks export muct --out muct.csv
    """
    from ffmatch.core.io.output import check_output_file
    from ffmatch.core.io.tidy import write_tidy
    from ffmatch.core.sources import load_photos

    if dataset != "muct":
        raise DataError(f"landmarks export: expected a dataset name (muct), found {dataset!r}")
    check_output_file(out_file)
    photos = load_photos(dataset)
    write_tidy(photos, out_file)
    n_people = len(set(photos.person.tolist()))
    if json_out:
        print_json({"out": str(out_file), "photos": len(photos), "people": n_people})
    else:
        out.print(f"wrote {out_file} ({len(photos)} photos of {n_people} people)")


@app.command("train")
def train_cmd(
    out_file: Path = typer.Option(..., "--out", "-o", help="The model file to write (.ffm)."),
    landmarks: Path | None = _LANDMARKS,
    data: str | None = _DATA,
    val_fraction: float | None = typer.Option(
        None,
        "--val-fraction",
        help="Share of people kept out of the fit for the threshold. "
        f"{shown(TrainConfig(), 'val_fraction')}",
    ),
    name: str | None = typer.Option(
        None, "--name", help="What the training data is, recorded in the model file."
    ),
    seed: int | None = typer.Option(
        None,
        "--seed",
        help=f"The one seed behind every random choice. {shown(TrainConfig(), 'seed')}",
    ),
    config_path: Path | None = _CONFIG,
    json_out: bool = _JSON,
) -> None:
    """Fit the matching model (PLDA on aligned shapes) and save it with its threshold and metrics.

    MUCT photo ids give each photo's camera: the model is then a pose mixture.

    Its settings are written beside the model as ``<model>.config.toml`` (``--config`` reads
    such a file back).

    Example: ffmatch train --data muct --out model.ffm
    """
    from ffmatch.cli.options import MAX_SEED, check_range
    from ffmatch.core.configio import load_toml, write_toml
    from ffmatch.core.io.output import check_output_file, replacing_files
    from ffmatch.matcher.model import save_model
    from ffmatch.matcher.train import train_match_model

    config = TrainConfig() if config_path is None else load_toml(TrainConfig, config_path)
    config = override(config, val_fraction=val_fraction, seed=seed)
    check_range("seed", config.seed, 0, MAX_SEED)
    inputs = [p for p in (landmarks, data, config_path) if p is not None]
    check_output_file(out_file, inputs=inputs)
    check_output_file(out_file.with_suffix(".config.toml"), inputs=inputs)
    photos = _photos(landmarks, data)
    n_people = len(set(photos.person.tolist()))
    described = name or f"{landmarks or data}: {len(photos)} photos of {n_people} people"
    from ffmatch.matcher.marker_source import table_marker_source

    model = train_match_model(
        photos,
        config=config,
        training_data=described,
        poses=_muct_cameras(photos),
        marker_source=table_marker_source(photos),
    )
    model = _with_command(model)
    # both files or neither: an earlier model and its config are replaced together
    with replacing_files([out_file, out_file.with_suffix(".config.toml")]) as (model_to, toml_to):
        save_model(model, model_to)
        write_toml(config, toml_to)
    if json_out:
        print_json({"out": str(out_file), "threshold": model.threshold, "metrics": model.metrics})
        return
    m = model.metrics
    out.print(
        f"wrote {out_file}: validation ROC-AUC {m['roc_auc']:.3f}, EER {m['eer']:.3f}, "
        f"accept rate at 1% false accepts {m['tar_at_far_1pct']:.3f}, "
        f"threshold P(same) > {model.threshold:.3f} ({model.operating_point})"
    )


def _muct_cameras(photos: PhotoTable) -> StrArray | None:
    """MUCT's camera of each photo when every id is a MUCT name (the pose mixture's poses)."""
    from ffmatch.core.io.muct import NAME, muct_camera

    if all(NAME.fullmatch(str(p)) for p in photos.photo_id):
        return muct_camera(photos.photo_id)
    return None


def _with_command(model: MatchModel) -> MatchModel:
    """The model with the command line that made it in its config."""
    import dataclasses

    return dataclasses.replace(model, config={**model.config, "command": command_line()})


@app.command("predict")
def predict_cmd(
    model_file: Path | None = typer.Option(
        None, "--model", "-m", help="A model file from 'ffmatch train'. [default: the shipped one]"
    ),
    landmarks: Path = typer.Option(..., "--landmarks", "-l", help="Tidy landmark CSV."),
    pairs_file: Path = typer.Option(..., "--pairs", help="CSV with columns photo_x,photo_y."),
    out_file: Path = typer.Option(
        ..., "--out", "-o", help="CSV to write (adds probability, match)."
    ),
    json_out: bool = _JSON,
) -> None:
    """Score pairs of photos of a landmark table: P(same person) and the decision.

    Example: ffmatch predict --landmarks photos.csv --pairs pairs.csv --out scores.csv
    """
    from ffmatch.core.io.output import check_output_file
    from ffmatch.core.io.tidy import read_tidy
    from ffmatch.matcher.marker_source import MEDIAPIPE, check_marker_source, table_marker_source
    from ffmatch.matcher.model import default_model, load_model
    from ffmatch.matcher.predict import predict_pairs

    inputs = [p for p in (model_file, landmarks, pairs_file) if p is not None]
    check_output_file(out_file, inputs=inputs)
    photos = read_tidy(landmarks)
    source = table_marker_source(photos)
    if model_file is not None:
        model = load_model(model_file)
        check_marker_source(model.marker_source, source, model=str(model_file),
                            data=str(landmarks))  # fmt: skip
    elif source == MEDIAPIPE:  # extracted from photos: the model fitted on such markers
        from ffmatch.matcher.photos.models import photo_model

        model = photo_model()
    else:
        model = default_model()
    n = predict_pairs(model, photos, pairs_file, out_file)
    if json_out:
        print_json({"out": str(out_file), "pairs": n, "model": model.training_data})
    else:
        out.print(f"wrote {out_file} ({n} pairs; model: {model.training_data})", markup=False,
                  highlight=False, soft_wrap=True)  # fmt: skip


_FOLDS = typer.Option(
    None, "--folds", help=f"Subject-disjoint folds. {shown(BenchmarkConfig(), 'folds')}"
)
_REPEATS = typer.Option(
    None,
    "--repeats",
    help=f"Repeats of the folds with new seeds. {shown(BenchmarkConfig(), 'repeats')}",
)
_MODELS = typer.Option(None, "--models", help="Comma-separated models to run. [default: all]")
_EPOCHS = typer.Option(
    None, "--epochs", help=f"Epochs of the paper's MLP. {shown(BenchmarkConfig(), 'mlp_epochs')}"
)
_BENCH_ENGINE = typer.Option(
    None,
    "--engine",
    help="How the MLPs train: stacked (the published numbers), compiled (faster; its rounding "
    f"moves the MLP metrics slightly) or auto. {shown(BenchmarkConfig(), 'engine')}",
)
_BENCH_SEED = typer.Option(
    None,
    "--seed",
    help=f"The one seed behind every random choice. {shown(BenchmarkConfig(), 'seed')}",
)


def _benchmark_config(path: Path | None, preset: BenchmarkConfig, **given: Any) -> BenchmarkConfig:
    """``path`` (or ``preset``) with the options given on the command line applied."""
    from ffmatch.core.configio import load_toml

    config = preset if path is None else load_toml(BenchmarkConfig, path)
    if given.get("models") is not None:
        given["models"] = tuple(given["models"].split(","))
    changed: BenchmarkConfig = override(config, **given)
    return changed


_BENCH_JOBS = typer.Option(
    0,
    "--jobs",
    "-j",
    help="Processes sharing the folds; 0: one per CPU. The results are the same for any "
    "number. [default: 0]",
)


def _run_benchmark(
    config: BenchmarkConfig,
    out_dir: Path,
    *,
    json_out: bool,
    overwrite: bool,
    yes: bool,
    jobs: int = 1,
) -> None:
    """Run a benchmark with a progress bar and print its summary (or the paths as JSON)."""
    from ffmatch.benchmark.report import run_benchmark_folder
    from ffmatch.cli.common import progress_bar
    from ffmatch.cli.options import (
        MAX_EPOCHS,
        MAX_JOBS,
        MAX_REPEATS,
        MAX_SEED,
        check_benchmark_cost,
        check_range,
    )
    from ffmatch.core.io.output import check_output_folder
    from ffmatch.core.serial import to_mapping

    check_range("--folds", config.folds, 2, 100)
    check_range("--repeats", config.repeats, 1, MAX_REPEATS)
    check_range("--epochs", config.mlp_epochs, 1, MAX_EPOCHS)
    check_range("--seed", config.seed, 0, MAX_SEED)
    check_range("--people", config.people, 2, 100_000)
    check_range("--jobs", jobs, 0, MAX_JOBS)
    jobs = jobs or _cpus()
    check_benchmark_cost(config, yes=yes, jobs=jobs)
    check_output_folder(out_dir, overwrite=overwrite)
    total = config.folds * config.repeats * len(config.variants)
    # --threads for the MLPs, one by default: the workers of --jobs take the other cores
    prepare_training(config.engine, default=1)
    with progress_bar("folds", total, quiet=is_quiet()) as update:
        summary = run_benchmark_folder(
            config, out_dir, command=command_line(), on_step=update, jobs=jobs
        )
    if json_out:
        print_json({"out": str(out_dir), "results": to_mapping(summary)})
    else:
        _print_summary(summary)
        out.print(f"wrote {out_dir}/ (report.md, results.json, config.toml, figures/)")


@benchmark_app.command("muct")
def benchmark_muct(
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for the report and figures."),
    folds: int | None = _FOLDS,
    repeats: int | None = _REPEATS,
    models: str | None = _MODELS,
    epochs: int | None = _EPOCHS,
    people: int | None = typer.Option(
        None, "--people", help="Use only this many people (quick runs). [default: all]"
    ),
    seed: int | None = _BENCH_SEED,
    engine: str | None = _BENCH_ENGINE,
    config_path: Path | None = _CONFIG,
    overwrite: bool = OVERWRITE,
    yes: bool = YES,
    jobs: int = _BENCH_JOBS,
    json_out: bool = _JSON,
) -> None:
    """Subject-disjoint MUCT benchmark: models side by side, frontal and all cameras.

    Example: ffmatch benchmark muct --out runs/muct
    """
    config = _benchmark_config(
        config_path, BenchmarkConfig(), folds=folds, repeats=repeats, models=models,
        mlp_epochs=epochs, people=people, seed=seed, engine=engine,
    )  # fmt: skip
    _run_benchmark(config, out_dir, json_out=json_out, overwrite=overwrite, yes=yes, jobs=jobs)


def _cpus() -> int:
    """The CPUs this process may run on."""
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@benchmark_app.command("paper")
def benchmark_paper(
    out_dir: Path = typer.Option(..., "--out", "-o", help="Folder for the report and figures."),
    data: str | None = typer.Option(
        None,
        "--data",
        "-d",
        help=f"paper, paper-computed, or a paper-style table. {shown(PAPER_BENCHMARK, 'data')}",
    ),
    folds: int | None = typer.Option(
        None, "--folds", help=f"Folds of whole sets of three. {shown(PAPER_BENCHMARK, 'folds')}"
    ),
    repeats: int | None = typer.Option(
        None,
        "--repeats",
        help=f"Repeats of the folds with new seeds. {shown(PAPER_BENCHMARK, 'repeats')}",
    ),
    models: str | None = typer.Option(
        None, "--models", help="Comma-separated models to run. [default: all that fit 12 sets]"
    ),
    epochs: int | None = _EPOCHS,
    seed: int | None = _BENCH_SEED,
    engine: str | None = _BENCH_ENGINE,
    config_path: Path | None = _CONFIG,
    overwrite: bool = OVERWRITE,
    yes: bool = YES,
    json_out: bool = _JSON,
) -> None:
    """The benchmark's models on the paper's 36 rows, grouped by set, with intervals.

    Example: ffmatch benchmark paper --out runs/paper-models
    """
    config = _benchmark_config(
        config_path, PAPER_BENCHMARK, data=data, folds=folds, repeats=repeats, models=models,
        mlp_epochs=epochs, seed=seed, engine=engine,
    )  # fmt: skip
    _run_benchmark(config, out_dir, json_out=json_out, overwrite=overwrite, yes=yes)


def _print_summary(summary: BenchmarkSummary) -> None:
    """One table per variant: each model's ROC-AUC, EER and rank-1 with 95% intervals."""
    from rich.table import Table

    from ffmatch.benchmark.report import summary_cell

    variants = dict.fromkeys(key.split("/", 1)[0] for key in summary)
    for variant in variants:
        grid = Table(title=variant)
        for col in ("model", "ROC-AUC", "EER", "rank-1"):
            grid.add_column(col, justify="left" if col == "model" else "right")
        for key, entry in summary.items():
            v, name = key.split("/", 1)
            if v == variant:
                grid.add_row(
                    name,
                    summary_cell(entry.roc_auc),
                    summary_cell(entry.eer),
                    summary_cell(entry.rank1),
                )
        out.print(grid)
