"""``scot place``: position stock across fulfillment centers for delivery speed and cost."""

from __future__ import annotations

from typing import Any

import typer

from scot_cli.errors import UsageError
from scot_cli.schema import INVENTORY, ITEMS, LANES, NODES

from ._common import epilog, info, output_option, progress, warn

EXAMPLE = (
    "scot place out/forecast.parquet --items fixtures/items.parquet "
    "--inventory fixtures/inventory.parquet --nodes fixtures/nodes.parquet "
    "--lanes fixtures/lanes.parquet --supply out/orders.parquet --speed-target 1:0.8 "
    "-o placement.parquet --coverage-out coverage.parquet --constraints-out constraints.parquet"
)
#: Solver names and help; the registry itself lives in scot_cli.place.model.SOLVERS.
SOLVER_HELP = "highs (default, HiGHS simplex), clarabel (interior point), scs (first-order)"


def place(
    forecast: str = typer.Argument(..., help="Forecast by sku and region (scot forecast), or -."),
    items: str = typer.Option(..., "--items", help="Item master (costs, unit_volume)."),
    inventory: str = typer.Option(..., "--inventory", help="Stock per sku and node."),
    nodes: str = typer.Option(..., "--nodes", help="Network nodes (FC capacities, regions)."),
    lanes: str = typer.Option(..., "--lanes", help="Lanes (FC -> region paths, vendor costs)."),
    supply: str | None = typer.Option(None, "--supply", help="Arriving buys (plan-buy orders)."),
    speed_target: str | None = typer.Option(
        None,
        "--speed-target",
        metavar="DAYS:SHARE",
        help="e.g. 1:0.8: at least 80% of each region's expected demand from FCs within 1 day "
        "(soft; misses are reported as violations).",
    ),
    fair_share: bool = typer.Option(
        False,
        "--fair-share",
        help="Scarce skus: receive buys by equal days of cover, no transfers.",
    ),
    solver: str = typer.Option("highs", "--solver", help=SOLVER_HELP),
    period_days: int = typer.Option(7, "--days", min=1, max=3_660, help="Planning period in days."),
    transfer_cost: float = typer.Option(
        0.5, "--transfer-cost", min=0.0, help="Cost per unit moved between FCs."
    ),
    late_penalty: float = typer.Option(
        0.1, "--late-penalty", min=0.0, help="Cost per unit per day slower than the target."
    ),
    speed_penalty: float = typer.Option(
        5.0, "--speed-penalty", min=0.0, help="Cost per unit the speed target is missed by."
    ),
    batch_size: int = typer.Option(
        0,
        "--batch-size",
        min=0,
        help="0: one LP over all skus; N: solve in batches of N skus coordinated by shadow "
        "prices (for thousands of skus; see docs/commands/place.md).",
    ),
    out: str | None = output_option(
        "-o", "--output", help="Placement Parquet (default stdout).", stdout=True
    ),
    coverage_out: str | None = output_option("--coverage-out", help="Coverage Parquet."),
    constraints_out: str | None = output_option(
        "--constraints-out", help="Constraints Parquet (shadow prices)."
    ),
) -> None:
    """Target units per sku and FC, the transfers to reach them, coverage and shadow prices."""
    from scot_cli.io import Run
    from scot_cli.place import SOLVERS, parse_speed_target
    from scot_cli.place import place as run_place
    from scot_cli.place.schema import CONSTRAINTS, COVERAGE, FORECAST_IN, PLACEMENT, SUPPLY_IN

    if solver not in SOLVERS:
        raise UsageError(f"--solver: unknown solver {solver!r} (known: {', '.join(SOLVERS)})")
    speed = parse_speed_target(speed_target)
    params: dict[str, Any] = {
        "period_days": period_days,
        "speed_target": speed_target,
        "fair_share": fair_share,
        "solver": solver,
        "transfer_cost": transfer_cost,
        "late_penalty": late_penalty,
        "speed_penalty": speed_penalty,
        "batch_size": batch_size,
    }
    run = Run("place", params=params)
    frames: dict[str, Any] = {
        "forecast": run.read(forecast, FORECAST_IN, role="forecast"),
        "items": run.read(items, ITEMS, role="items"),
        "inventory": run.read(inventory, INVENTORY, role="inventory"),
        "nodes": run.read(nodes, NODES, role="nodes"),
        "lanes": run.read(lanes, LANES, role="lanes"),
        "supply": run.read_optional(supply, SUPPLY_IN, role="supply"),
    }
    with progress("placing") as bar:
        result = run_place(
            **frames,
            period_days=period_days,
            speed_target=speed,
            fair_share=fair_share,
            solver=solver,
            transfer_cost=transfer_cost,
            late_penalty=late_penalty,
            speed_penalty=speed_penalty,
            batch_size=batch_size,
            progress=bar,
        )
    summary = result.summary()
    run.write(result.placement, out, PLACEMENT, extra={"summary": summary})
    if coverage_out:
        run.write(result.coverage, coverage_out, COVERAGE, extra={"summary": summary})
    if constraints_out:
        run.write(result.constraints, constraints_out, CONSTRAINTS, extra={"summary": summary})
    _report(result)


def _report(result: Any) -> None:
    cov = result.coverage.filter(result.coverage["region"] == "ALL").sort("days")
    moved = result.placement["transfer_in"].sum()
    after, before = result.plan.total_cost, result.before.total_cost
    info(
        f"place: {result.placement['sku'].n_unique():,} skus x "
        f"{result.placement['node'].n_unique()} FCs; {moved:,.0f} units transferred; "
        f"1-day coverage {cov['share_before'][0]:.1%} -> {cov['share_after'][0]:.1%}; "
        f"expected cost {before:,.2f} -> {after:,.2f}"
    )
    bad = result.constraints.filter(result.constraints["status"].is_in(["violated", "unreachable"]))
    if bad.height:
        names = ", ".join(f"{c} {n}" for c, n in bad.select("constraint", "node").rows()[:6])
        more = f" and {bad.height - 6} more" if bad.height > 6 else ""
        warn(
            f"{bad.height} constraint(s) cannot be met and are kept as penalised slack: "
            f"{names}{more}; see the constraints output"
        )


def register(app: typer.Typer) -> None:
    app.command(
        "place",
        help="Position stock across FCs for delivery speed and cost (LP over the forecast).",
        epilog=epilog(
            EXAMPLE,
            [ITEMS, INVENTORY, NODES, LANES],
            more="Forecast: sku, location (region node), date, mean [p10] [p90]; "
            "supply: sku, arrival_date, qty [status].",
        ),
    )(place)
