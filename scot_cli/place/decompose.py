"""Batched solve of large placement LPs: price-coordinated sku batches.

One LP over every sku grows faster than linearly in solve time. The shared constraints (FC
storage, FC throughput, regional speed targets) are the only ones that couple skus, so the
skus are solved in batches coordinated by prices on those rows
(:mod:`scot_cli.place.coordinate`: Dantzig-Wolfe rounds with a Lagrangian lower bound):

1. **Pilot**: the same coordination on an evenly spaced sample of skus with the shared
   limits scaled to the sample's share, from zero prices; its prices start step 2.
2. **Rounds**: every batch solved at the current prices (warm-started from its previous
   basis, batches in parallel), a master LP over the batch solutions found so far, its
   duals as the next prices, until the master's value is within the tolerance of the
   Lagrangian bound.
3. **Plan**: the master's convex combination of the batch solutions.

The plan's cost is at most the master's value, so within the tolerance of a proven lower
bound on the single LP's optimum (``Plan.bound``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from scot_cli.place import highs
from scot_cli.place.coordinate import chunks, coordinate, shared_rows
from scot_cli.place.model import (
    Bounds,
    LinearProgram,
    LPSolution,
    Prices,
    build_lp,
    dot,
    speed_regions,
)
from scot_cli.place.options import PlaceOptions
from scot_cli.place.plan import Plan, before, plan_from_solution, solve
from scot_cli.place.problem import PlaceProblem

#: Relative gap between the master's value and the Lagrangian bound that ends the rounds:
#: the goal itself (a plan within 0.1% of the proven bound), so no round is spent past it.
TOLERANCE = 1e-3
#: Rounds at most (the plan and the bound are reported whatever the gap then).
MAX_ROUNDS = 40
#: The pilot's gap that ends its rounds (its prices only start the full rounds).
PILOT_TOLERANCE = 1e-3
#: Share of the skus in the pilot sample (at least two batches).
PILOT_SHARE = 0.1
#: Skus per LP when today's positions are scored: with the moves fixed only the allocation
#: is left, and the throughput and speed rows each LP keeps make the simplex's factors
#: denser as the LP grows, so small LPs cost about half the CPU per sku of batches of 100
#: (measured at 1,000 skus, 10 FCs, 50 regions).
BEFORE_BATCH = 20
#: Solver options of those LPs: no presolve and devex pricing, as the batch LPs; the fixed
#: moves cost the simplex less than presolve takes to remove them (measured: 3.0 against
#: 3.8 CPU s over the LPs of 1,000 skus, the same optima and cost parts).
BEFORE_OPTIONS = {**highs.BATCH_OPTIONS}
#: Most convexity rows of the master LP: beyond this many skus, each master column covers a
#: group of skus, so that the master's solve time stays bounded.
MASTER_UNITS = 1000


def solve_batched(
    prob: PlaceProblem,
    options: PlaceOptions,
    *,
    batch_size: int = 200,
    solver: str | None = None,
    fair_share: bool = False,
    progress: Callable[[int, int], None] | None = None,
    tolerance: float = TOLERANCE,
    max_rounds: int = MAX_ROUNDS,
    workers: int = 2,
) -> Plan:
    """Solve ``prob`` in sku batches coordinated by prices on the shared rows.

    Parameters
    ----------
    prob, options
        The placement problem and policy.
    batch_size
        Skus per batch; one plain solve when all fit in one.
    solver
        A name of :data:`scot_cli.place.registry.SOLVERS` for that plain solve; the batches
        are solved with HiGHS (warm starts need its basis).
    fair_share
        Fix scarce skus' receipts by equal days of cover (as :func:`scot_cli.place.plan.solve`).
    progress
        Optional ``(done, total)`` callback over the price rounds.
    tolerance, max_rounds
        Stop when the master is within ``tolerance`` (relative) of the bound, or after
        ``max_rounds`` rounds.
    workers
        Threads solving batches at once (HiGHS releases the GIL while it solves).

    Returns
    -------
    Plan
        The merged plan; ``bound`` is a Lagrangian lower bound on the single LP's optimum.
    """
    n_s = len(prob.skus)
    if n_s <= batch_size:
        return solve(prob, options, solver=solver, fair_share=fair_share)
    start = pilot_prices(
        prob, options, batch_size=batch_size, fair_share=fair_share, workers=workers
    )
    rows = shared_rows(prob, options)
    found = coordinate(
        [prob.take(r) for r in chunks(n_s, batch_size)],
        options,
        rows,
        start,
        fair_share=fair_share,
        tolerance=tolerance,
        max_rounds=max_rounds,
        workers=workers,
        group=-(-n_s // MASTER_UNITS),
        progress=progress,
    )
    merged = merge(prob, options, found.plans, found.prices)
    merged.bound = found.bound
    merged.rounds = len(found.history)
    merged.history = found.history
    return merged


def solve_and_score_batched(
    prob: PlaceProblem,
    options: PlaceOptions,
    *,
    batch_size: int,
    fair_share: bool = False,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 2,
) -> tuple[Plan, Plan]:
    """(:func:`solve_batched`, :func:`before_batched`) of ``prob``, today's positions scored
    in a thread of their own: their LPs fill the core the price rounds leave idle while the
    master LP solves (HiGHS releases the GIL), and neither result depends on the other."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        base = pool.submit(before_batched, prob, options, batch_size=batch_size, workers=1)
        plan = solve_batched(
            prob,
            options,
            batch_size=batch_size,
            fair_share=fair_share,
            progress=progress,
            workers=workers,
        )
        return plan, base.result()


def pilot_prices(
    prob: PlaceProblem,
    options: PlaceOptions,
    *,
    batch_size: int,
    fair_share: bool = False,
    workers: int = 2,
) -> np.ndarray:
    """Prices of the shared rows (K,) coordinated on an evenly spaced sku sample whose
    storage and throughput are scaled to its share of the stock volume and demand;
    zeros when the sample would be the whole problem."""
    n_s = len(prob.skus)
    size = max(2 * batch_size, round(PILOT_SHARE * n_s))
    rows_all = shared_rows(prob, options)
    if size >= n_s // 2:
        return np.zeros(rows_all.h.size)
    rows = np.unique(np.linspace(0, n_s - 1, size).round().astype(np.int64))
    vol = prob.volume * (prob.current.sum(axis=1) + prob.arriving)
    vol_share = vol[rows].sum() / max(vol.sum(), 1e-12)
    dem_share = prob.mu[rows].sum() / max(prob.mu.sum(), 1e-12)
    sub = replace(
        prob.take(rows), storage=prob.storage * vol_share, throughput=prob.throughput * dem_share
    )
    found = coordinate(
        [sub.take(r) for r in chunks(len(rows), batch_size)],
        options,
        shared_rows(sub, options),
        np.zeros(rows_all.h.size),
        fair_share=fair_share,
        tolerance=PILOT_TOLERANCE,
        max_rounds=MAX_ROUNDS,
        workers=workers,
        group=-(-len(rows) // MASTER_UNITS),
    )
    p = found.prices
    return np.concatenate([p.storage, p.throughput, p.speed])


def before_batched(
    prob: PlaceProblem,
    options: PlaceOptions,
    *,
    batch_size: int = 200,
    solver: str | None = None,
    workers: int = 2,
) -> Plan:
    """Today's positions scored batch by batch, each with its demand share of the limits
    (one plain evaluation when all skus fit in one batch; otherwise HiGHS on LPs of at
    most :data:`BEFORE_BATCH` skus)."""
    from concurrent.futures import ThreadPoolExecutor

    n_s = len(prob.skus)
    if n_s <= batch_size:
        return before(prob, options, solver=solver)
    total = max(float(prob.mu.sum()), 1e-12)

    def one(rows: np.ndarray) -> Plan:
        sub = prob.take(rows)
        share = float(sub.mu.sum()) / total
        sub = replace(
            sub,
            arriving=np.zeros(rows.size),
            storage=_inf(prob.storage),
            throughput=prob.throughput * share,
            speed_rhs=options.speed_share * sub.mu.sum(axis=0),
            # with no moves an FC without stock ships nothing: leaving its arcs out of the
            # LP keeps the same feasible plans in about 30% fewer columns
            eligible=sub.eligible & (sub.current > 0),
        )
        zero = np.zeros_like(sub.current)
        lp = build_lp(sub, options, Bounds(tin=(zero, zero), tout=(zero, zero), rec=(zero, zero)))
        v = highs.run(highs.model(lp, BEFORE_OPTIONS), "place: today's positions")
        sol = LPSolution(v, dot(lp.c, v) + lp.const, {}, "optimal")
        return plan_from_solution(sub, lp, sol, np.zeros(rows.size, dtype=bool))

    with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        plans = list(pool.map(one, chunks(n_s, min(batch_size, BEFORE_BATCH))))
    zero = Prices(np.zeros(len(prob.fcs)), np.zeros(len(prob.fcs)), np.zeros(len(prob.regions)))
    return merge(replace(prob, arriving=np.zeros_like(prob.arriving)), options, plans, zero)


def usage(plan: Plan, options: PlaceOptions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(F,) storage volume, (F,) units handled and (R,) fast units of a plan."""
    prob = plan.prob
    store = (prob.volume[:, None] * plan.target).sum(axis=0)
    thru = (plan.tin + plan.tout + plan.rec).sum(axis=0)
    np.add.at(thru, prob.arc_fc, plan.flow.sum(axis=0))
    fast = np.zeros(len(prob.regions))
    quick = prob.arc_days <= (options.speed_days if options.speed_days is not None else -1)
    np.add.at(fast, prob.arc_region[quick], plan.flow[:, quick].sum(axis=0))
    return store, thru, fast


def allocate(
    prob: PlaceProblem,
    options: PlaceOptions,
    batches: list[np.ndarray],
    use: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each batch's share of storage, throughput and the speed requirement."""
    sizes = np.array([len(b) for b in batches], float)
    store = _split(np.array([u[0] for u in use]), prob.storage, sizes)
    thru = _split(np.array([u[1] for u in use]), prob.throughput, sizes)
    need = options.speed_share * prob.mu.sum(axis=0) if options.speed_days else None
    if need is None:
        fast = np.zeros((len(batches), len(prob.regions)))
    else:
        mu_b = np.array([prob.mu[b].sum(axis=0) for b in batches])
        fast = _share_need(np.array([u[2] for u in use]), need, mu_b)
    return [(store[i], thru[i], fast[i]) for i in range(len(batches))]


def _split(used: np.ndarray, limit: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Split ``limit`` (F,) over batches in proportion to ``used`` (B, F); spare by use."""
    total = used.sum(axis=0)
    weight = np.where(
        total > 1e-12, used / np.where(total > 1e-12, total, 1.0), (sizes / sizes.sum())[:, None]
    )
    finite = np.isfinite(limit)
    out = np.where(finite, weight * np.where(finite, limit, 0.0), np.inf)
    return out


def _share_need(fast: np.ndarray, need: np.ndarray, mu_b: np.ndarray) -> np.ndarray:
    """Speed requirement per batch: scaled-down use when enough, else use plus demand share."""
    total = fast.sum(axis=0)
    scaled = fast * np.divide(need, total, out=np.zeros_like(need), where=total > 1e-12)
    dem = mu_b.sum(axis=0)
    extra = (need - total)[None, :] * np.divide(
        mu_b, dem, out=np.zeros_like(mu_b), where=dem > 1e-12
    )
    out: np.ndarray = np.where((total >= need)[None, :], scaled, fast + extra)
    return out


def merge(prob: PlaceProblem, options: PlaceOptions, plans: list[Plan], prices: Prices) -> Plan:
    """One plan over all skus from the batch plans; shadow prices are the pilot's."""
    cat = np.concatenate
    lp = _shared_index(prob, options)
    plan = Plan(
        prob,
        cat([p.tin for p in plans]),
        cat([p.tout for p in plans]),
        cat([p.rec for p in plans]),
        cat([p.flow for p in plans]),
        cat([p.sales for p in plans]),
        {},
        {
            "storage": prices.storage[lp.index["s_store"][0]],
            "throughput": prices.throughput[lp.index["s_thru"][0]],
            "speed": prices.speed[lp.index["s_speed"][0]],
        },
        {},
        lp,
        cat([p.fair for p in plans]),
    )
    store, thru, fast = usage(plan, options)
    need = options.speed_share * prob.mu.sum(axis=0)
    plan.slack = {
        "store": np.maximum(store - prob.storage, 0.0)[lp.index["s_store"][0]],
        "thru": np.maximum(thru - prob.throughput, 0.0)[lp.index["s_thru"][0]],
        "speed": np.maximum(need - fast, 0.0)[lp.index["s_speed"][0]],
    }
    costs = {k: sum(p.costs[k] for p in plans) for k in plans[0].costs}
    costs["penalties"] = options.overflow_penalty * float(
        plan.slack["store"].sum() + plan.slack["thru"].sum()
    ) + options.speed_penalty * float(plan.slack["speed"].sum())
    plan.costs = costs
    return plan


def _shared_index(prob: PlaceProblem, options: PlaceOptions) -> LinearProgram:
    """An empty LP that only carries the whole problem's shared-constraint index sets."""
    import scipy.sparse as sp

    index: dict[str, tuple[np.ndarray, ...]] = {
        "s_store": (np.flatnonzero(np.isfinite(prob.storage)),),
        "s_thru": (np.flatnonzero(np.isfinite(prob.throughput)),),
        "s_speed": (speed_regions(prob, options),),
    }
    empty = np.zeros(0)
    matrix = sp.csr_matrix((0, 0))
    return LinearProgram(empty, 0.0, matrix, empty, matrix, empty, empty, empty, {}, index, {})


def _inf(like: np.ndarray) -> np.ndarray:
    return np.full_like(like, np.inf)
