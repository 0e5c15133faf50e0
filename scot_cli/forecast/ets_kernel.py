"""Compiled kernels of the ETS family: the filter, heuristic initial states, state runs.

Imported only from inside :mod:`scot_cli.forecast.ets` functions, so that numba (and its
compile cache) is loaded by the first ETS fit, never by ``scot --help``. The likelihood fit
built on these is :mod:`scot_cli.forecast.ets_fit_kernel`.

Model codes: error 0 = A, 1 = M; trend 0 = N, 1 = A, 2 = Ad; season 0 = N, 1 = A, 2 = M.
"""

from __future__ import annotations

import numba
import numpy as np

#: Parameter bounds (Hyndman et al. 2008, sec. 5.2; R forecast::ets "usual" bounds).
LOWER = 1e-4
UPPER = 0.9999
PHI_LO = 0.8
PHI_HI = 0.98
#: Returned for a parameter set whose one-step forecasts leave the model's domain.
BAD = 1e300


@numba.njit(cache=True)
def _sig(u: float) -> float:
    return float(1.0 / (1.0 + np.exp(-u)))


@numba.njit(cache=True)
def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return float(np.log(p / (1 - p)))


@numba.njit(cache=True)
def unpack(u, trend, season, start):  # type: ignore[no-untyped-def]
    """Parameters ``(alpha, beta, gamma, phi, l0, b0)`` from the free vector ``u``.

    ``start`` holds the heuristic ``(l0, b0, scale)``; the level and slope move in units of
    the series' scale so one simplex fits series of any size.
    """
    k = 0
    alpha = LOWER + (UPPER - LOWER) * _sig(u[k])
    k += 1
    beta = 0.0
    phi = 1.0
    if trend > 0:
        beta = LOWER + (alpha - LOWER) * _sig(u[k])
        k += 1
    gamma = 0.0
    if season > 0:
        gamma = LOWER + max(1.0 - alpha - LOWER, 0.0) * _sig(u[k])
        k += 1
    if trend == 2:
        phi = PHI_LO + (PHI_HI - PHI_LO) * _sig(u[k])
        k += 1
    level = start[0] + start[2] * u[k]
    k += 1
    slope = 0.0
    if trend > 0:
        slope = start[1] + 0.1 * start[2] * u[k]
    return alpha, beta, gamma, phi, level, slope


@numba.njit(cache=True)
def n_params(trend, season, m):  # type: ignore[no-untyped-def]
    """Estimated parameters as counted by R ``forecast::ets``: alpha and the initial level,
    beta and the initial slope, phi, gamma and ``m - 1`` free initial seasonal states."""
    return 2 + (2 if trend > 0 else 0) + (1 if trend == 2 else 0) + (m if season > 0 else 0)


@numba.njit(cache=True)
def n_free(trend, season):  # type: ignore[no-untyped-def]
    """Number of free (optimised) parameters."""
    return 2 + (2 if trend > 0 else 0) + (1 if season > 0 else 0) + (1 if trend == 2 else 0)


@numba.njit(cache=True)
def u_start(trend, season):  # type: ignore[no-untyped-def]
    """Starting point: alpha 0.2, beta 0.1 alpha, gamma 0.05 (1 - alpha), phi 0.97 (near the
    starting values of R forecast::ets), heuristic initial states."""
    u = np.zeros(n_free(trend, season))
    k = 0
    u[k] = _logit((0.2 - LOWER) / (UPPER - LOWER))
    k += 1
    if trend > 0:
        u[k] = _logit(0.1)
        k += 1
    if season > 0:
        u[k] = _logit(0.05)
        k += 1
    if trend == 2:
        u[k] = _logit((0.97 - PHI_LO) / (PHI_HI - PHI_LO))
    return u


@numba.njit(cache=True)
def run(y, t0, c, m, err, trend, season, par, seas, state):  # type: ignore[no-untyped-def]
    """One pass of the model over ``y[t0:c]``; returns ``(lik, sse, nobs)``.

    ``par`` = ``(alpha, beta, gamma, phi, l0, b0)``; ``seas`` (length ``m``, indexed by the
    period's phase ``t % m``) is updated in place; ``state`` receives the final level and
    slope. ``lik`` is ``n log(sum e^2) + 2 sum log|yhat|`` (the last term for multiplicative
    error only), ``-2 log L`` up to a constant (Hyndman et al. 2008, eq. 5.3). Unobserved
    periods move the states by their forecast with no correction.
    """
    alpha, beta, gamma, phi, level, slope = par[0], par[1], par[2], par[3], par[4], par[5]
    sse = 0.0
    logf = 0.0
    prod = 1.0  # product of forecasts, logged in batches: a log per step costs a step
    nobs = 0
    p = t0 % m
    for t in range(t0, c):
        lt = level + phi * slope if trend > 0 else level
        sp = seas[p] if season > 0 else 0.0
        yt = y[t]
        if np.isnan(yt):
            level = lt
            slope = phi * slope
            p = p + 1 if p + 1 < m else 0
            continue
        if season == 2:
            if sp <= 1e-10 or lt <= 1e-10:
                return BAD, BAD, nobs
            yhat = lt * sp
            q = yt / sp
        else:
            yhat = lt + sp
            q = yt - sp
        if err == 1:
            if yhat <= 1e-10:
                return BAD, BAD, nobs
            e = (yt - yhat) / yhat
            prod *= yhat
            if prod > 1e150 or prod < 1e-150:
                logf += np.log(prod)
                prod = 1.0
        else:
            e = yt - yhat
        sse += e * e
        nobs += 1
        new_level = lt + alpha * (q - lt)
        if trend > 0:
            slope = phi * slope + (beta / alpha) * (new_level - level - phi * slope)
        if season == 1:
            seas[p] = sp + gamma * (yt - lt - sp)
        elif season == 2:
            seas[p] = sp + gamma * (yt / lt - sp)
        level = new_level
        p = p + 1 if p + 1 < m else 0
    logf += np.log(prod)
    state[0] = level
    state[1] = slope
    if nobs == 0:
        return BAD, BAD, nobs
    lik = nobs * np.log(max(sse, 1e-300)) + 2.0 * logf
    return lik, sse, nobs


@numba.njit(cache=True)
def _fill(x):  # type: ignore[no-untyped-def]
    """Forward- then backward-filled copy (heuristic initialisation only)."""
    out = x.copy()
    last = np.nan
    for i in range(out.size):
        if np.isnan(out[i]):
            out[i] = last
        else:
            last = out[i]
    last = np.nan
    for i in range(out.size - 1, -1, -1):
        if np.isnan(out[i]):
            out[i] = last
        else:
            last = out[i]
    return out


@numba.njit(cache=True)
def init_season(x, t0, m, mult):  # type: ignore[no-untyped-def]
    """Seasonal indices by phase from a classical decomposition of the whole seasons of the
    history: centred 2 x m moving average, detrended values averaged by phase and
    normalised to sum 0 (additive) or mean 1 (multiplicative). Hyndman et al. 2008,
    sec. 2.6.1 use the first few years; all of them (as statsforecast's ``initstate``)
    give a steadier start for seasonal states that are not re-optimised."""
    k = x.size // m
    w = k * m
    z = _fill(x[:w])
    h = m // 2
    tot = np.zeros(m)
    cnt = np.zeros(m)
    for i in range(h, w - h):
        if m % 2 == 0:
            ma = 0.5 * z[i - h] + 0.5 * z[i + h]
            for j in range(i - h + 1, i + h):
                ma += z[j]
        else:
            ma = 0.0
            for j in range(i - h, i + h + 1):
                ma += z[j]
        ma /= m
        if np.isnan(x[i]):
            continue
        p = (t0 + i) % m
        if mult:
            if ma <= 0:
                continue
            tot[p] += x[i] / ma
        else:
            tot[p] += x[i] - ma
        cnt[p] += 1
    s = np.empty(m)
    for p in range(m):
        s[p] = tot[p] / cnt[p] if cnt[p] > 0 else (1.0 if mult else 0.0)
    if mult:
        for p in range(m):
            s[p] = max(s[p], 1e-2)
        s /= s.mean()
    else:
        s -= s.mean()
    return s


@numba.njit(cache=True)
def init_level(x, t0, m, trend, season, seas):  # type: ignore[no-untyped-def]
    """Initial level and slope: least-squares line through the first ``max(10, 2m)``
    seasonally adjusted observations (intercept at the period before the first one);
    the plain mean when there is no trend. Hyndman et al. 2008, sec. 2.6.1."""
    maxn = min(max(10, 2 * m), x.size)
    sx = 0.0
    sy = 0.0
    sxx = 0.0
    sxy = 0.0
    n = 0
    for i in range(maxn):
        if np.isnan(x[i]):
            continue
        v = x[i]
        p = (t0 + i) % m
        if season == 1:
            v -= seas[p]
        elif season == 2:
            v /= seas[p]
        ti = i + 1.0
        sx += ti
        sy += v
        sxx += ti * ti
        sxy += ti * v
        n += 1
    if n == 0:
        return 0.0, 0.0
    if trend == 0 or n < 2:
        return sy / n, 0.0
    den = n * sxx - sx * sx
    slope = (n * sxy - sx * sy) / den if den > 0 else 0.0
    return (sy - slope * sx) / n, slope


@numba.njit(cache=True)
def first_obs(row, c):  # type: ignore[no-untyped-def]
    """Index of the first observed period before ``c`` (``c`` when there is none)."""
    t0 = 0
    while t0 < c and np.isnan(row[t0]):
        t0 += 1
    return t0


@numba.njit(cache=True)
def states_at(y, c, m, err, trend, season, par, seas0):  # type: ignore[no-untyped-def]
    """Final ``(level, slope)`` ``(n, 2)`` and seasonal states ``(n, m)`` after running each
    series' chosen model (codes ``err/trend/season (n,)``) over ``y[:, :c]``, and whether
    the run stayed in the model's domain ``(n,)``."""
    n = y.shape[0]
    lvl = np.zeros((n, 2))
    ok = np.zeros(n, dtype=np.bool_)
    seas = seas0.copy()
    for i in range(n):
        row = y[i]
        t0 = first_obs(row, c)
        state = np.zeros(2)
        state[0] = par[i, 4]
        state[1] = par[i, 5]
        if t0 < c:
            lik = run(row, t0, c, m, err[i], trend[i], season[i], par[i], seas[i], state)[0]
            ok[i] = lik < BAD
        lvl[i] = state
    return lvl, seas, ok
