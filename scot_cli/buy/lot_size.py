"""Wagner-Whitin lot sizing for many skus at once (``--policy lot_size``).

Known, time-varying demand ``d_1..d_T`` per sku (the forecast means, taken as certain), a
fixed cost ``K`` per order and a holding cost ``h`` per unit per period: the cheapest
uncapacitated plan orders only when stock runs out, each order covering periods ``s..t``
(Wagner & Whitin 1958; Snyder & Shen Section 3.7). The dynamic program

    F(t) = min_{s <= t} F(s - 1) + K [d_s + ... + d_t > 0] + h sum_{k=s}^{t} (k - s) d_k

is run for every sku at once: ``O(T^2)`` numpy operations over all skus, never a loop per
sku. The carrying term is ``h [(W_t - W_{s-1}) - s (D_t - D_{s-1})]`` with ``D`` and ``W``
the cumulative sums of ``d_k`` and ``k d_k``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .distributions import Array


@dataclass(frozen=True)
class LotPlan:
    """Order quantity per sku and period (``qty``, shape ``(n, T)``) and the plan's cost."""

    qty: Array
    cost: Array
    orders: Array


def wagner_whitin_batch(demand: Array, K: Array, h: Array) -> LotPlan:
    """Optimal lot sizes for each row of ``demand`` (shape ``(n, T)``, periods 1..T).

    Examples
    --------
    Snyder & Shen Example 3.9 (K = 500, h = 2; demand 90, 120, 80, 70) orders 210 in period 1
    and 150 in period 3 at a cost of 1,380 (see ``tests/unit/test_buy_lot_size.py``).
    """
    n, periods = demand.shape
    zeros = np.zeros((n, 1))
    cum = np.concatenate([zeros, np.cumsum(demand, axis=1)], axis=1)
    weighted = np.concatenate(
        [zeros, np.cumsum(demand * np.arange(1, periods + 1)[None, :], axis=1)], axis=1
    )
    best = np.zeros((n, periods + 1))
    arg = np.zeros((n, periods + 1), dtype=np.int64)
    for t in range(1, periods + 1):
        s = np.arange(1, t + 1)
        lot = cum[:, t : t + 1] - cum[:, s - 1]
        carry = (weighted[:, t : t + 1] - weighted[:, s - 1]) - s[None, :] * lot
        total = best[:, s - 1] + np.where(lot > 0, K[:, None], 0.0) + h[:, None] * carry
        pick = np.argmin(total, axis=1)
        best[:, t] = total[np.arange(n), pick]
        arg[:, t] = pick + 1
    qty = np.zeros((n, periods))
    rows = np.arange(n)
    end = np.full(n, periods, dtype=np.int64)
    live = end > 0
    while live.any():
        start = np.where(live, arg[rows, end], 1)
        amount = cum[rows, end] - cum[rows, start - 1]
        qty[rows[live], start[live] - 1] = amount[live]
        end = np.where(live, start - 1, 0)
        live = end > 0
    return LotPlan(qty=qty, cost=best[:, periods], orders=(qty > 0).sum(axis=1).astype(float))
