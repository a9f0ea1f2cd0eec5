"""Fuzzing the command line: generated tables, model files and option values, every command.

Whatever comes in, a command ends with status 0 or 2, never a traceback or a NumPy warning,
never prints NaN (nor writes it into a result), and never changes its input files. Sizes are
bounded and the examples derandomized, so this runs in CI in a few tens of seconds.
"""

from __future__ import annotations

import contextlib
import re
import string
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ffmatch.cli.app import run
from ffmatch.core.io.tidy import MARKER_COLUMNS

# Four CLI fuzzers of 25 to 40 generated cases each: seconds, so out of the quick loop; CI
# runs them.
pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_NAN = re.compile(r"\b(NaN|nan|-?inf|Infinity)\b")


def _run(
    argv: list[str],
    inputs: list[Path],
    capsys: pytest.CaptureFixture[str],
    *,
    kept_on_error: Sequence[Path] = (),
) -> str:
    """Run ``argv``; check the promises (``kept_on_error``: files a failed command must not
    change, such as an archive it would otherwise update); return stdout."""
    before = {p: p.read_bytes() for p in [*inputs, *kept_on_error] if p.is_file()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = run(argv)
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert code in (0, 2), (argv, code, shown)
    assert "Traceback" not in shown, shown
    if not any(_NAN.search(a) for a in argv):  # an error may quote the value it refuses
        assert not _NAN.search(shown), shown
    numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not numeric, [str(w.message) for w in numeric]
    if code == 2:
        assert captured.err.startswith("ffmatch: error: "), captured.err
        assert captured.err.count("\n") == 1, captured.err
    for path, data in before.items():
        if code == 2 or path in inputs:
            assert path.read_bytes() == data, f"{path} changed"
    return captured.out


# --- tables -------------------------------------------------------------------------------

_NUMBERS = st.one_of(
    st.integers(-5, 3000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "1e308", "-1e400", "1_000", "١٢", "n/a", "0x10", "nan", "12.5"]),
)


@st.composite
def tables(draw: st.DrawFn) -> bytes:
    """A tidy landmark table, often damaged: cells, delimiters, encodings, duplicates."""
    n = draw(st.integers(0, 6))
    rows = []
    for k in range(n):
        person = draw(st.sampled_from(["a", "b", "c", ""]))
        photo = draw(st.sampled_from([f"p{k}", "p0", ""]))
        base = draw(st.integers(0, 500))
        cells = [str(base + 7 * j + (j % 3) * k) for j in range(len(MARKER_COLUMNS))]
        for _ in range(draw(st.integers(0, 3))):
            cells[draw(st.integers(0, len(cells) - 1))] = draw(_NUMBERS)
        rows.append(",".join([photo, person, *cells]))
    header = ",".join(["photo_id", "person", *MARKER_COLUMNS])
    text = "\n".join([header, *rows]) + "\n"
    mangle = draw(st.sampled_from(["none", "none", "semicolon", "latin1", "blank", "cut", "junk"]))
    if mangle == "semicolon":
        text = text.replace(",", ";")
    if mangle == "blank":
        text = "\n\n" + text.replace("\n", "\n\n")
    if mangle == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    data = text.encode("utf-8")
    if mangle == "latin1":
        data = data.replace(b"p0", b"p\xe9")
    if mangle == "junk":
        data = draw(st.binary(max_size=64))
    return data


@FUZZ
@given(table=tables(), command=st.sampled_from(["convert", "wide", "select", "train", "predict"]))
def test_generated_tables_are_answered_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: bytes, command: str
) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    data = folder / "t.csv"
    data.write_bytes(table)
    pairs = folder / "pairs.csv"
    pairs.write_text("photo_x,photo_y\np0,p1\np1,p2\n")
    out = folder / "out.csv"
    argv = {
        "convert": ["data", "convert", str(data), "--to", "tidy", "--out", str(out)],
        "wide": ["data", "convert", str(data), "--to", "wide", "--out", str(out)],
        "select": ["select", "--data", str(data), "--json"],
        "train": ["train", "--landmarks", str(data), "--out", str(folder / "m.ffm")],
        "predict": ["predict", "--landmarks", str(data), "--pairs", str(pairs), "--out", str(out)],
    }[command]
    _run(argv, [data, pairs], capsys)
    if out.is_file():
        assert not _NAN.search(out.read_text()), out.read_text()


# --- model files --------------------------------------------------------------------------


def _model_arrays() -> dict[str, np.ndarray]:
    from importlib import resources

    from ffmatch.matcher.model import DEFAULT_MODEL_FILE

    ref = resources.files("ffmatch.core.datasets") / "files" / DEFAULT_MODEL_FILE
    with resources.as_file(ref) as path, np.load(path) as npz:
        return {k: npz[k] for k in npz.files}


_EDITS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "scale": lambda a, v: a * v,
    "poke": lambda a, v: np.where(np.arange(a.size).reshape(a.shape) == 0, v, a),
    "shape": lambda a, v: a.ravel()[: max(1, a.size // 2)],
    "zero": lambda a, v: np.zeros_like(a),
    "int": lambda a, v: a.astype(np.int32),
}


@FUZZ
@given(
    key=st.sampled_from(["mean", "between", "within", "offsets", "log_prior", "ratio_within_sd"]),
    edit=st.sampled_from([*_EDITS, "drop", "extra", "header", "bytes"]),
    value=st.sampled_from([0.0, -1.0, 1e308, float("nan"), float("inf"), 2.0]),
    reseal=st.booleans(),
    cut=st.integers(0, 4000),
)
def test_generated_model_files_are_answered_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, edit: str, value: float,
    reseal: bool, cut: int,
) -> None:  # fmt: skip
    import json

    from ffmatch.matcher.model import checksum

    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    arrays = _model_arrays()
    with np.errstate(all="ignore"):
        if edit in _EDITS:
            arrays[key] = _EDITS[edit](arrays[key], value)
        elif edit == "drop":
            del arrays[key]
        elif edit == "extra":
            arrays["extra"] = np.zeros(3)
        elif edit == "header":
            arrays["header"] = np.array(str(arrays["header"])[:cut])
    if reseal and edit not in ("header", "bytes"):
        header = json.loads(str(arrays["header"]))
        header["checksum"] = checksum({k: v for k, v in arrays.items() if k != "header"})
        arrays["header"] = np.array(json.dumps(header))
    model = folder / "m.ffm"
    with model.open("wb") as fh:
        np.savez(fh, **arrays)
    if edit == "bytes":
        model.write_bytes(model.read_bytes()[:cut])
    photos = folder / "photos.csv"
    assert run(["data", "convert", "paper", "--to", "tidy", "--out", str(photos)]) == 0
    pairs = folder / "pairs.csv"
    pairs.write_text("photo_x,photo_y\n1A,1B\n1B,1C\n")
    capsys.readouterr()
    out = folder / "scores.csv"
    argv = ["predict", "--model", str(model), "--landmarks", str(photos), "--pairs", str(pairs),
            "--out", str(out), "--json"]  # fmt: skip
    _run(argv, [model, photos, pairs], capsys)
    if out.is_file():
        assert not _NAN.search(out.read_text())


# --- option values ------------------------------------------------------------------------

_INTS = st.one_of(st.integers(-3, 3), st.integers(-(2**70), 2**70), st.just(2**32))
_TEXT = st.text(alphabet=string.printable + "١٢", max_size=8)

TINY = """
seed = 1
[eval]
n_splits = 2
[mlp]
hidden = [2]
epochs = 1
batch_size = 12
[ga]
population = 2
generations = 0
"""


@FUZZ
@given(
    option=st.sampled_from(["--seed", "--repeats", "--epochs", "--hidden", "--device", "--top",
                            "--threads", "--folds", "--finetune-epochs", "--rule"]),
    value=st.one_of(_INTS.map(str), _TEXT, st.sampled_from(["cuda", "cuda:7", "cpu", "20,x"])),
)  # fmt: skip
def test_generated_option_values_are_answered_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    import torch

    if option == "--device" and torch.cuda.is_available():
        pytest.skip("device values are judged against a machine without CUDA")
    if option in ("--repeats", "--epochs") and value.strip().isdigit() and 2 < int(value) < 10**4:
        value = str(10**4 + int(value))  # in range, but a long run: keep the test fast
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = Path(tempfile.mkdtemp(dir=tmp_path)) / "run"
    cv = ["-q", "cv", "--config", str(config), option, value, "--out", str(out)]
    argv = {
        "--top": ["match", "a.jpg", "b.jpg", "--top", value],
        "--threads": ["--threads", value, "select", "--json"],
        "--folds": ["benchmark", "paper", "--folds", value, "--repeats", "0", "--out", str(out)],
        "--finetune-epochs": ["-q", "prune", "--finetune-epochs", value, "--config", str(config),
                              "--out", str(out)],
        "--rule": ["select", "--rule", value, "--json"],
    }.get(option, cv)  # fmt: skip
    _run(argv, [config], capsys)


# --- the archive and the web page ---------------------------------------------------------


@pytest.fixture(scope="module")
def photo_archive(small_photos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of the three small photos (one of two people), indexed once."""
    pytest.importorskip("mediapipe")
    db = tmp_path_factory.mktemp("fuzz-archive") / "archive.db"
    assert run(["-q", "index", str(small_photos), "--db", str(db)]) == 0
    return db


_FILES = ["db", "missing", "nested", "folder", "junk", "empty", "labels", "photo"]
_IDS = st.sampled_from(["obama-1.jpg", "multi-two-people.jpg", "obama-1.jpg#2", "", "../x"])
_FLOATS = st.one_of(
    st.sampled_from(["0.5", "0", "1", "-1", "2", "nan", "inf", "-inf", "1e308", "x", "1_0"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


def _file(kind: str, folder: Path, db: Path, photos: Path, junk: bytes) -> Path:
    """A path of the kind named: a copy of the archive, a missing one, a folder, junk..."""
    path = folder / {"db": "archive.db", "labels": "labels.csv", "photo": "q.jpg"}.get(kind, kind)
    if kind == "db":
        path.write_bytes(db.read_bytes())
    elif kind == "nested":
        path = folder / "no" / "such" / "x.db"
    elif kind == "folder":
        path.mkdir(exist_ok=True)
    elif kind == "junk":
        path.write_bytes(junk)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "labels":
        path.write_text("photo,person\nobama-1.jpg,obama\nnobody.jpg,x\n")
    elif kind == "photo":
        path.write_bytes((photos / "obama-5-240p.jpg").read_bytes())
    return path


def _usually(valid: object, other: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """``valid`` three times in four, else ``other``: deeper paths than all-bad arguments."""
    return st.one_of(st.just(valid), st.just(valid), st.just(valid), other)


@st.composite
def archive_commands(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A command of the archive or the web page with generated arguments."""
    command = draw(st.sampled_from(["index", "search", "decide", "group", "serve"]))
    files = st.sampled_from(_FILES)
    maybe_file = st.one_of(st.none(), files)
    args: dict[str, object] = {
        "db": draw(_usually("db", files)),
        "junk": draw(st.binary(max_size=48)),
        "json": draw(st.booleans()),
    }
    if command == "index":
        args |= {
            "root": draw(_usually("photos", st.sampled_from(["folder", "photo", "missing"]))),
            "labels": draw(_usually(None, files)),
            "from_folders": draw(st.booleans()),
            "workers": draw(_usually("0", st.sampled_from(["-1", "65", str(2**40), "x"]))),
        }
    elif command == "search":
        args |= {
            "queries": draw(_usually(["photo"], st.lists(files, min_size=1, max_size=2))),
            "top": draw(_usually("3", st.one_of(_INTS.map(str), _TEXT))),
            "face": draw(_usually(None, _INTS.map(str))),
            "evidence": draw(_usually("geometry", st.one_of(st.none(), _TEXT))),
            "out": draw(_usually("shortlist.csv", maybe_file)),
            "html": draw(_usually(None, maybe_file)),
        }
    elif command == "decide":
        args |= {
            "a": draw(_IDS),
            "b": draw(_IDS),
            "decision": draw(_usually("same", st.one_of(st.just("different"), _TEXT))),
            "note": draw(st.one_of(st.none(), _TEXT)),
            "who": draw(st.one_of(st.none(), _TEXT)),
        }
    elif command == "group":
        args |= {
            "out": draw(_usually("groups.csv", files)),
            "html": draw(_usually(None, maybe_file)),
            "evidence": draw(_usually("geometry", st.one_of(st.none(), _TEXT))),
            "threshold": draw(_usually(None, _FLOATS)),
        }
    else:
        args |= {
            "port": draw(_usually("8765", _INTS.map(str))),
            "host": draw(_usually("127.0.0.1", st.sampled_from(["::1", "0.0.0.0", "x y"]))),
            "token": draw(st.sampled_from([None, "new", "", "s3cret"])),
            "upload": draw(_usually("20", _FLOATS)),
        }
    return command, args


def _archive_argv(
    command: str, args: dict[str, object], folder: Path, db: Path, photos: Path
) -> tuple[list[str], list[Path]]:
    """The command line of a generated archive command, and the files it must not change."""

    def file(kind: object) -> Path:
        return _file(str(kind), folder, db, photos, args["junk"])  # type: ignore[arg-type]

    target = file(args["db"])
    argv: list[str] = ["--db", str(target)] + (["--json"] if args["json"] else [])
    inputs = [] if command in ("index", "decide") else [target]
    for option in ("out", "html"):
        if args.get(option) is not None:
            name = str(args[option])
            argv += [f"--{option}", str(file(name) if name in _FILES else folder / name)]
    if command == "index":
        root = photos if args["root"] == "photos" else file(args["root"])
        argv = ["index", str(root), *argv, "--workers", str(args["workers"])]
        if args["labels"] is not None:
            labels = file(args["labels"])
            argv += ["--labels", str(labels)]
            inputs.append(labels)
        argv += ["--labels-from-folders"] if args["from_folders"] else []
    elif command == "search":
        queries = [file(q) for q in args["queries"]]  # type: ignore[attr-defined]
        argv = ["search", *map(str, queries), *argv, "--top", str(args["top"])]
        argv += [] if args["face"] is None else ["--face", str(args["face"])]
        argv += [] if args["evidence"] is None else ["--evidence", str(args["evidence"])]
        inputs += queries
    elif command == "decide":
        argv = ["decide", str(args["a"]), str(args["b"]), str(args["decision"]), *argv]
        argv += [] if args["note"] is None else ["--note", str(args["note"])]
        argv += [] if args["who"] is None else ["--who", str(args["who"])]
    elif command == "group":
        argv = ["group", *argv]
        argv += [] if args["evidence"] is None else ["--evidence", str(args["evidence"])]
        argv += [] if args["threshold"] is None else ["--threshold", str(args["threshold"])]
    else:
        argv = ["serve", *[a for a in argv if a != "--json"], "--port", str(args["port"])]
        argv += ["--host", str(args["host"]), "--max-upload-mb", str(args["upload"])]
        argv += [] if args["token"] is None else ["--token", str(args["token"])]
    return argv, inputs


@settings(FUZZ, max_examples=40)  # five commands: about eight cases each
@given(generated=archive_commands())
def test_generated_archive_and_serve_arguments_are_answered_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    photo_archive: Path,
    small_photos: Path,
    generated: tuple[str, dict[str, object]],
) -> None:
    with contextlib.suppress(ImportError):  # without the web extra serve says so, in a line
        import uvicorn

        # serve's own checks only: where they pass, the server is not started
        monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    command, args = generated
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    argv, inputs = _archive_argv(command, args, folder, photo_archive, small_photos)
    db = Path(argv[argv.index("--db") + 1])
    _run(argv, [*inputs, *small_photos.iterdir()], capsys, kept_on_error=[db])
    for written in folder.rglob("*.csv"):
        assert not _NAN.search(written.read_text(errors="replace")), written
