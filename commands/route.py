"""``scot route``: fulfilment assignment and truck consolidation; ``last-mile`` builds routes."""

from __future__ import annotations

from typing import Any

import typer

from scot_cli.errors import UsageError
from scot_cli.schema import INVENTORY, ITEMS, LANES, NODES, ORDERS

from ._common import default_group, epilog, info, output_option, progress, warn

EXAMPLE = (
    "scot route out/promises.parquet --inventory fixtures/inventory.parquet "
    "--nodes fixtures/nodes.parquet --lanes fixtures/lanes.parquet "
    "--items fixtures/items.parquet --hold -o shipments.parquet --trucks-out trucks.parquet"
)
LAST_MILE_EXAMPLE = (
    "scot route last-mile stops.parquet --stations fixtures/nodes.parquet --vehicles 8 "
    "--capacity 120 --time-limit 5 -o routes.parquet"
)
SEED_OPT = typer.Option(0, "--seed", min=0, help="Random seed (local search, last-mile search).")
#: Longest search a run may ask for (a day); a larger limit is a typo, not a plan.
MAX_SECONDS = 86_400.0
TIME_OPT = typer.Option(
    30.0, "--time-limit", max=MAX_SECONDS, help="Seconds for the solver and local search."
)


def run_route(
    promises: str = typer.Argument(..., help="Promised order lines (scot promise), or - ."),
    inventory: str = typer.Option(..., "--inventory", help="Stock per sku and node."),
    nodes: str = typer.Option(..., "--nodes", help="Network nodes."),
    lanes: str = typer.Option(..., "--lanes", help="Lanes with trucks and schedules."),
    items: str | None = typer.Option(
        None, "--items", help="Item master (unit_volume; 1 when absent)."
    ),
    orders: str | None = typer.Option(
        None, "--orders", help="Orders, to join qty and destination when the promises lack them."
    ),
    method: str = typer.Option("auto", "--method", "-m", help="Assignment method (below)."),
    time_limit: float = TIME_OPT,
    seed: int = SEED_OPT,
    split_cost: float = typer.Option(
        2.0, "--split-cost", help="Cost per extra box when an order ships from several FCs."
    ),
    late_cost: float = typer.Option(
        10_000.0, "--late-cost", help="Penalty per unit and day late (high: promises come first)."
    ),
    min_fill: float = typer.Option(0.5, "--min-fill", help="Flag trucks filled below this."),
    hold: bool = typer.Option(
        False,
        "--hold",
        help="Let lines wait for a later departure "
        "when the promise still holds and trucks fill better.",
    ),
    mip_max_options: int = typer.Option(
        60_000,
        "--mip-max-options",
        min=0,
        help="auto: largest batch (options) for the MIP (0: never the MIP).",
    ),
    out: str | None = output_option(
        "-o", "--output", help="Shipments Parquet (default stdout).", stdout=True
    ),
    trucks_out: str | None = output_option("--trucks-out", help="Trucks Parquet."),
) -> None:
    """Choose FC, path, departures and truck for every promised line; report late and unshipped
    lines with the reason."""
    from scot_cli.io import Run
    from scot_cli.route.api import attach_orders, options_from_params
    from scot_cli.route.assign import route_lines
    from scot_cli.route.registry import METHODS
    from scot_cli.route.schema import PROMISE_LINES, SHIPMENTS, TRUCKS

    if method not in METHODS:
        raise UsageError(f"--method: unknown method {method!r}; choose one of {', '.join(METHODS)}")
    _check_ranges(
        time_limit=time_limit, min_fill=min_fill, split_cost=split_cost, late_cost=late_cost
    )
    params: dict[str, Any] = {
        "method": method,
        "time_limit": time_limit,
        "seed": seed,
        "split_cost": split_cost,
        "late_cost": late_cost,
        "min_fill": min_fill,
        "hold": hold,
        "mip_max_options": mip_max_options,
    }
    run = Run("route", params=params, seed=seed)
    lines = run.read(promises, PROMISE_LINES, role="promises")
    orders_df = run.read_optional(orders, ORDERS, role="orders")
    lines = _complete(attach_orders(lines, orders_df), promises)
    frames = {
        "inventory": run.read(inventory, INVENTORY, role="inventory"),
        "nodes": run.read(nodes, NODES, role="nodes"),
        "lanes": run.read(lanes, LANES, role="lanes"),
    }
    items_df = run.read_optional(items, ITEMS, role="items")
    _check_nodes(lines, frames, promises=promises, nodes=nodes, lanes=lanes)
    with progress("routing") as bar:
        plan = route_lines(
            lines, **frames, items=items_df, options=options_from_params(params), progress=bar
        )
    s = plan.summary
    run.write(plan.shipments, out, SHIPMENTS, extra={"summary": s})
    if trucks_out:
        run.write(plan.trucks, trucks_out, TRUCKS, extra={"summary": s})
    gap = "n/a" if s["gap"] is None else f"{100 * s['gap']:.2f}%"
    info(
        f"route: {s['shipped']:,}/{s['lines']:,} lines shipped ({s['on_time']:,} on time, "
        f"{s['late']:,} late, {s['unshipped']:,} unshipped) on {s['trucks']:,} trucks, mean "
        f"fill {s['mean_fill']:.2f}; shipping cost {s['shipping_cost']:,.2f}, objective "
        f"{s['objective']:,.2f} with penalties, bound "
        f"{s['bound'] if s['bound'] is None else format(s['bound'], ',.2f')}, gap {gap} "
        f"({s['method']})"
    )
    if s["unshipped"] or s["late"]:
        warn(
            f"{s['late'] + s['unshipped']} line(s) late or unshipped; see the status and "
            "reason columns"
        )


def _check_ranges(
    *, time_limit: float, min_fill: float, split_cost: float, late_cost: float
) -> None:
    if time_limit <= 0:
        raise UsageError(f"--time-limit: must be positive, got {time_limit:g}")
    if not 0 <= min_fill <= 1:
        raise UsageError(f"--min-fill: must be between 0 and 1, got {min_fill:g}")
    for name, value in (("--split-cost", split_cost), ("--late-cost", late_cost)):
        if value < 0:
            raise UsageError(f"{name}: must be zero or more, got {value:g}")


def _complete(lines: Any, source: str) -> Any:
    from scot_cli.errors import InputDataError

    missing = [c for c in ("qty", "destination") if c not in lines.columns]
    if missing:
        raise InputDataError(
            f"{source}: missing column {', '.join(repr(c) for c in missing)}; "
            "pass --orders ORDERS to join it from the orders table"
        )
    for col in ("qty", "destination"):
        nulls = lines.filter(lines[col].is_null())
        if nulls.height:
            row = nulls.row(0, named=True)
            raise InputDataError(
                f"{source}: line order_id={row['order_id']!r}, "
                f"line={row['line']} has no {col} (not in --orders either)"
            )
    return lines


def _check_nodes(
    lines: Any, frames: dict[str, Any], *, promises: str, nodes: str, lanes: str
) -> None:
    from scot_cli.validate import check_references

    known = frames["nodes"]["node"].to_list()
    check_references(lines, "destination", known, source=promises, known_source=nodes)
    for col in ("origin", "destination"):
        check_references(frames["lanes"], col, known, source=lanes, known_source=nodes)


def run_last_mile(
    stops: str = typer.Argument(..., help="Stops to deliver (Parquet), or - ."),
    stations: str = typer.Option(
        ..., "--stations", help="Nodes table with the stations' coordinates."
    ),
    vehicles: int = typer.Option(
        10, "--vehicles", max=10_000, help="Vehicles available per station."
    ),
    capacity: float = typer.Option(
        100.0, "--capacity", max=1e9, help="Volume one vehicle carries."
    ),
    speed: float = typer.Option(
        40.0, "--speed", max=1_000.0, help="Average speed in km/h (at least 0.1)."
    ),
    shift: float = typer.Option(
        600.0, "--shift", max=10_080.0, help="Minutes a vehicle may be out (a week at most)."
    ),
    time_limit: float = typer.Option(
        5.0, "--time-limit", max=MAX_SECONDS, help="Seconds of search per station."
    ),
    seed: int = SEED_OPT,
    out: str | None = output_option(
        "-o", "--output", help="Routes Parquet (default stdout).", stdout=True
    ),
) -> None:
    """Build vehicle routes from each delivery station (CVRP, VRPTW with PyVRP)."""
    from scot_cli.io import Run
    from scot_cli.route.lastmile import LastMileOptions, plan_last_mile
    from scot_cli.route.schema import ROUTES, STOPS

    if vehicles < 1 or capacity <= 0 or speed <= 0 or shift <= 0 or time_limit <= 0:
        raise UsageError(
            "--vehicles, --capacity, --speed, --shift and --time-limit must be positive"
        )
    if speed < 0.1:
        raise UsageError(f"--speed: must be at least 0.1 km/h, got {speed:g}")
    opt = LastMileOptions(
        vehicles=vehicles,
        capacity=capacity,
        speed_kmh=speed,
        shift_minutes=shift,
        time_limit=time_limit,
        seed=seed,
    )
    run = Run("route last-mile", params=opt.as_params(), seed=seed)
    stops_df = run.read(stops, STOPS, role="stops")
    nodes_df = run.read(stations, NODES, role="stations")
    _check_stations(stops_df, nodes_df, stops=stops, stations=stations)
    with progress("routing vehicles") as bar:
        routes, summary = plan_last_mile(stops_df, nodes_df, options=opt, progress=bar)
    run.write(routes, out, ROUTES, extra={"summary": summary})
    info(
        f"route last-mile: {summary['routed']:,}/{summary['stops']:,} stops on "
        f"{summary['vehicles']:,} vehicles, {summary['distance_km']:,.1f} km"
    )
    if summary["unassigned"]:
        warn(f"{summary['unassigned']} stop(s) unassigned; see the reason column")


def _check_stations(stops_df: Any, nodes: Any, *, stops: str, stations: str) -> None:
    from scot_cli.validate import check_references

    known = nodes["node"].to_list()
    check_references(
        stops_df, "station", known, source=stops, known_source=stations, what="station"
    )


def register(app: typer.Typer) -> None:
    from scot_cli.route.registry import METHODS
    from scot_cli.route.schema import PROMISE_LINES, STOPS

    methods = (
        "The promises also need qty and destination (scot promise writes them; else pass "
        "--orders); status other than promised (backorder, unavailable) does not ship today."
        "\n\nMethods (--method):\n\n" + "\n\n".join(f"  {k}: {v}" for k, v in METHODS.items())
    )
    sub = default_group(
        "route", "Fulfilment assignment and trucks; 'last-mile' builds vehicle routes."
    )
    sub.command(
        "run",
        help=(run_route.__doc__ or "").strip(),
        epilog=epilog(
            EXAMPLE, [PROMISE_LINES, INVENTORY, NODES, LANES, ITEMS, ORDERS], more=methods
        ),
    )(run_route)
    sub.command(
        "last-mile",
        help=(run_last_mile.__doc__ or "").strip(),
        epilog=epilog(LAST_MILE_EXAMPLE, [STOPS, NODES]),
    )(run_last_mile)
    app.add_typer(sub, name="route")
