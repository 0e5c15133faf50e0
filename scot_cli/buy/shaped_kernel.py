"""Compiled loss function of the quantile-shaped demand (:meth:`QuantileShaped.loss`), and
so its mean (the loss at 0).

Imported only for batches large enough to pay for loading numba
(:data:`scot_cli.buy.distributions.COMPILED_FROM`). The numpy pass builds arrays of shape
(rows, segments) for the slopes, intercepts, roots, clipped roots, densities, masses and
terms (a dozen passes and as many temporaries of a million rows times four); the loops here
walk each row's knots once. They perform the same operations on the same values in the same
order (each segment's root, clipped into the segment; its term ``(xa - s za - y) (Phi(b) -
Phi(c)) + (phi(c) - phi(b)) s``, zero where the mass is not positive; the terms summed from
0 in segment order, as numpy sums fewer than eight of them; then ``max(., 0)``), so the
losses are the numpy pass's, bit for bit (the tests compare them).

``Phi`` and ``phi`` stay numpy's (scipy's ``ndtr`` and numpy's ``exp``): a clipped root is
almost always a segment bound (whose values are computed once), and the one root per row
that falls inside its segment is gathered by :func:`inner_roots`, its ``Phi`` and ``phi``
found by numpy over those roots alone, and read back in the same order by
:func:`shaped_losses`.

One module on purpose: numba's on-disk cache is invalidated by a change of the file that
holds a compiled function, not of the files it calls into.
"""

from __future__ import annotations

import numpy as np

from scot_cli.forecast import jit

jit.load()  # before numba is imported: see jit.import_numba

import numba  # noqa: E402


@numba.njit(cache=True, nogil=True, inline="always")
def _segment(
    x: np.ndarray, i: int, j: int, z: np.ndarray, dz: np.ndarray
) -> tuple[float, float, float]:
    """Start value ``xa``, start score ``za`` and slope ``s`` of segment ``j`` of row
    ``i`` (segment 0 extends the first knot's line down, the last the last knot's up)."""
    last = x.shape[1] - 1
    if j == 0:
        return x[i, 0], z[0], (x[i, 1] - x[i, 0]) / dz[0]
    if j > last:
        return x[i, last], z[last], (x[i, last] - x[i, last - 1]) / dz[last - 1]
    return x[i, j - 1], z[j - 1], (x[i, j] - x[i, j - 1]) / dz[j - 1]


@numba.njit(cache=True, nogil=True, inline="always")
def _clipped_root(xa: float, za: float, s: float, y: float, lo: float, hi: float) -> float:
    """Score where the segment's line reaches ``y``, clipped into ``[lo, hi]`` (a flat
    segment: ``-inf`` when above ``y``, ``+inf`` else), as ``np.clip`` does (NaN stays NaN)."""
    if s > 0.0:
        zy = (y - xa) / s
        zy = zy + za
    elif xa > y:
        zy = -np.inf
    else:
        zy = np.inf
    if np.isnan(zy):
        return zy
    if not zy > lo:
        zy = lo
    if not zy < hi:
        zy = hi
    return zy


@numba.njit(cache=True, nogil=True)
def inner_roots(
    x: np.ndarray, idx: np.ndarray, y: np.ndarray, z: np.ndarray, dz: np.ndarray, out: np.ndarray
) -> int:
    """Write the clipped roots (at ``y[r]`` for row ``x[idx[r]]``) that fall strictly inside
    their segment into ``out`` (row by row, segment by segment); return how many."""
    m = x.shape[1] + 1
    count = 0
    for r in range(idx.size):
        i = idx[r]
        for j in range(m):
            lo = -np.inf if j == 0 else z[j - 1]
            hi = np.inf if j == m - 1 else z[j]
            xa, za, s = _segment(x, i, j, z, dz)
            c = _clipped_root(xa, za, s, y[r], lo, hi)
            if c > lo and c < hi:
                out[count] = c
                count += 1
    return count


@numba.njit(cache=True, nogil=True)
def shaped_losses(
    x: np.ndarray,
    idx: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    dz: np.ndarray,
    cdf_lo: np.ndarray,
    pdf_lo: np.ndarray,
    cdf_hi: np.ndarray,
    pdf_hi: np.ndarray,
    cdf_in: np.ndarray,
    pdf_in: np.ndarray,
    out: np.ndarray,
) -> None:
    """``E[(max(g(Z), 0) - y[r])^+]`` of rows ``x[idx[r]]`` into ``out``. ``cdf_lo``/``pdf_lo`` and
    ``cdf_hi``/``pdf_hi``: ``Phi`` and ``phi`` (0 where not finite) of each segment's
    bounds; ``cdf_in``/``pdf_in``: of the roots :func:`inner_roots` found, in its order."""
    m = x.shape[1] + 1
    k = 0
    for r in range(idx.size):
        i = idx[r]
        total = 0.0
        yr = y[r]
        for j in range(m):
            lo = -np.inf if j == 0 else z[j - 1]
            hi = np.inf if j == m - 1 else z[j]
            xa, za, s = _segment(x, i, j, z, dz)
            c = _clipped_root(xa, za, s, yr, lo, hi)
            part = 0.0
            if c > lo and c < hi:
                mass = cdf_hi[j] - cdf_in[k]
                phi = pdf_in[k]
                k += 1
            elif c == lo:
                mass = cdf_hi[j] - cdf_lo[j]
                phi = pdf_lo[j]
            else:  # at the upper bound (no mass) or NaN
                mass = 0.0
                phi = 0.0
            if mass > 0.0:
                part = xa - s * za
                part = part - yr
                part = part * mass
                part = part + (phi - pdf_hi[j]) * s
            total = total + part
        out[r] = total if (total > 0.0 or np.isnan(total)) else 0.0
