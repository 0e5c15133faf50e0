"""Stock placement across fulfillment centers for delivery speed and cost (``scot place``).

:func:`place` turns a regional forecast, stock positions, arriving buys and the network into
target units per sku and FC, the transfers that reach them, the regional delivery-speed
coverage before and after, and the shadow prices of the shared constraints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from scot_cli.errors import InfeasibleError, UsageError
from scot_cli.place.decompose import before_batched, solve_batched
from scot_cli.place.model import SOLVERS, Settings
from scot_cli.place.plan import COST_PARTS, Plan, before, solve
from scot_cli.place.problem import PlaceProblem, build_problem
from scot_cli.place.report import constraints_frame, coverage_frame, placement_frame
from scot_cli.validate import check_network

__all__ = [
    "COST_PARTS",
    "SOLVERS",
    "PlaceProblem",
    "PlaceResult",
    "Settings",
    "build_problem",
    "check_servable",
    "decide_from_inputs",
    "parse_speed_target",
    "place",
]

#: Defaults of every parameter :func:`place` and :func:`decide_from_inputs` accept.
DEFAULTS: dict[str, Any] = {
    "period_days": 7,
    "speed_target": None,
    "fair_share": False,
    "solver": "highs",
    "transfer_cost": 0.5,
    "late_penalty": 0.1,
    "speed_penalty": 5.0,
    "batch_size": 0,
}


@dataclass
class PlaceResult:
    """The three output frames, the solved plans and their cost breakdowns."""

    placement: pl.DataFrame
    coverage: pl.DataFrame
    constraints: pl.DataFrame
    plan: Plan
    before: Plan

    def summary(self) -> dict[str, Any]:
        """Costs after and before, and the constraint statuses (for provenance and logs)."""
        return {
            "cost_after": {k: round(v, 4) for k, v in self.plan.costs.items()},
            "cost_before": {k: round(v, 4) for k, v in self.before.costs.items()},
            "violated": self.constraints.filter(pl.col("status").is_in(["violated", "unreachable"]))
            .select("constraint", "node")
            .rows(),
        }


def check_servable(prob: PlaceProblem) -> None:
    """Raise :class:`InfeasibleError` when demand is forecast but no unit can serve any of it.

    A unit serves demand when its sku has stock or arriving buys, may be held at some FC,
    and that FC reaches a region with demand for the sku. A plan that serves some demand
    stays a plan (its unmet parts are reported in the constraints output).
    """
    import numpy as np

    if prob.mu.size == 0 or not (prob.mu > 0).any():
        return
    reach = np.zeros((len(prob.fcs), len(prob.regions)), dtype=bool)
    reach[prob.arc_fc, prob.arc_region] = True
    wanted = (prob.mu > 0).astype(np.int64) @ reach.T.astype(np.int64) > 0
    stocked = (prob.current.sum(axis=1) + prob.arriving) > 0
    if (stocked[:, None] & prob.eligible & wanted).any():
        return
    if not stocked.any():
        why = "no sku has stock on hand, in transit or arriving (--supply)"
    elif not reach.any():
        why = "no lane path leads from an FC to a region"
    else:
        why = "no FC holding a sku reaches a region with demand for it"
    raise InfeasibleError(
        f"place: nothing can be placed: {why}; check --inventory, --supply and --lanes"
    )


def parse_speed_target(text: str | None) -> tuple[int, float] | None:
    """Parse ``DAYS:SHARE`` (e.g. ``1:0.8`` or ``2:80%``) into (days, share in [0, 1]).

    >>> parse_speed_target("1:0.8")
    (1, 0.8)
    >>> parse_speed_target("2:90%")
    (2, 0.9)
    """
    if text is None or text == "":
        return None
    try:
        days_text, share_text = text.split(":")
        days = int(days_text)
        share = float(share_text.rstrip("%")) / (100 if share_text.endswith("%") else 1)
    except ValueError as exc:
        raise UsageError(
            f"--speed-target: expected DAYS:SHARE such as 1:0.8, got {text!r}"
        ) from exc
    if days < 1 or not 0 <= share <= 1:
        raise UsageError(f"--speed-target: days must be >= 1 and share in [0, 1], got {text!r}")
    return days, share


def place(
    *,
    forecast: pl.DataFrame,
    items: pl.DataFrame,
    inventory: pl.DataFrame,
    nodes: pl.DataFrame,
    lanes: pl.DataFrame,
    supply: pl.DataFrame | None = None,
    period_days: int = 7,
    speed_target: tuple[int, float] | None = None,
    fair_share: bool = False,
    solver: str = "highs",
    transfer_cost: float = 0.5,
    late_penalty: float = 0.1,
    speed_penalty: float = 5.0,
    batch_size: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> PlaceResult:
    """Place stock across FCs for the first ``period_days`` days of the forecast.

    Parameters
    ----------
    forecast, items, inventory, nodes, lanes
        Validated frames (forecast by sku and region node).
    supply
        Arriving buys (plan-buy's orders: ``sku, arrival_date, qty``), or None.
    period_days
        Planning period in days.
    speed_target
        ``(days, share)``: at least ``share`` of each region's expected demand allocated from
        FCs within ``days`` delivery days (soft: missed units cost ``speed_penalty``).
    fair_share
        Receive scarce skus' arriving buys by equal days of cover, without transfers.
    solver
        A key of :data:`SOLVERS`.
    transfer_cost, late_penalty, speed_penalty
        Cost per unit moved between FCs, per unit per day slower than the target, and per
        unit the speed target is missed by.
    batch_size
        0 for one LP over all skus; otherwise skus per batch of the batched solve
        (:mod:`scot_cli.place.decompose`) when there are more skus than that.
    progress
        Optional ``(done, total)`` callback.

    Returns
    -------
    PlaceResult
        Placement, coverage and constraints frames with the solved plans.
    """
    if solver not in SOLVERS:
        raise UsageError(f"--solver: unknown solver {solver!r} (known: {', '.join(SOLVERS)})")
    check_network(nodes, {"lanes": lanes, "inventory": inventory})
    prob = build_problem(
        forecast=forecast,
        items=items,
        inventory=inventory,
        nodes=nodes,
        lanes=lanes,
        supply=supply,
        period_days=period_days,
        transfer_cost=transfer_cost,
    )
    check_servable(prob)
    settings = Settings(
        speed_days=speed_target[0] if speed_target else None,
        speed_share=speed_target[1] if speed_target else 0.0,
        late_penalty=late_penalty,
        speed_penalty=speed_penalty,
    )
    if 0 < batch_size < len(prob.skus):
        plan = solve_batched(
            prob,
            settings,
            batch_size=batch_size,
            solver=solver,
            fair_share=fair_share,
            progress=progress,
        )
        base = before_batched(prob, settings, batch_size=batch_size, solver=solver)
    else:
        plan = solve(prob, settings, solver=solver, fair_share=fair_share, progress=progress)
        base = before(prob, settings, solver=solver)
    return PlaceResult(
        placement_frame(plan),
        coverage_frame(plan, base),
        constraints_frame(plan, settings),
        plan,
        base,
    )


def decide_from_inputs(
    inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]
) -> pl.DataFrame:
    """Recompute the placement frame from inputs by role and the recorded parameters.

    ``inputs`` holds the roles ``forecast``, ``items``, ``inventory``, ``nodes``, ``lanes``
    and optionally ``supply``; ``params`` the parameters ``scot place`` records (missing
    ones take :data:`DEFAULTS`). Exactly what the command does between read and write.
    """
    p = {**DEFAULTS, **{k: v for k, v in params.items() if k in DEFAULTS}}
    speed = p["speed_target"]
    result = place(
        forecast=inputs["forecast"],
        items=inputs["items"],
        inventory=inputs["inventory"],
        nodes=inputs["nodes"],
        lanes=inputs["lanes"],
        supply=inputs.get("supply"),
        period_days=int(p["period_days"]),
        speed_target=parse_speed_target(speed) if isinstance(speed, str) else speed,
        fair_share=bool(p["fair_share"]),
        solver=str(p["solver"]),
        transfer_cost=float(p["transfer_cost"]),
        late_penalty=float(p["late_penalty"]),
        speed_penalty=float(p["speed_penalty"]),
        batch_size=int(p["batch_size"]),
    )
    return result.placement
