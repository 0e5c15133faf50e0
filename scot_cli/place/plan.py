"""Solve a placement problem: the LP plan, fair share, fixed-target evaluation, costs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from scot_cli.place.fairshare import equal_cover, nearest_demand, scarce
from scot_cli.place.model import Bounds, LinearProgram, LPSolution, build_lp, dot, solve_lp
from scot_cli.place.options import PlaceOptions
from scot_cli.place.problem import PlaceProblem

#: Cost components reported in the provenance and the benchmarks.
COST_PARTS = ("holding", "moves", "shipping", "late", "shortage", "penalties")


@dataclass
class Plan:
    """Moves, allocations and expected sales of one solved placement."""

    prob: PlaceProblem
    tin: np.ndarray
    tout: np.ndarray
    rec: np.ndarray
    flow: np.ndarray
    sales: np.ndarray
    slack: dict[str, np.ndarray]
    duals: dict[str, np.ndarray]
    costs: dict[str, float]
    lp: LinearProgram
    fair: np.ndarray
    bound: float | None = None
    rounds: int | None = None
    history: list[tuple[float, float]] | None = None

    @property
    def target(self) -> np.ndarray:
        """(S, F) target units: current + receipts + transfers in - transfers out."""
        out: np.ndarray = self.prob.current + self.rec + self.tin - self.tout
        return out

    @property
    def total_cost(self) -> float:
        return float(sum(self.costs.values()))


def solve(
    prob: PlaceProblem,
    options: PlaceOptions,
    *,
    solver: str | None = None,
    fair_share: bool = False,
    bounds: Bounds | None = None,
    time_limit: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Build and solve the placement LP; with ``fair_share`` fix scarce skus' receipts.

    ``solver`` overrides ``options.solver``; ``fair_share`` is explicit (not
    ``options.fair_share``) because the batched solve's pilot solves without it.

    Under fair share, skus whose supply is short of expected demand receive their arriving
    buys by equal days of cover (:func:`scot_cli.place.fairshare.equal_cover`) and make no
    transfers; the LP still decides which region each unit serves.
    """
    fair = np.zeros(len(prob.skus), dtype=bool)
    if fair_share:
        fair = scarce(prob)
        bounds = fair_bounds(prob, fair)
    lp = build_lp(prob, options, bounds)
    sol = solve_lp(lp, solver=solver or options.solver, time_limit=time_limit, progress=progress)
    return plan_from_solution(prob, lp, sol, fair)


def evaluate(
    prob: PlaceProblem, target: np.ndarray, options: PlaceOptions, *, solver: str | None = None
) -> Plan:
    """Cost and service of fixed targets (S, F): only the region allocation is optimised.

    ``target`` must hold current stock plus arriving buys per sku; receipts go where the
    target exceeds current stock, in proportion to the gap.
    """
    gap_in = np.maximum(target - prob.current, 0.0)
    gap_out = np.maximum(prob.current - target, 0.0)
    total = gap_in.sum(axis=1, keepdims=True)
    rec = np.divide(
        gap_in * prob.arriving[:, None], total, out=np.zeros_like(gap_in), where=total > 0
    )
    tin = np.maximum(gap_in - rec, 0.0)
    fixed = Bounds(tin=(tin, tin), tout=(gap_out, gap_out), rec=(rec, rec))
    lp = build_lp(prob, options, fixed)
    return plan_from_solution(
        prob,
        lp,
        solve_lp(lp, solver=solver or options.solver),
        np.zeros(len(prob.skus), dtype=bool),
    )


def before(prob: PlaceProblem, options: PlaceOptions, *, solver: str | None = None) -> Plan:
    """Today's positions: current stock only, no transfers and no arriving buys."""
    still = replace(prob, arriving=np.zeros_like(prob.arriving))
    return evaluate(still, prob.current, options, solver=solver)


def proportional_targets(prob: PlaceProblem) -> np.ndarray:
    """The simple rule: each FC gets supply in proportion to the demand of its nearest regions.

    Skus without such demand keep their current stock and receive their arriving buys at
    their eligible FCs in proportion to the stock held there (equally when none is held),
    so every row sums to current stock plus arriving buys as :func:`evaluate` requires.
    """
    demand = nearest_demand(prob) * prob.eligible
    supply = prob.current.sum(axis=1) + prob.arriving
    total = demand.sum(axis=1, keepdims=True)
    share = np.divide(demand, total, out=np.zeros_like(demand), where=total > 0)
    held = prob.current * prob.eligible
    base = np.where(held.sum(axis=1, keepdims=True) > 0, held, prob.eligible.astype(float))
    size = base.sum(axis=1, keepdims=True)
    keep = prob.current + np.divide(
        base * prob.arriving[:, None], size, out=np.zeros_like(base), where=size > 0
    )
    out: np.ndarray = np.where(total > 0, share * supply[:, None], keep)
    return out


def fair_bounds(prob: PlaceProblem, fair: np.ndarray) -> Bounds:
    """Receipts of the ``fair`` skus fixed by equal days of cover; their transfers at 0."""
    alloc = equal_cover(prob.current, nearest_demand(prob) * prob.eligible, prob.arriving)
    n_s, n_f, _ = prob.shape
    inf = np.full((n_s, n_f), np.inf)
    zero = np.zeros((n_s, n_f))
    rows = fair[:, None]
    rec_lo = np.where(rows, alloc, 0.0)
    rec_hi = np.where(rows, alloc, inf)
    move_hi = np.where(rows, 0.0, inf)
    return Bounds(tin=(zero, move_hi), tout=(zero, move_hi), rec=(rec_lo, rec_hi))


def plan_from_solution(
    prob: PlaceProblem, lp: LinearProgram, sol: LPSolution, fair: np.ndarray
) -> Plan:
    """Read a solved LP back into per-sku arrays and the cost breakdown."""
    n_s, n_f, n_r = prob.shape
    v = sol.v

    def dense(name: str) -> np.ndarray:
        out = np.zeros((n_s, n_f))
        s, f = lp.index[name]
        out[s, f] = v[lp.blocks[name]]
        return out

    flow = np.zeros((n_s, prob.arc_fc.size))
    y_s, y_e = lp.index["y"]
    flow[y_s, y_e] = v[lp.blocks["y"]]
    z_s, z_r, _ = lp.index["z"]
    # in the order of the z variables from 0, as np.add.at on zeros (the same bits)
    sales = np.bincount(
        z_s * n_r + z_r, weights=v[lp.blocks["z"]] * lp.gains, minlength=n_s * n_r
    ).reshape(n_s, n_r)
    slack = {k: v[lp.blocks[f"s_{k}"]] for k in ("store", "thru", "speed")}
    return Plan(
        prob,
        dense("tin"),
        dense("tout"),
        dense("rec"),
        flow,
        sales,
        slack,
        sol.duals,
        _costs(prob, lp, v),
        lp,
        fair,
    )


def _costs(prob: PlaceProblem, lp: LinearProgram, v: np.ndarray) -> dict[str, float]:
    b = lp.blocks
    y_e = lp.index["y"][1]
    ship = dot(prob.arc_cost[y_e], v[b["y"]])
    hold = float((prob.holding * prob.current).sum()) + dot(lp.c[b["tout"]], v[b["tout"]])
    hold += dot(prob.holding[lp.index["tin"]], v[b["tin"]])
    hold += dot(prob.holding[lp.index["rec"]], v[b["rec"]])
    moves = dot(prob.transfer_cost[lp.index["tin"]], v[b["tin"]])
    moves += dot(prob.inbound_cost[lp.index["rec"]], v[b["rec"]])
    shortage = float((prob.lost * prob.mu).sum()) + dot(lp.c[b["z"]], v[b["z"]])
    pen = sum(dot(lp.c[b[k]], v[b[k]]) for k in ("s_store", "s_thru", "s_speed"))
    late = dot(lp.c[b["y"]], v[b["y"]]) - ship
    return {
        "holding": hold,
        "moves": moves,
        "shipping": ship,
        "late": late,
        "shortage": shortage,
        "penalties": pen,
    }
