"""Batched solve of large placement LPs: price-coordinated sku batches.

One LP over every sku grows faster than linearly in solve time. The shared constraints (FC
storage, FC throughput, regional speed targets) are the only ones that couple skus, so:

1. **Pilot**: solve the full LP on an evenly spaced sample of skus with the shared limits
   scaled to the sample's share; its shadow prices estimate the whole problem's.
2. **Priced pass**: solve each batch with the shared constraints relaxed and priced at the
   pilot's shadow prices (Lagrangian relaxation; Fisher, *Management Science* 27, 1981), and
   record what each batch would use of each shared limit.
3. **Allocation pass**: give each batch a share of every limit in proportion to that use
   (resource-directive decomposition; Geoffrion 1970) and solve each batch with its share.

The plan is feasible whenever the whole problem's limits can be shared this way; the gap to
the single LP is measured in ``docs/benchmarks.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from scot_cli.place.fairshare import scarce
from scot_cli.place.model import (
    LinearProgram,
    Prices,
    build_lp,
    solve_lp,
    speed_regions,
)
from scot_cli.place.options import PlaceOptions
from scot_cli.place.plan import Plan, before, fair_bounds, plan_from_solution, solve
from scot_cli.place.problem import PlaceProblem


def solve_batched(
    prob: PlaceProblem,
    options: PlaceOptions,
    *,
    batch_size: int = 200,
    solver: str | None = None,
    fair_share: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Solve ``prob`` in sku batches coordinated by prices and shared-limit allocation.

    Parameters
    ----------
    prob, options
        The placement problem and policy.
    batch_size
        Skus per batch (and half the pilot sample); one plain solve when all fit in one.
    solver
        A name of :data:`scot_cli.place.registry.SOLVERS` (default ``options.solver``).
    fair_share
        Fix scarce skus' receipts by equal days of cover (as :func:`scot_cli.place.plan.solve`).
    progress
        Optional ``(done, total)`` callback over the batch solves.
    """
    n_s = len(prob.skus)
    if n_s <= batch_size:
        return solve(prob, options, solver=solver, fair_share=fair_share)
    batches = [np.arange(i, min(i + batch_size, n_s)) for i in range(0, n_s, batch_size)]
    total = 2 * len(batches) + 1
    prices = pilot_prices(prob, options, size=2 * batch_size, solver=solver)
    if progress is not None:
        progress(1, total)
    use, relaxed = [], 0.0
    for i, rows in enumerate(batches):
        sub = replace(prob.take(rows), storage=_inf(prob.storage), throughput=_inf(prob.storage))
        fair = scarce(sub) if fair_share else np.zeros(len(rows), dtype=bool)
        lp = build_lp(sub, options, fair_bounds(sub, fair) if fair_share else None, prices)
        sol = solve_lp(lp, solver=solver or options.solver)
        relaxed += sol.objective
        use.append(usage(plan_from_solution(sub, lp, sol, fair), options))
        if progress is not None:
            progress(2 + i, total)
    shares = allocate(prob, options, batches, use)
    plans = []
    for i, (rows, (store, thru, fast)) in enumerate(zip(batches, shares, strict=True)):
        sub = replace(prob.take(rows), storage=store, throughput=thru, speed_rhs=fast)
        plans.append(solve(sub, options, solver=solver, fair_share=fair_share))
        if progress is not None:
            progress(2 + len(batches) + i, total)
    plans = _repair(prob, options, shares, plans, batches, solver, fair_share)
    merged = merge(prob, options, plans, prices)
    merged.bound = relaxed + _price_constant(prob, options, prices)
    return merged


def _repair(
    prob: PlaceProblem,
    options: PlaceOptions,
    shares: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    plans: list[Plan],
    batches: list[np.ndarray],
    solver: str | None,
    fair_share: bool,
) -> list[Plan]:
    """Give storage that no batch used to the batches that overflowed theirs, and re-solve them.

    A proportional split can strand a batch whose stock outgrew its share while other FCs
    keep spare room; one round hands that room over in proportion to each batch's overflow.
    """
    over = np.zeros((len(plans), len(prob.fcs)))
    for i, plan in enumerate(plans):
        over[i, plan.lp.index["s_store"][0]] = plan.slack["store"]
    used = np.array([usage(p, options)[0] for p in plans]).sum(axis=0)
    finite = np.isfinite(prob.storage)
    spare = np.where(finite, np.maximum(np.where(finite, prob.storage, 0.0) - used, 0.0), 0.0)
    need = over.sum(axis=1)
    if need.sum() <= 1e-6 or spare.sum() <= 1e-6:
        return plans
    out = list(plans)
    for i in np.flatnonzero(need > 1e-6).tolist():
        store, thru, fast = shares[i]
        extra = spare * need[i] / need.sum()
        sub = replace(prob.take(batches[i]), storage=store + extra, throughput=thru, speed_rhs=fast)
        out[i] = solve(sub, options, solver=solver, fair_share=fair_share)
    return out


def _price_constant(prob: PlaceProblem, options: PlaceOptions, prices: Prices) -> float:
    """Terms of the Lagrangian that the priced batch LPs leave out.

    With prices ``p >= 0`` on ``g(x) <= b`` the Lagrangian adds ``p (g(x) - b)``; the batch
    LPs price the variable part of ``g``, so add the priced current stock volume and
    subtract the priced limits (the speed constraint ``need - fast <= 0`` adds ``p need``).
    The sum of the batch optima plus this is a lower bound on the single LP's optimum
    (weak duality; valid while each price is at most its slack's penalty).
    """
    stock = (prob.volume[:, None] * prob.current).sum(axis=0)
    finite_s = np.isfinite(prob.storage)
    finite_t = np.isfinite(prob.throughput)
    out = float((prices.storage * (stock - np.where(finite_s, prob.storage, 0.0)))[finite_s].sum())
    out -= float((prices.throughput * np.where(finite_t, prob.throughput, 0.0))[finite_t].sum())
    if options.speed_days is not None:
        out += float((prices.speed * options.speed_share * prob.mu.sum(axis=0)).sum())
    return out


def before_batched(
    prob: PlaceProblem, options: PlaceOptions, *, batch_size: int = 200, solver: str | None = None
) -> Plan:
    """Today's positions scored batch by batch, each with its demand share of the limits."""
    n_s = len(prob.skus)
    if n_s <= batch_size:
        return before(prob, options, solver=solver)
    plans = []
    total = max(float(prob.mu.sum()), 1e-12)
    for i in range(0, n_s, batch_size):
        rows = np.arange(i, min(i + batch_size, n_s))
        sub = prob.take(rows)
        share = float(sub.mu.sum()) / total
        sub = replace(
            sub,
            storage=_inf(prob.storage),
            throughput=prob.throughput * share,
            speed_rhs=options.speed_share * sub.mu.sum(axis=0),
        )
        plans.append(before(sub, options, solver=solver))
    zero = Prices(np.zeros(len(prob.fcs)), np.zeros(len(prob.fcs)), np.zeros(len(prob.regions)))
    return merge(replace(prob, arriving=np.zeros_like(prob.arriving)), options, plans, zero)


def pilot_prices(
    prob: PlaceProblem, options: PlaceOptions, *, size: int, solver: str | None = None
) -> Prices:
    """Shadow prices of the shared limits from the full LP on an evenly spaced sku sample."""
    n_s, n_f, n_r = prob.shape
    rows = np.unique(np.linspace(0, n_s - 1, min(size, n_s)).round().astype(np.int64))
    sub = prob.take(rows)
    vol = prob.volume * (prob.current.sum(axis=1) + prob.arriving)
    vol_share = vol[rows].sum() / max(vol.sum(), 1e-12)
    dem_share = prob.mu[rows].sum() / max(prob.mu.sum(), 1e-12)
    sub = replace(sub, storage=prob.storage * vol_share, throughput=prob.throughput * dem_share)
    plan = solve(sub, options, solver=solver)
    out = Prices(np.zeros(n_f), np.zeros(n_f), np.zeros(n_r))
    for name, key in (("storage", "s_store"), ("throughput", "s_thru"), ("speed", "s_speed")):
        (ids,) = plan.lp.index[key]
        getattr(out, name)[ids] = plan.duals.get(name, np.zeros(ids.size))
    return out


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
