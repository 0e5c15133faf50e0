"""A global direct multi-horizon model: one regression per horizon, pooled over all series.

Each training example is a (series, origin) pair. Features and target are divided by the
series' recent mean level (the scale) so that one set of coefficients serves small and large
series alike (the pooling idea of Wen et al. (2017), *A Multi-Horizon Quantile Recurrent
Forecaster*, with a linear learner in place of the recurrent network). Features: recent means
over three windows, the last value, the share of zero periods, the mean of the target's
season phase over the last four seasons, the level a year before the target, and one-hot
target phase (daily and monthly data). The learner is ridge-regularised least squares, one
per horizon (``direct`` strategy), fitted once on the history before the first backtest
origin (for the backtest forecasts) and once on the whole history (for the final forecast).
Events enter through the shared lift (history divided, forecast multiplied).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: Rolling-mean windows per season length (short, mid, long).
WINDOWS = {7: (7, 28, 91), 12: (3, 6, 12), 52: (4, 13, 52)}
#: Training origins per fit and the largest number of series sampled into the fit.
ORIGINS = 12
MAX_TRAIN_SERIES = 20_000
RIDGE = 1e-3


def _windows(season: int) -> tuple[int, int, int]:
    return WINDOWS.get(season, (max(season, 2), 4 * max(season, 2), 12 * max(season, 2)))


def _cum(y: Array) -> tuple[Array, Array]:
    """Cumulative sums of observed values and of observed periods, with a leading 0 column
    (summed in place: no second copy of a panel-sized array)."""
    obs = ~np.isnan(y)
    n, t = y.shape
    values, counts = np.zeros((n, t + 1)), np.zeros((n, t + 1))
    np.cumsum(np.where(obs, y, 0.0), axis=1, out=values[:, 1:])
    np.cumsum(obs, axis=1, dtype=np.float64, out=counts[:, 1:])
    return values, counts


def _mean(cs: tuple[Array, Array], c: int, w: int) -> Array:
    lo = max(c - w, 0)
    cnt = cs[1][:, c] - cs[1][:, lo]
    with np.errstate(all="ignore"):
        return np.where(cnt > 0, (cs[0][:, c] - cs[0][:, lo]) / cnt, np.nan)


def _year_lag(season: int) -> int:
    return 364 if season == 7 else season


@dataclass(frozen=True)
class Origin:
    """What the features of every horizon share at one origin ``c``."""

    c: int
    base: Array  # (n, 5): short, mid and long means, last value, share of zeros (unscaled)
    mid: Array
    scale: Array
    safe: Array


def origin(y: Array, cs: tuple[Array, Array], c: int, season: int) -> Origin:
    """Horizon-independent features at origin ``c`` (computed once, used for all H)."""
    short, mid, long_ = _windows(season)
    m = _mean(cs, c, mid)
    scale = np.nan_to_num(np.where(np.nan_to_num(m) > 0, m, _mean(cs, c, long_)))
    last = y[:, c - 1] if c > 0 else np.full(y.shape[0], np.nan)
    obs = cs[1][:, c] - cs[1][:, max(c - mid, 0)]
    window = y[:, max(c - mid, 0) : c]
    zeros = np.where(obs > 0, (window == 0).sum(axis=1) / np.maximum(obs, 1), 1.0)
    base = np.stack([_mean(cs, c, short), m, _mean(cs, c, long_), last, zeros], axis=1)
    return Origin(c, base, m, scale, np.where(scale > 0, scale, 1.0))


def features(y: Array, o: Origin, h: int, season: int) -> Array:
    """Scaled features ``(n, p)`` at origin ``o`` for the target period ``o.c + h - 1``."""
    target = o.c + h - 1
    k0 = max(1, -(-h // season)) if season > 1 else 1
    phase_idx = [target - k * season for k in range(k0, k0 + 4) if target - k * season >= 0]
    phase = np.nanmean(y[:, phase_idx], axis=1) if phase_idx else np.full(y.shape[0], np.nan)
    lag = target - _year_lag(season)
    half = 3 if season == 7 else 0
    if lag - half >= 0 and lag + half < o.c:
        year = np.nanmean(y[:, lag - half : lag + half + 1], axis=1)
    else:
        year = np.full(y.shape[0], np.nan)
    levels = np.column_stack([o.base[:, :4], phase, year])
    levels = np.where(np.isnan(levels), o.mid[:, None], levels) / o.safe[:, None]
    onehot = np.zeros((y.shape[0], season if season in (7, 12) else 0))
    if onehot.shape[1]:
        onehot[:, target % season] = 1.0
    return np.hstack(
        [np.ones((y.shape[0], 1)), np.nan_to_num(levels, nan=1.0), o.base[:, 4:5], onehot]
    )


def _train_origins(limit: int, horizon: int, season: int) -> list[int]:
    step = season if season == 7 else 1
    least = _windows(season)[1]
    return [c for c in (limit - horizon - j * step for j in range(ORIGINS)) if c >= least]


def fit(y: Array, *, horizon: int, season: int, limit: int, seed: int = 0) -> Array:
    """Coefficients ``(H, p)`` learned from targets before period ``limit``.

    Series are subsampled to :data:`MAX_TRAIN_SERIES` (seeded) to bound the cost; examples
    whose scale is 0 or whose target is unobserved are left out.
    """
    rng = np.random.default_rng(seed)
    rows = np.arange(y.shape[0])
    if rows.size > MAX_TRAIN_SERIES:
        rows = np.sort(rng.choice(rows, MAX_TRAIN_SERIES, replace=False))
    sub = y[rows, :limit]
    cs = _cum(sub)
    origins = [origin(sub, cs, c, season) for c in _train_origins(limit, horizon, season)]
    coef = []
    for h in range(1, horizon + 1):
        xs, ts = [], []
        for o in origins:
            t = sub[:, o.c + h - 1] / o.safe
            ok = (o.scale > 0) & ~np.isnan(t)
            xs.append(features(sub, o, h, season)[ok])
            ts.append(t[ok])
        coef.append(
            _ridge(
                np.vstack(xs) if xs else np.zeros((0, 1)),
                np.concatenate(ts) if ts else np.zeros(0),
                h,
                season,
            )
        )
    width = max(len(c) for c in coef)
    return np.stack([np.pad(c, (0, width - len(c))) for c in coef])


def _ridge(x: Array, t: Array, h: int, season: int) -> Array:
    p = 8 + (season if season in (7, 12) else 0)
    if x.shape[0] < 2 * p:
        out = np.zeros(p)
        out[2] = 1.0  # no data: the mid-window mean (the scale itself)
        return out
    t = np.minimum(t, np.quantile(t, 0.999))  # a few wild ratios must not steer the fit
    gram = x.T @ x + RIDGE * x.shape[0] * np.eye(x.shape[1])
    return np.asarray(np.linalg.solve(gram, x.T @ t), dtype=np.float64)


def predict(y: Array, coef: Array, *, c: int, horizon: int, season: int) -> Array:
    """Forecasts ``(n, H)`` from origin ``c``."""
    o = origin(y[:, :c], _cum(y[:, :c]), c, season)
    out = np.empty((y.shape[0], horizon))
    for h in range(1, horizon + 1):
        x = features(y[:, :c], o, h, season)
        out[:, h - 1] = np.maximum(x @ coef[h - 1, : x.shape[1]], 0.0) * o.scale
    return out


def global_model(
    y: Array,
    *,
    horizon: int,
    season: int,
    cutoffs: Sequence[int],
    seed: int = 0,
    coef: tuple[Array, Array] | None = None,
) -> Array:
    """Point forecasts ``(len(cutoffs), n, H)``; leak-free for every origin before the last.

    ``coef`` (from :func:`train`, possibly on other series) skips the fit on ``y``: a
    partitioned forecast trains once on a sample of the catalogue and applies it to every
    partition.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows are filled after
        if coef is None:
            coef = _train(y, horizon=horizon, season=season, cutoffs=cutoffs, seed=seed)
        return _run(y, horizon=horizon, season=season, cutoffs=cutoffs, coef=coef)


def train(
    y: Array, *, horizon: int, season: int, cutoffs: Sequence[int], seed: int = 0
) -> tuple[Array, Array]:
    """Coefficients for the first origin of ``cutoffs`` (also used by every origin but the
    last) and for the last one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _train(y, horizon=horizon, season=season, cutoffs=cutoffs, seed=seed)


def _train(
    y: Array, *, horizon: int, season: int, cutoffs: Sequence[int], seed: int
) -> tuple[Array, Array]:
    final = max(cutoffs)
    early = min(cutoffs)
    coef_early = fit(y, horizon=horizon, season=season, limit=early, seed=seed)
    coef_final = (
        coef_early
        if early == final
        else fit(y, horizon=horizon, season=season, limit=final, seed=seed)
    )
    return coef_early, coef_final


def _run(
    y: Array, *, horizon: int, season: int, cutoffs: Sequence[int], coef: tuple[Array, Array]
) -> Array:
    final = max(cutoffs)
    coef_early, coef_final = coef
    return np.stack(
        [
            predict(
                y, coef_final if c == final else coef_early, c=c, horizon=horizon, season=season
            )
            for c in cutoffs
        ]
    )
