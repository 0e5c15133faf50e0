"""The Theta method and its optimised and dynamic forms, vectorised over a panel.

Theta (Assimakopoulos & Nikolopoulos 2000) combines the linear trend of a series with
simple exponential smoothing of its "theta line"; Hyndman & Billah (2003) showed it equals
SES with a drift of half the trend's slope. Fiorucci, Pellegrini, Louzada, Petropoulos &
Koehler (2016, *IJF* 32(4), "Models for optimising the theta method and their relationship
to state space models") write it as a state space model with one-step forecast

    mu_t = l_{t-1} + (1 - 1/theta) [A_{t-1} (1-alpha)^{t-1} + B_{t-1} (1 - (1-alpha)^t) / alpha]
    l_t  = alpha y_t + (1 - alpha) l_{t-1}

with ``A, B`` the intercept and slope of the least-squares line through the history: fixed
at the whole sample's in the static models (STM: theta = 2; OTM: theta fitted), updated
every period in the dynamic ones (DSTM, DOTM). Per series the model with the least
in-sample one-step squared error is kept, as statsforecast's ``AutoTheta`` does; STM and
DSTM are nested in OTM and DOTM (theta = 2 is one of the thetas searched), so they are
only fitted when asked for without their optimised form.

Fitting. For a given ``alpha`` the level ``l_t`` is linear in ``l_0`` and ``mu_t`` is
linear in ``(l_0, c)`` with ``c = 1 - 1/theta``, so the least-squares ``l_0`` and ``c``
(``theta >= 1``, i.e. ``0 <= c < 1``) have a closed form from a few running sums; only
``alpha`` in ``[0.1, 0.99]`` (Fiorucci et al.'s bounds) is searched, on a grid shared by
all series then twice on a finer local grid per series. The first :data:`BURN_IN` errors
are left out of the fit as in Fiorucci et al.'s code. Time ``t`` counts periods since a
series' first observation; an unobserved period leaves the level unchanged (the line and
its drift go on).

Seasonality: a series the 90% autocorrelation test finds seasonal is divided by its
classical multiplicative seasonal indices before the fit and its forecasts multiplied back
(:mod:`scot_cli.forecast.seasonality`), both from the history before each origin only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from scot_cli.forecast import jit, seasonality

Array = NDArray[np.float64]

#: The four models ``theta`` chooses from (Fiorucci et al. 2016, section 3).
MODELS = ("STM", "OTM", "DSTM", "DOTM")
#: Bounds of the smoothing parameter (Fiorucci et al. 2016; statsforecast).
ALPHA_MIN, ALPHA_MAX = 0.1, 0.99
#: Largest theta (statsforecast's bound), i.e. ``c = 1 - 1/theta`` below 1.
THETA_MAX = 1e10
#: One-step errors left out of the fit at the start of each series.
BURN_IN = 3
#: Coarse alpha grid, denser where SES usually settles.
ALPHA_GRID = (0.1, 0.13, 0.17, 0.22, 0.28, 0.35, 0.43, 0.52, 0.62, 0.72, 0.82, 0.9, 0.95, 0.99)
#: Rounds of local refinement and points per round.
REFINE_ROUNDS, REFINE_POINTS = 2, 3
#: Fewest fitted errors before theta itself is fitted (else the STM value, theta = 2).
MIN_FREE = 3
#: Series per block: bounds the working memory whatever the catalogue size.
BLOCK = 4096

_STATIC = np.array([True, True, False, False])
_FREE = np.array([False, True, False, True])
_C_MAX = 1.0 - 1.0 / THETA_MAX


@dataclass(frozen=True)
class ThetaFit:
    """A Theta fit of ``n`` series at one origin (arrays of shape ``(n,)`` unless noted).

    Attributes
    ----------
    model
        Index into :data:`MODELS` (-1: too short to fit, the mean of the history is used).
    alpha, theta
        Smoothing parameter and theta coefficient.
    sigma2
        Variance of the one-step errors of the seasonally adjusted series: their sum of
        squares over the fitted errors less the fitted parameters (the spread of the
        history for series too short to fit).
    mean
        ``(n, H)`` point forecasts, seasonal indices applied.
    indices
        ``(n, season)`` seasonal indices by column phase (1 when not seasonal).
    variance
        ``(n, H)`` forecast error variance (:func:`theta_variance`).
    """

    model: NDArray[np.int64]
    alpha: Array
    theta: Array
    sigma2: Array
    mean: Array
    indices: Array
    variance: Array


def _launch(z: Array) -> NDArray[np.int64]:
    """Column of each series' first observation (``T`` when it has none)."""
    obs = ~np.isnan(z)
    out: NDArray[np.int64] = np.where(obs.any(axis=1), np.argmax(obs, axis=1), z.shape[1])
    return out


def _pass(z: Array, launch: NDArray[np.int64], alpha: Array) -> dict[str, Array]:
    """One run over time for every series and every candidate ``alpha`` (``(n, J)``).

    With ``r_t`` the one-step error of SES started at 0, ``p_t = (1-alpha)^k`` the weight
    of ``l_0`` in the level after ``k`` observations, and ``v_t = t - Q_{t-1}`` (``Q`` is
    SES of the time index started at 0, so ``v_t = (1 - (1-alpha)^t) / alpha`` without
    gaps), the one-step error is ``r - l_0 p - c (A p + B v)`` (static) or
    ``r - l_0 p - c g`` with ``g = A_{t-1} p + B_{t-1} v`` (dynamic). Returns the sums of
    products of ``r, p, v, g`` over the fitted periods, the end states ``L, P, Q`` and the
    line ``A, B`` through the whole history (``a_end, b_end``).
    Compiled (:mod:`scot_cli.forecast.theta_kernel`): the array form of this recursion
    spends most of its time in numpy's per-call overhead on a few hundred series.
    """
    theta_kernel = jit.kernels("theta")
    c = np.ascontiguousarray
    out = theta_kernel.sums(c(z), c(launch, dtype=np.int64), c(alpha, dtype=np.float64), BURN_IN)
    return {name: out[..., k] for k, name in enumerate(theta_kernel.NAMES)}


def _solve(
    s: dict[str, Array], a: Array, b: Array, static: bool, free: bool, count: Array
) -> tuple[Array, Array, Array]:
    """Least-squares ``l_0`` and ``c`` (free in ``[0, C_MAX]`` or 1/2) and the SSE."""
    if static:
        rw = a * s["rp"] + b * s["rv"]
        pw = a * s["pp"] + b * s["pv"]
        ww = a * a * s["pp"] + 2 * a * b * s["pv"] + b * b * s["vv"]
    else:
        rw, pw, ww = s["rg"], s["pg"], s["gg"]
    pp = s["pp"] + 1e-12 * (s["pp"] + ww) + 1e-300
    c = np.full(pp.shape, 0.5)
    if free:
        det = pp * ww - pw * pw
        ok = (det > 1e-10 * pp * ww) & (count >= MIN_FREE)
        c_ls = (pp * rw - pw * s["rp"]) / np.where(ok, det, 1.0)
        c = np.where(ok, np.clip(c_ls, 0.0, _C_MAX), 0.5)
    l0 = (s["rp"] - c * pw) / pp
    sse = s["rr"] - 2 * l0 * s["rp"] - 2 * c * rw + l0 * l0 * pp + 2 * l0 * c * pw + c * c * ww
    return l0, c, np.maximum(sse, 0.0)


def _take(x: Array, i: NDArray[np.intp]) -> Array:
    """``x[..., i]`` along the last axis, one index per leading position."""
    out: Array = np.take_along_axis(x, i[..., None], axis=-1)[..., 0]
    return out


def _solve_models(
    s: dict[str, Array], a: Array, b: Array, count: Array, models: Sequence[int], shared: bool
) -> tuple[Array, Array, Array]:
    """``l_0``, ``c`` and SSE ``(n, M, J)`` of the ``models`` (indices into :data:`MODELS`);
    ``shared``: the sums ``(n, J)`` serve all of them, else they are ``(n, M, J)`` and the
    ``i``-th model reads slice ``i``."""
    out = [
        _solve(
            s if shared else {k: x[:, i] for k, x in s.items()},
            a,
            b,
            bool(_STATIC[m]),
            bool(_FREE[m]),
            count,
        )
        for i, m in enumerate(models)
    ]
    l0, c, sse = (np.stack([o[i] for o in out], axis=1) for i in range(3))
    return l0, c, sse


def contenders(models: Sequence[str]) -> list[int]:
    """Indices into :data:`MODELS` of the ``models`` that can win on in-sample MSE: STM
    and DSTM (theta = 2) are nested in OTM and DOTM (theta >= 1 fitted, the same alpha
    bounds), so they are left out when their optimised form is allowed."""
    nested = {"STM": "OTM", "DSTM": "DOTM"}
    return [i for i, m in enumerate(MODELS) if m in models and nested.get(m) not in models]


def _search(
    z: Array, launch: NDArray[np.int64], count: Array, models: Sequence[int]
) -> tuple[Array, Array, Array, Array]:
    """Per series and model (``(n, M)``, ``models`` indices into :data:`MODELS`): best
    ``alpha``, ``l_0``, ``c`` and SSE.

    The grid :data:`ALPHA_GRID` first (one pass serves all models), then
    :data:`REFINE_ROUNDS` rounds of :data:`REFINE_POINTS` points around each model's best.
    """
    n = z.shape[0]
    cnt = count[:, None]
    grid = np.asarray(ALPHA_GRID)
    s = _pass(z, launch, np.broadcast_to(grid, (n, grid.size)))
    a_end, b_end = s["a_end"][:, :1], s["b_end"][:, :1]
    l0, c, sse = _solve_models(s, a_end, b_end, cnt, models, shared=True)
    best = np.argmin(sse, axis=2)
    alpha = grid[best]
    b_l0, b_c, b_sse = _take(l0, best), _take(c, best), _take(sse, best)
    lo = grid[np.maximum(best - 1, 0)]
    hi = grid[np.minimum(best + 1, grid.size - 1)]
    frac = np.arange(1, REFINE_POINTS + 1) / (REFINE_POINTS + 1)
    for _ in range(REFINE_ROUNDS):
        cand = lo[..., None] + (hi - lo)[..., None] * frac  # (n, M, k)
        s = _pass(z, launch, cand.reshape(n, -1))
        s = {k: x.reshape(cand.shape) for k, x in s.items()}
        l0, c, sse = _solve_models(s, a_end, b_end, cnt, models, shared=False)
        i = np.argmin(sse, axis=2)
        better = _take(sse, i) < b_sse
        alpha = np.where(better, _take(cand, i), alpha)
        b_l0 = np.where(better, _take(l0, i), b_l0)
        b_c = np.where(better, _take(c, i), b_c)
        b_sse = np.where(better, _take(sse, i), b_sse)
        step = (hi - lo) / (REFINE_POINTS + 1)
        lo, hi = np.maximum(alpha - step, ALPHA_MIN), np.minimum(alpha + step, ALPHA_MAX)
    return alpha, b_l0, b_c, b_sse


def _forecast(z: Array, alpha: Array, l0: Array, c: Array, horizon: int) -> Array:
    """``(n, H)`` Theta forecasts from the end of ``z`` for given parameters ``(n,)``:
    ``l_n + c [A_n (1-alpha)^n + B_n (h - 1 + (1 - (1-alpha)^{n+1}) / alpha)]``
    (Fiorucci et al. 2016, eq. for the forecast function; gaps handled as in :func:`_pass`).
    """
    launch = _launch(z)
    end = _pass(z, launch, alpha[:, None])
    a_end, b_end = end["a_end"][:, 0], end["b_end"][:, 0]
    level = end["level"][:, 0] + l0 * end["weight"][:, 0]
    v_next = z.shape[1] - launch + 1.0 - end["qsum"][:, 0]
    h = np.arange(horizon)[None, :]
    out: Array = level[:, None] + c[:, None] * (
        a_end[:, None] * end["weight"] + b_end[:, None] * (h + v_next[:, None])
    )
    return out


def theta_fixed(
    y: Array, *, horizon: int, alpha: Array | float, theta: Array | float, initial: Array | float
) -> Array:
    """``(n, H)`` forecasts of the static Theta model with given parameters, no seasonal
    adjustment: smoothing ``alpha``, coefficient ``theta`` (2 = the original method of
    Assimakopoulos & Nikolopoulos 2000) and initial level ``l_0`` (``initial``; the theta
    line's SES then starts at ``theta * l_0``)."""
    n = y.shape[0]
    par = [np.broadcast_to(np.asarray(p, dtype=np.float64), (n,)) for p in (alpha, theta, initial)]
    return _forecast(y, par[0], par[2], 1.0 - 1.0 / par[1], horizon)


def _fit_block(
    z: Array, horizon: int, models: Sequence[int]
) -> tuple[Array, Array, Array, Array, NDArray[np.int64]]:
    """Theta on a seasonally adjusted block ``z (n, T)``: forecasts ``(n, H)`` from its end,
    and per series the chosen model's alpha, theta, error variance (``sigma2``) and index."""
    n = z.shape[0]
    obs = ~np.isnan(z)
    count_all = obs.sum(axis=1)
    with np.errstate(invalid="ignore"):
        scale = np.where(obs, np.abs(z), 0.0).sum(axis=1) / np.maximum(count_all, 1)
    scale = np.where(scale > 0, scale, 1.0)
    zs = z / scale[:, None]
    fitted = np.maximum(count_all - BURN_IN, 0).astype(np.float64)
    alpha, l0, c, sse = _search(zs, _launch(zs), fitted, models)
    pick = np.argmin(sse, axis=1)  # the same fitted errors for every model
    rows = np.arange(n)
    al, cc = alpha[rows, pick], c[rows, pick]
    fc = _forecast(zs, al, l0[rows, pick], cc, horizon)
    choice = np.asarray(models)[pick]
    mean_obs = np.where(obs, zs, 0.0).sum(axis=1) / np.maximum(count_all, 1)
    short = fitted < 1
    fc = np.where(short[:, None], mean_obs[:, None], fc) * scale[:, None]
    model = np.where(short, -1, choice).astype(np.int64)
    theta_val = 1.0 / np.maximum(1.0 - cc, 1.0 / THETA_MAX)
    n_par = 2.0 + _FREE[choice]  # alpha and l_0, and theta where fitted
    sig2 = sse[rows, pick] / np.maximum(fitted - n_par, 1.0) * scale**2
    sig2 = np.where((fitted < MIN_FREE) | ~np.isfinite(sig2), _spread(z) ** 2, sig2)
    return fc, al, theta_val, sig2, model


def _spread(z: Array) -> Array:
    """Standard deviation of the observed values (0 with fewer than two)."""
    obs = ~np.isnan(z)
    cnt = obs.sum(axis=1)
    mean = np.where(obs, z, 0.0).sum(axis=1) / np.maximum(cnt, 1)
    var = np.where(obs, (z - mean[:, None]) ** 2, 0.0).sum(axis=1)
    out: Array = np.sqrt(var / np.maximum(cnt - 1, 1))
    return out


def fit(y: Array, *, horizon: int, season: int, models: Sequence[str] = MODELS) -> ThetaFit:
    """Theta fitted on the whole history ``y (n, T)``; forecasts for columns ``T..T+H-1``.

    ``models``: the subset of :data:`MODELS` to choose from (by in-sample MSE).
    """
    unknown = set(models) - set(MODELS)
    if unknown or not models:
        raise ValueError(f"models must be a non-empty subset of {MODELS}, got {list(models)}")
    keep = contenders(models)
    n, big_t = y.shape
    if big_t == 0:
        zero = np.zeros(n)
        return ThetaFit(
            model=np.full(n, -1),
            alpha=zero,
            theta=zero,
            sigma2=zero,
            mean=np.zeros((n, horizon)),
            indices=np.ones((n, max(season, 1))),
            variance=np.zeros((n, horizon)),
        )
    indices = seasonality.seasonal_indices(y, season) if season > 1 else np.ones((n, 1))
    z = seasonality.deseasonalise(y, indices)
    parts = [_fit_block(z[i : i + BLOCK], horizon, keep) for i in range(0, n, BLOCK)]
    fc, al, th, sig2, model = (np.concatenate([p[k] for p in parts]) for k in range(5))
    fc = np.nan_to_num(seasonality.reseasonalise(fc, indices, big_t), nan=0.0)
    var = sig2[:, None] * (1.0 + np.arange(horizon)[None, :] * al[:, None] ** 2)
    var = np.nan_to_num(seasonality.reseasonalise(var, indices**2, big_t), nan=0.0)
    return ThetaFit(
        model=model.astype(np.int64),
        alpha=al,
        theta=th,
        sigma2=sig2,
        mean=fc,
        indices=indices,
        variance=var,
    )


def theta(
    y: Array,
    *,
    horizon: int,
    season: int,
    cutoffs: Sequence[int],
    models: Sequence[str] = MODELS,
) -> Array:
    """Point forecasts ``(len(cutoffs), n, horizon)``; origin ``c`` sees ``y[:, :c]`` only.

    Per series the best of STM, OTM, DSTM and DOTM by in-sample mean squared error
    (Fiorucci et al. 2016; statsforecast ``AutoTheta``), after classical multiplicative
    seasonal adjustment where the 90% autocorrelation test says seasonal.
    """
    if y.shape[0] == 0:
        return np.zeros((len(cutoffs), 0, horizon))
    return np.stack(
        [fit(y[:, :c], horizon=horizon, season=season, models=models).mean for c in cutoffs]
    )


def theta_variance(y: Array, *, horizon: int, season: int) -> Array:
    """``(n, horizon)`` variance of the forecast errors at the end of ``y``.

    SES's ``sigma^2 (1 + (h - 1) alpha^2)`` (Hyndman et al. 2008, *Forecasting with
    Exponential Smoothing*, Table 6.1, ETS(A,N,N)); Theta is SES with a fixed drift
    (Hyndman & Billah 2003), which adds no variance. ``sigma^2`` is
    :attr:`ThetaFit.sigma2`; the variance is scaled by the square of each period's
    seasonal index.
    """
    return fit(y, horizon=horizon, season=season).variance
