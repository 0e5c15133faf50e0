"""``scot place``: position stock across fulfillment centers for delivery speed and cost."""

from __future__ import annotations

from typing import Any

import typer

from scot_cli.place.options import PlaceOptions, parse_speed_target
from scot_cli.place.registry import SOLVERS
from scot_cli.place.schema import FORECAST_IN, RECEIPTS_IN

from ._common import (
    choice_option,
    epilog,
    help_models_option,
    info,
    output_option,
    progress,
    renamed,
    table_option,
    warn,
)

EXAMPLE = (
    "scot place out/forecast.parquet --items fixtures/items.parquet "
    "--inventory fixtures/inventory.parquet --nodes fixtures/nodes.parquet "
    "--lanes fixtures/lanes.parquet --speed-target 1:0.8 -o out/placement.parquet"
)
DEFAULTS = PlaceOptions()


def place(
    forecast: str = typer.Argument(..., help="Forecast by sku and region, or -."),
    items: str = table_option("items", required=True, help="Item master (costs, volumes)."),
    inventory: str = table_option("inventory", required=True, help="Stock per sku and node."),
    nodes: str = table_option("nodes", required=True, help="Network nodes (FCs, regions)."),
    lanes: str = table_option("lanes", required=True, help="Lanes (FC -> region paths)."),
    receipts: str | None = table_option("receipts", help="Arriving buys (plan-buy's orders)."),
    speed_target: str | None = typer.Option(
        None,
        "--speed-target",
        metavar="DAYS:SHARE",
        help="1:0.8: 80% of demand from FCs within 1 day.",
    ),
    fair_share: bool = typer.Option(
        False, "--fair-share", help="Scarce skus: buys by equal days of cover."
    ),
    solver: str = choice_option(SOLVERS, DEFAULTS.solver, "--solver", help="LP solver."),
    period_days: int = typer.Option(
        DEFAULTS.period_days, "--days", help="Planning period in days."
    ),
    transfer_cost: float = typer.Option(
        DEFAULTS.transfer_cost, "--transfer-cost", help="Cost per unit moved."
    ),
    late_cost: float = typer.Option(
        DEFAULTS.late_cost, "--late-cost", help="Cost per unit per day late."
    ),
    speed_penalty: float = typer.Option(
        DEFAULTS.speed_penalty, "--speed-penalty", help="Cost per unit of target missed."
    ),
    batch_size: int = typer.Option(
        DEFAULTS.batch_size, "--batch-size", help="0: one LP; N: batches of N skus."
    ),
    out: str | None = output_option(
        "-o", "--output", help="Placement Parquet (default stdout).", stdout=True
    ),
    coverage_out: str | None = output_option("--coverage-out", help="Coverage Parquet."),
    constraints_out: str | None = output_option(
        "--constraints-out", help="Constraints Parquet (shadow prices)."
    ),
    _models: bool = help_models_option(SOLVERS),
) -> None:
    """Target units per sku and FC, the transfers to reach them, coverage and shadow prices."""
    from scot_cli.io import Run
    from scot_cli.place import place as decide
    from scot_cli.place.schema import CONSTRAINTS, COVERAGE, PLACEMENT

    options = PlaceOptions(
        period_days=period_days,
        speed_target=parse_speed_target(speed_target),
        fair_share=fair_share,
        solver=solver,
        transfer_cost=transfer_cost,
        late_cost=late_cost,
        speed_penalty=speed_penalty,
        batch_size=batch_size,
    )
    with progress("placing") as bar:
        result = decide(
            forecast,
            items=items,
            inventory=inventory,
            nodes=nodes,
            lanes=lanes,
            receipts=receipts,
            options=options,
            progress=bar,
        )
    run = Run("place", params=options.params(), sources=list(result.sources))
    extra: dict[str, Any] = {"summary": result.summary.as_dict()}
    run.write(result.placement, out, PLACEMENT, extra=extra)
    if coverage_out:
        run.write(result.coverage, coverage_out, COVERAGE, extra=extra)
    if constraints_out:
        run.write(result.constraints, constraints_out, CONSTRAINTS, extra=extra)
    info(result.summary.headline())
    note = result.summary.unmet_note()
    if note:
        warn(note)


def register(app: typer.Typer) -> None:
    renamed("place", {"--supply": "--receipts", "--late-penalty": "--late-cost"})
    app.command(
        "place",
        help="Position stock across FCs for delivery speed and cost.",
        epilog=epilog(
            EXAMPLE,
            more=f"Input columns: {FORECAST_IN.help_columns()}; {RECEIPTS_IN.help_columns()}; "
            "the others as in docs/schemas.md.",
        ),
    )(place)
