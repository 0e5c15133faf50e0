"""Fair-share allocation of scarce supply by equal days of cover, and the nearest-FC rule.

When a sku's supply is short of its expected demand, an LP that minimises cost sends the
arriving units wherever they are cheapest to ship, which can starve an FC. Fair share
instead gives each FC stock for the same number of days of cover: with demand ``d_f``
served by FC f (the regions nearest to it) and current stock ``c_f``, find ``T`` such that
``sum_f max(0, T d_f - c_f) = P`` and receive ``max(0, T d_f - c_f)`` at f. An FC already
above ``T`` days of cover receives nothing (Silver, Pyke & Peterson, *Inventory and
Production Management in Supply Chains*, 4th ed., Sec. 11.5 "fair share allocation";
frePPLe's fair-share distribution policy).
"""

from __future__ import annotations

import numpy as np

from scot_cli.place.problem import PlaceProblem


def nearest_fc(prob: PlaceProblem) -> np.ndarray:
    """(R,) index of each region's nearest FC (fewest delivery days, then cost); -1 if none."""
    order = np.lexsort((prob.arc_cost, prob.arc_days, prob.arc_region))
    regions = prob.arc_region[order]
    first = np.ones(regions.size, dtype=bool)
    first[1:] = regions[1:] != regions[:-1]
    out = np.full(len(prob.regions), -1, dtype=np.int64)
    out[regions[first]] = prob.arc_fc[order][first]
    return out


def nearest_demand(prob: PlaceProblem) -> np.ndarray:
    """(S, F) expected period demand of the regions nearest to each FC."""
    near = nearest_fc(prob)
    n_s, n_f, _ = prob.shape
    out = np.zeros((n_s, n_f))
    has = near >= 0
    np.add.at(out.T, near[has], prob.mu[:, has].T)
    return out


def scarce(prob: PlaceProblem) -> np.ndarray:
    """(S,) true where current stock plus arriving buys fall short of expected demand."""
    short: np.ndarray = prob.current.sum(axis=1) + prob.arriving < prob.mu.sum(axis=1) - 1e-9
    return short


def equal_cover(current: np.ndarray, demand: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """Receipts per (sku, FC) that equalise days of cover ``(c_f + a_f) / d_f``.

    Parameters
    ----------
    current
        (S, F) stock at each FC.
    demand
        (S, F) demand rate served by each FC (only the ratios matter).
    supply
        (S,) units to allocate.

    Returns
    -------
    numpy.ndarray
        (S, F) allocation ``max(0, T d_f - c_f)`` summing to ``supply`` per row (rows
        without demand receive nothing).

    Examples
    --------
    FC 0 already holds 50 units for demand 10 (5 days); FC 1 holds 0 for demand 10.
    Twenty units all go to FC 1, the overstocked FC 0 gets nothing:

    >>> equal_cover(np.array([[50.0, 0.0]]), np.array([[10.0, 10.0]]), np.array([20.0]))
    array([[ 0., 20.]])
    """
    with np.errstate(over="ignore"):
        ratio = np.where(demand > 0, current / np.where(demand > 0, demand, 1.0), np.inf)
    order = np.argsort(ratio, axis=1, kind="stable")
    r_sorted = np.take_along_axis(ratio, order, axis=1)
    c_cum = np.cumsum(np.take_along_axis(np.where(demand > 0, current, 0.0), order, 1), axis=1)
    d_cum = np.cumsum(np.take_along_axis(demand, order, axis=1), axis=1)
    level = np.divide(
        supply[:, None] + c_cum, d_cum, out=np.full(c_cum.shape, np.inf), where=d_cum > 0
    )
    nxt = np.concatenate([r_sorted[:, 1:], np.full((r_sorted.shape[0], 1), np.inf)], axis=1)
    ok = (level <= nxt + 1e-12) & np.isfinite(r_sorted)
    pick = np.argmax(ok, axis=1)
    t = np.where(ok.any(axis=1), level[np.arange(level.shape[0]), pick], 0.0)
    alloc = np.maximum(0.0, t[:, None] * demand - current)
    alloc[demand <= 0] = 0.0
    total = alloc.sum(axis=1, keepdims=True)
    out: np.ndarray = np.divide(
        alloc * supply[:, None], total, out=np.zeros_like(alloc), where=total > 0
    )
    return out
