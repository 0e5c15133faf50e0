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
   the number of trucks fixed, as in Fleszar & Charalambous (2011)); seeded, within a time
   limit;
4. else, for a small load, the exact assignment model with HiGHS within a time limit.

A line is never split across trucks, so a truck's load never exceeds its capacity. The
search is counted in steps (:data:`STEPS`), so the packing is the same on any machine; the
time limit is a safety net that only a very busy machine reaches.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

#: Tolerance on volumes (they are floats).
EPS = 1e-9
#: The exact model runs on loads of at most this many lines, for at most this many nodes.
MIP_MAX_ITEMS = 60
MIP_NODES = 2_000
#: Steps of the improvement search (one exchange each) per load.
STEPS = 1_000


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


#: Free items and items of one bin exchanged at most in one move.
MOVE_MAX = 2
#: Exchanges between bins start from one of this many emptiest bins.
PAIR_ROWS = 8
#: Pairs of items move together only from bins (or free lists) of at most this many items.
PAIRS_MAX_ITEMS = 16


def _subsets(items: list[int], sizes: np.ndarray, most: int) -> list[tuple[int, ...]]:
    """Subsets of up to ``most`` items (the empty one first); single items only from a bin
    of more than :data:`PAIRS_MAX_ITEMS` (pairs would grow with the square)."""
    out: list[tuple[int, ...]] = [()]
    most = most if len(items) <= PAIRS_MAX_ITEMS else 1
    for k in range(1, min(most, len(items)) + 1):
        out += itertools.combinations(items, k)
    return out


def _sums(subsets: list[tuple[int, ...]], sizes: np.ndarray) -> np.ndarray:
    """Total size of each subset."""
    lens = np.array([len(t) for t in subsets])
    flat = np.array([i for t in subsets for i in t], dtype=np.int64)
    owner = np.repeat(np.arange(len(subsets)), lens)
    return np.bincount(owner, weights=sizes[flat], minlength=len(subsets))


@dataclass
class Budget:
    """Search steps left, and a wall-clock deadline (a ``time.monotonic()`` value) as a
    safety net: the steps make the result the same on any machine, the deadline bounds the
    time on a slow or busy one."""

    steps: int
    deadline: float

    def spend(self) -> bool:
        """Take one step; False when none is left or the deadline has passed."""
        self.steps -= 1
        return self.steps >= 0 and time.monotonic() < self.deadline


def _drain(
    bins: list[list[int]],
    free: list[int],
    sizes: np.ndarray,
    cap: float,
    rng: np.random.Generator,
    budget: Budget,
    *,
    spare: int = 0,
    plateau: int = 20,
) -> list[int]:
    """Exchange free items with packed ones while a bin gets fuller, best exchange first
    (up to :data:`MOVE_MAX` items each way); up to ``plateau`` exchanges that keep the loads
    let the search cross flat ground. Stops when the free items fit in ``spare`` bins (first
    fit decreasing). Returns the items left free; ``bins`` is updated in place."""
    outs = [_subsets(b, sizes, MOVE_MAX) for b in bins]
    sums = [_sums(o, sizes) for o in outs]
    loads = np.array([float(sizes[b].sum()) for b in bins])
    counts = np.array([len(o) for o in outs])
    flat_moves = 0

    def refresh(b: int) -> None:
        outs[b] = _subsets(bins[b], sizes, MOVE_MAX)
        sums[b] = _sums(outs[b], sizes)
        loads[b] = float(sizes[bins[b]].sum())
        counts[b] = len(outs[b])

    while free and budget.spend():
        room = spare and float(sizes[free].sum()) <= spare * cap + EPS
        if room and n_bins(first_fit_decreasing(sizes[free], cap)) <= spare:
            break
        ins = _subsets(free, sizes, MOVE_MAX)[1:]
        in_sum = _sums(ins, sizes)
        out_bin = np.repeat(np.arange(len(bins)), counts)
        out_sum = np.concatenate(sums)
        room = (cap - loads)[out_bin] + out_sum
        gain = in_sum[None, :] - out_sum[:, None]
        fits = in_sum[None, :] <= room[:, None] + EPS
        gain = np.where(fits, gain, -np.inf)
        top = float(gain.max())
        if top <= EPS:
            changed = _pair_move(bins, outs, out_bin, out_sum, loads, cap, rng)
            for b in changed:
                refresh(b)
            if changed:
                continue
        if top > EPS:
            cand = np.flatnonzero(gain.ravel() >= top - EPS)
        elif top > -EPS and flat_moves < plateau:
            # equal loads, other items: only exchanges that change what is free
            flat = (np.abs(gain) <= EPS) & (out_sum[:, None] > 0)
            cand = np.flatnonzero(flat.ravel())
            flat_moves += 1
            if not cand.shape[0]:
                break
        else:
            break
        pick = int(cand[int(rng.integers(cand.shape[0]))])
        o, i = divmod(pick, len(ins))
        b = int(out_bin[o])
        first = int(np.flatnonzero(out_bin == b)[0])
        out_items, in_items = outs[b][o - first], ins[i]
        bins[b] = [x for x in bins[b] if x not in out_items] + list(in_items)
        free = [x for x in free if x not in in_items] + list(out_items)
        refresh(b)
    return free


def _pair_move(
    bins: list[list[int]],
    outs: list[list[tuple[int, ...]]],
    out_bin: np.ndarray,
    out_sum: np.ndarray,
    loads: np.ndarray,
    cap: float,
    rng: np.random.Generator,
) -> tuple[int, ...]:
    """The exchange between one of the :data:`PAIR_ROWS` emptiest bins and another bin (up
    to :data:`MOVE_MAX` items each way) that most raises the sum of squared loads, so that
    free room gathers in fewer bins; returns the two bins changed (none when no exchange
    raises it)."""
    emptiest = np.zeros(loads.shape[0], dtype=bool)
    emptiest[np.argsort(loads, kind="stable")[:PAIR_ROWS]] = True
    rows = np.flatnonzero(emptiest[out_bin])
    l1 = loads[out_bin[rows]][:, None]
    l2 = loads[out_bin][None, :]
    # the first bin gains d, the second loses it: squares rise by 2 d (l1 - l2 + d)
    d = out_sum[None, :] - out_sum[rows][:, None]
    gain = d * (l1 - l2 + d)
    bad = (out_bin[rows][:, None] == out_bin[None, :]) | (l1 + d > cap + EPS) | (l2 - d > cap + EPS)
    gain[bad] = -np.inf
    top = float(gain.max())
    if top <= 1e-6:
        return ()
    cand = np.flatnonzero(gain.ravel() >= top - 1e-6)
    r, o2 = divmod(int(cand[int(rng.integers(cand.shape[0]))]), out_sum.shape[0])
    o1 = int(rows[r])
    b1, b2 = int(out_bin[o1]), int(out_bin[o2])
    first = np.searchsorted(out_bin, [b1, b2])
    s1, s2 = outs[b1][o1 - int(first[0])], outs[b2][o2 - int(first[1])]
    bins[b1] = [x for x in bins[b1] if x not in s1] + list(s2)
    bins[b2] = [x for x in bins[b2] if x not in s2] + list(s1)
    return b1, b2


def improve(
    volumes: np.ndarray,
    capacity: float,
    assign: np.ndarray,
    *,
    target: int,
    budget: Budget,
    seed: int = 0,
) -> np.ndarray:
    """Empty the least-filled bin while the count exceeds ``target`` (see the module
    docstring, step 3); returns the best packing found (never more bins than ``assign``)."""
    sizes = np.asarray(volumes, dtype=float)
    cap = float(capacity)
    rng = np.random.default_rng(seed)
    best = assign
    bins: list[list[int]] = [[] for _ in range(n_bins(assign))]
    for i, b in enumerate(assign.tolist()):
        bins[b].append(i)
    attempt = 0
    while len(bins) > target and budget.steps > 0 and time.monotonic() < budget.deadline:
        loads = np.array([float(sizes[b].sum()) for b in bins])
        # the least-filled bin, and on later attempts one or two random bins with it
        extra_bins = 0 if attempt == 0 else int(rng.integers(1, 3))
        others = rng.permutation(np.argsort(loads, kind="stable")[1:])[:extra_bins]
        picks = {int(np.argmin(loads)), *others.tolist()}
        work = [list(b) for k, b in enumerate(bins) if k not in picks]
        free = [i for k in sorted(picks) for i in bins[k]]
        attempt += 1
        free = _drain(work, free, sizes, cap, rng, budget, spare=len(picks) - 1)
        packed = first_fit_decreasing(sizes[free], cap) if free else np.empty(0, np.int64)
        if len(work) + n_bins(packed) <= len(bins):
            # keep the rearranged bins (the free items packed first fit decreasing)
            was = len(bins)
            bins = work + [
                [free[i] for i in np.flatnonzero(packed == k)] for k in range(n_bins(packed))
            ]
            if len(bins) < was:
                attempt = 0
                best = np.empty(sizes.shape[0], dtype=np.int64)
                for k, items in enumerate(bins):
                    best[items] = k
    return relabel(volumes, best)


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
