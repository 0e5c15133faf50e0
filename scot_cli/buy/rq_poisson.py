"""Optimal continuous-review (r,Q) for Poisson demand, many skus at once.

Integer levels, lead-time demand ``D ~ Poisson(mu)``, the inventory position uniform on
``r+1..r+Q`` (Snyder & Shen Section 5.5; Federgruen & Zheng 1992), and the stock-out cost
``p`` per unit short, as every policy of ``plan-buy`` reads ``stockout_cost``:

    g(r, Q) = K lam / Q + h / Q sum_{y=r+1}^{r+Q} E[(y - D)^+]
              + p lam / Q [n(r) - n(r + Q)],

with ``n(y) = E[(D - y)^+]``; ``lam / Q [n(r) - n(r + Q)]`` are the units short per period
(one minus the fill rate, times demand). Every ``(r, Q)`` of a grid around the optimum is
priced at once for a batch of skus: cumulative sums of ``E[(y - D)^+]`` over ``y`` make each
``Q`` one vector step. Skus whose grid would pass :data:`GRID_LIMIT` points use the normal
approximation of :func:`scot_cli.buy.policies.rq_unit_short`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .distributions import Array, Normal, Poisson
from .policies import rq_unit_short

#: Largest (r, Q) grid per sku priced exactly.
GRID_LIMIT = 200 * 200
#: Grid points built at once (memory).
CHUNK_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class RQ:
    """Reorder point, batch and the cost per period split into its parts; ``exact`` per row."""

    r: Array
    q: Array
    holding: Array
    shortage: Array
    ordering: Array
    exact: NDArray[np.bool_]


def _bounds(mu: Array, h: Array, p: Array, K: Array, lam: Array) -> tuple[Array, Array, Array]:
    """Per sku: largest batch, lowest and highest reorder point of the grid."""
    spread = np.sqrt(mu + 1)
    q_max = np.ceil(3 * np.sqrt(2 * lam * (K + p * spread) / h)) + 2
    r_lo = -q_max
    r_hi = np.ceil(mu + 8 * spread + 8)
    return q_max, r_lo, r_hi


def _exact(mu: Array, h: Array, p: Array, K: Array, lam: Array) -> RQ:
    q_max, r_lo, r_hi = _bounds(mu, h, p, K, lam)
    n_q = int(q_max.max())
    n_r = int((r_hi - r_lo).max()) + 1
    width = n_r + n_q + 1
    demand = Poisson(mu)
    # levels y = r_lo + j, j = 0..width-1
    loss = np.empty((mu.size, width))
    for j in range(width):
        loss[:, j] = demand.loss(r_lo + j)
    on_hand = (r_lo[:, None] + np.arange(width)[None, :]) - mu[:, None] + loss
    cum = np.concatenate([np.zeros((mu.size, 1)), np.cumsum(on_hand, axis=1)], axis=1)
    best = np.full(mu.size, np.inf)
    best_r = np.zeros(mu.size)
    best_q = np.ones(mu.size)
    r_idx = np.arange(n_r)
    for q in range(1, n_q + 1):
        # r = r_lo + i: sum_{y=r+1}^{r+Q} on_hand(y) = cum[i + 1 + Q] - cum[i + 1]
        hold = (cum[:, r_idx + 1 + q] - cum[:, r_idx + 1]) / q
        short = (loss[:, r_idx] - loss[:, r_idx + q]) * (lam / q)[:, None]
        cost = (K * lam / q)[:, None] + h[:, None] * hold + p[:, None] * short
        ok = (r_lo[:, None] + r_idx[None, :] <= r_hi[:, None]) & (q <= q_max)[:, None]
        cost = np.where(ok, cost, np.inf)
        i = np.argmin(cost, axis=1)
        value = cost[np.arange(mu.size), i]
        better = value < best - 1e-12
        best = np.where(better, value, best)
        best_r = np.where(better, r_lo + i, best_r)
        best_q = np.where(better, q, best_q)
    return _parts(demand, best_r, best_q, h, p, K, lam, np.ones(mu.size, dtype=bool))


def _parts(
    demand: Poisson,
    r: Array,
    q: Array,
    h: Array,
    p: Array,
    K: Array,
    lam: Array,
    exact: NDArray[np.bool_],
) -> RQ:
    """The cost parts of integer (r, Q) (a sum over the ``Q`` positions, one step each)."""
    held = np.zeros(r.size)
    for k in range(1, int(q.max(initial=1)) + 1):
        y = r + k
        # E[(y - D)^+] >= 0; y - mean + loss(y) can round below 0 where y is 0
        held += np.where(k <= q, np.maximum(y - demand.mean + demand.loss(y), 0.0), 0.0)
    short = (demand.loss(r) - demand.loss(r + q)) * lam / q
    return RQ(r, q, h * held / q, p * short, K * lam / q, exact)


def rq_poisson(mu: Array, h: Array, p: Array, K: Array, lam: Array) -> RQ:
    """Optimal integer (r, Q) per sku for Poisson lead-time demand of mean ``mu``.

    Parameters
    ----------
    mu
        Mean lead-time demand (``lam L``).
    h, p, K, lam
        Holding cost per unit per period, stock-out cost per unit short, fixed cost per
        order, demand per period.
    """
    n = mu.size
    nan = np.full(n, np.nan)
    out = RQ(nan.copy(), nan.copy(), nan.copy(), nan.copy(), nan.copy(), np.zeros(n, bool))
    q_max, r_lo, r_hi = _bounds(mu, h, p, K, lam)
    size = q_max * (r_hi - r_lo + 1)
    small = np.isfinite(size) & (size <= GRID_LIMIT) & (lam > 0)
    order = np.flatnonzero(small)[np.argsort(size[small], kind="stable")]
    start = 0
    while start < order.size:
        most = max(int(CHUNK_ELEMENTS // max(size[order[start]], 1.0)), 1)
        fits = np.arange(1, most + 1)[: order.size - start] * size[order[start : start + most]]
        stop = start + max(int(np.count_nonzero(fits <= CHUNK_ELEMENTS)), 1)
        idx = order[start:stop]
        _store(out, idx, _exact(mu[idx], h[idx], p[idx], K[idx], lam[idx]))
        start = stop
    idle = np.flatnonzero(lam <= 0)  # no demand: no batch, nothing short, nothing held
    zero = np.zeros(idle.size)
    _store(out, idle, RQ(zero, zero, zero, zero, zero, np.zeros(idle.size, dtype=bool)))
    rest = np.flatnonzero(~small & (lam > 0))
    if rest.size:
        normal = Normal(mu[rest], np.sqrt(mu[rest]))
        r, q = rq_unit_short(normal, h[rest], p[rest], K[rest], lam[rest])
        q = np.where(lam[rest] > 0, np.maximum(q, 1e-9), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            short = (normal.loss(r) - normal.loss(r + q)) * lam[rest] / q
            backorders = (normal.loss2(r) - normal.loss2(r + q)) / q
            ordering = K[rest] * lam[rest] / q
        held = h[rest] * np.maximum(r - mu[rest] + q / 2 + backorders, 0)
        part = RQ(r, q, held, p[rest] * short, ordering, np.zeros(rest.size, dtype=bool))
        _store(out, rest, part)
    return out


def _store(out: RQ, idx: NDArray[np.int64], part: RQ) -> None:
    for name in ("r", "q", "holding", "shortage", "ordering", "exact"):
        getattr(out, name)[idx] = getattr(part, name)
