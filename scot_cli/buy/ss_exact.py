"""Optimal periodic-review (s,S) policies for many SKUs at once.

Exact for integer demand (Zheng & Federgruen 1991; Snyder & Shen, *Fundamentals of Supply
Chain Theory*, 2nd ed., Section 4.6): the long-run cost per period of ordering up to ``S``
whenever the inventory position is at or below ``s`` is

    c(s, S) = (K + sum_{j=0}^{S-s-1} m(j) G(S - j)) / M(S - s),

with ``G(y) = h E[(y - D_P)^+] + p E[(D_P - y)^+]`` the one-period cost of the demand over
lead time plus review period, ``m`` the renewal function of the demand per review period
(``m(0) = 1 / (1 - p_0)``, ``m(j) = sum_{l=1}^{j} p_l m(j - l) / (1 - p_0)``) and
``M(k) = sum_{j<k} m(j)``. Zheng & Federgruen's bounds keep the search small: ``s + 1`` and
``S`` both lie in the window ``{y : G(y) <= min G + K}``. Instead of walking their search SKU
by SKU, every (s, S) pair of the window is priced at once for a batch of SKUs (cumulative
sums over ``j`` for every ``S``), which numpy does for a million SKUs in seconds when the
windows are narrow.

Demand per review period is made integer: Poisson as is, any other model by
``P(D = k) = F(k + 1/2) - F(k - 1/2)``; ``G`` uses the model's own loss function at integer
levels. Where the window is wider than :data:`EXACT_WIDTH` units (large means, or a large
``K / h``) the revised power approximation of Ehrhardt & Mosier (1984) sets the levels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .distributions import Array, Distribution, Normal, Poisson, QuantileShaped

#: Widest window of candidate levels (units) priced exactly; wider ones use the power
#: approximation.
EXACT_WIDTH = 200
#: Elements of the (sku, S, S - s) price array built at once (memory, not speed).
CHUNK_ELEMENTS = 1 << 22
#: Candidate (s, S) pairs from which the windows are priced compiled
#: (:mod:`scot_cli.buy.ss_kernel`; about 2 s of numpy, more than loading numba costs).
COMPILED_FROM = 1 << 24

Index = NDArray[np.int64]
#: Demand per review period and over the protection interval of some rows.
Dists = Callable[[Index], tuple[Distribution, Distribution]]


@dataclass(frozen=True)
class SSLevels:
    """Levels and cost per review period, split into its parts; ``exact`` per row."""

    s: Array
    S: Array
    cost: Array
    holding: Array
    shortage: Array
    ordering: Array
    exact: NDArray[np.bool_]


def one_period_cost(prot: Distribution, y: Array, h: Array, p: Array) -> tuple[Array, Array]:
    """``(h E[(y - D)^+], p E[(D - y)^+])`` for the protection-interval demand ``D``."""
    loss = prot.loss(y)
    return h * (y - prot.mean + loss), p * loss


def _g(prot: Distribution, y: Array, h: Array, p: Array) -> Array:
    hold, short = one_period_cost(prot, y, h, p)
    return hold + short


def _edge(
    prot: Distribution, start: Array, limit: Array, h: Array, p: Array, step_sign: int
) -> Array:
    """The farthest integer from ``start`` (in direction ``step_sign``) with ``G <= limit``:
    doubling steps to overshoot, then bisection (``G`` is convex).

    Each step prices only the rows still moving: a row's steps depend on its own values
    alone, so leaving the settled ones out changes no row's result (and most rows settle
    in a few steps while a few take many)."""
    take = _taker(prot)
    if take is None:
        return _edge_all(prot, start, limit, h, p, step_sign)
    inside = start.copy()
    step = np.ones_like(start)
    outside = start + step_sign * step
    live = np.arange(start.size)
    for _ in range(64):
        if live.size == 0:
            break
        ok = _g(take(live), outside[live], h[live], p[live]) <= limit[live]
        live = live[ok]
        inside[live] = outside[live]
        step[live] = step[live] * 2
        outside[live] = start[live] + step_sign * step[live]
    todo = np.flatnonzero(np.abs(outside - inside) > 1)
    while todo.size:
        mid = np.floor((inside[todo] + outside[todo]) / 2)
        ok = _g(take(todo), mid, h[todo], p[todo]) <= limit[todo]
        inside[todo[ok]] = mid[ok]
        outside[todo[~ok]] = mid[~ok]
        todo = todo[np.abs(outside[todo] - inside[todo]) > 1]
    return inside


def _taker(prot: Distribution) -> Callable[[Index], Distribution] | None:
    """``take(idx)``: the distribution of rows ``idx`` alone (None for a kind without one)."""
    if isinstance(prot, Poisson):
        return lambda idx: Poisson(prot.lam[idx])
    if isinstance(prot, Normal):
        return lambda idx: Normal(prot.mu[idx], prot.sigma[idx])
    if isinstance(prot, QuantileShaped):
        mean = prot.mean
        return lambda idx: QuantileShaped(prot.z, prot.x[idx], known_mean=mean[idx])
    return None


def _edge_all(
    prot: Distribution, start: Array, limit: Array, h: Array, p: Array, step_sign: int
) -> Array:
    """:func:`_edge`, every row priced at every step."""
    inside = start.copy()
    step = np.ones_like(start)
    outside = start + step_sign * step
    for _ in range(64):
        ok = _g(prot, outside, h, p) <= limit
        if not ok.any():
            break
        inside = np.where(ok, outside, inside)
        step = np.where(ok, step * 2, step)
        outside = np.where(ok, start + step_sign * step, outside)
    while True:
        gap = np.abs(outside - inside) > 1
        if not gap.any():
            return inside
        mid = np.where(gap, np.floor((inside + outside) / 2), inside)
        ok = _g(prot, mid, h, p) <= limit
        inside = np.where(gap & ok, mid, inside)
        outside = np.where(gap & ~ok, mid, outside)


def windows(prot: Distribution, h: Array, p: Array, K: Array) -> tuple[Array, Array, Array]:
    """``(a, y*, b)``: the integer minimiser of ``G`` and the integer window ``[a, b]``
    where ``G <= G(y*) + K`` (Zheng & Federgruen's bounds: ``a - 1 <= s < y* <= S <= b``)."""
    guess = np.floor(prot.ppf(p / (p + h)))
    up = _g(prot, guess + 1, h, p) < _g(prot, guess, h, p)
    y_star = np.where(up, guess + 1, guess)
    limit = _g(prot, y_star, h, p) + K
    return _edge(prot, y_star, limit, h, p, -1), y_star, _edge(prot, y_star, limit, h, p, 1)


def period_pmf(per: Distribution, size: int) -> Array:
    """``P(D = k)`` for ``k = 0..size-1`` per row, integer demand per review period."""
    if per.name == "poisson":
        # in logs: k log(mu) - mu - log(k!), exact and free of scipy.stats (slow to import)
        k = np.arange(size, dtype=np.float64)[None, :]
        log_fact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, size)))])[None, :]
        mu = np.maximum(per.mean, 1e-300)[:, None]
        return np.asarray(np.exp(k * np.log(mu) - mu - log_fact), dtype=np.float64)
    cdf = np.stack([per.cdf(np.full(per.mean.shape, k + 0.5)) for k in range(size)], axis=1)
    return np.diff(cdf, axis=1, prepend=0.0)


def renewal(pmf: Array, size: int) -> Array:
    """Zheng & Federgruen's ``m(j)``, ``j = 0..size-1``, per row of ``pmf``."""
    width = pmf.shape[1]
    rest = np.maximum(1 - pmf[:, 0], 1e-300)
    m = np.zeros((pmf.shape[0], size))
    m[:, 0] = 1 / rest
    for j in range(1, size):
        lags = min(j, width - 1)
        if lags:
            earlier = m[:, j - lags : j][:, ::-1]  # m(j - 1), ..., m(j - lags)
            m[:, j] = np.einsum("nl,nl->n", pmf[:, 1 : lags + 1], earlier) / rest
    return m


def exact_levels(
    per: Distribution,
    prot: Distribution,
    h: Array,
    p: Array,
    K: Array,
    *,
    compiled: bool = False,
    window: tuple[Array, Array, Array] | None = None,
) -> SSLevels:
    """Price every (s, S) of the rows' windows (one batch of similar widths); ``compiled``:
    by :func:`scot_cli.buy.ss_kernel.price_windows` (the same levels, bit for bit);
    ``window``: the rows' :func:`windows` when already found (each row's depends on its own
    values alone)."""
    a, y_star, b = windows(prot, h, p, K) if window is None else window
    lo = a - 1  # lowest s
    span = int((b - lo).max())  # largest S - s
    n_big = int((b - y_star).max()) + 1  # candidate S per row
    m = renewal(period_pmf(per, span + 1), span)
    big_m = np.cumsum(m, axis=1)  # M(k) for k = 1..span
    # G on a + i, i = 0..span - 1 (the levels S - j with s < S - j <= S)
    levels = a[:, None] + np.arange(span)[None, :]
    hold = np.empty_like(levels)
    short = np.empty_like(levels)
    for i in range(span):
        hold[:, i], short[:, i] = one_period_cost(prot, levels[:, i], h, p)
    g = hold + short
    if compiled:
        from .ss_kernel import price_windows

        best = np.empty(len(a), dtype=np.int64)
        best_cost = np.empty(len(a))
        price_windows(g, m, big_m, a, y_star, b, K.astype(np.float64), n_big, best, best_cost)
    else:
        best, best_cost = _price(g, m, big_m, a, y_star, b, K, n_big)
    t_best, j_best = np.divmod(best, span)
    big_s = y_star + t_best
    s = big_s - j_best - 1
    rows = np.arange(len(a))
    weights = m[:, :span] * (np.arange(span)[None, :] <= j_best[:, None])
    at = np.clip((y_star - a + t_best)[:, None] - np.arange(span)[None, :], 0, span - 1).astype(
        np.int64
    )
    scale = big_m[rows, j_best]
    # expected stock on hand is >= 0; its terms can round a hair below 0 at a zero level
    holding = np.maximum((weights * np.take_along_axis(hold, at, 1)).sum(1) / scale, 0.0)
    shortage = (weights * np.take_along_axis(short, at, 1)).sum(1) / scale
    return SSLevels(
        s=s,
        S=big_s,
        cost=best_cost,
        holding=holding,
        shortage=shortage,
        ordering=K / scale,
        exact=np.ones(len(a), dtype=bool),
    )


def _price(
    g: Array, m: Array, big_m: Array, a: Array, y_star: Array, b: Array, K: Array, n_big: int
) -> tuple[Index, Array]:
    """Flat index ``t * span + j`` (``S = y* + t``, ``S - s = j + 1``) of the cheapest
    (s, S) of every row's window and its cost, all candidates priced at once."""
    span = g.shape[1]
    lo = a - 1
    # S = y* + t; S - j = a + (y* - a + t - j)
    t = np.arange(n_big)[None, :, None]
    j = np.arange(span)[None, None, :]
    pos = (y_star - a)[:, None, None] + t - j
    valid_pos = (pos >= 0) & (pos < span)
    flat = np.clip(pos, 0, span - 1).astype(np.int64).reshape(len(a), -1)
    terms = np.where(valid_pos, np.take_along_axis(g, flat, 1).reshape(pos.shape), 0.0)
    num = K[:, None, None] + np.cumsum(terms * m[:, None, :], axis=2)
    cost = num / big_m[:, None, :]
    # S - s = j + 1: s = y* + t - j - 1 must lie in [lo, y* - 1], S in [y*, b]
    s_of = y_star[:, None, None] + t - j - 1
    ok = (s_of >= lo[:, None, None]) & (s_of <= (y_star - 1)[:, None, None])
    ok &= (y_star[:, None, None] + t) <= b[:, None, None]
    cost = np.where(ok, cost, np.inf).reshape(len(a), -1)
    best = np.argmin(cost, axis=1)
    return best, cost[np.arange(len(a)), best]


def power_approximation(
    per: Distribution,
    prot: Distribution,
    h: Array,
    p: Array,
    K: Array,
    *,
    newsvendor: Array | None = None,
) -> tuple[Array, Array]:
    """(s, S) by the revised power approximation (Ehrhardt & Mosier 1984).

    With ``mu``, ``sigma^2`` the demand per review period and ``mu_P``, ``sigma_P`` over the
    protection interval (lead time plus one review period):
    ``Q = 1.30 mu^0.494 (K/h)^0.506 (1 + sigma_P^2 / mu^2)^0.116``,
    ``z = sqrt(Q h / (sigma_P p))``, ``s = 0.973 mu_P + sigma_P (0.183 / z + 1.063 - 2.192 z)``;
    ``S = s + Q`` when ``Q / mu > 1.5``, else both are capped at the newsvendor level
    ``S0 = F_P^{-1}(p / (p + h))`` (``newsvendor``, when the caller has it already).
    """
    mu = np.maximum(per.mean, 1e-12)
    sd_p = np.maximum(prot.sd, 1e-12)
    q = 1.30 * mu**0.494 * (K / h) ** 0.506 * (1 + np.square(sd_p / mu)) ** 0.116
    z = np.sqrt(q * h / (sd_p * p))
    s = 0.973 * prot.mean + sd_p * (0.183 / z + 1.063 - 2.192 * z)
    s0 = prot.ppf(p / (p + h)) if newsvendor is None else newsvendor
    wide = q / mu > 1.5
    return np.where(wide, s, np.minimum(s, s0)), np.where(wide, s + q, np.minimum(s + q, s0))


def _power(per: Distribution, prot: Distribution, h: Array, p: Array, K: Array) -> SSLevels:
    # no fixed cost: no batch, the base-stock (newsvendor) level
    with np.errstate(divide="ignore", invalid="ignore"):
        s0 = prot.ppf(p / (p + h))
        s, big_s = power_approximation(per, prot, h, p, K, newsvendor=s0)
    s, big_s = np.where(K > 0, s, s0), np.where(K > 0, big_s, s0)
    idle = per.mean <= 0  # no demand: hold nothing, order nothing
    s, big_s = np.where(idle, 0.0, s), np.where(idle, 0.0, big_s)
    nan = np.full(s.shape, np.nan)
    return SSLevels(s, big_s, nan, nan, nan, nan, np.zeros(s.shape, dtype=bool))


def ss_levels(
    dists: Dists,
    n: int,
    h: Array,
    p: Array,
    K: Array,
    *,
    max_width: int = EXACT_WIDTH,
    window: tuple[Array, Array, Array] | None = None,
) -> SSLevels:
    """Optimal (s, S) per row: exact where the window is at most ``max_width`` units
    wide, the power approximation elsewhere (``exact`` says which; ``max_width=0``: the
    power approximation everywhere).

    Parameters
    ----------
    dists
        ``dists(idx)`` gives the demand per review period and over the protection interval
        of rows ``idx``.
    n
        Number of rows.
    h, p, K
        Holding cost per unit per review period, stock-out cost per unit short, fixed cost
        per order (one entry per row).
    window
        The rows' :func:`windows` ``(a, y*, b)`` when the caller found them already.
    """
    out = {name: np.full(n, np.nan) for name in ("s", "S", "cost", "holding", "shortage")}
    out["ordering"] = np.full(n, np.nan)
    exact = np.zeros(n, dtype=bool)
    everything = np.arange(n, dtype=np.int64)
    per, prot = dists(everything)
    if max_width > 0:
        a, y_star, b = windows(prot, h, p, K) if window is None else window
        width = b - a + 2
        narrow = np.isfinite(width) & (width <= max_width) & (per.mean > 0)
    else:
        width, narrow = np.zeros(n), np.zeros(n, dtype=bool)
    # batches of similar width (sorted): each pays for its own widest window only
    order = everything[narrow][np.argsort(width[narrow], kind="stable")]
    cost = np.square(width[order])
    compiled = float(cost.sum()) >= COMPILED_FROM
    start = 0
    while start < order.size:
        most = max(int(CHUNK_ELEMENTS // cost[start]), 1)
        fits = np.arange(1, most + 1)[: order.size - start] * cost[start : start + most]
        stop = start + max(int(np.count_nonzero(fits <= CHUNK_ELEMENTS)), 1)
        idx = order[start:stop]
        found = (a[idx], y_star[idx], b[idx])
        lv = exact_levels(*dists(idx), h[idx], p[idx], K[idx], compiled=compiled, window=found)
        _store(out, exact, idx, lv)
        start = stop
    rest = everything[~narrow]
    if rest.size:
        # every row (as always with max_width 0): the demand models found above
        per_rest, prot_rest = (per, prot) if rest.size == n else dists(rest)
        _store(out, exact, rest, _power(per_rest, prot_rest, h[rest], p[rest], K[rest]))
    return SSLevels(exact=exact, **out)


def _store(out: dict[str, Array], exact: NDArray[np.bool_], idx: Index, lv: SSLevels) -> None:
    for name, values in out.items():
        values[idx] = getattr(lv, name)
    exact[idx] = lv.exact
