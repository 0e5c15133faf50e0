"""Truck loading as one-dimensional bin packing: a lower bound, heuristics and an exact model.

:func:`pack` loads the lines of one lane departure into as few trucks as it can:

1. first-fit decreasing (Johnson (1973)); when it meets the lower bound :func:`l2_bound`
   (Martello & Toth (1990), *Knapsack Problems*, section 8.3.1) it is optimal and kept as is;
2. else best-fit decreasing, and the better of the two;
3. else an improvement step that empties the least-filled truck: its lines become free
   items, which swap with the lines of the other trucks (1-1, 1-2, 2-1, 2-2 and plain
   insertion) whenever a truck gets fuller, so that the free items get fewer and smaller
   until they fit (the local search of Levine & Ducatelle (2004), "Ant colony optimization
   and local search for bin packing and cutting stock problems", JORS 55(7), applied with
   the number of trucks fixed, as in Fleszar & Charalambous (2011)); when no swap fills a
   truck, two trucks trade lines so that free room gathers in one. Compiled with numba
   (:mod:`scot_cli.route.binpack_kernel`; a step costs tens of microseconds on a 250-line
   load, so the default 5,000 steps take about a quarter of a second there); seeded,
   within a time limit;
4. else, for a small load, the exact assignment model with HiGHS within a time limit.

A line is never split across trucks, so a truck's load never exceeds its capacity. The
search is counted in steps (:data:`STEPS`), so the packing is the same on any machine; the
time limit is a safety net that only a very busy machine reaches.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

#: Tolerance on volumes (they are floats).
EPS = 1e-9
#: The exact model runs on loads of at most this many lines, for at most this many nodes.
MIP_MAX_ITEMS = 60
MIP_NODES = 2_000
#: A load this far (relative) below one truck's capacity fits it whatever the rounding of
#: first-fit's running residual (its error is far below this for any realistic load).
ONE_TRUCK_SLACK = 1e-6
#: Steps of the improvement search (one exchange each) per load: on the Falkenauer u120 and
#: u250 sets every search reaches the best known count (or fewer) well within them, or spends
#: them all in about a quarter of a CPU second where that count is above the bound.
STEPS = 5_000


def l2_bound(sizes: np.ndarray, capacity: float) -> int:
    """Lower bound L2 on the number of bins (Martello & Toth (1990), Theorem 8.3).

    For each threshold :math:`K \\le C/2`: items above :math:`C - K` each need a bin of their
    own, items in :math:`(C/2, C-K]` too, and items in :math:`[K, C/2]` fill what the latter
    leave free before needing more bins. The best threshold is taken over the item sizes.

    >>> l2_bound(np.array([60.0, 60.0, 60.0, 30.0, 30.0, 30.0]), 100.0)
    3
    """
    w = np.sort(np.asarray(sizes, dtype=float))
    n = w.shape[0]
    if n == 0:
        return 0
    c = float(capacity)
    l1 = math.ceil(float(w.sum()) / c - EPS)
    cum = np.concatenate([[0.0], np.cumsum(w)])
    ks = np.unique(np.concatenate([[0.0], w[w <= c / 2 + EPS]]))
    # counts by position in the sorted sizes
    above_half = np.searchsorted(w, c / 2 + EPS, side="right")  # first index of w > C/2
    n1_start = np.searchsorted(w, c - ks + EPS, side="right")  # w > C - K
    n3_start = np.searchsorted(w, ks - EPS, side="left")  # w >= K
    n1 = n - n1_start
    n2 = n1_start - above_half
    sum2 = cum[n1_start] - cum[above_half]
    sum3 = cum[above_half] - cum[n3_start]
    free = n2 * c - sum2
    extra = np.ceil(np.maximum(sum3 - free, 0.0) / c - EPS)
    return int(max(l1, int((n1 + n2 + extra).max())))


def first_fit_decreasing(volumes: np.ndarray, capacity: float) -> np.ndarray:
    """Bin index of each item, packed first-fit decreasing into bins of ``capacity``.

    >>> first_fit_decreasing(np.array([4.0, 6.0, 5.0, 5.0]), 10.0).tolist()
    [0, 0, 1, 1]
    """
    order = np.argsort(-volumes, kind="stable")
    residual: list[float] = []
    out = np.empty(volumes.shape[0], dtype=np.int64)
    for i in order.tolist():
        v = float(volumes[i])
        for b, r in enumerate(residual):
            if r >= v - EPS:
                residual[b] -= v
                out[i] = b
                break
        else:
            residual.append(float(capacity) - v)
            out[i] = len(residual) - 1
    return out


def best_fit_decreasing(volumes: np.ndarray, capacity: float) -> np.ndarray:
    """Bin index of each item, packed best-fit decreasing: each item, largest first, into
    the open bin it leaves least room in (a new bin when none fits).

    >>> best_fit_decreasing(np.array([5.0, 7.0, 3.0, 4.0, 1.0]), 10.0).tolist()
    [1, 0, 0, 1, 1]
    """
    order = np.argsort(-volumes, kind="stable")
    residual: list[float] = []
    out = np.empty(volumes.shape[0], dtype=np.int64)
    for i in order.tolist():
        v = float(volumes[i])
        best, room = -1, math.inf
        for b, r in enumerate(residual):
            if v - EPS <= r < room:
                best, room = b, r
        if best < 0:
            residual.append(float(capacity))
            best = len(residual) - 1
        residual[best] -= v
        out[i] = best
    return out


@dataclass
class Budget:
    """Search steps left, and a wall-clock deadline (a ``time.monotonic()`` value) as a
    safety net: the steps make the result the same on any machine, the deadline bounds the
    time on a slow or busy one."""

    steps: int
    deadline: float


#: Steps the compiled search takes between two looks at the deadline.
CHUNK = 2_000


def bin_width(sizes: np.ndarray, capacity: float) -> int:
    """Most items one bin can hold: the smallest items, as many as fit."""
    return max(int(np.searchsorted(np.cumsum(np.sort(sizes)), capacity + EPS, side="right")), 1)


def improve(
    volumes: np.ndarray,
    capacity: float,
    assign: np.ndarray,
    *,
    target: int,
    budget: Budget,
    seed: int = 0,
) -> np.ndarray:
    """Empty a bin while the count exceeds ``target`` (see the module docstring, step 3,
    and :mod:`scot_cli.route.binpack_kernel`); returns the best packing found (never more
    bins than ``assign``). The compiled search runs :data:`CHUNK` steps at a time, the
    deadline looked at in between; ``budget.steps`` is spent."""
    from scot_cli.route import binpack_kernel as kernel

    sizes = np.ascontiguousarray(volumes, dtype=float)
    cur = np.ascontiguousarray(assign, dtype=np.int64).copy()
    # xorshift needs a non-zero state
    rng = np.array([((seed + 1) * 0x9E3779B97F4A7C15) % 2**64 | 1], dtype=np.uint64)
    attempt = np.zeros(1, dtype=np.int64)
    width = bin_width(sizes, capacity)
    while n_bins(cur) > target and budget.steps > 0 and time.monotonic() < budget.deadline:
        step = min(CHUNK, budget.steps)
        used = kernel.search(sizes, float(capacity), cur, target, step, rng, attempt, width)
        budget.steps -= max(int(used), 1)
    return relabel(volumes, cur)


def relabel(volumes: np.ndarray, assign: np.ndarray) -> np.ndarray:
    """Bins numbered by their largest item, largest first (ties by item index), as
    first-fit decreasing numbers them."""
    if assign.shape[0] == 0:
        return assign
    order = np.lexsort((np.arange(volumes.shape[0]), -volumes))
    seen: dict[int, int] = {}
    for i in order.tolist():
        seen.setdefault(int(assign[i]), len(seen))
    return np.array([seen[int(b)] for b in assign.tolist()], dtype=np.int64)


def exact_packing(
    volumes: np.ndarray, capacity: float, *, bins: int, lower: int, time_limit: float
) -> np.ndarray | None:
    """The assignment model with at most ``bins`` bins, solved by HiGHS within
    ``time_limit`` seconds: min :math:`\\sum_b y_b` subject to each item in one bin,
    :math:`\\sum_i w_i x_{ib} \\le C y_b`, :math:`x_{ib} \\le y_b`, :math:`y_b \\ge y_{b+1}`
    and item :math:`i` (sizes decreasing) in a bin :math:`b \\le i`. Returns the packing
    (None without an incumbent using fewer than ``bins`` bins)."""
    import highspy

    from scot_cli.quiet import native_stdout_silenced

    n = volumes.shape[0]
    order = np.argsort(-volumes, kind="stable")
    w = volumes[order]
    # columns: x[i, b] for b <= min(i, bins - 1), then y[b]
    pairs = [(i, b) for i in range(n) for b in range(min(i + 1, bins))]
    n_x = len(pairs)
    ycol = n_x
    rows: list[list[tuple[int, float]]] = []
    lo: list[float] = []
    hi: list[float] = []
    for i in range(n):  # each item once
        rows.append([(k, 1.0) for k, (ii, _) in enumerate(pairs) if ii == i])
        lo.append(1.0)
        hi.append(1.0)
    for b in range(bins):  # capacity
        rows.append([(k, float(w[i])) for k, (i, bb) in enumerate(pairs) if bb == b])
        rows[-1].append((ycol + b, -float(capacity)))
        lo.append(-math.inf)
        hi.append(0.0)
    for k, (_, b) in enumerate(pairs):  # x <= y
        rows.append([(k, 1.0), (ycol + b, -1.0)])
        lo.append(-math.inf)
        hi.append(0.0)
    for b in range(bins - 1):  # y_b >= y_{b+1}
        rows.append([(ycol + b, 1.0), (ycol + b + 1, -1.0)])
        lo.append(0.0)
        hi.append(math.inf)
    rows.append([(ycol + b, 1.0) for b in range(bins)])  # at least the lower bound
    lo.append(float(lower))
    hi.append(float(bins) - 1.0)
    n_col = n_x + bins
    cols: list[list[tuple[int, float]]] = [[] for _ in range(n_col)]
    for r, row in enumerate(rows):
        for c, v in row:
            cols[c].append((r, v))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_col, len(rows)
    lp.col_cost_ = np.concatenate([np.zeros(n_x), np.ones(bins)])
    lp.col_lower_ = np.zeros(n_col)
    lp.col_upper_ = np.ones(n_col)
    lp.row_lower_ = np.array(lo)
    lp.row_upper_ = np.array(hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum([len(c) for c in cols])]).astype(np.int32)
    lp.a_matrix_.index_ = np.array([r for c in cols for r, _ in c], dtype=np.int32)
    lp.a_matrix_.value_ = np.array([v for c in cols for _, v in c])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_col
    with native_stdout_silenced():
        h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
        h.setOptionValue("threads", 1)
        h.setOptionValue("random_seed", 0)
        h.setOptionValue("mip_max_nodes", MIP_NODES)
        h.passModel(lp)
        h.run()
    if h.getInfo().primal_solution_status != 2:  # kSolutionStatusFeasible
        return None
    x = np.asarray(h.getSolution().col_value)[:n_x]
    out = np.empty(n, dtype=np.int64)
    for k, (i, b) in enumerate(pairs):
        if x[k] > 0.5:
            out[order[i]] = b
    return relabel(volumes, out)


def n_bins(assign: np.ndarray) -> int:
    """Bins used by a packing."""
    return int(assign.max()) + 1 if assign.shape[0] else 0


def pack(
    volumes: np.ndarray,
    capacity: float,
    *,
    steps: int = STEPS,
    time_limit: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """Bin index of each item: as few bins of ``capacity`` as found in ``steps`` search
    steps and ``mip_nodes`` nodes of the exact model (steps in the module docstring), within
    ``time_limit`` seconds at most. The first-fit decreasing packing is returned unchanged
    whenever nothing uses fewer bins.

    >>> pack(np.array([6.0, 4.0, 5.0, 5.0, 3.0, 3.0, 4.0]), 10.0).tolist()
    [0, 0, 1, 1, 2, 2, 2]
    """
    volumes = np.asarray(volumes, dtype=float)
    total = float(volumes.sum())
    if volumes.shape[0] and EPS * capacity < total <= (1.0 - ONE_TRUCK_SLACK) * capacity:
        # one truck holds all: what first-fit decreasing gives, and the bound L1 is 1
        return np.zeros(volumes.shape[0], dtype=np.int64)
    start = time.monotonic()
    best = first_fit_decreasing(volumes, capacity)
    lower = l2_bound(volumes, capacity)
    if n_bins(best) <= lower:
        return best
    bfd = best_fit_decreasing(volumes, capacity)
    if n_bins(bfd) < n_bins(best):
        best = relabel(volumes, bfd)
    if n_bins(best) <= lower:
        return best
    deadline = start + time_limit
    small = volumes.shape[0] <= MIP_MAX_ITEMS
    share = 0.5 if small else 0.9  # what the exact model of a small load does not need
    # a small load leaves the rest to the exact model
    budget = Budget(
        min(steps, 20 * volumes.shape[0]) if small else steps, start + share * time_limit
    )
    better = improve(volumes, capacity, best, target=lower, budget=budget, seed=seed)
    if n_bins(better) < n_bins(best):
        best = better
    left = deadline - time.monotonic()
    if n_bins(best) > lower and small and left > 0.01:
        exact = exact_packing(volumes, capacity, bins=n_bins(best), lower=lower, time_limit=left)
        if exact is not None and n_bins(exact) < n_bins(best):
            best = exact
    return best
