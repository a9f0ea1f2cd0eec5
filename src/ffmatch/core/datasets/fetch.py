"""Find or download the larger, optional data files, following scikit-learn's convention.

A data home is a folder laid out like the project's shared data: ``paper/facial-features.xlsx``,
``muct/muct68-opencv.csv.gz`` (or ``muct/muct76-opencv.csv`` from MUCT's own archive). A file
is looked for in ``data_home`` if given, else in ``$FFMATCH_DATA`` and then the user cache
(``~/.cache/ffmatch`` on Linux). If absent it is downloaded (base URL overridable with
``base_url`` or ``$FFMATCH_DATA_URL``, a mirror folder holding the original file names),
verified, and only then moved into place: a wrong checksum or an interrupted transfer
leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ffmatch import __version__
from ffmatch.core.errors import FetchError
from ffmatch.core.io.atomic import atomic_write
from ffmatch.core.io.muct import muct_fingerprint, read_muct
from ffmatch.core.table import PhotoTable

logger = logging.getLogger(__name__)

ENV_DATA = "FFMATCH_DATA"
ENV_URL = "FFMATCH_DATA_URL"
_CHUNK = 1 << 16


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
    timeout: float = 60.0,
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
        _download(remote, url, target, timeout=timeout)
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


def _download(remote: RemoteFile, url: str, target: Path, *, timeout: float) -> None:
    """Download, verify and move into place; every temporary file is in the target's folder."""
    if remote.member is None and remote.fingerprint is None:
        with atomic_write(target, "wb") as fh:  # streamed to disk, checked before the rename
            _receive(url, fh, sha256=remote.sha256, timeout=timeout)
        return
    # Content to check or a member to extract: keep the download in an anonymous temporary
    # file (gone when closed), then write the verified bytes atomically.
    with tempfile.TemporaryFile(dir=target.parent) as download:
        _receive(url, download, sha256=remote.sha256, timeout=timeout)
        download.seek(0)
        data = _extract(download, remote.member, url) if remote.member else download.read()
    _check_fingerprint(remote, url, data)
    with atomic_write(target, "wb") as out:
        out.write(data)


def _extract(archive: IO[bytes], member: str, url: str) -> bytes:
    """One file's bytes from a .tar.gz archive."""
    with tarfile.open(fileobj=archive, mode="r:gz") as tar:
        try:
            fh = tar.extractfile(member)
        except KeyError:
            raise FetchError(f"{url}: the archive holds no {member}") from None
        if fh is None:
            raise FetchError(f"{url}: {member} in the archive is not a file")
        return fh.read()


def _receive(url: str, fh: IO[bytes], *, sha256: str | None, timeout: float) -> None:
    """Stream ``url`` into ``fh``; FetchError if it stops short or its sha256 differs."""
    request = urllib.request.Request(url, headers={"User-Agent": f"ffmatch/{__version__}"})
    digest = hashlib.sha256()
    size = 0
    with urllib.request.urlopen(request, timeout=timeout) as response:
        announced = response.headers.get("Content-Length")
        # read() returns b"" when the server closes early, so the length is checked below.
        while chunk := response.read(_CHUNK):
            digest.update(chunk)
            fh.write(chunk)
            size += len(chunk)
    if announced is not None and size != int(announced):
        raise FetchError(f"{url}: the transfer stopped after {size} of {announced} bytes")
    if sha256 is not None and digest.hexdigest() != sha256:
        raise FetchError(
            f"{url}: the downloaded file has sha256 {digest.hexdigest()}, expected {sha256}"
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
