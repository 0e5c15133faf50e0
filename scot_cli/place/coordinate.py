"""Dantzig-Wolfe price coordination of sku batches, with a Lagrangian lower bound.

The placement LP separates by sku except for the shared rows ``G v <= h``: FC storage, FC
throughput and the regional speed targets (a few dozen rows). With prices ``p >= 0`` on
them every sku batch is an independent LP (its Lagrangian subproblem); the sum of their
optima minus ``p h`` is a lower bound on the whole LP's optimum (weak duality; Fisher,
*Management Science* 27, 1981) for any ``p`` up to the rows' slack penalties.

Each round solves every batch at the current prices, each batch LP warm-started from its
previous basis (HiGHS dual simplex; batches in threads), and adds each batch's solution as a
column of a restricted master LP: convex weights per batch, the shared rows and their
penalised slacks (the disaggregated Dantzig-Wolfe master; Dantzig & Wolfe, *Operations
Research* 8, 1960). The master's optimum is an upper bound (its weights are a feasible plan);
its row duals, smoothed towards the best prices so far (Wentges, *ITOR* 4, 1997), are the
next prices. The rounds stop when the master is within the tolerance of the best bound.

The plan: the master's convex combination itself, each unit's batch solutions averaged with
the master's weights (each batch stores the nonzero values of the columns it gave). It is a
feasible point of the whole LP that costs the master's optimum (less where the master paid
slack it did not need), so within the tolerance of the bound.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from scot_cli.place import highs
from scot_cli.place.fairshare import scarce
from scot_cli.place.model import (
    LinearProgram,
    LPSolution,
    Prices,
    build_lp,
    dot,
    speed_regions,
)
from scot_cli.place.options import PlaceOptions
from scot_cli.place.plan import Plan, fair_bounds, plan_from_solution
from scot_cli.place.problem import PlaceProblem

if TYPE_CHECKING:
    import scipy.sparse as sp

#: Wentges smoothing: the next prices are the best prices so far plus this share of the step
#: to the master's duals; the share halves after a round that did not raise the bound
#: (down to MIN_STEP) and grows by half after one that did.
STEP = 0.5
MIN_STEP = 0.05
#: Solver of the master LP: the interior point method (IPX) with crossover to an optimal
#: vertex, solved anew each round. Its columns are dense (every unit's use of every shared
#: row), so each simplex iteration prices thousands of dense columns, and each round's new
#: columns cost thousands of iterations from the last basis; IPX takes a few dozen
#: iterations whatever the columns, and its crossover little more (measured at 3,000 skus:
#: 4.3 against 8.1 CPU s over the 7 master solves, dual simplex from the last basis; the
#: same rounds, bound, plan and constraint rows). The vertex keeps the weights and duals of
#: a simplex solve: most units take a single column, and rows with slack have no price.
MASTER_OPTIONS: dict[str, bool | str] = {
    "output_flag": False,
    "presolve": "off",
    "solver": "ipm",
    "run_crossover": "on",
}
#: Skus per HiGHS model of a batch: the batch LP separates by sku once the shared rows are
#: priced, and the dual simplex's work per iteration grows with the model, so small models
#: solve a batch from a cold start in about 35% less CPU than one model of 100 skus, and
#: warm re-solves no slower (measured at 10,000 skus: 20 and 10 skus alike).
PIECE = 20
#: Options of a re-solve when IPX stops short of an optimum: the dual simplex (for good).
MASTER_FALLBACK: dict[str, bool | str | int] = {"solver": "simplex", "simplex_strategy": 1}


@dataclass
class Batch:
    """One sku batch: its LP without the shared rows, their coefficients and its solver."""

    prob: PlaceProblem
    lp: LinearProgram
    shared: sp.csc_matrix  # (K, n) coefficients of the shared rows
    fair: np.ndarray
    sku: np.ndarray  # (n,) sku (position in the batch) of each variable
    owner: np.ndarray  # (n,) master unit (group of skus in the batch) of each variable
    units: int
    #: the batch LP's independent pieces: (their variables, HiGHS model), kept for warm starts
    models: list[tuple[np.ndarray, Any]] | None = None
    last: np.ndarray | None = None
    #: the columns this batch gave the master: (first master column, variable positions,
    #: values, column of each value relative to the first), nonzero values of changed units
    columns: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)


@dataclass
class Coordination:
    """Outcome of :func:`coordinate`: batch plans, the best bound, the last master optimum,
    the prices of the best bound and each round's values."""

    plans: list[Plan]
    bound: float
    upper: float
    prices: Prices
    history: list[tuple[float, float]]  # per round: Lagrangian value, master optimum


@dataclass(frozen=True)
class Rows:
    """The shared rows ``G v <= h`` of the whole problem: K = F storage + F throughput + R
    speed rows, ``active`` where the limit exists, ``penalty`` per unit of slack."""

    h: np.ndarray
    active: np.ndarray
    penalty: np.ndarray

    def prices(self, p: np.ndarray, n_f: int) -> Prices:
        return Prices(p[:n_f].copy(), p[n_f : 2 * n_f].copy(), p[2 * n_f :].copy())


def shared_rows(prob: PlaceProblem, options: PlaceOptions) -> Rows:
    """The right-hand sides, existence and slack penalties of the shared rows."""
    n_f, n_r = len(prob.fcs), len(prob.regions)
    stock = (prob.volume[:, None] * prob.current).sum(axis=0)
    finite_s, finite_t = np.isfinite(prob.storage), np.isfinite(prob.throughput)
    speed = np.zeros(n_r, dtype=bool)
    speed[speed_regions(prob, options)] = True
    need = options.speed_share * prob.mu.sum(axis=0)
    h = np.concatenate(
        [
            np.where(finite_s, prob.storage - stock, 0.0),
            np.where(finite_t, prob.throughput, 0.0),
            np.where(speed, -need, 0.0),
        ]
    )
    penalty = np.concatenate(
        [np.full(2 * n_f, options.overflow_penalty), np.full(n_r, options.speed_penalty)]
    )
    return Rows(h, np.concatenate([finite_s, finite_t, speed]), penalty)


def shared_matrix(prob: PlaceProblem, options: PlaceOptions, lp: LinearProgram) -> sp.csc_matrix:
    """(K, n) coefficients of the shared rows over ``lp``'s variables (as in ``G v <= h``)."""
    import scipy.sparse as sp

    n_f, n_r = len(prob.fcs), len(prob.regions)
    b, ix = lp.blocks, lp.index
    y_e = ix["y"][1]
    col_y = np.arange(b["y"].start, b["y"].stop)
    days = options.speed_days if options.speed_days is not None else -1
    fast = prob.arc_days[y_e] <= days
    parts = [
        (n_f + prob.arc_fc[y_e], col_y, np.ones(y_e.size)),
        (2 * n_f + prob.arc_region[y_e[fast]], col_y[fast], -np.ones(int(fast.sum()))),
    ]
    for name, sign in (("tin", 1.0), ("tout", -1.0), ("rec", 1.0)):
        s, f = ix[name]
        col = np.arange(b[name].start, b[name].stop)
        parts.append((f, col, sign * prob.volume[s]))
        parts.append((n_f + f, col, np.ones(s.size)))
    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    vals = np.concatenate([p[2] for p in parts])
    return sp.csc_matrix((vals, (rows, cols)), shape=(2 * n_f + n_r, lp.c.size))


def make_batch(sub: PlaceProblem, options: PlaceOptions, fair_share: bool, group: int) -> Batch:
    """The batch of ``sub``'s skus: its LP with the shared rows left out (unpriced costs);
    the master takes one column per ``group`` consecutive skus."""
    n_f, n_r = len(sub.fcs), len(sub.regions)
    free = np.full(n_f, np.inf)
    sub = replace(sub, storage=free, throughput=free)
    fair = scarce(sub) if fair_share else np.zeros(len(sub.skus), dtype=bool)
    zero = Prices(np.zeros(n_f), np.zeros(n_f), np.zeros(n_r))
    lp = build_lp(sub, options, fair_bounds(sub, fair) if fair_share else None, zero)
    sku = np.concatenate([lp.index[k][0] for k in ("y", "z", "tin", "tout", "rec")])
    units = -(-len(sub.skus) // group)
    return Batch(sub, lp, shared_matrix(sub, options, lp), fair, sku, sku // group, units)


def _priced(batch: Batch, p: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Solve ``batch`` at prices ``p``: (priced optimum, then for the master units (sku
    groups) whose solution changed: their positions (m,), unpriced costs (m,) and use of the
    shared rows (K, m))."""
    import scipy.sparse as sp

    c = batch.lp.c + batch.shared.T @ p
    if batch.models is None:
        batch.models = highs.pieces(replace(batch.lp, c=c), batch.sku, PIECE)
    else:
        for cols, h in batch.models:
            highs.set_costs(h, c[cols])
    v = np.zeros(c.size)
    for cols, h in batch.models:
        v[cols] = highs.run(h, "place: batch LP")
    n_s = batch.units
    if batch.last is None:
        changed = np.arange(n_s)
    else:
        moved = np.bincount(batch.owner, np.abs(v - batch.last), minlength=n_s)
        changed = np.flatnonzero(moved > 1e-9)
    batch.last = v
    keep = np.isin(batch.owner, changed)
    pos = np.searchsorted(changed, batch.owner[keep])
    onehot = sp.csc_matrix(
        (np.ones(pos.size), (np.flatnonzero(keep), pos)), shape=(v.size, changed.size)
    )
    cost = onehot.T @ (batch.lp.c * v)
    use = (batch.shared @ sp.diags(v) @ onehot).toarray()
    nz = np.flatnonzero(keep & (v != 0.0)).astype(np.int32)
    col = np.searchsorted(changed, batch.owner[nz]).astype(np.int32)
    batch.columns.append((-1, nz, v[nz], col))
    return dot(c, v) + batch.lp.const, changed, cost, use


class Master:
    """The restricted master LP, kept between rounds (columns added, re-solved).

    Rows: one convexity row per unit (a sku or a group of skus: its column weights sum to
    1), then the active shared rows ``sum use * weight - slack <= h``. Columns: the slacks,
    then the units' columns.
    """

    def __init__(self, n_skus: int, rows: Rows, const: float) -> None:
        import highspy

        self.rows, self.const, self.n_skus = rows, const, n_skus
        self.active = np.flatnonzero(rows.active)
        n_k = self.active.size
        inf = highspy.kHighsInf
        self.h = highs.new()
        for key, value in MASTER_OPTIONS.items():
            self.h.setOptionValue(key, value)
        m = highspy.HighsLp()
        m.num_col_, m.num_row_ = n_k, n_skus + n_k
        m.col_cost_ = rows.penalty[self.active]
        m.col_lower_ = np.zeros(n_k)
        m.col_upper_ = np.full(n_k, inf)
        m.row_lower_ = np.concatenate([np.ones(n_skus), np.full(n_k, -inf)])
        m.row_upper_ = np.concatenate([np.ones(n_skus), rows.h[self.active]])
        m.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        m.a_matrix_.start_ = np.arange(n_k + 1, dtype=np.int32)
        m.a_matrix_.index_ = np.arange(n_skus, n_skus + n_k, dtype=np.int32)
        m.a_matrix_.value_ = -np.ones(n_k)
        self.h.passModel(m)
        self.n_cols = 0
        self.unit: list[np.ndarray] = []

    def add(self, sku: np.ndarray, cost: np.ndarray, use: np.ndarray) -> int:
        """Columns of skus at global positions ``sku`` (m,): costs (m,), use (K, m); returns
        the position of the first among the units' columns."""
        import highspy
        import scipy.sparse as sp

        use = use[self.active]
        conv = sp.csc_matrix(
            (np.ones(sku.size), (sku, np.arange(sku.size))), shape=(self.n_skus, sku.size)
        )
        block = sp.vstack([conv, sp.csc_matrix(use)], format="csc")
        block.eliminate_zeros()
        self.h.addCols(
            sku.size,
            cost,
            np.zeros(sku.size),
            np.full(sku.size, highspy.kHighsInf),
            block.nnz,
            block.indptr[:-1].astype(np.int32),
            block.indices.astype(np.int32),
            block.data,
        )
        first = self.n_cols
        self.n_cols += sku.size
        self.unit.append(sku)
        return first

    def solve(self) -> tuple[float, np.ndarray]:
        """(optimum, prices of every shared row (K,): minus the duals, within the penalties).

        Should IPX stop short of an optimum, the dual simplex solves this master and the
        later ones."""
        highs.run(self.h, "place: master LP", fallback=MASTER_FALLBACK)
        duals = np.zeros(self.rows.h.size)
        row_dual = np.asarray(self.h.getSolution().row_dual)[self.n_skus :]
        duals[self.active] = np.clip(-row_dual, 0.0, self.rows.penalty[self.active])
        return float(self.h.getInfo().objective_function_value) + self.const, duals

    def weights(self) -> np.ndarray:
        """The units' column weights of the last solve (in the order the columns came),
        rescaled to sum to exactly 1 per unit (HiGHS meets the convexity rows only within
        its feasibility tolerance), so that the combination keeps each batch's own rows."""
        x = np.clip(np.asarray(self.h.getSolution().col_value)[self.active.size :], 0.0, None)
        unit = np.concatenate(self.unit)
        total = np.bincount(unit, x, minlength=self.n_skus)
        out: np.ndarray = x / total[unit]
        return out


def coordinate(
    subs: list[PlaceProblem],
    options: PlaceOptions,
    rows: Rows,
    start: np.ndarray,
    *,
    fair_share: bool = False,
    tolerance: float,
    max_rounds: int,
    workers: int,
    group: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Coordination:
    """Price rounds over the batches ``subs`` until the master is within ``tolerance`` of
    the bound (or ``max_rounds``), then each batch's plan from the master's weights.

    The master has a convex-weight row per ``group`` consecutive skus of a batch: one sku
    per unit converges in the fewest rounds, larger groups keep the master small."""
    n_f = len(subs[0].fcs)
    p, best_p, bound, upper = start.copy(), start.copy(), -np.inf, np.inf
    sizes = np.array([-(-len(s.skus) // group) for s in subs])
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rounds, step = 0, STEP
    history: list[tuple[float, float]] = []
    with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        batches = list(pool.map(lambda s: make_batch(s, options, fair_share, group), subs))
        master = Master(int(sizes.sum()), rows, sum(b.lp.const for b in batches))
        while rounds < max_rounds:
            rounds += 1
            found = list(pool.map(_priced, batches, [p] * len(batches)))
            value = sum(f[0] for f in found) - float(p @ rows.h)
            for i, (_, changed, cost, use) in enumerate(found):
                column = batches[i].columns.pop()
                if changed.size:
                    at = master.add(first[i] + changed, cost, use)
                    batches[i].columns.append((at, *column[1:]))
            if value > bound:
                bound, best_p, step = value, p, min(1.5 * step, STEP)
            elif rounds > 1:
                step = max(step / 2, MIN_STEP)
            upper, duals = master.solve()
            history.append((value, upper))
            if progress is not None:
                progress(rounds, max_rounds + 1)
            if upper - bound <= tolerance * max(abs(bound), 1e-9):
                break
            target = capped(duals, best_p, n_f) if rounds == 1 else duals
            p = best_p + step * (target - best_p)
        weights = master.weights()
        plans = [combined(b, weights) for b in batches]
    return Coordination(plans, bound, upper, rows.prices(best_p, n_f), history)


def capped(duals: np.ndarray, best: np.ndarray, n_f: int) -> np.ndarray:
    """The master's duals limited to twice the largest best price of their family (storage,
    throughput, speed rows) where that family has a price (a box step around the stability
    centre; du Merle et al., *Discrete Mathematics* 194, 1999).

    Used for the step after the first round only: that master has one column per unit, so
    it meets the limits the start prices' solutions overshoot only through its slacks, whose
    duals are the penalties, orders of magnitude above any useful price; a step towards them
    made the next rounds' bounds worthless (measured at 1,000 and 10,000 skus). Capping
    later steps too stalled the rounds at 10,000 skus: a price that must outgrow twice its
    family's largest could not, and the master kept paying for slack.
    """
    out = duals.copy()
    for part in (slice(0, n_f), slice(n_f, 2 * n_f), slice(2 * n_f, None)):
        top = float(best[part].max(initial=0.0))
        if top > 0:
            out[part] = np.minimum(out[part], 2 * top)
    return out


def combined(batch: Batch, weights: np.ndarray) -> Plan:
    """The plan of ``batch`` under the master's solution: each unit's columns averaged
    with their master weights (the convex combination the master priced, so the plans
    together cost at most the master's optimum and meet the shared rows up to its slacks).
    """
    batch.models = None
    v = np.zeros(batch.lp.c.size)
    for at, idx, vals, col in batch.columns:
        v[idx] += weights[at + col] * vals
    sol = LPSolution(v, dot(batch.lp.c, v) + batch.lp.const, {}, "optimal")
    return plan_from_solution(batch.prob, batch.lp, sol, batch.fair)


def chunks(n: int, size: int) -> Iterator[np.ndarray]:
    """Consecutive sku positions in batches of ``size``."""
    for i in range(0, n, size):
        yield np.arange(i, min(i + size, n))
