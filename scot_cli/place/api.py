"""The placement call behind ``scot place``: frames (or paths) in, a :class:`PlaceResult` out.

:func:`place` turns a regional forecast, stock positions, arriving buys and the network into
target units per sku and FC, the transfers that reach them, the regional delivery-speed
coverage before and after, and the shadow prices of the shared constraints::

    result = place("out/forecast.parquet", items=items, inventory=inventory, nodes=nodes,
                   lanes=lanes, speed_target="2:0.8")
    print(result.summary)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from scot_cli.errors import InfeasibleError
from scot_cli.place.decompose import solve_and_score_batched
from scot_cli.place.options import PlaceOptions, parse_speed_target
from scot_cli.place.plan import COST_PARTS, Plan, before, solve
from scot_cli.place.problem import PlaceProblem, build_problem
from scot_cli.place.registry import SOLVERS
from scot_cli.place.report import constraints_frame, coverage_frame, placement_frame
from scot_cli.place.schema import FORECAST_IN, RECEIPTS_IN
from scot_cli.schema import INVENTORY, ITEMS, LANES, NODES, Table
from scot_cli.validate import check_network

if TYPE_CHECKING:
    from scot_cli.io import Source

__all__ = [
    "COST_PARTS",
    "SOLVERS",
    "PlaceOptions",
    "PlaceProblem",
    "PlaceResult",
    "PlaceSummary",
    "TableInput",
    "build_problem",
    "check_servable",
    "decide_from_inputs",
    "parse_speed_target",
    "place",
]

#: A table argument: a frame, or the path of a Parquet (or Arrow IPC) file.
TableInput = pl.DataFrame | str | Path

#: Input role -> the table it is validated against.
_TABLES: dict[str, Table] = {
    "forecast": FORECAST_IN,
    "items": ITEMS,
    "inventory": INVENTORY,
    "nodes": NODES,
    "lanes": LANES,
    "receipts": RECEIPTS_IN,
}

#: Constraint statuses the summary reports as unmet.
UNMET = ("violated", "unreachable")


@dataclass(frozen=True)
class PlaceSummary:
    """What a placement did, in numbers and in the lines a person reads.

    Attributes
    ----------
    skus, fcs
        Skus placed and FCs they are placed at.
    transferred
        Units moved between FCs.
    coverage_before, coverage_after
        Network share of expected demand served within one delivery day, from today's
        positions and after the placement (None when no demand is forecast).
    cost_before, cost_after
        Expected cost by part (:data:`COST_PARTS`) before and after.
    unmet
        ``(constraint, node)`` of every violated or unreachable constraint.
    bound
        With the batched solve, a Lagrangian lower bound on the single LP's expected cost
        (:func:`scot_cli.place.decompose.solve_batched`); None for the single LP, whose
        plan is optimal.
    """

    skus: int
    fcs: int
    transferred: float
    coverage_before: float | None
    coverage_after: float | None
    cost_before: dict[str, float]
    cost_after: dict[str, float]
    unmet: tuple[tuple[str, str], ...]
    bound: float | None = None

    @property
    def gap(self) -> float | None:
        """``(cost after - bound) / |bound|``: how far the batched plan can be from optimal
        (None without a bound)."""
        if self.bound is None or self.bound == 0:
            return None
        return (sum(self.cost_after.values()) - self.bound) / abs(self.bound)

    def headline(self) -> str:
        """One line: skus x FCs, units transferred, coverage and cost before -> after."""
        parts = [
            f"place: {self.skus:,} skus x {self.fcs} FCs",
            f"{self.transferred:,.0f} units transferred",
        ]
        if self.coverage_before is not None and self.coverage_after is not None:
            parts.append(f"1-day coverage {self.coverage_before:.1%} -> {self.coverage_after:.1%}")
        before, after = sum(self.cost_before.values()), sum(self.cost_after.values())
        parts.append(f"expected cost {before:,.2f} -> {after:,.2f}")
        if self.gap is not None:
            parts.append(f"within {max(self.gap, 0.0):.3%} of a lower bound")
        return "; ".join(parts)

    def unmet_note(self) -> str | None:
        """The constraints that cannot be met (None when every one is)."""
        if not self.unmet:
            return None
        names = ", ".join(f"{c} {n}" for c, n in self.unmet[:6])
        more = f" and {len(self.unmet) - 6} more" if len(self.unmet) > 6 else ""
        return (
            f"{len(self.unmet)} constraint(s) cannot be met and are kept as penalised slack: "
            f"{names}{more}; see the constraints output"
        )

    def lines(self) -> list[str]:
        """The headline, then the unmet constraints when any."""
        note = self.unmet_note()
        return [self.headline(), *([note] if note else [])]

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def as_dict(self) -> dict[str, Any]:
        """Costs after and before and the unmet constraints (recorded in the outputs)."""
        return {
            "cost_after": {k: round(v, 4) for k, v in self.cost_after.items()},
            "cost_before": {k: round(v, 4) for k, v in self.cost_before.items()},
            "violated": [list(u) for u in self.unmet],
            **({} if self.bound is None else {"bound": round(self.bound, 4), "gap": self.gap}),
        }


@dataclass(frozen=True)
class PlaceResult:
    """The three output frames, the solved plans and the summary.

    ``placement`` (key sku, node), ``coverage`` (region, days) and ``constraints``
    (constraint, node) follow :mod:`scot_cli.place.schema`; ``plan`` and ``before`` are the
    solved placement and today's positions (costs, duals, the LP); ``sources`` the files
    read (role, path, SHA-256) for the tables given as paths, which the command records.
    """

    placement: pl.DataFrame
    coverage: pl.DataFrame
    constraints: pl.DataFrame
    plan: Plan
    before: Plan
    options: PlaceOptions
    summary: PlaceSummary
    sources: tuple[Source, ...] = ()


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
        why = "no sku has stock on hand, in transit or arriving (receipts)"
    elif not reach.any():
        why = "no lane path leads from an FC to a region"
    else:
        why = "no FC holding a sku reaches a region with demand for it"
    raise InfeasibleError(
        f"place: nothing can be placed: {why}; check the inventory, receipts and lanes"
    )


def place(
    forecast: TableInput,
    *,
    items: TableInput,
    inventory: TableInput,
    nodes: TableInput,
    lanes: TableInput,
    receipts: TableInput | None = None,
    options: PlaceOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    **option_fields: Any,
) -> PlaceResult:
    """Place stock across FCs for the first ``options.period_days`` days of the forecast.

    Parameters
    ----------
    forecast
        Forecast by sku and region node (``scot forecast``'s output: ``sku, location, date,
        mean`` and optionally ``p10``, ``p90``).
    items, inventory, nodes, lanes
        The item master, stock per sku and node, and the network.
    receipts
        Arriving buys (plan-buy's orders: ``sku, arrival_date, qty``), or None.
    options
        :class:`PlaceOptions` (default: all defaults).
    progress
        Optional ``(done, total)`` callback.
    **option_fields
        Fields of :class:`PlaceOptions` to change (``speed_target="2:0.8"``).

    Every table is a polars frame or the path of a Parquet file, validated as ``scot
    place`` validates its files.

    Returns
    -------
    PlaceResult
        Placement, coverage and constraints frames, the solved plans and a summary.

    Raises
    ------
    OptionError
        An option outside its domain, naming the field.
    InputDataError
        An input that breaks its schema or names an unknown node.
    InfeasibleError
        Demand is forecast but nothing can be placed, or the solver found no solution.
    """
    from scot_cli.io import Run, read_input

    opts = (options or PlaceOptions()).replace(**option_fields)
    run = Run("place")
    given: dict[str, TableInput | None] = {
        "forecast": forecast,
        "items": items,
        "inventory": inventory,
        "nodes": nodes,
        "lanes": lanes,
        "receipts": receipts,
    }
    frames: dict[str, pl.DataFrame] = {}
    names: dict[str, str] = {}
    for role, value in given.items():
        if value is not None:
            frames[role], names[role] = read_input(value, _TABLES[role], role=role, reader=run)
    checked = {"lanes": frames["lanes"], "inventory": frames["inventory"]}
    check_network(frames["nodes"], checked, sources=names)
    prob = build_problem(
        forecast=frames["forecast"],
        items=frames["items"],
        inventory=frames["inventory"],
        nodes=frames["nodes"],
        lanes=frames["lanes"],
        receipts=frames.get("receipts"),
        period_days=opts.period_days,
        transfer_cost=opts.transfer_cost,
    )
    check_servable(prob)
    if 0 < opts.batch_size < len(prob.skus):
        plan, base = solve_and_score_batched(
            prob,
            opts,
            batch_size=opts.batch_size,
            fair_share=opts.fair_share,
            progress=progress,
        )
    else:
        plan = solve(prob, opts, fair_share=opts.fair_share, progress=progress)
        base = before(prob, opts)
    placement = placement_frame(plan)
    coverage = coverage_frame(plan, base)
    constraints = constraints_frame(plan, opts)
    summary = _summary(placement, coverage, constraints, plan, base)
    return PlaceResult(
        placement, coverage, constraints, plan, base, opts, summary, tuple(run.sources)
    )


def _summary(
    placement: pl.DataFrame,
    coverage: pl.DataFrame,
    constraints: pl.DataFrame,
    plan: Plan,
    base: Plan,
) -> PlaceSummary:
    one_day = coverage.filter((pl.col("region") == "ALL") & (pl.col("days") == 1))
    has_demand = one_day.height > 0 and float(one_day["expected_demand"][0]) > 0
    unmet = constraints.filter(pl.col("status").is_in(UNMET)).select("constraint", "node")
    return PlaceSummary(
        skus=len(plan.prob.skus),
        fcs=len(plan.prob.fcs),
        transferred=float(placement["transfer_in"].sum()),
        coverage_before=float(one_day["share_before"][0]) if has_demand else None,
        coverage_after=float(one_day["share_after"][0]) if has_demand else None,
        cost_before=dict(base.costs),
        cost_after=dict(plan.costs),
        unmet=tuple((str(c), str(n)) for c, n in unmet.rows()),
        bound=plan.bound,
    )


def decide_from_inputs(
    inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]
) -> pl.DataFrame:
    """Recompute the placement frame from inputs by role and the recorded parameters.

    ``inputs`` holds the roles ``forecast``, ``items``, ``inventory``, ``nodes``, ``lanes``
    and optionally ``receipts`` (``supply`` in runs recorded before the rename); ``params``
    the parameters ``scot place`` records (:meth:`PlaceOptions.from_params`). Exactly what
    the command does between read and write.
    """
    result = place(
        inputs["forecast"],
        items=inputs["items"],
        inventory=inputs["inventory"],
        nodes=inputs["nodes"],
        lanes=inputs["lanes"],
        receipts=inputs.get("receipts", inputs.get("supply")),
        options=PlaceOptions.from_params(params),
    )
    return result.placement
