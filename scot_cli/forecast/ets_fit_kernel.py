"""Compiled likelihood fit of the ETS family over a panel of series.

A fit is a loop over series (``prange``: the series are independent, so the result does not
depend on the threads) of a loop over candidate models. Each model's likelihood is
minimised by Nelder-Mead over the smoothing parameters and the initial level and slope, in
an unconstrained space mapped onto the usual bounds (Hyndman et al. 2008, sec. 5.2),
alternating with Gauss-Newton steps on all initial states (level, slope, seasons).
Imported only from inside :mod:`scot_cli.forecast.ets` functions.
"""

from __future__ import annotations

import numba
import numpy as np

from scot_cli.forecast.ets_kernel import (
    BAD,
    first_obs,
    init_level,
    init_season,
    n_free,
    n_params,
    run,
    u_start,
    unpack,
)

#: Tolerance of the Nelder-Mead simplex spread in likelihood units.
FTOL = 1e-4


@numba.njit(cache=True)
def _objective(u, y, t0, c, m, err, trend, season, start, seas0, par, seas, state):  # type: ignore[no-untyped-def]
    a, b, g, ph, lv, sl = unpack(u, trend, season, start)
    par[0], par[1], par[2], par[3], par[4], par[5] = a, b, g, ph, lv, sl
    seas[:] = seas0
    return run(y, t0, c, m, err, trend, season, par, seas, state)[0]


@numba.njit(cache=True)
def nelder_mead(u0, y, t0, c, m, err, trend, season, start, seas0, max_eval, step):  # type: ignore[no-untyped-def]
    """Minimise the likelihood from ``u0`` (standard coefficients 1, 2, 0.5, 0.5; initial
    steps of ``step`` in the free space). Returns the best free vector and its value."""
    d = u0.size
    par = np.zeros(6)
    seas = np.empty(m)
    state = np.zeros(2)
    pts = np.empty((d + 1, d))
    val = np.empty(d + 1)
    for i in range(d + 1):
        pts[i] = u0
        if i > 0:
            pts[i, i - 1] += step
        val[i] = _objective(pts[i], y, t0, c, m, err, trend, season, start, seas0, par, seas, state)
    evals = d + 1
    cen = np.empty(d)
    while evals < max_eval:
        order = np.argsort(val)
        pts = pts[order]
        val = val[order]
        if val[d] - val[0] <= FTOL * (1.0 + abs(val[0])) and val[d] < BAD:
            break
        cen[:] = 0.0
        for i in range(d):
            cen += pts[i]
        cen /= d
        xr = cen + (cen - pts[d])
        fr = _objective(xr, y, t0, c, m, err, trend, season, start, seas0, par, seas, state)
        evals += 1
        if fr < val[0]:
            xe = cen + 2.0 * (cen - pts[d])
            fe = _objective(xe, y, t0, c, m, err, trend, season, start, seas0, par, seas, state)
            evals += 1
            if fe < fr:
                pts[d], val[d] = xe, fe
            else:
                pts[d], val[d] = xr, fr
        elif fr < val[d - 1]:
            pts[d], val[d] = xr, fr
        else:
            xc = cen + 0.5 * ((xr if fr < val[d] else pts[d]) - cen)
            fc = _objective(xc, y, t0, c, m, err, trend, season, start, seas0, par, seas, state)
            evals += 1
            if fc < min(fr, val[d]):
                pts[d], val[d] = xc, fc
            else:
                for i in range(1, d + 1):
                    pts[i] = pts[0] + 0.5 * (pts[i] - pts[0])
                    val[i] = _objective(
                        pts[i], y, t0, c, m, err, trend, season, start, seas0, par, seas, state
                    )
                evals += d
    best = np.argmin(val)
    return pts[best].copy(), val[best]


@numba.njit(cache=True)
def _solve_spd(a, b):  # type: ignore[no-untyped-def]
    """``a^-1 b`` for a symmetric positive definite ``a`` by Cholesky (NaN when ``a`` is not
    positive definite or not finite: the caller then keeps its states)."""
    k = b.size
    low = np.zeros((k, k))
    for j in range(k):
        d = a[j, j] - np.dot(low[j, :j], low[j, :j])
        if not d > 0:
            return np.full(k, np.nan)
        low[j, j] = np.sqrt(d)
        for i in range(j + 1, k):
            low[i, j] = (a[i, j] - np.dot(low[i, :j], low[j, :j])) / low[j, j]
    z = np.empty(k)
    for i in range(k):
        z[i] = (b[i] - np.dot(low[i, :i], z[:i])) / low[i, i]
    x = np.empty(k)
    for i in range(k - 1, -1, -1):
        acc = z[i]
        for j in range(i + 1, k):
            acc -= low[j, i] * x[j]
        x[i] = acc / low[i, i]
    return x


@numba.njit(cache=True)
def refine_states(y, t0, c, m, err, trend, season, par, seas0, lik0):  # type: ignore[no-untyped-def]
    """One Gauss-Newton step, with step halving, on the initial states ``(l0, b0, s0)``
    (``par[4:6]`` and ``seas0``, updated in place when the likelihood improves).

    The derivatives of every state with respect to the initial ones run forward with the
    recursion (a tangent pass), so all initial states are estimated by likelihood as in
    R ``forecast::ets``, at the cost of a few likelihood evaluations instead of an
    ``m + 6``-dimensional simplex. Returns the (possibly improved) value.
    """
    ib = 1 if trend > 0 else 0  # index of b0 among the free initial states
    i_s = 1 + ib  # index of the first seasonal one
    k = i_s + (m if season > 0 else 0)
    alpha, beta, gamma, phi = par[0], par[1], par[2], par[3]
    level, slope = par[4], par[5]
    seas = seas0.copy()
    dl = np.zeros(k)
    db = np.zeros(k)
    ds = np.zeros((m, k))
    dlt = np.zeros(k)
    dy = np.zeros(k)
    dq = np.zeros(k)
    dl[0] = 1.0
    if trend > 0:
        db[ib] = 1.0
    if season > 0:
        for j in range(m):
            ds[j, i_s + j] = 1.0
    hess = np.zeros((k, k))
    jte = np.zeros(k)
    glog = np.zeros(k)
    sse = 0.0
    nobs = 0
    p = t0 % m
    for t in range(t0, c):
        if trend > 0:
            lt = level + phi * slope
            for j in range(k):
                dlt[j] = dl[j] + phi * db[j]
        else:
            lt = level
            dlt[:] = dl
        yt = y[t]
        if np.isnan(yt):
            level = lt
            dl[:] = dlt
            slope = phi * slope
            for j in range(k):
                db[j] *= phi
            p = p + 1 if p + 1 < m else 0
            continue
        sp = seas[p] if season > 0 else 0.0
        if season == 2:
            if sp <= 1e-10 or lt <= 1e-10:
                return lik0
            yhat = lt * sp
            q = yt / sp
            for j in range(k):
                dy[j] = sp * dlt[j] + lt * ds[p, j]
                dq[j] = -yt / (sp * sp) * ds[p, j]
        elif season == 1:
            yhat = lt + sp
            q = yt - sp
            for j in range(k):
                dy[j] = dlt[j] + ds[p, j]
                dq[j] = -ds[p, j]
        else:
            yhat = lt
            q = yt
            dy[:] = dlt
            dq[:] = 0.0
        if err == 1:
            if yhat <= 1e-10:
                return lik0
            e = (yt - yhat) / yhat
            scale = -yt / (yhat * yhat)
            for j in range(k):
                glog[j] += dy[j] / yhat
        else:
            e = yt - yhat
            scale = -1.0
        sse += e * e
        nobs += 1
        for j in range(k):
            dj = scale * dy[j]
            jte[j] += e * dj
            for i in range(j + 1):
                hess[i, j] += scale * dy[i] * dj
        new_level = lt + alpha * (q - lt)
        if trend > 0:
            slope = phi * slope + (beta / alpha) * (new_level - lt)
        for j in range(k):
            dnew = dlt[j] + alpha * (dq[j] - dlt[j])
            if trend > 0:
                db[j] = phi * db[j] + (beta / alpha) * (dnew - dlt[j])
            if season == 1:
                ds[p, j] += gamma * (-dlt[j] - ds[p, j])
            elif season == 2:
                ds[p, j] += gamma * (-yt / (lt * lt) * dlt[j] - ds[p, j])
            dl[j] = dnew
        if season == 1:
            seas[p] = sp + gamma * (yt - lt - sp)
        elif season == 2:
            seas[p] = sp + gamma * (yt / lt - sp)
        level = new_level
        p = p + 1 if p + 1 < m else 0
    if nobs == 0 or sse <= 0:
        return lik0
    w = 2.0 * nobs / sse
    ridge = 0.0
    for j in range(k):
        ridge += hess[j, j]
    ridge = 1e-8 * w * ridge / k + 1e-300
    grad = w * jte + 2.0 * glog
    for j in range(k):
        for i in range(j):
            hess[j, i] = hess[i, j]
    hess *= w
    for j in range(k):
        hess[j, j] += ridge
    delta = _solve_spd(hess, -grad)
    if not np.isfinite(delta).all():
        return lik0
    trial = par.copy()
    seas_t = seas0.copy()
    work = np.empty(m)
    state = np.zeros(2)
    size = 1.0
    for _ in range(4):
        trial[4] = par[4] + size * delta[0]
        if trend > 0:
            trial[5] = par[5] + size * delta[ib]
        if season > 0:
            for j in range(m):
                seas_t[j] = seas0[j] + size * delta[i_s + j]
        work[:] = seas_t
        lik = run(y, t0, c, m, err, trend, season, trial, work, state)[0]
        if lik < lik0:
            par[4], par[5] = trial[4], trial[5]
            seas0[:] = seas_t
            return lik
        size *= 0.5
    return lik0


@numba.njit(cache=True)
def _gn(u, y, t0, c, m, err, trend, season, start, seas0, par, val):  # type: ignore[no-untyped-def]
    """:func:`refine_states` at the parameters ``u``; re-centres ``start`` on the new initial
    level and slope (their offsets in ``u`` become 0). Returns the new value."""
    a, b, g, ph, l0, b0 = unpack(u, trend, season, start)
    par[0], par[1], par[2], par[3], par[4], par[5] = a, b, g, ph, l0, b0
    new = refine_states(y, t0, c, m, err, trend, season, par, seas0, val)
    start[0], start[1] = par[4], par[5]
    u[n_free(trend, season) - (2 if trend > 0 else 1) :] = 0.0
    return new


@numba.njit(cache=True, parallel=True)
def fit_panel(y, c, m, models, allowed, max_eval, rounds):  # type: ignore[no-untyped-def]
    """Fit every allowed model (rows of ``models``: error, trend, season) of every series
    on ``y[:, :c]``.

    Per model: a Gauss-Newton step on the initial states at the starting parameters, a
    simplex of ``max_eval`` likelihood evaluations per free parameter, then up to
    ``rounds`` of (Gauss-Newton step, short simplex) while they improve, and a last
    Gauss-Newton step. Each series keeps its least-AICc model (``k`` = :func:`n_params`
    + 1 for the variance; ``nobs`` observations, ``nobs >= k + 2`` where allowed):
    ``AICc = lik + 2k + 2k(k + 1) / (nobs - k - 1)`` (Hyndman et al. 2008, sec. 7.1).

    Returns ``best (n,)`` model row (-1 where none fitted), ``par (n, 6)``, ``seas0 (n, m)``
    initial seasonal states, ``aicc (n,)`` and ``sse (n,)``.
    """
    n = y.shape[0]
    best_out = np.full(n, -1, dtype=np.int64)
    par_out = np.zeros((n, 6))
    seas_out = np.zeros((n, m))
    aicc_out = np.full(n, np.inf)
    sse_out = np.full(n, np.inf)
    for i in numba.prange(n):
        t0 = first_obs(y[i], c)
        if t0 >= c:
            continue
        x = y[i, t0:c]
        inits = np.zeros((3, m))  # initial seasonal states by season code: N, A, M
        inits[1] = init_season(x, t0, m, False)
        inits[2] = 1.0
        if x.size >= 2 * m and np.nanmin(x) > 0:
            inits[2] = init_season(x, t0, m, True)
        scale = step_scale(x)
        par = np.zeros(6)
        for k in range(models.shape[0]):
            if not allowed[i, k]:
                continue
            err, trend, season = models[k, 0], models[k, 1], models[k, 2]
            seas0 = inits[season].copy()
            lik, sse, nobs = fit_model(
                y[i], t0, c, m, err, trend, season, seas0, scale, max_eval, rounds, par
            )
            if not lik < BAD:
                continue
            npar = n_params(trend, season, m) + 1
            aicc = lik + 2.0 * npar + 2.0 * npar * (npar + 1) / (nobs - npar - 1)
            if aicc < aicc_out[i]:
                best_out[i] = k
                par_out[i] = par
                seas_out[i] = seas0
                aicc_out[i] = aicc
                sse_out[i] = sse
    return best_out, par_out, seas_out, aicc_out, sse_out


@numba.njit(cache=True)
def step_scale(x):  # type: ignore[no-untyped-def]
    """Mean absolute one-step change of the observed values (their last absolute value,
    at least 1, when they do not change): the unit of the level and slope moves."""
    total = 0.0
    cnt = 0
    prev = np.nan
    for v in x:
        if not np.isnan(v):
            if not np.isnan(prev):
                total += abs(v - prev)
                cnt += 1
            prev = v
    return total / cnt if cnt > 0 and total > 0 else max(abs(prev), 1.0)


@numba.njit(cache=True)
def fit_model(row, t0, c, m, err, trend, season, seas0, scale, max_eval, rounds, par):  # type: ignore[no-untyped-def]
    """Fit one model to one series (see :func:`fit_panel`); ``seas0`` (heuristic initial
    seasonal states in) and ``par`` receive the estimates. Returns ``(lik, sse, nobs)``."""
    x = row[t0:c]
    lv, sl = init_level(x, t0, m, trend, season, seas0)
    start = np.array([lv, sl, scale])
    seas = np.empty(m)
    state = np.zeros(2)
    u = u_start(trend, season)
    budget = max_eval * n_free(trend, season)
    val = _objective(u, row, t0, c, m, err, trend, season, start, seas0, par, seas, state)
    if val < BAD:
        val = _gn(u, row, t0, c, m, err, trend, season, start, seas0, par, val)
    u, val = nelder_mead(u, row, t0, c, m, err, trend, season, start, seas0, budget, 0.5)
    if not val < BAD:
        return BAD, BAD, 0
    for r in range(rounds + 1):
        new = _gn(u, row, t0, c, m, err, trend, season, start, seas0, par, val)
        if r == rounds or not new < val - FTOL * (1.0 + abs(val)):
            break
        u, val = nelder_mead(u, row, t0, c, m, err, trend, season, start, seas0, budget // 2, 0.2)
    a, b, g, ph, l0, b0 = unpack(u, trend, season, start)
    par[0], par[1], par[2], par[3], par[4], par[5] = a, b, g, ph, l0, b0
    seas[:] = seas0
    return run(row, t0, c, m, err, trend, season, par, seas, state)
