"""Forecasting core over arrays: backtest origins, per-series choice, conformal quantiles.

Every model is run once over the history with snapshots at the backtest origins and at the
end. ``auto`` picks per series the candidate with the least backtest squared error (scaled
by the series' own variability so that the choice is not dominated by large series). Quantiles
come from the model's own backtest residuals, pooled over origins and horizons per series and
widened per horizon by a factor shared by all series (split-conformal style, Vovk et al.
2005; Stankeviciute et al. 2021 for multi-horizon), never from a normal assumption.
"""

from __future__ import annotations

import importlib
import math
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
    """

    mean: Array
    quantiles: Array
    model: NDArray[np.str_]


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


def residuals(y: Array, fc: Array, cuts: Sequence[int]) -> Array:
    """``(len(cuts), n, H)`` actual minus forecast at each origin (``NaN`` when unobserved)."""
    horizon = fc.shape[2]
    return np.stack([y[:, c : c + horizon] - fc[k] for k, c in enumerate(cuts)])


def scale(y: Array) -> Array:
    """Mean squared one-step change of each series' history (RMSSE denominator, M5)."""
    d = np.diff(y, axis=1)
    ok = ~np.isnan(d)
    s = np.where(ok, d * d, 0.0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
    return np.where(s > 0, s, 1.0)


def conformal(mean: Array, res: Array, quantiles: Sequence[float]) -> Array:
    """Quantiles ``(n, H, Q)`` = mean + per-series residual quantile x per-horizon factor.

    The per-series quantile pools all origins and horizons; the per-horizon factor is the
    median over series of the ratio of the horizon's mean absolute residual to the series'
    overall one, so that spread grows with the horizon the way it did in the backtest.
    """
    n, horizon = mean.shape
    q = np.asarray(quantiles)
    if res.shape[0] == 0:
        return np.repeat(mean[:, :, None], q.size, 2)
    pooled = np.moveaxis(res, 1, 0).reshape(n, -1)
    with np.errstate(all="ignore"):
        rq = np.nanquantile(pooled, q, axis=1).T  # (n, Q)
        overall = np.nanmean(np.abs(pooled), axis=1)
        per_h = np.nanmean(np.abs(res), axis=0)  # (n, H)
        ratio = per_h / overall[:, None]
    factor = (
        np.nanmedian(np.where(np.isfinite(ratio), ratio, np.nan), axis=0)
        if np.isfinite(ratio).any()
        else np.ones(horizon)
    )
    factor = np.where(np.isfinite(factor) & (factor > 0), factor, 1.0)
    rq = np.nan_to_num(rq, nan=0.0)
    out = mean[:, :, None] + rq[:, None, :] * factor[None, :, None]
    return np.sort(np.maximum(out, 0.0), axis=2)


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


def choose(y: Array, fcs: dict[str, Array], cuts: Sequence[int]) -> NDArray[np.int64]:
    """Index (into ``fcs``) of each series' model with the least scaled backtest MSE.

    Ties and series without any observed backtest period go to the first candidate.
    """
    names = list(fcs)
    if not cuts:
        return np.zeros(y.shape[0], dtype=np.int64)
    sc = scale(y[:, : cuts[0]])
    err = []
    for name in names:
        r = residuals(y, fcs[name][:-1], cuts)
        ok = ~np.isnan(r)
        err.append(
            np.where(ok, r * r, 0.0).sum(axis=(0, 2)) / np.maximum(ok.sum(axis=(0, 2)), 1) / sc
        )
    best: NDArray[np.int64] = np.argmin(np.stack(err), axis=0).astype(np.int64)
    return best


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
) -> Fit:
    """Forecast every row of ``y`` (``NaN`` = unobserved) ``horizon`` periods ahead.

    Parameters
    ----------
    y
        ``(n, T)`` history, already divided by past event lifts.
    model
        A name from :data:`scot_cli.forecast.registry.MODELS`.
    windows
        Backtest origins for the choice (``auto``) and the conformal quantiles.
    extra
        Keyword arguments for the global model (event and phase information).
    """
    names = candidates() if model == "auto" else [model]
    cuts, fcs = fit_models(
        y, names, horizon=horizon, season=season, windows=windows, progress=progress, extra=extra
    )
    pick = choose(y, fcs, cuts)
    stacked = np.stack([fcs[name] for name in names])  # (M, K+1, n, H)
    rows = np.arange(y.shape[0])
    chosen = stacked[pick, :, rows]  # (n, K+1, H)
    mean = chosen[:, -1]
    res = residuals(y, np.moveaxis(chosen[:, :-1], 0, 1), cuts)
    return Fit(
        mean=mean,
        quantiles=conformal(mean, res, quantiles),
        model=np.asarray(names, dtype=np.str_)[pick],
    )


def auto(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """``auto`` as a plain model (point forecasts at ``cutoffs``), for nested evaluation."""
    out = []
    for c in cutoffs:
        out.append(forecast_arrays(y[:, :c], horizon=horizon, season=season, quantiles=[0.5]).mean)
    return np.stack(out)
