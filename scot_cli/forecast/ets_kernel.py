"""Compiled kernels of the ETS family: filter, heuristic initial states, likelihood fit.

Imported only from inside :mod:`scot_cli.forecast.ets` functions, so that numba (and its
compile cache) is loaded by the first ETS fit, never by ``scot --help``. A fit is a loop
over series (``prange``: the series are independent, so the result does not depend on the
threads) of a loop over candidate models. Each model's likelihood is minimised by
Nelder-Mead over the smoothing parameters and the initial level and slope, in an
unconstrained space mapped onto the usual bounds (Hyndman et al. 2008, sec. 5.2),
alternating with Gauss-Newton steps on all initial states (level, slope, seasons).

One module on purpose: numba's on-disk cache is invalidated by a change of the file that
holds a compiled function, not of the files it calls into, so a fit split from the filter
it inlines would keep running a stale filter after an edit.

Model codes: error 0 = A, 1 = M; trend 0 = N, 1 = A, 2 = Ad; season 0 = N, 1 = A, 2 = M.
"""

from __future__ import annotations

import numpy as np

from scot_cli.forecast import jit

jit.load()  # before numba is imported: see jit.import_numba

import numba  # noqa: E402

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


#: Tolerance of the Nelder-Mead simplex spread in likelihood units.
FTOL = 1e-4


@numba.njit(cache=True)
def _objective(u, y, t0, c, m, err, trend, season, start, seas0, par, seas, state):  # type: ignore[no-untyped-def]
    a, b, g, ph, lv, sl = unpack(u, trend, season, start)
    par[0], par[1], par[2], par[3], par[4], par[5] = a, b, g, ph, lv, sl
    seas[:] = seas0
    return run(y, t0, c, m, err, trend, season, par, seas, state)[0]


@numba.njit(cache=True)
def _lt(a, b):  # type: ignore[no-untyped-def]
    """numba's order of floats in ``np.argsort`` (NaN last)."""
    return a < b or (np.isnan(b) and not np.isnan(a))


@numba.njit(cache=True)
def _sort_simplex(pts, val, row):  # type: ignore[no-untyped-def]
    """Sort the simplex by value in place, as ``order = np.argsort(val); pts = pts[order]``
    does (numba sorts fewer than 16 items by this same insertion sort, so ties keep the same
    order), without allocating: the simplex loop runs thousands of times per model."""
    d = val.size - 1
    for i in range(1, d + 1):
        v = val[i]
        row[:] = pts[i]
        j = i
        while j > 0 and _lt(v, val[j - 1]):
            val[j] = val[j - 1]
            pts[j] = pts[j - 1]
            j -= 1
        val[j] = v
        pts[j] = row


@numba.njit(cache=True)
def nelder_mead(u0, y, t0, c, m, err, trend, season, start, seas0, max_eval, step):  # type: ignore[no-untyped-def]
    """Minimise the likelihood from ``u0`` (standard coefficients 1, 2, 0.5, 0.5; initial
    steps of ``step`` in the free space). Returns the best free vector and its value.

    Trial points are written into buffers allocated once (each element computed by the
    same operations as the array expressions they replace, so the result is the same)."""
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
    xr = np.empty(d)
    xe = np.empty(d)
    xc = np.empty(d)
    row = np.empty(d)
    while evals < max_eval:
        _sort_simplex(pts, val, row)
        if val[d] - val[0] <= FTOL * (1.0 + abs(val[0])) and val[d] < BAD:
            break
        cen[:] = 0.0
        for i in range(d):
            for j in range(d):
                cen[j] += pts[i, j]
        for j in range(d):
            cen[j] /= d
            xr[j] = cen[j] + (cen[j] - pts[d, j])
        fr = _objective(xr, y, t0, c, m, err, trend, season, start, seas0, par, seas, state)
        evals += 1
        if fr < val[0]:
            for j in range(d):
                xe[j] = cen[j] + 2.0 * (cen[j] - pts[d, j])
            fe = _objective(xe, y, t0, c, m, err, trend, season, start, seas0, par, seas, state)
            evals += 1
            if fe < fr:
                pts[d], val[d] = xe, fe
            else:
                pts[d], val[d] = xr, fr
        elif fr < val[d - 1]:
            pts[d], val[d] = xr, fr
        else:
            if fr < val[d]:
                for j in range(d):
                    xc[j] = cen[j] + 0.5 * (xr[j] - cen[j])
            else:
                for j in range(d):
                    xc[j] = cen[j] + 0.5 * (pts[d, j] - cen[j])
            fc = _objective(xc, y, t0, c, m, err, trend, season, start, seas0, par, seas, state)
            evals += 1
            if fc < min(fr, val[d]):
                pts[d], val[d] = xc, fc
            else:
                for i in range(1, d + 1):
                    for j in range(d):
                        pts[i, j] = pts[0, j] + 0.5 * (pts[i, j] - pts[0, j])
                    val[i] = _objective(
                        pts[i], y, t0, c, m, err, trend, season, start, seas0, par, seas, state
                    )
                evals += d
    best = np.argmin(val)
    return pts[best].copy(), val[best]


@numba.njit(cache=True)
def _dot(a, b, k):  # type: ignore[no-untyped-def]
    """``a[:k] . b[:k]`` by a plain loop (a BLAS call would load SciPy's BLAS, see
    :mod:`scot_cli.forecast.jit`, for vectors of a few elements)."""
    acc = 0.0
    for i in range(k):
        acc += a[i] * b[i]
    return acc


@numba.njit(cache=True)
def _solve_spd(a, b):  # type: ignore[no-untyped-def]
    """``a^-1 b`` for a symmetric positive definite ``a`` by Cholesky (NaN when ``a`` is not
    positive definite or not finite: the caller then keeps its states)."""
    k = b.size
    low = np.zeros((k, k))
    for j in range(k):
        d = a[j, j] - _dot(low[j], low[j], j)
        if not d > 0:
            return np.full(k, np.nan)
        low[j, j] = np.sqrt(d)
        for i in range(j + 1, k):
            low[i, j] = (a[i, j] - _dot(low[i], low[j], j)) / low[j, j]
    z = np.empty(k)
    for i in range(k):
        z[i] = (b[i] - _dot(low[i], z, i)) / low[i, i]
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
def fit_panel(y, series, ends, m, models, family, allowed, max_eval, rounds):  # type: ignore[no-untyped-def]
    """Fit every allowed model (rows of ``models``: error, trend, season) of each task
    ``i`` (a series at an origin) on ``y[series[i], :ends[i]]``, keeping each task's best
    model of each family. (Values from a task's end on are not read: one series at
    several origins shares one parallel loop, which balances the cores better than a loop
    per origin.)

    Per model: a Gauss-Newton step on the initial states at the starting parameters, a
    simplex of ``max_eval`` likelihood evaluations per free parameter, then up to
    ``rounds`` of (Gauss-Newton step, short simplex) while they improve, and a last
    Gauss-Newton step. Each series keeps its least-AICc model of each family (``family``:
    ``(K,)`` the family ``0..F-1`` of each model row; ``k`` = :func:`n_params` + 1 for the
    variance; ``nobs`` observations, ``nobs >= k + 2`` where allowed):
    ``AICc = lik + 2k + 2k(k + 1) / (nobs - k - 1)`` (Hyndman et al. 2008, sec. 7.1).

    Returns, per task and family, ``best (n, F)`` model row (-1 where none fitted),
    ``par (n, F, 6)``, ``seas0 (n, F, m)`` initial seasonal states, ``aicc (n, F)`` and
    ``sse (n, F)``.
    """
    n = series.size
    nf = np.max(family) + 1 if family.size else 1
    best_out = np.full((n, nf), -1, dtype=np.int64)
    par_out = np.zeros((n, nf, 6))
    seas_out = np.zeros((n, nf, m))
    aicc_out = np.full((n, nf), np.inf)
    sse_out = np.full((n, nf), np.inf)
    for i in numba.prange(n):
        c = ends[i]
        row = y[series[i]]
        t0 = first_obs(row, c)
        if t0 >= c:
            continue
        x = row[t0:c]
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
                row, t0, c, m, err, trend, season, seas0, scale, max_eval, rounds, par
            )
            if not lik < BAD:
                continue
            npar = n_params(trend, season, m) + 1
            aicc = lik + 2.0 * npar + 2.0 * npar * (npar + 1) / (nobs - npar - 1)
            f = family[k]
            if aicc < aicc_out[i, f]:
                best_out[i, f] = k
                par_out[i, f] = par
                seas_out[i, f] = seas0
                aicc_out[i, f] = aicc
                sse_out[i, f] = sse
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
    val = snap_to_bounds(u, row, t0, c, m, err, trend, season, start, seas0, par, val)
    a, b, g, ph, l0, b0 = unpack(u, trend, season, start)
    par[0], par[1], par[2], par[3], par[4], par[5] = a, b, g, ph, l0, b0
    seas[:] = seas0
    return run(row, t0, c, m, err, trend, season, par, seas, state)


@numba.njit(cache=True)
def snap_to_bounds(u, y, t0, c, m, err, trend, season, start, seas0, par, val):  # type: ignore[no-untyped-def]
    """Try each smoothing parameter at its lower and upper bound, keeping what lowers the
    likelihood (``u`` is updated in place; returns the value). The bounded transform
    reaches a bound only at infinity, where a simplex stalls, yet optima on the bounds are
    common (e.g. ``beta`` at its floor, ``alpha`` near 1)."""
    seas = np.empty(m)
    state = np.zeros(2)
    for k in range(n_free(trend, season) - (2 if trend > 0 else 1)):
        keep = u[k]
        for edge in (-40.0, 40.0):
            u[k] = edge
            new = _objective(u, y, t0, c, m, err, trend, season, start, seas0, par, seas, state)
            if new < val:
                val, keep = new, edge
        u[k] = keep
    return val
