"""ETS state-space exponential smoothing: the family fitted by likelihood, chosen by AICc.

Hyndman, Koehler, Ord & Snyder, *Forecasting with Exponential Smoothing: the State Space
Approach* (2008), "HKOS" below; Hyndman & Athanasopoulos, *FPP3*, ch. 8. Error A/M, trend
N/A/Ad, season N/A/M, the admissible set of R ``forecast::ets`` (no multiplicative trend, no
additive error with multiplicative season; multiplicative components only for strictly
positive series; seasonal models only with ``1 < season <= 24`` and two whole seasons of
history).

Fit: per series and model, maximum likelihood over the smoothing parameters (usual bounds:
``1e-4 < alpha < 1``, ``beta < alpha``, ``gamma < 1 - alpha``, ``0.8 <= phi <= 0.98``) and
all initial states: Nelder-Mead on the parameters and the initial level and slope,
alternating with Gauss-Newton steps on the initial level, slope and seasonal states,
started from the HKOS sec. 2.6.1 heuristic (classical decomposition, a line through the
first seasonally adjusted values), then each smoothing parameter tried at its bounds
(where optima often lie and a simplex in a bounded transform stalls). All series are
fitted at once by a compiled kernel (:mod:`scot_cli.forecast.ets_kernel`).

Backtests: :func:`ets` fits once on the history up to the first origin and once on the
whole history. Every backtest origin reuses the first fit (parameters and model choice,
which saw no period after the first origin) and runs its states forward to that origin, so
a backtest never uses the future and costs one extra fit, not one per origin.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from scot_cli.forecast import jit

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

ERRORS = ("A", "M")
TRENDS = ("N", "A", "Ad")
SEASONS = ("N", "A", "M")
#: The admissible models as ``error,trend,season`` codes (HKOS Table 2.1 less the unstable
#: additive-error/multiplicative-season and multiplicative-trend classes).
MODELS = (
    "A,N,N",
    "A,A,N",
    "A,Ad,N",
    "A,N,A",
    "A,A,A",
    "A,Ad,A",
    "M,N,N",
    "M,A,N",
    "M,Ad,N",
    "M,N,A",
    "M,A,A",
    "M,Ad,A",
    "M,N,M",
    "M,A,M",
    "M,Ad,M",
)
#: The damped-trend models (the ``ets_damped`` forecast) and the others.
DAMPED = tuple(c for c in MODELS if c.split(",")[1] == "Ad")
NOT_DAMPED = tuple(c for c in MODELS if c not in DAMPED)
#: The models without a trend, and those with an undamped (linear) one.
NO_TREND = tuple(c for c in MODELS if c.split(",")[1] == "N")
LINEAR = tuple(c for c in MODELS if c.split(",")[1] == "A")
#: Likelihood evaluations allowed per model and free parameter.
EVALS_PER_PARAM = 60
#: Rounds of (Gauss-Newton step on the initial states, short simplex) after the first.
ROUNDS = 1
#: Longest season with seasonal models (R ``forecast::ets``'s limit: ``m + 2`` initial
#: states per model stop being estimable from a few seasons beyond it).
MAX_SEASON = 24
#: Fewest observations for any model; shorter series get the last value.
MIN_OBS = 4


@dataclass(frozen=True)
class EtsFit:
    """Fitted ETS model of each of ``n`` series, with its states at period ``end``.

    Attributes
    ----------
    model
        ``(n,)`` chosen ``error,trend,season`` codes, e.g. ``"M,Ad,M"``. Series with too
        little data or a constant history carry ``"A,N,N"`` with ``alpha`` near 1 (their
        last value) and ``fallback`` set.
    error, trend, season
        ``(n,)`` integer codes: error 0 A, 1 M; trend 0 N, 1 A, 2 Ad; season 0 N, 1 A, 2 M.
    params
        ``(n, 4)`` ``alpha, beta, gamma, phi`` (``beta = gamma = 0`` and ``phi = 1`` where
        the component is absent).
    initial
        ``(n, 2)`` initial level and slope, before the first observation.
    initial_season
        ``(n, m)`` initial seasonal states by phase ``t % m``.
    level, slope
        ``(n,)`` states after period ``end - 1``.
    seasonal
        ``(n, m)`` seasonal states by phase: step ``h`` ahead uses ``(end + h - 1) % m``.
    sigma2
        ``(n,)`` innovation variance: ``SSE / (nobs - parameters)``, relative errors for
        multiplicative error.
    aicc
        ``(n,)`` AICc of the chosen model (``inf`` for the fallback).
    nobs
        ``(n,)`` observed periods the fit used.
    fallback
        ``(n,)`` True where no ETS model was fitted.
    m, end
        Season length and the number of periods of history the states have seen.
    """

    model: NDArray[np.str_]
    error: IntArray
    trend: IntArray
    season: IntArray
    params: Array
    initial: Array
    initial_season: Array
    level: Array
    slope: Array
    seasonal: Array
    sigma2: Array
    aicc: Array
    nobs: IntArray
    fallback: NDArray[np.bool_]
    m: int
    end: int


def _codes(models: Sequence[str]) -> IntArray:
    rows = []
    for name in models:
        if name not in MODELS:
            raise ValueError(f"unknown ETS model {name!r}: use one of {', '.join(MODELS)}")
        e, t, s = name.split(",")
        rows.append((ERRORS.index(e), TRENDS.index(t), SEASONS.index(s)))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 3)


def n_params(trend: IntArray, season: IntArray, m: int) -> IntArray:
    """Estimated parameters as counted by R ``forecast::ets``: alpha and the initial level,
    beta and the initial slope, phi, gamma and ``m - 1`` free initial seasonal states
    (the array form of :func:`scot_cli.forecast.ets_kernel.n_params`)."""
    out: IntArray = 2 + 2 * (trend > 0) + (trend == 2) + np.where(season > 0, m, 0)
    return out.astype(np.int64)


def _history(y: Array) -> tuple[IntArray, IntArray, NDArray[np.bool_], NDArray[np.bool_]]:
    """Per series: observed periods, span from the first observation, strictly positive,
    constant."""
    obs = ~np.isnan(y)
    nobs = obs.sum(axis=1)
    first = np.argmax(np.c_[obs, np.ones((y.shape[0], 1), dtype=bool)], axis=1)
    lo = np.where(obs, y, np.inf).min(axis=1, initial=np.inf)
    hi = np.where(obs, y, -np.inf).max(axis=1, initial=-np.inf)
    return nobs, y.shape[1] - first, lo > 0, (nobs > 0) & (lo == hi)


def _allowed(y: Array, m: int, codes: IntArray) -> tuple[NDArray[np.bool_], IntArray]:
    """``(n, K)`` which models each series may use, and the observed counts."""
    nobs, span, positive, constant = _history(y)
    err, trend, season = codes[:, 0], codes[:, 1], codes[:, 2]
    k = n_params(trend, season, m) + 1
    ok = nobs[:, None] >= np.maximum(k + 2, MIN_OBS)[None, :]
    ok &= ~constant[:, None]
    mult = (err == 1) | (season == 2)
    ok &= ~mult[None, :] | positive[:, None]
    seasonal_ok = (1 < m <= MAX_SEASON) & (span >= 2 * m)
    ok &= (season == 0)[None, :] | seasonal_ok[:, None]
    return ok, nobs


def _last(y: Array) -> Array:
    """Last observed value of each row (0 for a row with none)."""
    z = np.c_[np.zeros((y.shape[0], 1)), y]
    idx = np.where(~np.isnan(z), np.arange(z.shape[1]), 0).max(axis=1)
    out: Array = z[np.arange(z.shape[0]), idx]
    return out


def _first(y: Array) -> Array:
    """First observed value of each row (0 for a row with none)."""
    return _last(y[:, ::-1])


def _naive_sigma2(y: Array) -> Array:
    d = np.diff(y, axis=1)
    ok = ~np.isnan(d)
    with np.errstate(over="ignore", invalid="ignore"):
        out: Array = np.where(ok, d * d, 0.0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
    return out


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGTERM and SIGINT back while the compiled kernel runs, then deliver them.

    A Python signal handler that raised inside numba's dispatch of the parallel fit crashed
    the process (a segmentation fault, measured with SIGTERM 1.7-2.0 s into a forecast) or
    came back as a SystemError, leaving temporary files behind. Inside this block a signal
    is only recorded; on leaving it the previous handlers are restored and the first signal
    recorded is raised again, so the usual clean-up runs as soon as the kernel returns.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # handlers can only be set, and only run, in the main thread
        return
    got: list[int] = []
    held = (signal.SIGTERM, signal.SIGINT)
    previous = {s: signal.signal(s, lambda signum, _frame: got.append(signum)) for s in held}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if got:
            signal.raise_signal(got[0])


def ets_fit(
    y: Array,
    *,
    season: int,
    models: Sequence[str] | None = None,
    max_evals: int | None = None,
    rounds: int = ROUNDS,
) -> EtsFit:
    """Fit the ETS family to every row of ``y`` and keep each series' least-AICc model.

    Parameters
    ----------
    y
        ``(n, T)`` history, ``NaN`` = unobserved (skipped: states move by their forecast).
    season
        Season length ``m``; ``<= 1`` or above :data:`MAX_SEASON` allows non-seasonal
        models only, as does a history shorter than two seasons.
    models
        Candidate codes (default :data:`MODELS`), e.g. ``["A,A,N"]`` to force one model.
    max_evals
        Likelihood evaluations per model and free parameter (default
        :data:`EVALS_PER_PARAM`).
    rounds
        Gauss-Newton steps on the initial states, each followed by a short simplex.

    Returns
    -------
    EtsFit
        Model, parameters and states at the end of ``y``.
    """
    chosen = MODELS if models is None else models
    return ets_fits(y, season=season, families=[chosen], max_evals=max_evals, rounds=rounds)[0]


def ets_fits(
    y: Array,
    *,
    season: int,
    families: Sequence[Sequence[str]],
    max_evals: int | None = None,
    rounds: int = ROUNDS,
) -> list[EtsFit]:
    """:func:`ets_fit` of each of several disjoint families of models, in one pass over
    the series (each model is fitted once); e.g. ``[NOT_DAMPED, DAMPED]`` gives the best
    undamped and the best damped model of each series, and :func:`best_of` of the two is
    :func:`ets_fit` over all models."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    return ets_fits_at(
        y, [y.shape[1]], season=season, families=families, max_evals=max_evals, rounds=rounds
    )[0]


def ets_fits_at(
    y: Array,
    ends: Sequence[int],
    *,
    season: int,
    families: Sequence[Sequence[str]],
    max_evals: int | None = None,
    rounds: int = ROUNDS,
) -> list[list[EtsFit]]:
    """:func:`ets_fits` of ``y[:, :end]`` for each of ``ends`` (forecast origins), the
    same fits, all in one parallel pass of the compiled kernel."""
    kern = jit.kernels("ets")

    y = np.ascontiguousarray(y, dtype=np.float64)
    n = y.shape[0]
    m = max(int(season), 1)
    codes = _codes([c for fam in families for c in fam])
    if len({tuple(r) for r in codes.tolist()}) < codes.shape[0]:
        raise ValueError("ETS model families must not share a model")
    family = np.repeat(np.arange(len(families)), [len(f) for f in families]).astype(np.int64)
    checks = [_allowed(y[:, :end], m, codes) for end in ends]
    allowed = np.ascontiguousarray(np.concatenate([a for a, _ in checks]))
    series = np.tile(np.arange(n, dtype=np.int64), len(ends))
    last = np.repeat(np.asarray(ends, dtype=np.int64), n)
    evals = max_evals or EVALS_PER_PARAM
    with signals_deferred():  # a handler raising inside numba's dispatch crashed the process
        best, p, s0, aicc, sse = kern.fit_panel(
            y, series, last, m, codes, family, allowed, evals, rounds
        )
    out = []
    for k, end in enumerate(ends):
        at = slice(k * n, (k + 1) * n)
        upto = y[:, :end]
        nobs = checks[k][1]
        out.append(
            [
                advance(
                    _assemble(
                        upto,
                        m,
                        codes,
                        nobs,
                        best[at, f],
                        p[at, f],
                        s0[at, f],
                        aicc[at, f],
                        sse[at, f],
                    ),
                    upto,
                    end,
                )
                for f in range(len(families))
            ]
        )
    return out


def _assemble(
    y: Array,
    m: int,
    codes: IntArray,
    nobs: IntArray,
    best: IntArray,
    p: Array,
    s0: Array,
    aicc: Array,
    sse: Array,
) -> EtsFit:
    """An :class:`EtsFit` (states not yet run) from the kernel's best model rows."""
    from scot_cli.forecast import ets_kernel as kern

    fallback = best < 0
    chosen = np.where(fallback[:, None], 0, codes[np.maximum(best, 0)])
    p = np.where(fallback[:, None], np.array([kern.UPPER, 0.0, 0.0, 1.0, 0.0, 0.0])[None, :], p)
    p[:, 4] = np.where(fallback, _first(y), p[:, 4])
    s0 = np.where(fallback[:, None], 0.0, s0)
    dof = nobs - n_params(chosen[:, 1], chosen[:, 2], m)
    sig = np.where(fallback, _naive_sigma2(y), sse / np.maximum(dof, 1))
    names = np.asarray([",".join(v) for v in _names(chosen)], dtype=np.str_)
    return EtsFit(
        model=names,
        error=chosen[:, 0].astype(np.int64),
        trend=chosen[:, 1].astype(np.int64),
        season=chosen[:, 2].astype(np.int64),
        params=np.ascontiguousarray(p[:, :4]),
        initial=np.ascontiguousarray(p[:, 4:]),
        initial_season=np.ascontiguousarray(s0),
        level=p[:, 4].copy(),
        slope=p[:, 5].copy(),
        seasonal=s0.copy(),
        sigma2=np.where(np.isfinite(sig), sig, np.finfo(np.float64).max),
        aicc=aicc,
        nobs=nobs.astype(np.int64),
        fallback=fallback,
        m=m,
        end=0,
    )


def best_of(fits: Sequence[EtsFit]) -> EtsFit:
    """Per series, the fit of least AICc among ``fits`` (of the same series and origin;
    the first where none was fitted)."""
    aicc = np.stack([f.aicc for f in fits])
    pick = np.argmin(aicc, axis=0)
    rows = np.arange(pick.size)
    fields = {}
    for name in (
        "model",
        "error",
        "trend",
        "season",
        "params",
        "initial",
        "initial_season",
        "level",
        "slope",
        "seasonal",
        "sigma2",
        "aicc",
        "nobs",
        "fallback",
    ):
        stacked = np.stack([getattr(f, name) for f in fits])
        fields[name] = stacked[pick, rows]
    return replace(fits[0], **fields)


def _names(codes: IntArray) -> list[tuple[str, str, str]]:
    return [(ERRORS[e], TRENDS[t], SEASONS[s]) for e, t, s in codes.tolist()]


def advance(fit: EtsFit, y: Array, end: int) -> EtsFit:
    """The same models and parameters with their states run over ``y[:, :end]`` from the
    start. A series whose run leaves its model's domain (a multiplicative forecast at or
    below zero on data after the fit) falls back to its last value."""
    kern = jit.kernels("ets")

    y = np.ascontiguousarray(y, dtype=np.float64)
    par = np.ascontiguousarray(np.concatenate([fit.params, fit.initial], axis=1))
    states, seas, ok = kern.states_at(
        y, end, fit.m, fit.error, fit.trend, fit.season, par, fit.initial_season
    )
    bad = ~ok & ~fit.fallback
    last = _last(y[:, :end])
    if bad.any():
        states[bad] = np.stack([last[bad], np.zeros(bad.sum())], axis=1)
        seas[bad] = 0.0
    zero = np.zeros_like(fit.error)
    return replace(
        fit,
        level=np.where(fit.fallback, last, states[:, 0]),
        slope=np.where(bad | fit.fallback, 0.0, states[:, 1]),
        seasonal=seas,
        model=np.where(bad, "A,N,N", fit.model),
        error=np.where(bad, zero, fit.error),
        trend=np.where(bad, zero, fit.trend),
        season=np.where(bad, zero, fit.season),
        fallback=fit.fallback | bad,
        end=end,
    )


def _damp_sums(fit: EtsFit, horizon: int) -> Array:
    """``(n, H)`` slope multiplier of step ``h``: ``h`` (A), ``phi + ... + phi^h`` (Ad),
    0 (N)."""
    h = np.arange(1, horizon + 1)
    phi = fit.params[:, 3:4]
    damped = np.cumsum(phi ** h[None, :], axis=1)
    return np.where(
        fit.trend[:, None] == 2, damped, np.where(fit.trend[:, None] == 1, h[None, :], 0.0)
    )


def _season_ahead(fit: EtsFit, horizon: int) -> Array:
    phases = (fit.end + np.arange(horizon)) % fit.m
    return fit.seasonal[:, phases]


def point_forecast(fit: EtsFit, horizon: int) -> Array:
    """``(n, H)`` point forecasts ``(l + b_h b) + s`` or ``(l + b_h b) s`` (HKOS Table 2.2)."""
    trend = fit.level[:, None] + _damp_sums(fit, horizon) * fit.slope[:, None]
    s = _season_ahead(fit, horizon)
    kind = fit.season[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.where(kind == 2, trend * s, np.where(kind == 1, trend + s, trend))
    # only data near the float range overflows; the level is the honest fallback there
    level = np.where(np.isfinite(fit.level), fit.level, 0.0)[:, None]
    return np.where(np.isfinite(out), out, level)


def ets(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """Point forecasts ``(len(cutoffs), n, horizon)`` of each series' least-AICc ETS model.

    Fitted once on ``y[:, :min(cutoffs)]`` (used for every origin before the last) and once
    on ``y[:, :max(cutoffs)]``; see the module docstring.
    """
    return ets_forecast_fit(y, horizon=horizon, season=season, cutoffs=cutoffs)[0]


def ets_forecast_fit(
    y: Array, *, horizon: int, season: int, cutoffs: Sequence[int], rounds: int = ROUNDS
) -> tuple[Array, EtsFit]:
    """:func:`ets` and the fit at the last origin (for :func:`ets_variance`), in one pass;
    ``rounds`` as in :func:`ets_fit`."""
    return ets_forecast_fits(y, horizon=horizon, season=season, cutoffs=cutoffs, rounds=rounds)[
        "ets"
    ]


def ets_damped(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """Point forecasts ``(len(cutoffs), n, horizon)`` of each series' least-AICc
    damped-trend model (:data:`DAMPED`), fitted as :func:`ets` is.

    The damped trend (Gardner & McKenzie 1985, *Forecasting trends in time series*,
    Management Science 31(10)) is the member of the M competitions' benchmark combinations
    (Makridakis et al. 2020, IJF 36(1): SES, Holt and damped) that extrapolates a trend
    while flattening it, so it tempers both a level-only and a linear-trend forecast.
    """
    return ets_forecast_fits(y, horizon=horizon, season=season, cutoffs=cutoffs)["ets_damped"][0]


def ets_bounded(y: Array, *, horizon: int, season: int, cutoffs: Sequence[int]) -> Array:
    """Point forecasts ``(len(cutoffs), n, horizon)`` of each series' least-AICc model
    among those whose forecasts level off: no trend (:data:`NO_TREND`) or a damped one
    (:data:`DAMPED`), fitted as :func:`ets` is.

    An undamped trend extrapolates the last slope without end, and AICc on a few years of
    history picks one readily; over long horizons such forecasts are the ones most often far
    off (Gardner & McKenzie 1985; the damped trend beat the linear one in the M3
    competition, Makridakis & Hibon 2000, IJF 16(4); Hyndman et al. 2008, sec. 2.5.2). The
    ``ets_theta`` combination takes this member, leaving a straight-line drift to Theta.
    """
    return ets_forecast_fits(y, horizon=horizon, season=season, cutoffs=cutoffs)["ets_bounded"][0]


def ets_forecast_fits(
    y: Array, *, horizon: int, season: int, cutoffs: Sequence[int], rounds: int = ROUNDS
) -> dict[str, tuple[Array, EtsFit]]:
    """Forecasts ``(len(cutoffs), n, horizon)`` and the fit at the last origin of each
    series' least-AICc model over all of :data:`MODELS` (``"ets"``), over the damped-trend
    ones (``"ets_damped"``) and over the no-trend and damped-trend ones
    (``"ets_bounded"``), from one fit of every model per origin fitted."""
    y = np.ascontiguousarray(y, dtype=np.float64)
    cuts = sorted(set(cutoffs))
    fits: dict[int, dict[str, EtsFit]] = {}
    origins = list(dict.fromkeys([cuts[0], cuts[-1]]))
    fitted = ets_fits_at(
        y, origins, season=season, families=[NO_TREND, LINEAR, DAMPED], rounds=rounds
    )
    for c, (flat, linear, damped) in zip(origins, fitted, strict=True):
        bounded = best_of([flat, damped])
        fits[c] = {
            "ets": best_of([bounded, linear]),
            "ets_damped": damped,
            "ets_bounded": bounded,
        }
    out: dict[str, tuple[Array, EtsFit]] = {}
    for name in ("ets", "ets_damped", "ets_bounded"):
        fc = np.empty((len(cutoffs), y.shape[0], horizon))
        for i, c in enumerate(cutoffs):
            fit = fits[c][name] if c in fits else advance(fits[cuts[0]][name], y, c)
            fc[i] = point_forecast(fit, horizon)
        out[name] = (fc, fits[cuts[-1]][name])
    return out


def ets_variance(fit: EtsFit, horizon: int) -> Array:
    """``(n, H)`` forecast variance of each series' model ``h = 1..H`` steps ahead.

    Additive error (HKOS class 1): ``sigma2 (1 + sum_{j<h} c_j^2)``, ``c_j = alpha +
    beta b_j + gamma [j mod m = 0]`` (HKOS Table 6.1; eq. 6.5). Multiplicative error with
    no or additive season (class 2): ``(1 + sigma2) theta_h - mu_h^2`` with ``theta_h =
    mu_h^2 + sigma2 sum_{j<h} c_j^2 theta_{h-j}`` (HKOS sec. 6.3). Multiplicative error
    and season (class 3): the HKOS sec. 6.4 approximation (level-trend and seasonal states
    independent), by its Kronecker-product recursion.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        out = _variance(fit, horizon)
    # data near the float range overflows the recursions: an unbounded variance, not NaN
    return np.where(np.isfinite(out), np.maximum(out, 0.0), np.finfo(np.float64).max)


def _variance(fit: EtsFit, horizon: int) -> Array:
    mu = point_forecast(fit, horizon)
    h = np.arange(1, horizon + 1)
    p = fit.params
    c = (
        p[:, 0:1]
        + p[:, 1:2] * _damp_sums(fit, horizon)
        + p[:, 2:3] * (h[None, :] % fit.m == 0) * (fit.season[:, None] > 0)
    )
    s2 = fit.sigma2[:, None]
    c2 = c[:, :-1] ** 2
    class1 = s2 * (1 + np.concatenate([np.zeros((c.shape[0], 1)), np.cumsum(c2, 1)], axis=1))
    theta = np.empty_like(mu)
    theta[:, 0] = mu[:, 0] ** 2
    for j in range(1, horizon):  # over steps ahead, not series
        theta[:, j] = mu[:, j] ** 2 + s2[:, 0] * (c2[:, :j] * theta[:, j - 1 :: -1][:, :j]).sum(1)
    class2 = (1 + s2) * theta - mu**2
    out = np.where(fit.error[:, None] == 1, class2, class1)
    three = (fit.error == 1) & (fit.season == 2)
    if three.any():
        out[three] = _class3(fit, three, horizon)
    return out


def _kron(a: Array, b: Array) -> Array:
    n, i, j = a.shape
    _, k, q = b.shape
    out: Array = np.einsum("nij,nkl->nikjl", a, b).reshape(n, i * k, j * q)
    return out


def _class3(fit: EtsFit, rows: NDArray[np.bool_], horizon: int) -> Array:
    """Class 3 variance (HKOS sec. 6.4) for the selected rows, vectorised over series.

    States: ``x1 = (l, b)`` and the seasonal vector ``x2`` (most recent first);
    ``M_h = E[x1 x2']`` and ``V_h`` its vec's covariance follow the recursion of HKOS
    eq. 6.20-6.21 (as in R ``forecast:::class3``), with the damped trend entering
    through ``phi``.
    """
    m = fit.m
    n = int(rows.sum())
    a, b, g, phi = (fit.params[rows, i] for i in range(4))
    tr = fit.trend[rows]
    phi = np.where(tr == 0, 0.0, phi)
    b = np.where(tr == 0, 0.0, b)
    s2 = fit.sigma2[rows]
    f1 = np.zeros((n, 2, 2))
    f1[:, 0, 0] = 1.0
    f1[:, 0, 1] = phi
    f1[:, 1, 1] = phi
    g1 = np.zeros((n, 2, 2))
    g1[:, 0, 0], g1[:, 0, 1], g1[:, 1, 0], g1[:, 1, 1] = a, a * phi, b, b * phi
    h1 = np.stack([np.ones(n), phi], axis=1)
    f2 = np.zeros((n, m, m))
    f2[:, 0, m - 1] = 1.0
    f2[:, np.arange(1, m), np.arange(m - 1)] = 1.0
    g2 = np.zeros((n, m, m))
    g2[:, 0, m - 1] = g
    # seasonal states most recent first: phase (end - 1 - j) % m
    x2 = fit.seasonal[rows][:, (fit.end - 1 - np.arange(m)) % m]
    x1 = np.stack([fit.level[rows], np.where(tr == 0, 0.0, fit.slope[rows])], axis=1)
    mh = x1[:, :, None] * x2[:, None, :]
    vh = np.zeros((n, 2 * m, 2 * m))
    f21, g21 = _kron(f2, f1), _kron(g2, g1)
    kk = _kron(g2, f1) + _kron(f2, g1)
    h21 = np.zeros((n, 2 * m))
    h21[:, 2 * (m - 1)], h21[:, 2 * (m - 1) + 1] = 1.0, phi
    out = np.empty((n, horizon))
    tt = np.transpose
    for i in range(horizon):  # over steps ahead, not series
        mu = np.einsum("ni,nij,nj->n", h1, mh, np.eye(m)[m - 1][None, :].repeat(n, 0))
        out[:, i] = (1 + s2) * np.einsum("ni,nij,nj->n", h21, vh, h21) + s2 * mu**2
        vec = tt(mh, (0, 2, 1)).reshape(n, 2 * m)
        outer = vec[:, :, None] * vec[:, None, :]
        ss = s2[:, None, None]
        vh = f21 @ vh @ tt(f21, (0, 2, 1)) + ss * (
            f21 @ vh @ tt(g21, (0, 2, 1))
            + g21 @ vh @ tt(f21, (0, 2, 1))
            + kk @ (vh + outer) @ tt(kk, (0, 2, 1))
            + ss * (g21 @ (3 * vh + 2 * outer) @ tt(g21, (0, 2, 1)))
        )
        mh = f1 @ mh @ tt(f2, (0, 2, 1)) + ss * (g1 @ mh @ tt(g2, (0, 2, 1)))
    return out
