"""Compiled pass of :func:`scot_cli.buy.demand.interval_sums` over the forecast.

Imported only when the forecast is large enough to pay for loading numba (see
:data:`scot_cli.buy.demand.COMPILED_FROM`), never by ``scot --help``. The numpy pass cuts the
forecast into blocks and makes about twenty whole-block passes per interval (period index,
spread and its Poisson floor, weights, products, one ``bincount`` per sum); the loop here
reads each forecast row once, straight from the columns' memory, and adds its terms to every
interval asked for. It performs the same operations on the same values in the same order
(each product rounded, then added to its row's sum in forecast-row order, as ``bincount``
adds its weights), so the sums are the numpy pass's, bit for bit (the tests compare them).

One module on purpose: numba's on-disk cache is invalidated by a change of the file that
holds a compiled function, not of the files it calls into.
"""

from __future__ import annotations

import numpy as np

from scot_cli.forecast import jit

jit.load()  # before numba is imported: see jit.import_numba

import numba  # noqa: E402

#: Poisson spread floor codes of :func:`interval_chunk` (``spread_floor`` option values).
FLOOR_CODES = {"none": 0, "auto": 1, "poisson": 2}


@numba.njit(cache=True, nogil=True)
def interval_chunk(
    period: np.ndarray,
    mean: np.ndarray,
    quantiles: tuple[np.ndarray, ...],
    first: int,
    run_starts: np.ndarray,
    to_row: np.ndarray,
    offset: float,
    divide: int,
    inv_dz: float,
    floor: int,
    days: np.ndarray,
    step: int,
    sums: np.ndarray,
    offsets: np.ndarray,
) -> None:
    """Add the terms of one chunk of forecast rows (rows ``first ..``) into the sums.

    ``period``: the column giving the period index ``k = ceil((period - offset) / divide)``;
    ``quantiles``: the quantile columns (the outer two give the spread; ``inv_dz`` is
    ``1 / (z_hi - z_lo)``, 0 when they give none); ``floor``: a :data:`FLOOR_CODES` code.
    Forecast rows of run ``r`` (from ``run_starts[r]``) feed planned row ``to_row[r]``
    (none when negative). ``sums[d]`` holds mean, spread, variance and floored periods per
    planned row of the interval of ``days[d]`` days, ``offsets[d, j]`` its quantile offsets
    (for the first ``offsets.shape[1]`` quantiles).
    """
    n_runs = run_starts.size
    run = np.searchsorted(run_starts, first, side="right") - 1
    row = to_row[run]
    nxt = run_starts[run + 1] if run + 1 < n_runs else np.iinfo(np.int64).max
    last = len(quantiles) - 1
    width = offsets.shape[1]
    for i in range(period.size):
        while first + i >= nxt:
            run += 1
            row = to_row[run]
            nxt = run_starts[run + 1] if run + 1 < n_runs else np.iinfo(np.int64).max
        if row < 0:
            continue
        k = np.float64(period[i]) - offset
        if divide != 1:
            k = np.ceil(k / divide)
        if not k >= 1.0:
            continue  # on or before the as-of date
        m = mean[i]
        sd = 0.0
        if inv_dz != 0.0:
            sd = quantiles[last][i] - quantiles[0][i]
            sd = sd * inv_dz
        if sd < 0.0:  # noqa: PLR1730  (a NaN stays NaN, as in np.maximum)
            sd = 0.0
        raised = False
        if floor != 0:
            root = 0.0 if m < 0.0 else m
            root = np.sqrt(root)
            raised = root > sd if floor == 2 else (sd <= 0.0 and root > 0.0)
            if raised:
                sd = root
        for d in range(days.shape[0]):
            before = k - 1.0
            w = days[d, row]
            if step != 1:
                before = before * step
                w = w - before
                w = w / step
            else:
                w = w - before
            if w <= 0.0:
                w = 0.0
            elif w > 1.0:
                w = 1.0
            sums[d, 0, row] += w * m
            sums[d, 1, row] += w * sd
            sums[d, 2, row] += (sd * sd) * w
            if raised and w > 0.0:
                sums[d, 3, row] += 1.0
            for j in range(width):
                offsets[d, j, row] += (quantiles[j][i] - m) * w


def warm() -> None:
    """Load numba's registries now (most of the first call's cost of a cached kernel: about
    a second), under numba's compiler lock, so that a background thread can do it while the
    main thread reads and prepares the inputs."""
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.registry import cpu_target

    with global_compiler_lock:
        cpu_target.target_context.refresh()
