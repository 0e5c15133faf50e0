"""Forecasting core over arrays: backtest origins, per-series choice, conformal quantiles.

Every model is run once over the history with snapshots at the backtest origins and at the
end. ``auto`` averages per series the candidates with the least backtest squared error
(scaled by the series' own variability). Quantiles come from the forecast's own backtest
errors as ratio scores (split-conformal, Vovk et al. 2005), never from a normal assumption.
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scot_cli.forecast.registry import MODELS

Array = NDArray[np.float64]
ModelFn = Callable[..., Array]
Progress = Callable[[int, int], None] | None

#: Default number of backtest origins used inside a forecast (selection and calibration).
DEFAULT_WINDOWS = 4
#: Models combined per series by ``auto``.
TOP_K = 5
#: Scores behind a series' own quantile before it outweighs the quantile of all series.
SHRINK = 40.0


@dataclass(frozen=True)
class Fit:
    """Forecast of ``n`` series over ``H`` periods.

    Attributes
    ----------
    mean
        ``(n, H)`` point forecast (non-negative).
    quantiles
        ``(n, H, Q)`` quantiles, non-negative and non-decreasing in ``Q``.
    model
        ``(n,)`` name of the model behind each series.
    common
        ``(Q,)`` score quantiles pooled over the series that the conformal quantiles were
        shrunk towards (:func:`conformal`); None when there was no backtest.
    """

    mean: Array
    quantiles: Array
    model: NDArray[np.str_]
    common: Array | None = None


def model_fn(name: str) -> ModelFn:
    """The function of a registered model."""
    module, attr = MODELS[name].target.split(":")
    fn: ModelFn = getattr(importlib.import_module(module), attr)
    return fn


def candidates() -> list[str]:
    """Models ``auto`` chooses from, in registry order."""
    return [name for name, spec in MODELS.items() if spec.candidate]


def origins(n_periods: int, *, horizon: int, season: int, windows: int) -> list[int]:
    """Backtest origins (history lengths) ``T - H - k * step``, ``step = ceil(H / 2)``, that
    leave at least ``max(season + 1, 4)`` periods of history; oldest first."""
    step = max(1, math.ceil(horizon / 2))
    least = max(season + 1, 4)
    cuts = [n_periods - horizon - k * step for k in range(windows)]
    return sorted(c for c in cuts if c >= least)


def run_model(
    name: str,
    y: Array,
    *,
    horizon: int,
    season: int,
    cutoffs: Sequence[int],
    extra: dict[str, object] | None = None,
) -> Array:
    """Point forecasts ``(len(cutoffs), n, horizon)`` of one model, non-negative."""
    kwargs = dict(extra or {}) if name == "global" else {}
    out = model_fn(name)(y, horizon=horizon, season=season, cutoffs=cutoffs, **kwargs)
    return np.maximum(np.nan_to_num(out, nan=0.0), 0.0)


def actuals(y: Array, cuts: Sequence[int], horizon: int) -> Array:
    """``(len(cuts), n, H)`` observed demand after each origin (``NaN`` when unobserved)."""
    return (
        np.stack([y[:, c : c + horizon] for c in cuts])
        if cuts
        else np.zeros((0, y.shape[0], horizon))
    )


def scale(y: Array) -> Array:
    """Mean squared one-step change of each series' history (RMSSE denominator, M5)."""
    d = np.diff(y, axis=1)
    ok = ~np.isnan(d)
    s = np.where(ok, d * d, 0.0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
    return np.where(s > 0, s, 1.0)


def conformal(
    y: Array,
    mean: Array,
    backtest: Array,
    actual: Array,
    quantiles: Sequence[float],
    common: Array | None = None,
) -> Array:
    """Quantiles ``(n, H, Q)`` from ratio non-conformity scores of the backtest.

    The score of a backtest period is ``actual / max(forecast, level)`` with ``level`` the
    series' mean history, so a zero sale scores 0 (a zero lower quantile for intermittent
    demand) and a near-zero forecast cannot blow the ratio up. The per-series score quantile
    pools all origins and horizons and is shrunk towards the quantile pooled over all series
    with weight ``k / (k + SHRINK)`` for ``k`` scores; the forecast quantile is the mean
    times it. Split-conformal in the sense of Vovk, Gammerman & Shafer (2005) with a
    multiplicative score; never a normal assumption. ``common`` replaces the quantile pooled
    over these series (a partitioned run pools once, over a sample of the catalogue).
    """
    return conformal_common(y, mean, backtest, actual, quantiles, common)[0]


def conformal_common(
    y: Array,
    mean: Array,
    backtest: Array,
    actual: Array,
    quantiles: Sequence[float],
    common: Array | None = None,
) -> tuple[Array, Array | None]:
    """:func:`conformal` and the pooled score quantiles it used (None without backtest)."""
    n = mean.shape[0]
    q = np.asarray(quantiles)
    if backtest.shape[0] == 0:
        return np.repeat(mean[:, :, None], q.size, 2), None
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN series fall back below
        level = np.nan_to_num(np.nanmean(y, axis=1))
        den = np.maximum(backtest, level[None, :, None])
        score = np.where(den > 0, actual / np.where(den > 0, den, 1.0), np.nan)
        pooled = np.moveaxis(score, 1, 0).reshape(n, -1)
        own = np.nanquantile(pooled, q, axis=1).T  # (n, Q)
    if common is None:
        flat = pooled[~np.isnan(pooled)]
        common = np.quantile(flat, q) if flat.size else np.ones(q.size)
    k = (~np.isnan(pooled)).sum(axis=1)[:, None]
    w = k / (k + SHRINK)
    sq = np.where(np.isnan(own), common[None, :], w * np.nan_to_num(own) + (1 - w) * common)
    return np.sort(np.maximum(mean[:, :, None] * sq[:, None, :], 0.0), axis=2), common


def fit_models(
    y: Array,
    names: Sequence[str],
    *,
    horizon: int,
    season: int,
    windows: int = DEFAULT_WINDOWS,
    progress: Progress = None,
    extra: dict[str, object] | None = None,
) -> tuple[list[int], dict[str, Array]]:
    """Run each model once with snapshots at the backtest origins and at the end."""
    cuts = origins(y.shape[1], horizon=horizon, season=season, windows=windows)
    out: dict[str, Array] = {}
    for i, name in enumerate(names):
        out[name] = run_model(
            name, y, horizon=horizon, season=season, cutoffs=[*cuts, y.shape[1]], extra=extra
        )
        if progress is not None:
            progress(i + 1, len(names))
    return cuts, out


def backtest_error(y: Array, stacked: Array, cuts: Sequence[int]) -> Array:
    """``(M, n)`` backtest mean squared error of each model, scaled by the series' own
    one-step variability so that large series do not dominate."""
    act = actuals(y, cuts, stacked.shape[-1])
    ok = ~np.isnan(act)
    count = np.maximum(ok.sum(axis=(0, 2)), 1)
    sc = scale(y[:, : cuts[0]])
    out = np.empty((stacked.shape[0], y.shape[0]))
    for m in range(stacked.shape[0]):  # one model at a time bounds the temporaries
        r = np.where(ok, act - stacked[m, :-1], 0.0)
        out[m] = (r * r).sum(axis=(0, 2)) / count / sc
    return out


def combine(
    y: Array, stacked: Array, cuts: Sequence[int], names: Sequence[str]
) -> tuple[Array, NDArray[np.str_]]:
    """Equal-weight mean of each series' :data:`TOP_K` models with the least backtest error.

    Combining a few well-performing forecasts beats picking one on noisy backtests (Bates &
    Granger 1969; Petropoulos & Svetunkov's M4 entry; measured in docs/benchmarks.md).
    Returns the combined ``(K+1, n, H)`` forecasts and the best model's name per series.
    """
    n = y.shape[0]
    if not cuts or len(names) == 1:
        return stacked[0], np.asarray([names[0]] * n)
    err = backtest_error(y, stacked, cuts)
    rank = np.argsort(np.argsort(err, axis=0, kind="stable"), axis=0, kind="stable")
    weight = (rank < TOP_K).astype(np.float64)
    weight /= weight.sum(axis=0, keepdims=True)
    comb = np.einsum("mn,mknh->knh", weight, stacked)
    best = np.asarray(names, dtype=np.str_)[np.argmin(err, axis=0)]
    return comb, best


def forecast_arrays(
    y: Array,
    *,
    horizon: int,
    season: int,
    quantiles: Sequence[float],
    model: str = "auto",
    windows: int = DEFAULT_WINDOWS,
    progress: Progress = None,
    extra: dict[str, object] | None = None,
    common: Array | None = None,
) -> Fit:
    """Forecast every row of ``y`` (``NaN`` = unobserved) ``horizon`` periods ahead.

    Parameters
    ----------
    y
        ``(n, T)`` history, already divided by past event lifts.
    model
        A name from :data:`scot_cli.forecast.registry.MODELS`; ``auto`` combines each
        series' best candidates (:func:`combine`) and labels rows ``auto:<best>``.
    windows
        Backtest origins for the choice and the conformal quantiles.
    extra
        Keyword arguments for the global model.
    common
        Pooled score quantiles for :func:`conformal` (default: pooled over these rows).
    """
    names = candidates() if model == "auto" else [model]
    cuts = origins(y.shape[1], horizon=horizon, season=season, windows=windows)
    stacked = np.empty((len(names), len(cuts) + 1, y.shape[0], horizon))  # (M, K+1, n, H)
    for i, name in enumerate(names):  # filled in place: no second copy of every forecast
        stacked[i] = run_model(
            name, y, horizon=horizon, season=season, cutoffs=[*cuts, y.shape[1]], extra=extra
        )
        if progress is not None:
            progress(i + 1, len(names))
    comb, best = combine(y, stacked, cuts, names)
    del stacked
    label = np.char.add("auto:", best) if model == "auto" else best
    mean = comb[-1]
    quant, used = conformal_common(y, mean, comb[:-1], actuals(y, cuts, horizon), quantiles, common)
    return Fit(mean=mean, quantiles=quant, model=label, common=used)
