"""Forecasting core over arrays: demand classes, backtest origins, per-series choice,
conformal quantiles.

Every model is run once over the history with snapshots at the backtest origins and at the
end. ``auto`` first sorts the series into demand classes (Syntetos, Boylan & Croston 2005):
intermittent and lumpy series get the median of the intermittent-demand methods and simple
baselines; smooth and erratic series the mean of ETS, damped-trend ETS and Theta, each
deciding per series whether it is seasonal. Each series is labelled with its candidate of
least backtest squared error (scaled by the series' own variability).

Quantiles come from the forecast's own backtest errors (split-conformal, Vovk et al. 2005):
ratio scores for intermittent and lumpy series (a zero sale scores 0), and for smooth and
erratic series errors standardised by the models' own forecast standard deviations (else
by the series' one-step variability times a per-step spread), each rescaled to the
series' level or variability at its origin, calibrated per horizon step on the origins
where the series had two seasons of history, so that the intervals widen
with the horizon as the backtest errors do; the models' own normal quantiles only where no
backtest error is usable.
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scot_cli.forecast.metrics import demand_class
from scot_cli.forecast.registry import MODELS, SMOOTH_CLASSES

Array = NDArray[np.float64]
ModelFn = Callable[..., Array]
Progress = Callable[[int, int], None] | None

#: Default number of backtest origins used inside a forecast (selection and calibration).
DEFAULT_WINDOWS = 4
#: Fewest observed periods before a backtest origin for its errors to calibrate a smooth
#: series' quantiles (:func:`short_origins`; ETS's shortest history).
MIN_CALIBRATION_HISTORY = 4
#: Scores behind a series' own quantile before it outweighs the quantile of all series.
SHRINK = 40.0
#: Scores behind one horizon step's pooled quantile before it outweighs all steps'.
STEP_SHRINK = 200.0
#: The models that one ETS fit gives together (:func:`run_with_variance`).
ETS_MEMBERS = ("ets", "ets_damped", "ets_bounded")
#: Gauss-Newton rounds of the ETS fit inside ``auto`` and the engine (one: more rounds barely
#: move the AICc and forecasts and double the fit's time; measured on the development data in
#: docs/benchmarks/forecast-ets.md).
ETS_ROUNDS = 1


@dataclass(frozen=True)
class Pooled:
    """Score quantiles pooled over many series, that each series' quantiles lean on.

    Attributes
    ----------
    ratio
        ``(Q,)`` ratio-score quantiles (intermittent and lumpy series).
    spread
        ``(H,)`` typical absolute scaled backtest error per horizon step, non-decreasing
        (smooth and erratic series).
    steps
        ``(H, Q)`` quantiles of the standardised scores per horizon step, shrunk towards
        ``overall``.
    overall
        ``(Q,)`` quantiles of the standardised scores over all steps.
    """

    ratio: Array | None = None
    spread: Array | None = None
    steps: Array | None = None
    overall: Array | None = None


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
        The pooled score quantiles the conformal quantiles leaned on (:class:`Pooled`);
        None when there was no backtest.
    """

    mean: Array
    quantiles: Array
    model: NDArray[np.str_]
    common: Pooled | None = None


def model_fn(name: str) -> ModelFn:
    """The function of a registered model."""
    target = MODELS[name].target
    module, attr = target.split(":")
    fn: ModelFn = getattr(importlib.import_module(module), attr)
    return fn


def parts(name: str) -> tuple[str, ...]:
    """The models a combination averages (none for a model that is not a combination)."""
    spec = MODELS.get(name)
    return spec.parts if spec is not None else ()


def candidates(group: str | None = None) -> list[str]:
    """Models ``auto`` chooses from (for one demand group: ``smooth`` or ``intermittent``),
    in registry order."""
    return [
        name
        for name, spec in MODELS.items()
        if spec.groups and (group is None or group in spec.groups)
    ]


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
    """Point forecasts ``(len(cutoffs), n, horizon)`` of one model, non-negative. A model
    that cannot forecast a series (``NaN``, e.g. too short a history) gives the naive
    forecast there."""
    kwargs = dict(extra or {}) if name == "global" else {}
    out = model_fn(name)(y, horizon=horizon, season=season, cutoffs=cutoffs, **kwargs)
    if np.isnan(out).any():
        fallback = model_fn("naive")(y, horizon=horizon, season=season, cutoffs=cutoffs)
        out = np.where(np.isnan(out), fallback, out)
    return np.maximum(out, 0.0)


def run_with_variance(
    name: str,
    y: Array,
    *,
    horizon: int,
    season: int,
    cutoffs: Sequence[int],
    memo: dict[str, tuple[Array, Array, Array]] | None = None,
) -> tuple[Array, Array | None]:
    """:func:`run_model` and, for the models that have one (ETS's analytical variance,
    Theta's SES variance), the ``(n, H)`` forecast variance at the last origin; None for
    the others. ``memo`` (for one ``y`` and ``cutoffs``) keeps the other ETS forecasts of
    the fit that gave one (:data:`ETS_MEMBERS`): they all come from one fit."""
    if name in ETS_MEMBERS:
        got = memo if memo is not None and name in memo else None
        if got is None:
            got = _ets(y, horizon=horizon, season=season, cutoffs=cutoffs)
            if memo is not None:
                memo.update(got)
        out, var = got[name][:2]
    elif name == "theta":
        from scot_cli.forecast.theta import fit

        fits = [fit(y[:, :c], horizon=horizon, season=season) for c in cutoffs]
        out, var = np.stack([f.mean for f in fits]), fits[-1].variance
    else:
        return run_model(name, y, horizon=horizon, season=season, cutoffs=cutoffs), None
    if np.isnan(out).any():
        fallback = model_fn("naive")(y, horizon=horizon, season=season, cutoffs=cutoffs)
        out = np.where(np.isnan(out), fallback, out)
    return np.maximum(out, 0.0), var


def _ets(
    y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]
) -> dict[str, tuple[Array, Array, Array]]:
    """ETS forecasts ``(len(cutoffs), n, H)`` and the variance at the last origin, of the
    best model overall (``ets``), the best damped-trend one (``ets_damped``) and the best
    without an undamped trend (``ets_bounded``), fitted as
    :func:`scot_cli.forecast.ets.ets` does (once on the history up to the first origin,
    run forward to the others, once on the whole) with :data:`ETS_ROUNDS` rounds; and
    ``(n,)`` 1 where that model's error is multiplicative (its spread scales with the
    level), else 0."""
    from scot_cli.forecast import ets

    got = ets.ets_forecast_fits(
        y, horizon=horizon, season=season, cutoffs=cutoffs, rounds=ETS_ROUNDS
    )
    return {
        name: (out, ets.ets_variance(fit, horizon), (fit.error == 1).astype(np.float64))
        for name, (out, fit) in got.items()
    }


def combination(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """Equal-weight mean of the ETS without an undamped trend, damped-trend ETS and Theta
    forecasts (``ets_theta``).

    Combining a few different, individually sound extrapolations is the benchmark the M3
    and M4 competitions found hard to beat (Makridakis, Spiliotis & Assimakopoulos 2020,
    IJF 36(1)); equal weights, as estimated weights rarely beat them (Smith & Wallis 2009,
    the "forecast combination puzzle"). ARIMA, the third member of the M4 benchmark
    combination, is left out for its fitting cost; the damped trend takes its place. The
    ETS member levels off (``ets_bounded``: no trend or a damped one): Theta brings the
    straight-line drift, and an undamped ETS trend picked by AICc on a short history is the
    member most often far off at long horizons.
    """
    runs = [
        run_model(p, y, horizon=horizon, season=season, cutoffs=cutoffs) for p in parts("ets_theta")
    ]
    out: Array = np.mean(runs, axis=0)
    return out


def actuals(y: Array, cuts: Sequence[int], horizon: int) -> Array:
    """``(len(cuts), n, H)`` observed demand after each origin (``NaN`` when unobserved)."""
    return (
        np.stack([y[:, c : c + horizon] for c in cuts])
        if cuts
        else np.zeros((0, y.shape[0], horizon))
    )


def short_origins(y: Array, cuts: Sequence[int], season: int) -> NDArray[np.bool_]:
    """``(len(cuts), n)`` True where a series had fewer than ``max(2 * season,``
    :data:`MIN_CALIBRATION_HISTORY` ``)`` observed periods before a backtest origin.

    Its forecast there came from too short a history to say how wrong its final forecast,
    made from the whole history, will be: with less than two seasons no seasonal model can
    be fitted (:mod:`scot_cli.forecast.ets`), and a model falls back to the last value.
    """
    seen = np.cumsum(~np.isnan(y), axis=1)
    least = max(2 * season, MIN_CALIBRATION_HISTORY)
    if not cuts:
        return np.zeros((0, y.shape[0]), dtype=bool)
    have = np.stack([seen[:, c - 1] if c > 0 else np.zeros(y.shape[0]) for c in cuts])
    out: NDArray[np.bool_] = have < least
    return out


def level_ratios(y: Array, cuts: Sequence[int], season: int, relative: NDArray[np.bool_]) -> Array:
    """``(len(cuts), n)`` the scale of each series before each backtest origin over its scale
    at the end of the history, that rescales the forecast standard deviation to the origin.

    For the ``relative`` rows (multiplicative error) the scale is the level, the mean of the
    observed values of the last ``max(season, 4)`` periods: the model's forecast standard
    deviation is proportional to it (Hyndman et al. 2008, sec. 6.3). For the others
    (additive error, whose deviation the model holds constant) it is the series' own
    variability, the mean absolute one-step change over the last ``max(2 * season, 4)``
    periods (two seasons, as :func:`short_origins`): an additive model fitted to a whole
    history averages its errors over it, and where the variability moved, an error made
    when the series was calmer than at the end is not read as a small one, nor one made
    when it was wilder as a large one (a locally normalised score, Lei et al. 2018, sec.
    5.2). Bounded to ``[1/5, 5]``: a scale that moved more than that is no guide, and a
    ratio is 1 where either scale is not positive.
    """
    n = y.shape[0]
    out = np.ones((len(cuts), n))
    if not cuts:
        return out
    w = max(season, 4)
    wide = max(2 * season, 4)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no observed value: ratio 1
        if relative.any():
            sub = y[relative]
            end = np.nanmean(sub[:, -w:], axis=1)
            for k, c in enumerate(cuts):
                then = np.nanmean(sub[:, max(c - w, 0) : c], axis=1)
                out[k, relative] = _bounded_ratio(then, end)
        if not relative.all():
            sub = y[~relative]
            end = _variability(sub, sub.shape[1], wide)
            for k, c in enumerate(cuts):
                out[k, ~relative] = _bounded_ratio(_variability(sub, c, wide), end)
    return out


def _variability(y: Array, end: int, width: int) -> Array:
    """Mean absolute one-step change of each row over the ``width`` periods before ``end``
    (NaN where none is observed)."""
    return np.asarray(
        np.nanmean(np.abs(np.diff(y[:, max(end - width - 1, 0) : end], axis=1)), axis=1)
    )


def _bounded_ratio(then: Array, end: Array) -> Array:
    """``then / end`` bounded to ``[1/5, 5]``; 1 where either is not positive (or NaN)."""
    ok = (then > 0) & (end > 0)
    return np.clip(np.where(ok, then / np.where(ok, end, 1.0), 1.0), 0.2, 5.0)


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


def stepwise_conformal(
    y: Array,
    mean: Array,
    backtest: Array,
    actual: Array,
    quantiles: Sequence[float],
    common: Pooled | None = None,
    sd: Array | None = None,
    level: Array | None = None,
) -> tuple[Array, Pooled | None]:
    """Quantiles ``(n, H, Q)`` that widen with the horizon, from standardised backtest errors.

    Each backtest error is divided by the forecast's standard deviation at its horizon
    step: the model's own (``sd``, e.g. ETS's analytical variance) where given, else the
    series' root mean squared one-step change times the step's spread ``d_h`` (the robust
    standard deviation, 1.4826 times the median absolute scaled error, of step ``h`` over
    all series and origins, made non-decreasing in ``h``). A model's own deviation is that
    of the forecast from the end of the history; ``level`` ``(K, n)`` rescales it to each
    backtest origin (:func:`level_ratios`: with the level for a multiplicative-error model,
    with the series' recent one-step variability otherwise, so that an error made when a
    series was smaller or calmer is not read as a small one). The scores' quantiles are
    taken per step over all series, shrunk towards all steps' by ``m / (m + STEP_SHRINK)`` for
    ``m`` scores, and centred on their median (the point forecast is the median: a
    backtest's bias is not carried into the future). The forecast quantile is
    ``mean + sd_h z_q``; with no usable score at all, ``z_q`` is the standard normal
    quantile (the models' own variance alone). Split-conformal (Vovk, Gammerman & Shafer
    2005) with a normalised score, as in Lei et al. (2018), *Distribution-free predictive
    inference for regression*, JASA 113(523), section 5.2; ``common`` replaces the pooled
    parts (a partitioned run pools once, over a sample of the catalogue).
    """
    n, horizon = mean.shape
    q = np.asarray(quantiles)
    if backtest.shape[0] == 0 or n == 0:
        return np.repeat(mean[:, :, None], q.size, 2), common
    s = np.sqrt(scale(y))
    own = np.isfinite(sd) & (sd > 0) if sd is not None else np.zeros((n, horizon), dtype=bool)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices fall back below
        if common is None or common.spread is None:
            err = (actual - backtest) / s[None, :, None]  # (K, n, H)
            spread = 1.4826 * np.nanmedian(np.abs(err), axis=(0, 1))
            spread = np.where(np.isfinite(spread) & (spread > 0), spread, np.nan)
            spread = np.nan_to_num(np.fmax.accumulate(spread), nan=1.0)
            del err
        else:
            spread = common.spread
        width = np.where(own, sd if sd is not None else 1.0, s[:, None] * spread[None, :])
        then = width[None] if level is None else width[None] * level[:, :, None]
        z = (actual - backtest) / then
        if common is None or common.steps is None or common.overall is None:
            flat = z[~np.isnan(z)]
            # no usable backtest error at all: the models' own (normal) quantiles
            overall = np.quantile(flat, q) - np.quantile(flat, 0.5) if flat.size else _normal(q)
            per_step = np.nanquantile(z.reshape(-1, horizon), q, axis=0).T  # (H, Q)
            per_step -= np.nanquantile(z.reshape(-1, horizon), 0.5, axis=0)[:, None]
            m = (~np.isnan(z)).sum(axis=(0, 1))[:, None]
            wm = m / (m + STEP_SHRINK)
            steps = np.where(
                np.isnan(per_step), overall[None, :], wm * per_step + (1 - wm) * overall
            )
        else:
            overall, steps = common.overall, common.steps
    out = np.sort(np.maximum(mean[:, :, None] + width[:, :, None] * steps[None], 0.0), axis=2)
    return out, Pooled(spread=spread, steps=steps, overall=overall)


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
    """Median of the candidates' forecasts, period by period, and each series' best
    candidate by backtest error (its label).

    The median is the robust equal-weight combination (Jose & Winkler 2008, *Simple robust
    averages of forecasts*, IJF 24(1)): one candidate far off, e.g. a seasonal naive on a
    sparse series, cannot pull it, and no weight is estimated from a few noisy backtests. On
    the development data it beat the mean of the five best candidates by backtest error
    (docs/benchmarks/forecast.md). Returns the combined ``(K+1, n, H)`` forecasts and the
    best model's name per series.
    """
    n = y.shape[0]
    if len(names) == 1:
        return stacked[0], np.asarray([names[0]] * n)
    comb: Array = np.median(stacked, axis=0)
    if not cuts:
        return comb, np.asarray([names[0]] * n)
    err = backtest_error(y, stacked, cuts)
    best = np.asarray(names, dtype=np.str_)[np.argmin(err, axis=0)]
    return comb, best


@dataclass(frozen=True)
class Group:
    """Series forecast together by ``auto``: their rows, candidates and season length."""

    name: str
    rows: NDArray[np.intp]
    models: list[str]
    season: int
    full_season: int

    def season_of(self, model: str) -> int:
        """Season length for ``model``: the frequency's for models that decide seasonality
        themselves, the group's otherwise."""
        own = MODELS[model].own_season
        return self.full_season if own else self.season


def groups(y: Array, *, season: int, model: str) -> list[Group]:
    """Demand groups of the rows of ``y``: for ``auto``, intermittent and lumpy series with
    the intermittent candidates and smooth and erratic series with the smooth ones (which
    decide seasonality per series themselves: ETS by AICc, Theta by the 90% seasonality
    test); for one model, all rows with it."""
    n = y.shape[0]
    if model != "auto":
        return [Group("all", np.arange(n), [model], season, season)]
    smooth = np.isin(demand_class(y), SMOOTH_CLASSES)
    out = [
        Group("intermittent", np.flatnonzero(~smooth), candidates("intermittent"), season, season),
        Group("smooth", np.flatnonzero(smooth), candidates("smooth"), season, season),
    ]
    return [g for g in out if g.rows.size]


def _runs(models: Sequence[str]) -> list[str]:
    """The models to run for ``models``: each but the combinations, plus their parts."""
    names = [m for m in models if not parts(m)]
    for c in models:  # a combination needs its parts run, whether candidates or not
        names += [p for p in parts(c) if p not in names]
    return names


def _run_group(
    y: Array,
    g: Group,
    cuts: Sequence[int],
    *,
    horizon: int,
    progress: Progress,
    extra: dict[str, object] | None,
) -> tuple[Array, NDArray[np.str_], Array | None, NDArray[np.bool_] | None]:
    """``(K+1, rows, H)`` forecasts of one group, the best model per row and the forecast
    standard deviation ``(rows, H)`` where the group's models give variances (the mean of
    the standard deviations of the forecasting combination's parts, or of all the models
    run when there is no combination; None when none has one), and where that deviation
    scales with the series' level (the ETS model behind it has multiplicative error; None
    without an ETS model).

    A group with a combination among its candidates (smooth series: ``ets_theta``) is
    forecast by it; any other by the median of its candidates (:func:`combine`).
    """
    sub = y[g.rows]
    names = _runs(g.models)
    combos = [m for m in g.models if parts(m)]
    every = [*cuts, y.shape[1]]
    stacked = np.empty((len(g.models), len(every), g.rows.size, horizon))
    runs: dict[str, Array] = {}
    sds: dict[str, Array] = {}
    memo: dict[str, tuple[Array, Array, Array]] = {}
    for i, name in enumerate(names):  # filled in place: no second copy of every forecast
        season = g.season_of(name)
        if name == "global":
            fc = run_model(name, sub, horizon=horizon, season=season, cutoffs=every, extra=extra)
        else:
            fc, var = run_with_variance(
                name, sub, horizon=horizon, season=season, cutoffs=every, memo=memo
            )
            if var is not None:
                sds[name] = np.sqrt(np.maximum(var, 0.0))
        if name in g.models:
            stacked[g.models.index(name)] = fc
        if any(name in parts(c) for c in combos):
            runs[name] = fc
        if progress is not None:
            progress(i + 1, len(names))
    for c in combos:
        stacked[g.models.index(c)] = np.mean([runs[p] for p in parts(c)], axis=0)
    del runs
    comb, best = combine(sub, stacked, cuts, g.models)
    used = names
    if combos:
        comb = stacked[g.models.index(combos[0])]
        used = list(parts(combos[0]))
        sds = {k: v for k, v in sds.items() if k in used}
    ets_used = [m for m in used if m in memo]
    relative = memo[ets_used[0]][2] > 0 if ets_used else None
    return comb, best, np.mean(list(sds.values()), axis=0) if sds else None, relative


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
    common: Pooled | None = None,
) -> Fit:
    """Forecast every row of ``y`` (``NaN`` = unobserved) ``horizon`` periods ahead.

    Parameters
    ----------
    y
        ``(n, T)`` history, already divided by past event lifts.
    model
        A name from :data:`scot_cli.forecast.registry.MODELS`; ``auto`` combines the
        candidates of each series' demand group (:func:`groups`, :func:`combine`) and
        labels rows ``auto:<best>`` after the best of them by backtest.
    windows
        Backtest origins for the choice and the conformal quantiles.
    extra
        Keyword arguments for the global model.
    common
        Pooled score quantiles for the conformal quantiles (default: pooled over these rows).
    """
    n = y.shape[0]
    cuts = origins(y.shape[1], horizon=horizon, season=season, windows=windows)
    parts = groups(y, season=season, model=model)
    fc = np.empty((len(cuts) + 1, n, horizon))
    best = np.empty(n, dtype="<U40")
    sd = np.full((n, horizon), np.nan)
    relative = np.zeros(n, dtype=bool)
    done = 0
    total = sum(len(_runs(g.models)) for g in parts)
    for g in parts:
        step = None
        if progress is not None:

            def step(i: int, of: int, done: int = done) -> None:
                progress(done + i, total)

        comb, pick, dev, rel = _run_group(y, g, cuts, horizon=horizon, progress=step, extra=extra)
        fc[:, g.rows], best[g.rows] = comb, pick
        if dev is not None:
            sd[g.rows] = dev
        if rel is not None:
            relative[g.rows] = rel
        done += len(_runs(g.models))
    label = np.char.add("auto:", best) if model == "auto" else best
    mean = fc[-1]
    short = short_origins(y, cuts, season)
    level = level_ratios(y, cuts, season, relative)
    quant, used = quantile_forecast(
        y, mean, fc[:-1], actuals(y, cuts, horizon), quantiles, common, sd, short, level
    )
    return Fit(mean=mean, quantiles=quant, model=label, common=used)


def quantile_forecast(
    y: Array,
    mean: Array,
    backtest: Array,
    actual: Array,
    quantiles: Sequence[float],
    common: Pooled | None = None,
    sd: Array | None = None,
    short: NDArray[np.bool_] | None = None,
    level: Array | None = None,
) -> tuple[Array, Pooled | None]:
    """Quantiles by demand class: ratio scores (:func:`conformal`) for intermittent and lumpy
    series, step-wise standardised scores (:func:`stepwise_conformal`, with the models'
    standard deviations ``sd`` where finite, rescaled to each backtest origin by ``level``
    ``(K, n)``, :func:`level_ratios`) for smooth and erratic, leaving out the backtest
    origins ``short`` marks (``(K, n)``, :func:`short_origins`)."""
    n = mean.shape[0]
    quant = np.empty((n, mean.shape[1], len(quantiles)))
    if backtest.shape[0] == 0:
        quant[:] = mean[:, :, None]
        return quant, common
    smooth = np.isin(demand_class(y), SMOOTH_CLASSES)
    if common is not None:  # pooled on a sample: what it lacked comes from no data here
        common = _completed(common, mean.shape[1], quantiles)
    rows = np.flatnonzero(~smooth)
    ratio = common.ratio if common is not None else None
    if rows.size:
        quant[rows], ratio = conformal_common(
            y[rows], mean[rows], backtest[:, rows], actual[:, rows], quantiles, ratio
        )
    rows = np.flatnonzero(smooth)
    scaled = common
    if rows.size:
        act = actual[:, rows]
        if short is not None:
            act = np.where(short[:, rows, None], np.nan, act)
        quant[rows], scaled = stepwise_conformal(
            y[rows],
            mean[rows],
            backtest[:, rows],
            act,
            quantiles,
            common,
            sd[rows] if sd is not None else None,
            level[:, rows] if level is not None else None,
        )
    return quant, Pooled(
        ratio=ratio,
        spread=scaled.spread if scaled is not None else None,
        steps=scaled.steps if scaled is not None else None,
        overall=scaled.overall if scaled is not None else None,
    )


def _normal(quantiles: Sequence[float] | Array) -> Array:
    """Standard normal quantiles."""
    from statistics import NormalDist

    return np.array([NormalDist().inv_cdf(float(q)) for q in quantiles])


def _completed(common: Pooled, horizon: int, quantiles: Sequence[float]) -> Pooled:
    """``common`` with the parts its sample could not pool (no series of that kind) set to
    fixed values: ratio quantiles 1 (the point forecast), a flat step spread and standard
    normal quantiles; so that a row never depends on the partition it fell in."""
    normal = _normal(quantiles)
    return Pooled(
        ratio=common.ratio if common.ratio is not None else np.ones(len(quantiles)),
        spread=common.spread if common.spread is not None else np.ones(horizon),
        steps=common.steps if common.steps is not None else np.tile(normal, (horizon, 1)),
        overall=common.overall if common.overall is not None else normal,
    )
