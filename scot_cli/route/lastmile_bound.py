"""A lower bound on the distance of any routes that serve every stop of one station.

Two classical bounds, both valid for any symmetric distance with the triangle inequality (the
great-circle distances of ``scot route last-mile``) and any capacity, fleet, shift or time
windows, since they relax all of those:

* the radial bound (Haimovich & Rinnooy Kan (1985), "Bounds and heuristics for capacitated
  routing problems", Math. Oper. Res. 10(4)): a route reaching stop i drives at least
  d(0, i) + d(i, 0), and a load of at most Q shares it, so the total is at least
  sum_i (d(0, i) + d(i, 0)) q_i / Q;
* the 1-tree bound (Held & Karp (1970), "The traveling-salesman problem and minimum spanning
  trees", Oper. Res. 18(6)): shortcutting the depot visits turns the routes into one tour of
  all points that is no longer, and a tour is a spanning tree of the stops plus two edges at
  the depot, so the minimum spanning tree of the stops plus the two shortest depot edges is a
  bound. Held and Karp's node penalties (subgradient steps) tighten it.

The bound is the larger of the two. It is far from the optimum when many routes are needed
(each route's way out and back is counted only by the radial term), so the gap it gives is an
upper limit on how far the routes are from optimal, not an estimate of it.
"""

from __future__ import annotations

import numpy as np

#: Subgradient steps of the Held-Karp 1-tree bound.
HELD_KARP_STEPS = 30


def radial_bound(dist: np.ndarray, demand: np.ndarray, capacity: float) -> float:
    """sum_i (d(0, i) + d(i, 0)) q_i / Q over the clients 1..n-1 (location 0 is the depot)."""
    if capacity <= 0 or dist.shape[0] < 2:
        return 0.0
    return float(((dist[0, 1:] + dist[1:, 0]) * demand).sum() / capacity)


def one_tree(cost: np.ndarray) -> tuple[float, np.ndarray]:
    """Minimum 1-tree over a symmetric matrix (node 0 special): its cost and node degrees."""
    from scipy.sparse.csgraph import minimum_spanning_tree

    n = cost.shape[0]
    degree = np.zeros(n, dtype=np.int64)
    if n == 2:
        degree[:] = 2
        return float(2 * cost[0, 1]), degree
    inner = cost[1:, 1:]
    # csgraph reads 0 as "no edge": shift every weight so equal points keep their edge.
    shift = 1.0 - float(inner.min())
    tree = minimum_spanning_tree(inner + shift).tocoo()
    weight = float((tree.data - shift).sum())
    np.add.at(degree, tree.row + 1, 1)
    np.add.at(degree, tree.col + 1, 1)
    two = np.argsort(cost[0, 1:], kind="stable")[:2] + 1
    degree[two] += 1
    degree[0] = 2
    return weight + float(cost[0, two].sum()), degree


def tour_bound(dist: np.ndarray, steps: int = HELD_KARP_STEPS) -> float:
    """Held-Karp 1-tree bound on a tour through every point (location 0 included)."""
    n = dist.shape[0]
    if n < 2:
        return 0.0
    sym = np.minimum(dist, dist.T).astype(np.float64)
    pi = np.zeros(n)
    best, _ = one_tree(sym)
    step = best / n / 10 if best > 0 else 0.0
    for _ in range(steps):
        value, degree = one_tree(sym + pi[:, None] + pi[None, :])
        best = max(best, value - 2 * float(pi.sum()))
        sub = degree - 2
        if not sub.any() or step <= 0:
            break
        pi += step * sub
        step *= 0.9
    return best


def lower_bound(dist: np.ndarray, demand: np.ndarray, capacity: float) -> float:
    """The larger of the radial and the Held-Karp 1-tree bounds (same unit as ``dist``)."""
    if dist.shape[0] < 2:
        return 0.0
    return max(radial_bound(dist, demand, capacity), tour_bound(dist))
