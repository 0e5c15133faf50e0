"""Single-echelon inventory policies, vectorised across SKUs.

Every function takes numpy arrays with one entry per SKU row (and a
:class:`~scot_cli.buy.distributions.Distribution`) and returns arrays; there is no
per-SKU Python loop. Symbols follow Snyder & Shen, *Fundamentals of Supply Chain
Theory* (2nd ed.): ``h`` holding cost per unit per period, ``p`` shortage cost per unit,
``K`` fixed cost per order, ``lam`` demand per period, ``L`` lead time, ``R`` review period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .distributions import Array, Distribution, Normal

#: auto picks ss when the EOQ exceeds this many review periods of demand.
BATCHING_RATIO = 1.5


@dataclass(frozen=True)
class Levels:
    """Policy levels and expected performance per row (arrays)."""

    reorder_point: Array
    order_up_to: Array
    batch: Array
    fill_rate: Array
    in_stock: Array
    holding: Array
    shortage: Array
    ordering: Array


def critical_ratio(h: Array, p: Array) -> Array:
    """Critical fractile ``p / (p + h)`` (Snyder & Shen eq. 4.16)."""
    return np.asarray(p / (p + h), dtype=np.float64)


def newsvendor_cost(dist: Distribution, y: Array, h: Array, p: Array) -> Array:
    """Expected newsvendor cost ``h E[(y-D)^+] + p E[(D-y)^+]`` (Snyder & Shen eq. 4.5)."""
    loss = dist.loss(y)
    return np.asarray(h * (y - dist.mean + loss) + p * loss, dtype=np.float64)


def fill_rate_level(dist: Distribution, beta: Array, cycle_demand: Array) -> Array:
    """Smallest level ``S`` whose fill rate ``1 - E[(D - S)^+] / cycle_demand`` reaches ``beta``.

    Bisection on the quantile level (the loss is decreasing in it), 50 steps, vectorised.
    """
    lo = np.full(beta.shape, 1e-6)
    hi = np.full(beta.shape, 1 - 1e-9)
    target = (1 - beta) * cycle_demand
    for _ in range(50):
        mid = (lo + hi) / 2
        ok = dist.loss(dist.ppf(mid)) <= target
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return dist.ppf(hi)


def eoq_quantity(K: Array, h: Array, lam: Array) -> Array:
    """Economic order quantity ``sqrt(2 K lam / h)`` (Snyder & Shen eq. 3.6)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.sqrt(2 * K * lam / h)
    return np.where(np.isfinite(q), q, 0.0)


def rq_eil(
    dist_l: Distribution, h: Array, p: Array, K: Array, lam: Array, *, iterations: int = 100
) -> tuple[Array, Array]:
    """(r,Q) by the expected-inventory-level approximation, iterated to a fixed point.

    ``Q = sqrt(2 lam (K + p n(r)) / h)`` and ``1 - F(r) = Q h / (p lam)``
    (Snyder & Shen Section 5.2.3, Example 5.2).
    """
    q = eoq_quantity(K, h, lam)
    r = dist_l.mean
    for _ in range(iterations):
        with np.errstate(divide="ignore", invalid="ignore"):
            # no demand: the reorder point falls to the bottom of the distribution
            tail = np.clip(np.where(lam > 0, q * h / (p * lam), 1.0), 1e-12, 1 - 1e-12)
        r = dist_l.ppf(1 - tail)
        q = np.sqrt(2 * lam * (K + p * dist_l.loss(r)) / h)
    return r, q


def rq_exact_cost(
    dist_l: Normal, r: Array, q: Array, h: Array, p: Array, K: Array, lam: Array
) -> Array:
    """Exact expected cost per period of (r,Q) with normal lead-time demand.

    ``g(r,Q) = K lam / Q + h (r - lam L + Q / 2) + (h + p) / Q [n2(r) - n2(r + Q)]``
    with ``n2`` the second-order loss function (Snyder & Shen eq. 5.7).
    """
    tail = dist_l.loss2(r) - dist_l.loss2(r + q)
    return np.asarray(
        K * lam / q + h * (r - dist_l.mean + q / 2) + (h + p) / q * tail, dtype=np.float64
    )


def rq_best_r(dist_l: Normal, q: Array, h: Array, p: Array) -> Array:
    """The cost-minimising ``r`` for given ``Q``: ``n(r) - n(r + Q) = h Q / (h + p)``."""
    target = h * q / (h + p)
    lo = dist_l.mean - 12 * dist_l.sd - q - 1
    hi = dist_l.mean + 12 * dist_l.sd + 1
    for _ in range(80):
        mid = (lo + hi) / 2
        above = dist_l.loss(mid) - dist_l.loss(mid + q) > target
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return (lo + hi) / 2


def rq_exact(dist_l: Normal, h: Array, p: Array, K: Array, lam: Array) -> tuple[Array, Array]:
    """(r,Q) minimising the exact normal cost: golden section on Q around the EOQ, best r."""
    eoq = np.maximum(eoq_quantity(K + p * dist_l.sd, h, lam), 1e-6)
    a, b = np.full(eoq.shape, 1e-6), 4 * eoq + 4 * dist_l.sd + 1
    ratio = (np.sqrt(5) - 1) / 2

    def cost(q: Array) -> Array:
        return rq_exact_cost(dist_l, rq_best_r(dist_l, q, h, p), q, h, p, K, lam)

    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = cost(c), cost(d)
    for _ in range(60):
        left = fc < fd  # the minimum lies in [a, d]
        a, b = np.where(left, a, c), np.where(left, d, b)
        c_new = np.where(left, b - ratio * (b - a), d)
        d_new = np.where(left, c, a + ratio * (b - a))
        f_new = cost(np.where(left, c_new, d_new))
        fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
        c, d = c_new, d_new
    q = (a + b) / 2
    return rq_best_r(dist_l, q, h, p), q


def rq_unit_short_cost(
    dist_l: Normal, r: Array, q: Array, h: Array, p: Array, K: Array, lam: Array
) -> Array:
    """Exact expected cost per period of (r,Q) with a stock-out cost ``p`` per unit short.

    ``g(r,Q) = K lam / Q + h (r - lam L + Q / 2 + B(r,Q)) + p lam / Q [n(r) - n(r + Q)]``
    with ``B(r,Q) = [n2(r) - n2(r + Q)] / Q`` the expected backorders and
    ``lam / Q [n(r) - n(r + Q)]`` the units short per period (the inventory position is
    uniform on ``[r, r + Q]``; Snyder & Shen Section 5.2, Hadley & Whitin 1963). The book's
    exact cost (eq. 5.7, :func:`rq_exact_cost`) charges ``p`` per unit per period instead.
    """
    short = dist_l.loss(r) - dist_l.loss(r + q)
    backorders = (dist_l.loss2(r) - dist_l.loss2(r + q)) / q
    return np.asarray(
        K * lam / q + h * (r - dist_l.mean + q / 2 + backorders) + p * lam / q * short,
        dtype=np.float64,
    )


def _golden(
    f: Callable[[Array], Array], a: Array, b: Array, iterations: int
) -> tuple[Array, Array]:
    """Golden-section search of ``f`` on ``[a, b]`` per row: the minimiser and its value."""
    ratio = (np.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iterations):
        left = fc < fd  # the minimum lies in [a, d]
        a, b = np.where(left, a, c), np.where(left, d, b)
        c_new = np.where(left, b - ratio * (b - a), d)
        d_new = np.where(left, c, a + ratio * (b - a))
        f_new = f(np.where(left, c_new, d_new))
        fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
        c, d = c_new, d_new
    x = (a + b) / 2
    return x, f(x)


#: Points of the coarse grid that brackets the best reorder point before golden section.
R_GRID = 24


def rq_unit_short_best_r(dist_l: Normal, q: Array, h: Array, p: Array, lam: Array) -> Array:
    """The ``r`` minimising :func:`rq_unit_short_cost` for given ``Q``: a coarse grid over
    ``[mean - Q - 8 sd - 1, mean + 8 sd + 1]`` brackets it (the cost need not be convex in
    ``r``), golden section refines it."""
    lo = dist_l.mean - q - 8 * dist_l.sd - 1
    hi = dist_l.mean + 8 * dist_l.sd + 1
    step = (hi - lo) / (R_GRID - 1)
    zero = np.zeros_like(q)

    def cost(r: Array) -> Array:
        return rq_unit_short_cost(dist_l, r, q, h, p, zero, lam)

    values = np.stack([cost(lo + i * step) for i in range(R_GRID)])
    best = np.argmin(values, axis=0)
    a = lo + np.maximum(best - 1, 0) * step
    b = lo + np.minimum(best + 1, R_GRID - 1) * step
    return _golden(cost, a, b, 50)[0]


def rq_unit_short(dist_l: Normal, h: Array, p: Array, K: Array, lam: Array) -> tuple[Array, Array]:
    """(r,Q) minimising :func:`rq_unit_short_cost` (stock-out cost per unit short): golden
    section on ``Q``, the best ``r`` for each. With a lead time of 0 (lead-time demand 0)
    the reorder point is 0 whenever a shortage costs more than holding a unit for ``Q/lam``.
    """
    top = 4 * np.sqrt(2 * lam * (K + p * dist_l.sd + 1e-9) / h) + 4 * dist_l.sd + 1

    def cost(q: Array) -> Array:
        return rq_unit_short_cost(
            dist_l, rq_unit_short_best_r(dist_l, q, h, p, lam), q, h, p, K, lam
        )

    q = _golden(cost, np.full(top.shape, 1e-6), np.where(np.isfinite(top), top, 1.0), 60)[0]
    return rq_unit_short_best_r(dist_l, q, h, p, lam), q


def periodic_levels(
    dist_p: Distribution,
    s: Array,
    batch: Array,
    *,
    h: Array,
    p: Array,
    K: Array,
    lam: Array,
    review: Array,
    in_stock: Array | None = None,
) -> Levels:
    """Performance of a periodic policy that orders up to ``s + batch`` when at or below ``s``.

    ``batch = 0`` is a base-stock (order-up-to) policy. One cycle lasts
    ``max(batch / lam, review)`` days; the expected shortage per cycle is ``E[(D_P - s)^+]``
    (the standard approximation of Silver, Pyke & Thomas 2017, Section 7.9). ``in_stock``
    (``F(s)``) may be passed when already known.
    """
    loss = dist_p.loss(s)
    in_stock = np.clip(dist_p.cdf(s), 0, 1) if in_stock is None else in_stock
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cycle_days = np.maximum(np.where(lam > 0, batch / lam, 0.0), review)
        cycle_demand = lam * cycle_days
        fill = np.where(cycle_demand > 0, 1 - loss / cycle_demand, 1.0)
    on_hand = s - dist_p.mean + loss + (batch + lam * review) / 2
    return Levels(
        reorder_point=s,
        order_up_to=s + batch,
        batch=batch,
        fill_rate=np.clip(fill, 0, 1),
        in_stock=in_stock,
        holding=h * np.maximum(on_hand, 0),
        shortage=p * loss / cycle_days,
        ordering=np.where(lam > 0, K / cycle_days, 0.0),
    )


def rq_levels(
    dist_l: Normal, r: Array, q: Array, *, h: Array, p: Array, K: Array, lam: Array
) -> Levels:
    """Performance of continuous-review (r,Q) with normal lead-time demand; ``p`` is the
    stock-out cost per unit short (:func:`rq_unit_short_cost`)."""
    short = dist_l.loss(r) - dist_l.loss(r + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        backorders = np.where(q > 0, (dist_l.loss2(r) - dist_l.loss2(r + q)) / q, 0.0)
        fill = np.where(q > 0, 1 - short / q, 1.0)
        per_day = np.where(q > 0, lam / q, 0.0)
    return Levels(
        reorder_point=r,
        order_up_to=r + q,
        batch=q,
        fill_rate=np.clip(fill, 0, 1),
        in_stock=np.clip(dist_l.cdf(r), 0, 1),
        holding=h * np.maximum(r - dist_l.mean + q / 2 + backorders, 0),
        shortage=p * short * per_day,
        ordering=K * per_day,
    )


def order_quantity(policy: Any, position: Array, levels: Levels) -> Array:
    """Units to order now (before rounding) for each row's policy and inventory position.

    ``policy`` holds the policy name of each row: a numpy string array, or anything with
    an ``is_(name)`` row mask (:class:`scot_cli.buy.levels.Labels`).
    """

    def rows_of(name: str) -> np.ndarray:
        return policy.is_(name) if hasattr(policy, "is_") else np.asarray(policy == name)

    r, big_s, q = levels.reorder_point, levels.order_up_to, levels.batch
    up_to = np.maximum(big_s - position, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        batches = np.where(q > 0, np.floor((r - position) / q) + 1, 0.0) * q
    # (r,Q) levels come from a numerical search: a position equal to r up to its last bits
    # (r = 0 with a lead time of 0 and nothing on hand) still triggers an order
    trigger = position <= r + 1e-7 * (1 + np.abs(r) + q)
    return np.select(
        [rows_of("base_stock"), rows_of("newsvendor"), rows_of("rq"), rows_of("rq_eil")],
        [up_to, up_to, np.where(trigger, batches, 0.0), np.where(trigger, batches, 0.0)],
        default=np.where(trigger, up_to, 0.0),
    )
