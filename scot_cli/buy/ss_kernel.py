"""Compiled pricing of the exact (s,S) windows (:func:`scot_cli.buy.ss_exact.price`).

Imported only for batches large enough to pay for loading numba
(:data:`scot_cli.buy.ss_exact.COMPILED_FROM`). The numpy pricing builds arrays of shape
(rows, candidate ``S``, ``S - s``) for the terms, their running sums, the costs and the
mask; the loop here walks the same terms row by row and keeps only the running sum and the
best cost so far. It performs the same operations on the same values in the same order
(each term rounded, summed over ``j`` from 0 as ``np.cumsum`` does, the fixed cost added,
divided by ``M``), and picks the first minimum as ``np.argmin`` does (the first NaN when
there is one), so the levels are the numpy pricing's, bit for bit (the tests compare them).

One module on purpose: numba's on-disk cache is invalidated by a change of the file that
holds a compiled function, not of the files it calls into.
"""

from __future__ import annotations

import numpy as np

from scot_cli.forecast import jit

jit.load()  # before numba is imported: see jit.import_numba

import numba  # noqa: E402


@numba.njit(cache=True, nogil=True)
def price_windows(
    g: np.ndarray,
    m: np.ndarray,
    big_m: np.ndarray,
    a: np.ndarray,
    y_star: np.ndarray,
    b: np.ndarray,
    K: np.ndarray,
    n_big: int,
    best: np.ndarray,
    best_cost: np.ndarray,
) -> None:
    """For every row ``r``: the flat index ``t * span + j`` (``S = y* + t``, ``S - s =
    j + 1``) of the cheapest (s, S) of its window into ``best[r]`` and its cost into
    ``best_cost[r]``.

    ``g[r, i]``: one-period cost at level ``a + i``; ``m``, ``big_m``: the renewal function
    and its running sum (``span`` columns each); ``a``, ``y_star``, ``b``: the window and
    the minimiser of ``G``; ``K``: the fixed cost; ``n_big``: candidate ``S`` per row.
    """
    n, span = g.shape
    for r in range(n):
        d = y_star[r] - a[r]
        lo = a[r] - 1.0
        top = y_star[r] - 1.0
        k = K[r]
        found = 0
        value = np.inf
        done = False
        for t in range(n_big):
            big_s = y_star[r] + t
            s_ok = big_s <= b[r]
            c = 0.0
            for j in range(span):
                pos = (d + t) - j
                term = 0.0
                if pos >= 0 and pos < span:
                    term = g[r, int(pos)]
                x = term * m[r, j]
                c = x if j == 0 else c + x
                cost = np.inf
                s_of = (big_s - j) - 1.0
                if s_ok and s_of >= lo and s_of <= top:
                    cost = (k + c) / big_m[r, j]
                flat = t * span + j
                if np.isnan(cost):  # the first NaN, as np.argmin
                    found, value, done = flat, cost, True
                    break
                if flat == 0 or cost < value:
                    found, value = flat, cost
            if done:
                break
        best[r] = found
        best_cost[r] = value
