"""Fuzzing the command line: generated tables, model files and option values, every command.

Whatever comes in, a command ends with status 0 or 2, never a traceback or a NumPy warning,
never prints NaN (nor writes it into a result), and never changes its input files. Sizes are
bounded and the examples derandomized, so this runs in CI in a few tens of seconds.
"""

from __future__ import annotations

import re
import string
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ffmatch.cli.app import run
from ffmatch.core.io.tidy import MARKER_COLUMNS

# Three CLI fuzzers of 25 generated cases each: seconds, so out of the quick loop; CI runs them.
pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_NAN = re.compile(r"\b(NaN|nan|-?inf|Infinity)\b")


def _run(argv: list[str], inputs: list[Path], capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``argv``; check the promises; return stdout."""
    before = {p: p.read_bytes() for p in inputs if p.is_file()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = run(argv)
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert code in (0, 2), (argv, code, shown)
    assert "Traceback" not in shown, shown
    assert not _NAN.search(shown), shown
    numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not numeric, [str(w.message) for w in numeric]
    if code == 2:
        assert captured.err.startswith("ffmatch: error: "), captured.err
        assert captured.err.count("\n") == 1, captured.err
    for path, data in before.items():
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
