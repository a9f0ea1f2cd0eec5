"""Read a NumPy ``.npz`` archive with every array's size and type checked before it is read.

``np.load`` reads whatever an archive holds: a small crafted file can hold an array of
gigabytes (compressed zeros), or an object array that needs unpickling. Here each member's
``.npy`` header (shape, dtype) is read first and passed to a caller's check, the total is
bounded, and only then is the array read, with ``allow_pickle=False``. Written by hand
because NumPy has no bounded loader; the header functions are NumPy's own.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ffmatch.core.errors import DataError

MemberCheck = Callable[[str, tuple[int, ...], np.dtype], None]
"""Called with (name, shape, dtype) of each member before it is read; raises to refuse it."""


def read_npz(path: Path, *, max_bytes: int, check: MemberCheck) -> dict[str, np.ndarray]:
    """The arrays of ``path``, each first passed to ``check``; DataError if over ``max_bytes``.

    ``max_bytes`` bounds the file and the arrays' total size once read. Errors of the
    file itself (missing, a folder, not a zip archive, a bad member) are DataError too.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: expected a file, found a folder")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    if size > max_bytes:
        raise DataError(f"{path}: {size} bytes; expected at most {max_bytes}")
    arrays: dict[str, np.ndarray] = {}
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = info.filename.removesuffix(".npy")
                if name == info.filename or not name or name in arrays:
                    raise DataError(f"{path}: unexpected member {info.filename!r}")
                if info.file_size > max_bytes - total:
                    raise DataError(
                        f"{path}: member {name!r} unpacks to {info.file_size} bytes; "
                        f"expected at most {max_bytes} in all"
                    )
                with archive.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                    elif version == (2, 0):
                        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                    else:
                        raise DataError(f"{path}: member {name!r}: unsupported .npy {version}")
                    if dtype.hasobject:
                        raise DataError(f"{path}: member {name!r} holds Python objects")
                    nbytes = math.prod(shape) * dtype.itemsize
                    if nbytes > max_bytes - total:
                        raise DataError(
                            f"{path}: member {name!r} of shape {shape} would take {nbytes} "
                            f"bytes; expected at most {max_bytes} in all"
                        )
                    try:
                        check(name, tuple(shape), dtype)
                    except DataError as err:
                        raise DataError(f"{path}: {err}") from None
                    total += nbytes
                with archive.open(info) as fh:
                    arrays[name] = np.lib.format.read_array(fh, allow_pickle=False)
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zlib.error, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: not a readable .npz archive ({err})") from None
    return arrays
