"""Textbook lot-sizing and single-item stochastic models, as plain functions.

These are the building blocks the vectorised planner relies on, exposed for analysts and
checked against the worked examples of Snyder & Shen, *Fundamentals of Supply Chain Theory*
(2nd ed., Wiley 2019; "S&S" below). Symbols: ``K`` fixed cost per order, ``h`` holding cost
per unit per period, ``p`` stock-out cost per unit, ``lam`` demand per period, ``i`` annual
holding-cost rate (fraction of the unit cost).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .distributions import Array


@dataclass(frozen=True)
class LotSize:
    """An order quantity, the price region it falls in and its cost per period."""

    quantity: float
    cost: float
    region: int = 0
    stockout_fraction: float = 0.0


def eoq(K: float, h: float, lam: float) -> LotSize:
    """Economic order quantity ``Q* = sqrt(2 K lam / h)``, cost ``sqrt(2 K lam h)`` (S&S 3.2)."""
    q = math.sqrt(2 * K * lam / h)
    return LotSize(q, q * h)


def eoq_backorders(K: float, h: float, p: float, lam: float) -> LotSize:
    """EOQ with planned backorders (S&S 3.5).

    ``Q* = sqrt(2 K lam (h + p) / (h p))``, stock-out fraction ``x* = h / (h + p)`` and cost
    ``sqrt(2 K lam h p / (h + p))``.
    """
    q = math.sqrt(2 * K * lam * (h + p) / (h * p))
    return LotSize(q, math.sqrt(2 * K * lam * h * p / (h + p)), 0, h / (h + p))


def _discount_check(breakpoints: Sequence[float], unit_costs: Sequence[float]) -> None:
    if len(breakpoints) != len(unit_costs) or not breakpoints or breakpoints[0] != 0:
        raise ValueError("breakpoints must start at 0 and match unit_costs one to one")
    if any(b >= a for a, b in zip(breakpoints[1:], breakpoints, strict=False)) or any(
        c <= 0 for c in unit_costs
    ):
        raise ValueError("breakpoints must increase and unit costs be positive")


def eoq_all_units_discount(
    K: float, i: float, lam: float, breakpoints: Sequence[float], unit_costs: Sequence[float]
) -> LotSize:
    """EOQ with all-units quantity discounts (S&S 3.6.2): the whole order gets the price of
    its region. For each region take the EOQ at that region's holding cost ``i c_j``, clipped
    into the region; the cheapest candidate (purchase cost included) wins.
    """
    _discount_check(breakpoints, unit_costs)
    best = LotSize(math.inf, math.inf)
    for j, c in enumerate(unit_costs):
        hi = breakpoints[j + 1] if j + 1 < len(breakpoints) else math.inf
        q = min(max(math.sqrt(2 * K * lam / (i * c)), breakpoints[j]), hi)
        if q == hi:  # the upper breakpoint belongs to the next, cheaper region
            continue
        cost = c * lam + K * lam / q + i * c * q / 2
        if cost < best.cost:
            best = LotSize(q, cost, j)
    return best


def eoq_incremental_discount(
    K: float, i: float, lam: float, breakpoints: Sequence[float], unit_costs: Sequence[float]
) -> LotSize:
    """EOQ with incremental quantity discounts (S&S 3.6.3).

    Units in region ``j`` cost ``c_j``; the purchase cost of ``Q`` in region ``j`` is
    ``cbar_j + c_j (Q - b_j)`` with ``cbar_j`` the cost of the first ``b_j`` units, so the
    region's cost per period is ``c_j lam + i c_j Q / 2 + (K + cbar_j - c_j b_j) lam / Q
    + i (cbar_j - c_j b_j) / 2``; its minimiser is an EOQ with fixed cost
    ``K + cbar_j - c_j b_j``. Candidates inside their region are compared.
    """
    _discount_check(breakpoints, unit_costs)
    cbar = [0.0]
    for j in range(1, len(breakpoints)):
        cbar.append(cbar[-1] + unit_costs[j - 1] * (breakpoints[j] - breakpoints[j - 1]))
    best = LotSize(math.inf, math.inf)
    for j, c in enumerate(unit_costs):
        fixed = cbar[j] - c * breakpoints[j]
        hi = breakpoints[j + 1] if j + 1 < len(breakpoints) else math.inf
        q = math.sqrt(2 * (K + fixed) * lam / (i * c))
        if not breakpoints[j] <= q <= hi:
            continue
        cost = c * lam + i * c * q / 2 + (K + fixed) * lam / q + i * fixed / 2
        if cost < best.cost:
            best = LotSize(q, cost, j)
    return best


def wagner_whitin(
    demand: Sequence[float], K: float | Sequence[float], h: float | Sequence[float]
) -> tuple[list[float], float]:
    """Optimal uncapacitated lot sizes for known time-varying demand (Wagner & Whitin 1958;
    S&S 3.7). Zero-inventory ordering: an order in period ``s`` covers periods ``s..t``.

    Returns the order quantity per period and the total fixed plus holding cost (holding is
    charged on end-of-period inventory).
    """
    d = np.asarray(demand, dtype=float)
    n = d.size
    fixed = np.broadcast_to(np.asarray(K, dtype=float), (n,))
    hold = np.broadcast_to(np.asarray(h, dtype=float), (n,))
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    arg = np.zeros(n + 1, dtype=int)
    for t in range(1, n + 1):
        for s in range(1, t + 1):
            # carrying d[k] from period s to k costs sum(hold[s-1:k-1]) per unit
            carry = sum(d[k - 1] * hold[s - 1 : k - 1].sum() for k in range(s + 1, t + 1))
            cost = best[s - 1] + (fixed[s - 1] if d[s - 1 : t].sum() > 0 else 0.0) + carry
            if cost < best[t]:
                best[t], arg[t] = cost, s
    qty = [0.0] * n
    t = n
    while t > 0:
        s = int(arg[t])
        qty[s - 1] = float(d[s - 1 : t].sum())
        t = s - 1
    return qty, float(best[n])


def _poisson_pmf(mean: float, upto: int) -> Array:
    from scipy.stats import poisson

    return np.asarray(poisson.pmf(np.arange(upto + 1), mean), dtype=np.float64)


def newsvendor_discrete_cost(pmf: Array, h: float, p: float) -> Callable[[int], float]:
    """``G(y) = h E[(y - D)^+] + p E[(D - y)^+]`` for demand with pmf on ``0..len(pmf)-1``."""
    support = np.arange(pmf.size)

    def g(y: int) -> float:
        return float(
            (pmf * (h * np.maximum(y - support, 0) + p * np.maximum(support - y, 0))).sum()
        )

    return g


def rq_poisson_cost(
    r: int, q: int, h: float, p: float, K: float, lam: float, L: float, *, upto: int | None = None
) -> float:
    """Exact cost of (r,Q) with Poisson demand: ``(K lam + sum_{y=r+1}^{r+Q} G(y)) / Q``
    with ``G`` the newsvendor cost of lead-time demand (S&S 5.5, eq. 5.36).
    """
    pmf = _poisson_pmf(lam * L, upto or int(lam * L + 12 * math.sqrt(lam * L + 1) + r + q + 20))
    g = newsvendor_discrete_cost(pmf, h, p)
    return (K * lam + sum(g(y) for y in range(r + 1, r + q + 1))) / q


def rq_poisson_exact(h: float, p: float, K: float, lam: float, L: float) -> tuple[int, int, float]:
    """Optimal (r,Q) for Poisson demand by enumeration (S&S 5.5).

    For each ``Q`` the best window ``r+1..r+Q`` of the convex ``G`` is found by sliding it;
    ``Q`` grows until the window cost can no longer improve (``G`` convex, Federgruen & Zheng
    1992).
    """
    mean = lam * L
    upto = int(mean + 20 * math.sqrt(mean + 1) + 200)
    pmf = _poisson_pmf(mean, upto)
    g = newsvendor_discrete_cost(pmf, h, p)
    values = np.array([g(y) for y in range(-upto, upto)])
    best = (0, 0, math.inf)
    for q in range(1, upto):
        window = np.convolve(values, np.ones(q), mode="valid")  # sums of q consecutive G
        start = int(np.argmin(window))
        cost = (K * lam + window[start]) / q
        if cost < best[2] - 1e-12:
            best = (start - upto - 1, q, cost)
        elif q > best[1] + 50:  # the optimal cost is unimodal in Q; 50 steps past is plenty
            break
    return best


def ss_zheng_federgruen(h: float, p: float, K: float, pmf: Array) -> tuple[int, int, float]:
    """Optimal (s,S) for discrete demand per period (Zheng & Federgruen 1991; S&S 4.6).

    Parameters
    ----------
    h, p, K
        Holding and stock-out cost per unit per period, fixed cost per order.
    pmf
        Demand probabilities on ``0..len(pmf)-1`` (zero lead time: demand over one period).

    Returns
    -------
    s, S, cost
        Reorder point, order-up-to level and optimal cost per period.
    """
    g = newsvendor_discrete_cost(pmf, h, p)
    p0 = float(pmf[0])

    def m_values(n: int) -> Array:
        m = np.zeros(n + 1)
        m[0] = 1 / (1 - p0)
        for j in range(1, n + 1):
            lag = np.arange(1, min(j, pmf.size - 1) + 1)
            m[j] = (pmf[lag] * m[j - lag]).sum() / (1 - p0)
        return m

    m = m_values(4 * pmf.size + 50)
    big_m = np.concatenate([[0.0], np.cumsum(m)])

    def c(s: int, S: int) -> float:
        return float((K + sum(m[j] * g(S - j) for j in range(S - s))) / big_m[S - s])

    y_star = min(range(pmf.size), key=g)
    s = y_star - 1
    while c(s, y_star) > g(s):
        s -= 1
    S0, c0 = y_star, c(s, y_star)
    S = S0 + 1
    while g(S) <= c0:
        if c(s, S) < c0:
            S0 = S
            while c(s, S0) <= g(s + 1):
                s += 1
            c0 = c(s, S0)
        S += 1
    return s, S0, c0


def poisson_pmf(mean: float, *, tail: float = 1e-12) -> Array:
    """Poisson probabilities on ``0..n`` with the mass beyond ``n`` below ``tail``."""
    from scipy.stats import poisson

    n = int(poisson.isf(tail, mean)) + 1
    return _poisson_pmf(mean, n)


__all__: list[Any] = [
    "LotSize",
    "eoq",
    "eoq_all_units_discount",
    "eoq_backorders",
    "eoq_incremental_discount",
    "newsvendor_discrete_cost",
    "poisson_pmf",
    "rq_poisson_cost",
    "rq_poisson_exact",
    "ss_zheng_federgruen",
    "wagner_whitin",
]
