"""``scot route``: fulfilment assignment and truck consolidation; ``last-mile`` builds routes."""

from __future__ import annotations

import typer

from scot_cli.route.registry import METHODS

from ._common import (
    choice_option,
    default_group,
    epilog,
    help_models_option,
    info,
    output_option,
    progress,
    renamed,
    seed_option,
    table_option,
    time_limit_option,
    warn,
)

EXAMPLE = (
    "scot route promises.parquet --inventory fixtures/inventory.parquet "
    "--nodes fixtures/nodes.parquet --lanes fixtures/lanes.parquet -o shipments.parquet"
)
LAST_MILE_EXAMPLE = (
    "scot route last-mile stops.parquet --nodes fixtures/nodes.parquet --vehicles 8 "
    "--capacity 120 -o routes.parquet"
)


def run_route(
    promises: str = typer.Argument(..., help="Promised order lines (scot promise), or - ."),
    inventory: str = table_option("inventory", required=True, help="Stock per sku and node."),
    nodes: str = table_option("nodes", required=True, help="Network nodes."),
    lanes: str = table_option("lanes", required=True, help="Lanes with trucks and schedules."),
    items: str | None = table_option("items", help="Item master (unit_volume)."),
    orders: str | None = table_option("orders", help="Orders, for a missing qty, destination."),
    method: str = choice_option(METHODS, "auto", "--method", help="Assignment method."),
    time_limit: float = time_limit_option(30.0, help="Solver seconds."),
    seed: int = seed_option(help="Local search seed."),
    split_cost: float = typer.Option(2.0, "--split-cost", help="Cost per extra box."),
    late_cost: float = typer.Option(10_000.0, "--late-cost", help="Cost per unit-day late."),
    min_fill: float = typer.Option(0.5, "--min-fill", help="Flag trucks below this fill."),
    hold: bool = typer.Option(False, "--hold", help="Lines may wait for a later departure."),
    mip_max_options: int = typer.Option(
        60_000, "--mip-max-options", min=0, show_default=False, help="auto: MIP up to 60000."
    ),
    out: str | None = output_option(
        "-o", "--output", help="Shipments (default stdout).", stdout=True
    ),
    trucks_out: str | None = output_option("--trucks-out", help="Trucks Parquet."),
    _models: bool = help_models_option(METHODS),
) -> None:
    """Choose FC, path, departure and truck for every promised line (with reasons)."""
    from scot_cli.io import Run
    from scot_cli.route.api import attach_orders, check_inputs, route
    from scot_cli.route.assign import RouteOptions
    from scot_cli.route.schema import PROMISE_LINES, SHIPMENTS, TRUCKS
    from scot_cli.schema import INVENTORY, ITEMS, LANES, NODES, ORDERS

    opt = RouteOptions(
        method=method,
        time_limit=time_limit,
        seed=seed,
        split_cost=split_cost,
        late_cost=late_cost,
        min_fill=min_fill,
        hold=hold,
        mip_max_options=mip_max_options,
    )
    run = Run("route", params=opt.params(), seed=seed)
    lines = run.read(promises, PROMISE_LINES, role="promises")
    orders_df = run.read_optional(orders, ORDERS, role="orders")
    inventory_df = run.read(inventory, INVENTORY, role="inventory")
    nodes_df = run.read(nodes, NODES, role="nodes")
    lanes_df = run.read(lanes, LANES, role="lanes")
    items_df = run.read_optional(items, ITEMS, role="items")
    names = {"promises": promises, "nodes": nodes, "lanes": lanes}
    check_inputs(attach_orders(lines, orders_df), nodes=nodes_df, lanes=lanes_df, names=names)
    with progress("routing") as bar:
        result = route(
            lines,
            nodes=nodes_df,
            lanes=lanes_df,
            inventory=inventory_df,
            items=items_df,
            orders=orders_df,
            options=opt,
            progress=bar,
        )
    s = result.summary
    run.write(result.shipments, out, SHIPMENTS, extra={"summary": s.as_dict()})
    if trucks_out:
        run.write(result.trucks, trucks_out, TRUCKS, extra={"summary": s.as_dict()})
    info(f"route: {s}")
    if s.unshipped or s.late:
        warn(f"{s.late + s.unshipped} line(s) late or unshipped; see the status and reason columns")


def run_last_mile(
    stops: str = typer.Argument(..., help="Stops to deliver (Parquet), or - ."),
    nodes: str = table_option("nodes", required=True, help="Nodes with the stations' lat, lon."),
    vehicles: int = typer.Option(
        10, "--vehicles", max=10_000, help="Vehicles available per station."
    ),
    capacity: float = typer.Option(
        100.0, "--capacity", max=1e9, help="Volume one vehicle carries."
    ),
    speed_kmh: float = typer.Option(
        40.0, "--speed", max=1_000.0, help="Average speed in km/h (at least 0.1)."
    ),
    shift_minutes: float = typer.Option(
        600.0, "--shift", max=10_080.0, help="Minutes a vehicle may be out (a week at most)."
    ),
    time_limit: float = time_limit_option(5.0, help="Wall seconds of search per station."),
    seed: int = seed_option(help="Seed of the first search (the others take the next seeds)."),
    seeds: int | None = typer.Option(
        None,
        "--seeds",
        min=1,
        max=64,
        help="Searches in parallel per station, best kept [default: one per core].",
    ),
    out: str | None = output_option(
        "-o", "--output", help="Routes Parquet (default stdout).", stdout=True
    ),
) -> None:
    """Build vehicle routes from each delivery station (CVRP, VRPTW with PyVRP).

    Every stop must be served unless it has a prize; prints the length, the routes and the gap
    to a lower bound."""
    from scot_cli.io import Run
    from scot_cli.route.api import last_mile
    from scot_cli.route.lastmile import LastMileOptions
    from scot_cli.route.schema import ROUTES, STOPS
    from scot_cli.schema import NODES
    from scot_cli.validate import check_references

    opt = LastMileOptions(
        vehicles=vehicles,
        capacity=capacity,
        speed_kmh=speed_kmh,
        shift_minutes=shift_minutes,
        time_limit=time_limit,
        seed=seed,
        seeds=seeds,
    )
    run = Run("route last-mile", params=opt.params(), seed=seed)
    stops_df = run.read(stops, STOPS, role="stops")
    nodes_df = run.read(nodes, NODES, role="nodes")
    known = nodes_df["node"].to_list()
    check_references(stops_df, "station", known, source=stops, known_source=nodes, what="station")
    with progress("routing vehicles") as bar:
        result = last_mile(stops_df, nodes=nodes_df, options=opt, progress=bar)
    run.write(result.routes, out, ROUTES, extra={"summary": result.summary.as_dict()})
    info(f"route last-mile: {result.summary}")
    if result.summary.unassigned:
        warn(f"{result.summary.unassigned} stop(s) unassigned; see the reason column")


def register(app: typer.Typer) -> None:
    from scot_cli.route.schema import PROMISE_LINES, STOPS

    sub = default_group(
        "route", "Fulfilment assignment and trucks; 'last-mile' builds vehicle routes."
    )
    sub.command(
        "run",
        help=(run_route.__doc__ or "").strip(),
        epilog=epilog(EXAMPLE, [PROMISE_LINES]),
    )(run_route)
    sub.command(
        "last-mile",
        help=(run_last_mile.__doc__ or "").strip(),
        epilog=epilog(LAST_MILE_EXAMPLE, [STOPS]),
    )(run_last_mile)
    app.add_typer(sub, name="route")
    for path in ("route", "route run"):
        renamed(path, {"-m": "--method"})
    renamed("route last-mile", {"--stations": "--nodes"})
