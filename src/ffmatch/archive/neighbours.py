"""Nearest neighbours of every stored face by appearance descriptor: exact, or approximate.

Grouping an archive of more than ``ANN_FROM`` faces cannot score every pair; it scores each
face against its ``k`` nearest neighbours by descriptor only, found with FAISS's HNSW graph
(a well-kept library; recall@20 against the exact search is measured in
``benchmarks/bench_archive.py``). The exact search is the reference and serves small archives.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ffmatch.core.errors import ConfigError

ANN_FROM = 50_000  # faces: from here on grouping uses the approximate graph
HNSW_M = 32  # graph degree: more is slower to build, higher recall
HNSW_EF_SEARCH = 128  # candidates kept while searching: recall@20 >= 0.99 on 128-d faces
HNSW_EF_CONSTRUCTION = 80

IntArray = npt.NDArray[np.int64]


def descriptor_distance2(
    q: npt.NDArray[np.float32],
    g: npt.NDArray[np.float32],
    g_norm2: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float64]:
    """(N,) squared Euclidean distances of ``q`` (128,) to the rows of ``g`` (N, 128): one
    matrix-vector product (plus a row-norm pass unless ``g_norm2`` holds them), no (N, 128)
    temporary. NaN rows give NaN."""
    norms = np.einsum("ij,ij->i", g, g) if g_norm2 is None else g_norm2
    d2 = norms - 2.0 * (g @ q) + float(q @ q)
    return np.asarray(np.maximum(d2, 0.0), dtype=np.float64)


def exact_neighbours(x: npt.ArrayLike, k: int, *, block: int = 4096) -> IntArray:
    """(N, k) indices of each row's ``k`` nearest other rows (Euclidean), nearest first."""
    a = np.ascontiguousarray(x, dtype=np.float32)
    n = len(a)
    k = min(k, n - 1)
    sq = (a * a).sum(axis=1)
    out = np.empty((n, k), dtype=np.int64)
    for s in range(0, n, block):  # (block, N) distances at a time: memory stays bounded
        d = sq[s : s + block, None] + sq[None, :] - 2.0 * (a[s : s + block] @ a.T)
        rows = np.arange(s, min(s + block, n))
        d[rows - s, rows] = np.inf  # not its own neighbour
        part = np.argpartition(d, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(d, part, axis=1).argsort(axis=1, kind="stable")
        out[s : s + block] = np.take_along_axis(part, order, axis=1)
    return out


def approximate_neighbours(x: npt.ArrayLike, k: int) -> IntArray:
    """(N, k) indices of each row's ``k`` approximate nearest other rows, via FAISS HNSW."""
    try:
        import faiss
    except ImportError:
        raise ConfigError(
            "grouping more than 50,000 faces needs FAISS: pip install 'ffmatch[archive]'"
        ) from None
    a = np.ascontiguousarray(x, dtype=np.float32)
    n, d = a.shape
    k = min(k, n - 1)
    index = faiss.IndexHNSWFlat(d, HNSW_M)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = max(HNSW_EF_SEARCH, k + 1)
    index.add(a)
    _, found = index.search(a, k + 1)  # (N, k + 1): itself first, usually
    out = np.empty((n, k), dtype=np.int64)
    for i in range(n):  # drop itself wherever it landed (duplicates may precede it)
        row = found[i][(found[i] != i) & (found[i] >= 0)]
        out[i] = np.pad(row[:k], (0, max(0, k - len(row[:k]))), constant_values=-1)
    return out


def recall_at(approx: IntArray, exact: IntArray) -> float:
    """Share of the exact ``k`` nearest neighbours that the approximate search found."""
    k = exact.shape[1]
    hits = sum(len(np.intersect1d(a, e)) for a, e in zip(approx[:, :k], exact, strict=True))
    return hits / exact.size
