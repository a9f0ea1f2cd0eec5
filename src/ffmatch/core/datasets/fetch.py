"""Find or download the larger, optional data files, following scikit-learn's convention.

A data home is a folder laid out like the project's shared data: ``paper/facial-features.xlsx``,
``muct/muct68-opencv.csv.gz`` (or ``muct/muct76-opencv.csv`` from MUCT's own archive). A file
is looked for in ``data_home`` if given, else in ``$FFMATCH_DATA`` and then the user cache
(``~/.cache/ffmatch`` on Linux). If absent it is downloaded (base URL overridable with
``base_url`` or ``$FFMATCH_DATA_URL``, a mirror folder holding the original file names),
verified, and only then moved into place: a wrong checksum or an interrupted transfer
leaves nothing behind.

A download is bounded: an overall deadline, a minimum average rate (after a short grace),
a size limit per file (announced or received), and an archive's member checked by its
header before it is read. SIGTERM (like SIGINT) during a download removes the temporary file.

MUCT's archive (``muct-landmarks-v1.tar.gz``) is not pinned by sha256: its bytes were never
available to us (the shared data hold only the extracted 68-point copy), so the extracted
points are checked by ``fingerprint_sha256`` instead; set ``sha256`` once the archive's
digest is known and both are checked.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ffmatch import __version__
from ffmatch.core.errors import FetchError
from ffmatch.core.io.atomic import atomic_write, sigterm_exits
from ffmatch.core.io.muct import muct_fingerprint, read_muct
from ffmatch.core.table import PhotoTable

logger = logging.getLogger(__name__)

ENV_DATA = "FFMATCH_DATA"
ENV_URL = "FFMATCH_DATA_URL"
_CHUNK = 1 << 16
MAX_FILE_BYTES = 64 * 2**20  # the workbook is 30 KB, MUCT's archive and landmarks ~2 MB


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """How long and how large a download may be: slow or endless servers end in FetchError."""

    timeout: float = 60.0  # seconds one read may wait for data
    deadline: float = 600.0  # seconds for the whole transfer
    min_rate: float = 2048.0  # bytes per second on average, once ``grace`` has passed
    grace: float = 20.0  # seconds before the rate is judged (connection set-up, slow start)


@dataclass(frozen=True, kw_only=True, slots=True)
class RemoteFile:
    """A public data file: where it sits in a data home, where it comes from, how to check it.

    ``sha256`` checks the downloaded bytes; where the publisher gives no fixed file (MUCT's
    archive), ``fingerprint`` checks the stored file's content instead. ``member`` is the
    file to extract when the download is a ``.tar.gz``. ``also`` lists other relative paths
    that hold the same data when found locally (MUCT's 68-point copy).
    """

    path: str
    url: str
    sha256: str | None = None
    member: str | None = None
    fingerprint: Callable[[bytes], str] | None = None
    fingerprint_sha256: str | None = None
    also: tuple[str, ...] = ()
    max_bytes: int = MAX_FILE_BYTES  # the download and an extracted member, each at most

    def __post_init__(self) -> None:
        if self.sha256 is None and self.fingerprint_sha256 is None:
            raise ValueError(f"{self.path}: a remote file needs a checksum or a fingerprint")


PAPER_WORKBOOK = RemoteFile(
    path="paper/facial-features.xlsx",
    url="https://raw.githubusercontent.com/JuicyGuo-W/Submission-to-ICONIP2021/main/data/"
    "facial-features.xlsx",
    sha256="c4b0ed1d5562a013311b349b49d57b6a6aea221c426d6b79007a61ea50443357",
)
"""The paper's workbook (Guo, Jin and Caldwell's ICONIP 2021 repository)."""

MUCT_LANDMARKS = RemoteFile(
    path="muct/muct76-opencv.csv",
    url="https://raw.githubusercontent.com/StephenMilborrow/muct/master/muct-landmarks-v1.tar.gz",
    member="muct-landmarks/muct76-opencv.csv",
    fingerprint=muct_fingerprint,
    # Names and first 68 points of the 68-point copy in the shared data (whose file has
    # sha256 141d9ba14262b682626a6b3cb697b73fd7a79b17e7ffa2562e33b02266b3aa92).
    fingerprint_sha256="7e9a36285badb7695611829a0957a1de50914ce159173fc4c0631778700be4e3",
    also=("muct/muct68-opencv.csv.gz",),
)
"""MUCT's manual landmarks (Milborrow, Morkel and Nicolls 2010), from its public archive."""


def user_cache() -> Path:
    """The platform's per-user cache folder for ffmatch (XDG on Linux)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "ffmatch" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "ffmatch"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ffmatch"


def data_homes(data_home: str | os.PathLike[str] | None = None) -> list[Path]:
    """Folders searched, in order: ``data_home`` alone, else ``$FFMATCH_DATA`` then the cache."""
    if data_home is not None:
        return [Path(data_home).expanduser()]
    homes = [Path(env).expanduser()] if (env := os.environ.get(ENV_DATA)) else []
    return [*homes, user_cache()]


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """The folder downloads go to: ``data_home``, else ``$FFMATCH_DATA``, else the user cache."""
    return data_homes(data_home)[0]


def fetch_file(
    remote: RemoteFile,
    *,
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    base_url: str | None = None,
    limits: Limits = Limits(),
) -> Path:
    """The local path of ``remote``, downloading and verifying it into the data home if absent."""
    homes = data_homes(data_home)
    for home in homes:
        for relative in (remote.path, *remote.also):
            if (home / relative).is_file():
                return home / relative
    target = homes[0] / remote.path
    url = _url(remote, base_url)
    where = " or ".join(str(h) for h in homes)
    how = (
        f"download {url}"
        + (f", extract {remote.member} from it," if remote.member else "")
        + f" and put it at {target} (or set {ENV_DATA} to a folder holding {remote.path})"
    )
    if not download_if_missing:
        raise FetchError(f"{remote.path} not found in {where}; {how}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        logger.info("downloading %s to %s", url, target)
        with sigterm_exits():
            _download(remote, url, target, limits=limits)
    except FetchError as err:
        raise FetchError(f"{err}; nothing was saved; {how}") from None
    except (OSError, http.client.HTTPException, tarfile.TarError) as err:
        # URLError wraps the socket error (refused, unreachable); HTTPError says its status.
        reason: object = err
        if isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError):
            reason = err.reason
        raise FetchError(
            f"{remote.path} not found in {where} and downloading it failed ({reason}); {how}"
        ) from None
    return target


def fetch_paper_workbook(
    *,
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    base_url: str | None = None,
) -> Path:
    """Path of the paper's workbook ``facial-features.xlsx``, downloaded if needed."""
    return fetch_file(
        PAPER_WORKBOOK,
        data_home=data_home,
        download_if_missing=download_if_missing,
        base_url=base_url,
    )


def fetch_muct(
    *,
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    base_url: str | None = None,
) -> Path:
    """Path of MUCT's landmark file (68- or 76-point CSV), downloaded if needed."""
    return fetch_file(
        MUCT_LANDMARKS,
        data_home=data_home,
        download_if_missing=download_if_missing,
        base_url=base_url,
    )


def load_muct(
    *,
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    base_url: str | None = None,
    include_mirrors: bool = False,
) -> PhotoTable:
    """MUCT's photos as 14 FFMs (see ``ffmatch.core.io.muct.read_muct``), fetched if needed."""
    path = fetch_muct(
        data_home=data_home, download_if_missing=download_if_missing, base_url=base_url
    )
    return read_muct(path, include_mirrors=include_mirrors)


def _url(remote: RemoteFile, base_url: str | None) -> str:
    base = base_url or os.environ.get(ENV_URL)
    if not base:
        return remote.url
    return f"{base.rstrip('/')}/{remote.url.rsplit('/', 1)[-1]}"


def _download(remote: RemoteFile, url: str, target: Path, *, limits: Limits) -> None:
    """Download, verify and move into place; every temporary file is in the target's folder."""
    if remote.member is None and remote.fingerprint is None:
        with atomic_write(target, "wb") as fh:  # streamed to disk, checked before the rename
            _receive(url, fh, sha256=remote.sha256, limits=limits, max_bytes=remote.max_bytes)
        return
    # Content to check or a member to extract: keep the download in an anonymous temporary
    # file (gone when closed), then write the verified bytes atomically.
    with tempfile.TemporaryFile(dir=target.parent) as download:
        _receive(url, download, sha256=remote.sha256, limits=limits, max_bytes=remote.max_bytes)
        download.seek(0)
        data = (
            _extract(download, remote.member, url, max_bytes=remote.max_bytes)
            if remote.member
            else download.read()
        )
    _check_fingerprint(remote, url, data)
    with atomic_write(target, "wb") as out:
        out.write(data)


def _extract(archive: IO[bytes], member: str, url: str, *, max_bytes: int) -> bytes:
    """One file's bytes from a .tar.gz archive, read as a stream, member by member.

    Each member's header is judged before its data: the wanted one must be a regular file
    of at most ``max_bytes``; the others are skipped unread (a stream never seeks back).
    """
    with tarfile.open(fileobj=archive, mode="r|gz") as tar:
        for info in tar:
            if info.name != member:
                continue
            if not info.isfile():
                raise FetchError(f"{url}: {member} in the archive is not a file")
            if info.size > max_bytes:
                raise FetchError(
                    f"{url}: {member} in the archive unpacks to {info.size} bytes; expected "
                    f"at most {max_bytes}"
                )
            fh = tar.extractfile(info)
            if fh is None:  # pragma: no cover - isfile() above
                raise FetchError(f"{url}: {member} in the archive is not a file")
            return fh.read(max_bytes + 1)
    raise FetchError(f"{url}: the archive holds no {member}")


def _receive(
    url: str, fh: IO[bytes], *, sha256: str | None, limits: Limits, max_bytes: int
) -> None:
    """Stream ``url`` into ``fh``; FetchError if it stops short, is too large or too slow, or
    its sha256 differs."""
    request = urllib.request.Request(url, headers={"User-Agent": f"ffmatch/{__version__}"})
    digest = hashlib.sha256()
    size = 0
    start = time.monotonic()
    with urllib.request.urlopen(request, timeout=limits.timeout) as response:
        announced = response.headers.get("Content-Length")
        if announced is not None and announced.isdigit() and int(announced) > max_bytes:
            raise FetchError(f"{url}: the server announces {announced} bytes; expected at "
                             f"most {max_bytes}")  # fmt: skip
        # read1 returns what has arrived (read() would wait for a whole chunk), so the clock
        # is checked at least once per ``timeout``; b"" when the server closes early.
        while chunk := response.read1(_CHUNK):
            digest.update(chunk)
            fh.write(chunk)
            size += len(chunk)
            _check_progress(url, size, time.monotonic() - start, limits, max_bytes)
    if announced is not None and size != int(announced):
        raise FetchError(f"{url}: the transfer stopped after {size} of {announced} bytes")
    if sha256 is not None and digest.hexdigest() != sha256:
        raise FetchError(
            f"{url}: the downloaded file has sha256 {digest.hexdigest()}, expected {sha256}"
        )


def _check_progress(url: str, size: int, elapsed: float, limits: Limits, max_bytes: int) -> None:
    """FetchError once a transfer is too large, past its deadline, or slower than allowed."""
    if size > max_bytes:
        raise FetchError(f"{url}: more than {max_bytes} bytes received; expected at most that")
    if elapsed > limits.deadline:
        raise FetchError(f"{url}: the transfer took longer than {limits.deadline:g} s "
                         f"({size} bytes received)")  # fmt: skip
    if elapsed > limits.grace and size / elapsed < limits.min_rate:
        raise FetchError(
            f"{url}: the transfer is slower than {limits.min_rate:g} bytes/s "
            f"({size} bytes in {elapsed:.0f} s)"
        )


def _check_fingerprint(remote: RemoteFile, url: str, data: bytes) -> None:
    if remote.fingerprint is None or remote.fingerprint_sha256 is None:
        return
    try:
        found = remote.fingerprint(data)
    except ValueError as err:  # DataError: the file does not parse as expected
        raise FetchError(f"{url}: the downloaded file is not the expected data ({err})") from None
    if found != remote.fingerprint_sha256:
        raise FetchError(
            f"{url}: the downloaded data have fingerprint {found}, "
            f"expected {remote.fingerprint_sha256}"
        )
