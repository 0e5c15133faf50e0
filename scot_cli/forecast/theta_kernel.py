"""Compiled kernel of the Theta fit: the running sums of one pass over time.

Imported only from inside :mod:`scot_cli.forecast.theta` functions, so that numba (and its
compile cache) is loaded by the first Theta fit, never by ``scot --help``. Serial on
purpose: on two busy cores a parallel loop over series measured slower (thread hand-offs
per call), and a caller may already run partitions in parallel.

For SES started at 0: ``r`` is its one-step error, ``p = (1-alpha)^k`` the weight the
initial level keeps after ``k`` observations, ``v = t - Q`` with ``Q`` the SES of the time
index, and ``g = A_{t-1} p + B_{t-1} v`` with the least-squares line ``A, B`` of the
periods before ``t`` (the dynamic models' drift). The sums of their products over the
fitted periods (all observed ones after the first ``burn_in``) and the end states ``level``
(``r``'s SES), ``weight`` (``p``) and ``qsum`` (``Q``) are all a Theta fit needs.
"""

from __future__ import annotations

import numpy as np

from scot_cli.forecast import jit

jit.load()  # before numba is imported: see jit.import_numba

import numba  # noqa: E402

#: Order of the sums in the output's last axis.
NAMES = (
    *("rr", "rp", "rv", "pp", "pv", "vv", "rg", "pg", "gg"),
    *("level", "weight", "qsum", "a_end", "b_end"),
)


@numba.njit(cache=True)
def line(sw, st, stt, sy, sty):  # type: ignore[no-untyped-def]
    """Intercept and slope of the least-squares line from the sums over its points of 1,
    t, t^2, y and t y (slope 0 with fewer than two points, intercept 0 with none)."""
    den = sw * stt - st * st
    b = (sw * sty - st * sy) / den if den > 1e-9 * max(sw * stt, 1e-300) else 0.0
    a = (sy - b * st) / sw if sw > 0 else 0.0
    return a, b


@numba.njit(cache=True)
def sums(z, launch, alpha, burn_in):  # type: ignore[no-untyped-def]
    """``(n, J, 14)`` sums and end states (:data:`NAMES`) for ``alpha (n, J)``; time ``t``
    is 1 at column ``launch[i]``. ``a_end, b_end`` (the same for every ``alpha``) are the
    least-squares line through all observed periods.

    The candidates are the inner loop: their recursions are independent, so the compiler
    interleaves them instead of waiting on one level update after another.
    """
    n, big_t = z.shape
    n_alpha = alpha.shape[1]
    out = np.zeros((n, n_alpha, len(NAMES)))
    acc = np.zeros((len(NAMES), n_alpha))
    for i in range(n):
        acc[:] = 0.0
        acc[10] = 1.0
        a = alpha[i]
        seen = 0
        sw = st = stt = sy = sty = 0.0
        for t in range(big_t):
            y = z[i, t]
            if np.isnan(y):
                continue
            ti = t - launch[i] + 1.0
            ad, bd = line(sw, st, stt, sy, sty)
            fit = seen >= burn_in
            for j in range(n_alpha):
                level = acc[9, j]
                weight = acc[10, j]
                qsum = acc[11, j]
                r = y - level
                v = ti - qsum
                if fit:
                    g = ad * weight + bd * v
                    acc[0, j] += r * r
                    acc[1, j] += r * weight
                    acc[2, j] += r * v
                    acc[3, j] += weight * weight
                    acc[4, j] += weight * v
                    acc[5, j] += v * v
                    acc[6, j] += r * g
                    acc[7, j] += weight * g
                    acc[8, j] += g * g
                acc[9, j] = level + a[j] * r
                acc[10, j] = weight - a[j] * weight
                acc[11, j] = qsum + a[j] * v
            seen += 1
            sw += 1.0
            st += ti
            stt += ti * ti
            sy += y
            sty += ti * y
        acc[12], acc[13] = line(sw, st, stt, sy, sty)
        out[i] = acc.T
    return out
