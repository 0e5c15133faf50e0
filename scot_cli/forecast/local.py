"""Vectorised local baselines: one set of parameters per series, all series at once.

Every model takes a panel ``y`` of shape ``(n, T)`` (``NaN`` = not observed: before launch,
censored by a stock-out, or missing) and a list of forecast origins ``cutoffs`` (numbers of
periods of history used), and returns point forecasts of shape ``(len(cutoffs), n, horizon)``.
Recursive models run one pass over time and snapshot their states, and the parameter choice
that had the least one-step squared error *up to* each origin, so a rolling-origin backtest
costs one fit. Unobserved periods leave the states unchanged (skipped, not read as zero).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: Smoothing-parameter grids; fitted per series by one-step squared error.
SES_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
HW_ALPHAS = (0.03, 0.1, 0.2, 0.4)
HW_GAMMAS = (0.02, 0.08, 0.2)
CROSTON_ALPHAS = (0.05, 0.1, 0.2, 0.3)
TSB_ALPHAS = (0.05, 0.15, 0.3)
TSB_BETAS = (0.02, 0.05, 0.15)
MAX_AGGREGATION = 12


def ffill_last(y: Array) -> Array:
    """Last observed value of each row (``NaN`` when the row has none)."""
    obs = ~np.isnan(y)
    idx = np.where(obs, np.arange(y.shape[1]), -1).max(axis=1)
    out = y[np.arange(y.shape[0]), np.maximum(idx, 0)]
    return np.where(idx >= 0, out, np.nan)


def _nan0(x: Array) -> Array:
    return np.where(np.isnan(x), 0.0, x)


def zero(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """All-zero forecast: the benchmark that wins on MAE for intermittent demand."""
    return np.zeros((len(cutoffs), y.shape[0], horizon))


def naive(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """Last observed value, repeated."""
    out = [np.repeat(_nan0(ffill_last(y[:, :c]))[:, None], horizon, 1) for c in cutoffs]
    return np.stack(out)


def seasonal_naive(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """Value of the same season phase one season ago (last observed one of that phase).

    Falls back to :func:`naive` when the history is shorter than a season.
    """
    if season <= 1:
        return naive(y, horizon=horizon, season=season, cutoffs=cutoffs)
    out = []
    for c in cutoffs:
        if c < season:
            out.append(naive(y[:, :c], horizon=horizon, season=season, cutoffs=[c])[0])
            continue
        k = c // season
        block = y[:, c - k * season : c].reshape(y.shape[0], k, season)
        last = np.full((y.shape[0], season), np.nan)
        for j in range(k):  # k is the number of seasons, not of series
            last = np.where(np.isnan(block[:, j]), last, block[:, j])
        last = np.where(np.isnan(last), _nan0(ffill_last(y[:, :c]))[:, None], last)
        # the block starts k whole seasons before c, so forecast step h has phase h % season
        out.append(last[:, np.arange(horizon) % season])
    return np.stack(out)


def _window_mean(y: Array, window: int) -> Array:
    w = y[:, -window:] if y.shape[1] else y
    cnt = (~np.isnan(w)).sum(axis=1)
    return np.where(cnt > 0, _nan0(w).sum(axis=1) / np.maximum(cnt, 1), 0.0)


def window_mean(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """Mean of the observed values of the last ``max(4 season, 12)`` periods."""
    window = max(4 * season, 12)
    return np.stack(
        [np.repeat(_window_mean(y[:, :c], window)[:, None], horizon, 1) for c in cutoffs]
    )


def seasonal_mean(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """Recent level times a shrunk multiplicative seasonal profile.

    The level is the mean of the last ``max(4 season, 12)`` observed periods; the profile is
    the mean of each phase over the last (up to) eight seasons divided by their overall mean,
    shrunk towards 1 by the number of observations per phase (``k / (k + 2)``).
    """
    if season <= 1:
        return window_mean(y, horizon=horizon, season=season, cutoffs=cutoffs)
    out = []
    for c in cutoffs:
        level = _window_mean(y[:, :c], max(4 * season, 12))
        k = min(c // season, 8)
        if k == 0:
            out.append(np.repeat(level[:, None], horizon, 1))
            continue
        block = y[:, c - k * season : c].reshape(y.shape[0], k, season)
        cnt = (~np.isnan(block)).sum(axis=1)
        phase = _nan0(block).sum(axis=1) / np.maximum(cnt, 1)
        overall = _nan0(block).sum(axis=(1, 2)) / np.maximum(cnt.sum(axis=1), 1)
        ratio = np.where(overall[:, None] > 0, phase / np.maximum(overall[:, None], 1e-12), 1.0)
        shrink = cnt / (cnt + 2.0)
        profile = 1.0 + shrink * (np.where(cnt > 0, ratio, 1.0) - 1.0)
        # the block starts k whole seasons before c, so forecast step h has phase h % season
        out.append(level[:, None] * profile[:, np.arange(horizon) % season])
    return np.stack(out)


def _pick(sse: Array, values: Array) -> Array:
    """Per series, the value of the parameter combination (last axis) with the least SSE."""
    best = np.argmin(np.where(np.isnan(sse), np.inf, sse), axis=-1)
    return np.take_along_axis(values, best[..., None], axis=-1)[..., 0]


def ses(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """Simple exponential smoothing, ETS(A,N,N), alpha fitted per series from a grid.

    Hyndman & Athanasopoulos, *Forecasting: Principles and Practice* (3rd ed.), 8.1.
    """
    a = np.asarray(SES_ALPHAS)[None, :]
    n, _ = y.shape
    level = np.full((n, a.size), np.nan)
    sse = np.zeros((n, a.size))
    snaps: dict[int, Array] = {}
    want = set(cutoffs)
    for t in range(y.shape[1] + 1):
        if t in want:
            snaps[t] = _nan0(_pick(sse, level))
        if t == y.shape[1]:
            break
        yt = y[:, t : t + 1]
        obs = ~np.isnan(yt)
        err = np.where(obs & ~np.isnan(level), yt - level, 0.0)
        sse += err * err
        level = np.where(obs & np.isnan(level), yt, level + a * err)
    return np.stack([np.repeat(snaps[c][:, None], horizon, 1) for c in cutoffs])


def holt_winters(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """Additive seasonal exponential smoothing, ETS(A,N,A), alpha and gamma fitted per series.

    Initial level: mean of the first observed season; initial seasonal states: that season's
    deviations. Hyndman & Athanasopoulos, *FPP3*, 8.3. Falls back to :func:`ses` when
    ``season <= 1``.
    """
    if season <= 1:
        return ses(y, horizon=horizon, season=season, cutoffs=cutoffs)
    grid = np.array([(al, ga) for al in HW_ALPHAS for ga in HW_GAMMAS])
    al, ga = grid[None, :, 0], grid[None, :, 1]
    n, big_t = y.shape
    head = y[:, :season]
    cnt = (~np.isnan(head)).sum(axis=1)
    first = np.where(cnt > 0, _nan0(head).sum(axis=1) / np.maximum(cnt, 1), np.nan)
    level = np.repeat(first[:, None], grid.shape[0], 1)
    seas = np.zeros((season, n, grid.shape[0]))  # phase first: contiguous updates
    sse = np.zeros((n, grid.shape[0]))
    snaps: dict[int, tuple[Array, Array]] = {}
    want = set(cutoffs)
    for t in range(big_t + 1):
        if t in want:
            best = np.argmin(sse, axis=1)
            rows = np.arange(n)
            snaps[t] = (_nan0(level[rows, best]), seas[:, rows, best].T)
        if t == big_t:
            break
        p = t % season
        yt = y[:, t : t + 1]
        obs = ~np.isnan(yt)
        s = seas[p]
        started = ~np.isnan(level)
        err = np.where(obs & started, yt - level - s, 0.0)
        if t >= season:
            sse += err * err
        level = np.where(obs & ~started, yt, level + al * err)
        seas[p] = s + ga * (1 - al) * err
    out = []
    for c in cutoffs:
        lv, sv = snaps[c]
        phases = (c + np.arange(horizon)) % season
        out.append(np.maximum(lv[:, None] + sv[:, phases], 0.0))
    return np.stack(out)


def _intermittent_states(y: Array, cutoffs: Sequence[int], *, tsb: bool) -> dict[int, Array]:
    """One pass of Croston (size and interval) or TSB (size and probability) over a grid."""
    if tsb:
        grid = np.array([(a, b) for a in TSB_ALPHAS for b in TSB_BETAS])
    else:
        grid = np.array([(a, a) for a in CROSTON_ALPHAS])
    a, b = grid[None, :, 0], grid[None, :, 1]
    n, big_t = y.shape
    size = np.full((n, grid.shape[0]), np.nan)
    rate = np.full((n, grid.shape[0]), np.nan)  # interval (Croston) or probability (TSB)
    since = np.ones((n, 1))
    sse = np.zeros((n, grid.shape[0]))
    snaps: dict[int, Array] = {}
    want = set(cutoffs)
    for t in range(big_t + 1):
        fc = _nan0(size * rate) if tsb else _nan0(size / rate)
        if t in want:
            snaps[t] = _pick(sse, fc)
        if t == big_t:
            break
        yt = y[:, t : t + 1]
        obs = ~np.isnan(yt)
        pos = obs & (yt > 0)
        started = ~np.isnan(size)
        sse += np.where(obs & started, (yt - fc) ** 2, 0.0)
        if tsb:
            rate = np.where(obs & started, rate + b * (pos - rate), rate)
            rate = np.where(pos & ~started, 1.0, rate)
        else:
            rate = np.where(pos, np.where(started, rate + b * (since - rate), since), rate)
        size = np.where(pos, np.where(started, size + a * (yt - size), yt), size)
        since = np.where(pos, 1.0, since + obs)
    return snaps


def croston(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """Croston's method: smoothed demand size over smoothed interval, alpha fitted.

    Croston (1972), *Operational Research Quarterly* 23(3).
    """
    snaps = _intermittent_states(y, cutoffs, tsb=False)
    return np.stack([np.repeat(snaps[c][:, None], horizon, 1) for c in cutoffs])


def sba(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """Syntetos-Boylan approximation: Croston times ``1 - alpha/2`` (bias correction).

    Syntetos & Boylan (2005), *International Journal of Forecasting* 21(2). The correction
    uses the grid's middle alpha, 0.1, whatever alpha the fit picked.
    """
    return croston(y, horizon=horizon, season=season, cutoffs=cutoffs) * (1 - 0.1 / 2)


def tsb(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """Teunter-Syntetos-Babai: demand probability updated every period, times size.

    Teunter, Syntetos & Babai (2011), *European Journal of Operational Research* 214(3).
    """
    snaps = _intermittent_states(y, cutoffs, tsb=True)
    return np.stack([np.repeat(snaps[c][:, None], horizon, 1) for c in cutoffs])


def _aggregate(y: Array, k: int) -> Array:
    """Non-overlapping sums of ``k`` periods aligned to the end; unobserved periods are
    imputed with the bucket's observed mean (a bucket with none stays unobserved)."""
    m = y.shape[1] // k
    block = y[:, y.shape[1] - m * k :].reshape(y.shape[0], m, k)
    cnt = (~np.isnan(block)).sum(axis=2)
    return np.where(cnt > 0, _nan0(block).sum(axis=2) * k / np.maximum(cnt, 1), np.nan)


def _aggregated_ses(y: Array, cutoffs: Sequence[int], k: int) -> Array:
    """Per-period rate ``(len(cutoffs), n)`` from SES on ``k``-period buckets.

    Buckets are aligned to the end of the whole history and SES runs once with a snapshot
    after the last bucket that ends by each origin, so an origin never sees later data.
    """
    agg = _aggregate(y, k)
    offset = y.shape[1] - agg.shape[1] * k
    counts = [max((c - offset) // k, 0) for c in cutoffs]
    rates = ses(agg, horizon=1, season=1, cutoffs=sorted(set(counts)))[:, :, 0] / k
    by_count = dict(zip(sorted(set(counts)), rates, strict=True))
    out = []
    for c, m in zip(cutoffs, counts, strict=True):
        out.append(by_count[m] if m > 0 else _nan0(_window_mean(y[:, :c], max(c, 1))))
    return np.stack(out)


def _levels(y: Array, cutoffs: Sequence[int]) -> NDArray[np.int64]:
    """Aggregation level per origin and series: the mean interval, rounded, in 1..12."""
    adi = np.stack([mean_interval(y[:, :c]) for c in cutoffs])
    k = np.clip(np.round(np.where(np.isfinite(adi), adi, 1.0)), 1, MAX_AGGREGATION)
    return k.astype(np.int64)


def mean_interval(y: Array) -> Array:
    """Average inter-demand interval (ADI) per series; ``inf`` for a series with no demand."""
    obs = ~np.isnan(y)
    nz = (_nan0(y) > 0).sum(axis=1)
    return np.where(nz > 0, obs.sum(axis=1) / np.maximum(nz, 1), np.inf)


def adida(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """ADIDA: SES on buckets of the series' mean interval, divided back to periods.

    Nikolopoulos et al. (2011), *Journal of the Operational Research Society* 62(3).
    """
    level = _levels(y, cutoffs)
    fc = np.zeros(level.shape)
    for k in np.unique(level):  # a handful of distinct levels, not one per series
        rows = (level == k).any(axis=0)
        rate = _aggregated_ses(y[rows], cutoffs, int(k))
        fc[:, rows] = np.where(level[:, rows] == k, rate, fc[:, rows])
    return np.repeat(fc[:, :, None], horizon, 2)


def imapa(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """IMAPA: mean of aggregated-SES rates over levels 1..ADI.

    Petropoulos & Kourentzes (2015), *Journal of the Operational Research Society* 66(6).
    """
    top = _levels(y, cutoffs)
    total = np.zeros(top.shape)
    for k in range(1, int(top.max()) + 1):
        rows = (top >= k).any(axis=0)
        rate = _aggregated_ses(y[rows], cutoffs, k)
        total[:, rows] += np.where(top[:, rows] >= k, rate, 0.0)
    return np.repeat((total / top)[:, :, None], horizon, 2)
