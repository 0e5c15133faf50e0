"""Per-series seasonality test and classical multiplicative decomposition over a panel.

Every function takes a panel ``y`` of shape ``(n, T)`` (``NaN`` = not observed: before
launch, censored or missing) and works on all series at once. Season phases are counted by
column (``column % season``), so indices found on a history apply unchanged to its future
columns whatever the series' launch date.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: One-sided 90% normal quantile of the seasonality test (M4 benchmark; Fiorucci et al. 2016).
Z_90 = 1.6448536269514722
#: Whole seasons of observations the test needs (M4 benchmark code: ``len >= 3 * ppy``).
MIN_SEASONS = 3
#: A seasonal index below this would blow the deseasonalised series up: no adjustment.
MIN_INDEX = 0.01


def acf(y: Array, lags: int) -> Array:
    """Sample autocorrelations ``(n, lags)`` at lags ``1..lags`` over the observed values.

    ``r_k = sum (y_t - m)(y_{t-k} - m) / sum (y_t - m)^2`` with ``m`` the mean of the
    observed values; a product counts only where both periods were observed (the usual
    estimator when nothing is missing). ``NaN`` where a series has no variance.
    """
    obs = ~np.isnan(y)
    cnt = obs.sum(axis=1)
    mean = np.where(cnt > 0, np.where(obs, y, 0.0).sum(axis=1) / np.maximum(cnt, 1), 0.0)
    d = np.where(obs, y - mean[:, None], 0.0)
    den = (d * d).sum(axis=1)
    out = np.empty((y.shape[0], lags))
    for k in range(1, lags + 1):  # lags, not series
        out[:, k - 1] = (d[:, k:] * d[:, :-k]).sum(axis=1) if k < y.shape[1] else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den[:, None] > 0, out / np.where(den > 0, den, 1.0)[:, None], np.nan)


def seasonal_test(y: Array, season: int) -> NDArray[np.bool_]:
    """``(n,)`` True where the autocorrelation at the season lag is significant (90%).

    The test of the M4 competition's benchmarks and of the Theta method (Assimakopoulos &
    Nikolopoulos 2000; Fiorucci et al. 2016): seasonal when
    ``|r_m| > 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / T)`` (Bartlett's standard error of
    ``r_m`` under an MA(m-1) null), with ``T`` the observed periods. Only tested when
    ``season > 1`` and ``T >= 3 season``; shorter series are not seasonal.

    >>> t = np.arange(48)
    >>> seasonal_test(np.stack([10 + 3 * np.sin(2 * np.pi * t / 12), t * 1.0]), 12).tolist()
    [True, False]
    """
    n = y.shape[0]
    if season <= 1:
        return np.zeros(n, dtype=np.bool_)
    cnt = (~np.isnan(y)).sum(axis=1)
    r = acf(y, season)
    bound = Z_90 * np.sqrt((1 + 2 * (r[:, :-1] ** 2).sum(axis=1)) / np.maximum(cnt, 1))
    with np.errstate(invalid="ignore"):
        sig = np.abs(r[:, -1]) > bound
    out: NDArray[np.bool_] = sig & (cnt >= MIN_SEASONS * season) & ~np.isnan(r[:, -1])
    return out


def centred_moving_average(y: Array, season: int) -> Array:
    """Centred moving average of order ``season`` (``2 x season`` when even), ``NaN`` where
    its window is not wholly observed. Classical decomposition's trend-cycle (Hyndman &
    Athanasopoulos, *FPP3*, 3.4; statsmodels ``seasonal_decompose``)."""
    w = np.ones(season) if season % 2 else np.r_[0.5, np.ones(season - 1), 0.5]
    w /= season
    half = len(w) // 2
    n, big_t = y.shape
    out = np.full((n, big_t), np.nan)
    if big_t < len(w):
        return out
    filled = np.where(np.isnan(y), 0.0, y)
    gaps = np.isnan(y).astype(np.float64)
    acc = np.zeros((n, big_t - 2 * half))
    miss = np.zeros_like(acc)
    for j, wj in enumerate(w):  # window positions, not series
        acc += wj * filled[:, j : big_t - 2 * half + j]
        miss += gaps[:, j : big_t - 2 * half + j]
    out[:, half : big_t - half] = np.where(miss > 0, np.nan, acc)
    return out


def seasonal_indices(y: Array, season: int) -> Array:
    """``(n, season)`` multiplicative seasonal indices by column phase; 1 where not seasonal.

    Classical multiplicative decomposition (Hyndman & Athanasopoulos, *FPP3*, 3.4, as in
    statsmodels' ``seasonal_decompose`` used by the M4 benchmarks): the ratio of the series
    to its centred moving average, averaged per phase over the periods where both were
    observed, normalised to mean 1. Only for series that :func:`seasonal_test` finds
    seasonal and whose observed values are all positive; a series with a phase never seen,
    or an index below :data:`MIN_INDEX`, gets 1 throughout.
    """
    n, big_t = y.shape
    ones = np.ones((n, max(season, 1)))
    if season <= 1 or big_t == 0:
        return ones
    with np.errstate(invalid="ignore"):
        positive = np.where(np.isnan(y), np.inf, y).min(axis=1) > 0
    rows = np.flatnonzero(positive)
    rows = rows[seasonal_test(y[rows], season)]
    sub = y[rows]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = sub / centred_moving_average(sub, season)
    ok = ~np.isnan(ratio)
    shape = (rows.size, (big_t + season - 1) // season, season)
    pad = ((0, 0), (0, shape[1] * season - big_t))
    ratio = np.pad(np.where(ok, ratio, 0.0), pad).reshape(shape)
    cnt = np.pad(ok, pad).reshape(shape).sum(axis=1)
    avg = ratio.sum(axis=1) / np.maximum(cnt, 1)
    mean = avg.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        idx = avg / np.where(mean > 0, mean, 1.0)
    good = (cnt > 0).all(axis=1) & (idx >= MIN_INDEX).all(axis=1)
    ones[rows[good]] = idx[good]
    return ones


def column_indices(indices: Array, start: int, stop: int) -> Array:
    """``(n, stop - start)`` seasonal index of each column ``start..stop-1`` (by phase)."""
    return indices[:, np.arange(start, stop) % indices.shape[1]]


def deseasonalise(y: Array, indices: Array) -> Array:
    """``y`` divided by its column's index (``NaN`` stays ``NaN``)."""
    return y / column_indices(indices, 0, y.shape[1])


def reseasonalise(forecast: Array, indices: Array, start: int) -> Array:
    """Forecasts ``(n, H)`` for columns ``start..start+H-1`` times their phase's index."""
    return forecast * column_indices(indices, start, start + forecast.shape[1])
