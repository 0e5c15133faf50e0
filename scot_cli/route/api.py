"""The public calls of ``scot route``: :func:`route` and :func:`last_mile`.

Each takes its tables as polars frames or as paths (read through :mod:`scot_cli.io`) and
validates them with the schema checks the command uses, so a notebook gets the command's
answers and errors. ``decide_from_inputs`` is the same decision from inputs by role, for
``scot explain``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from scot_cli.errors import InputDataError
from scot_cli.route.assign import RouteOptions, RouteResult, route_lines
from scot_cli.route.lastmile import LastMileOptions, LastMileResult, plan_last_mile
from scot_cli.schema import INVENTORY, ITEMS, LANES, NODES, ORDERS, Table

#: A table given as a frame or as the path of a Parquet file.
TableArg = pl.DataFrame | str | Path
ProgressFn = Callable[[int, int], None]


def load_table(value: TableArg, table: Table, *, role: str) -> tuple[pl.DataFrame, str]:
    """``value`` validated against ``table`` (:func:`scot_cli.io.table_input`), and the name
    errors give it: the path, or the role for a frame."""
    from scot_cli.io import table_input

    name = role if isinstance(value, pl.DataFrame) else str(value)
    return table_input(value, table, role=role), name


def attach_orders(promises: pl.DataFrame, orders: pl.DataFrame | None) -> pl.DataFrame:
    """Add ``qty`` and ``destination`` from the orders table when the promises lack them."""
    need = [c for c in ("qty", "destination") if c not in promises.columns]
    if not need or orders is None:
        return promises
    return promises.join(
        orders.select("order_id", "line", *need), on=["order_id", "line"], how="left"
    )


def check_inputs(
    promises: pl.DataFrame,
    *,
    nodes: pl.DataFrame,
    lanes: pl.DataFrame,
    names: Mapping[str, str] | None = None,
) -> None:
    """The checks across tables: every line has ``qty`` and ``destination``, and every
    destination and lane end is a node. ``names`` maps a role to the name errors give it.

    Raises
    ------
    InputDataError
        Naming the table, the column and the first offending line or node.
    """
    from scot_cli.validate import check_references

    name = {"promises": "promises", "nodes": "nodes", "lanes": "lanes", **(names or {})}
    missing = [c for c in ("qty", "destination") if c not in promises.columns]
    if missing:
        raise InputDataError(
            f"{name['promises']}: missing column {', '.join(repr(c) for c in missing)}; "
            "pass the orders table (--orders) to join it"
        )
    for col in ("qty", "destination"):
        nulls = promises.filter(pl.col(col).is_null())
        if nulls.height:
            row = nulls.row(0, named=True)
            raise InputDataError(
                f"{name['promises']}: line order_id={row['order_id']!r}, "
                f"line={row['line']} has no {col} (not in the orders table either)"
            )
    known = nodes["node"].to_list()
    check_references(
        promises, "destination", known, source=name["promises"], known_source=name["nodes"]
    )
    for col in ("origin", "destination"):
        check_references(lanes, col, known, source=name["lanes"], known_source=name["nodes"])


def route(
    promises: TableArg,
    *,
    nodes: TableArg,
    lanes: TableArg,
    inventory: TableArg,
    items: TableArg | None = None,
    orders: TableArg | None = None,
    options: RouteOptions | None = None,
    progress: ProgressFn | None = None,
    **option_fields: Any,
) -> RouteResult:
    """Choose FC, path, departures and truck for every promised line.

    Parameters
    ----------
    promises
        Promised order lines (``scot promise``'s output): ``order_id, line, sku, ship_date,
        promise_date`` and ``qty, destination`` (else joined from ``orders``).
    nodes, lanes, inventory, items, orders
        The network, stock, item master (unit volume; 1 when absent) and order lines.
        Every table is a frame or a path, validated as the command validates it.
    options
        :class:`RouteOptions`; ``option_fields`` replace some of its fields
        (``route(p, ..., method="myopic")``).
    progress
        Optional ``(done, total)`` callback.

    Returns
    -------
    RouteResult
        Shipments (one row per line, with status and reason), trucks and a summary.

    Raises
    ------
    OptionError
        For an option outside its domain.
    InputDataError
        For a table that fails its schema or names an unknown node.
    """
    from scot_cli.route.schema import PROMISE_LINES

    opt = (options or RouteOptions()).replace(**option_fields)
    lines, lines_name = load_table(promises, PROMISE_LINES, role="promises")
    nodes_df, nodes_name = load_table(nodes, NODES, role="nodes")
    lanes_df, lanes_name = load_table(lanes, LANES, role="lanes")
    inventory_df, _ = load_table(inventory, INVENTORY, role="inventory")
    items_df = None if items is None else load_table(items, ITEMS, role="items")[0]
    orders_df = None if orders is None else load_table(orders, ORDERS, role="orders")[0]
    lines = attach_orders(lines, orders_df)
    names = {"promises": lines_name, "nodes": nodes_name, "lanes": lanes_name}
    check_inputs(lines, nodes=nodes_df, lanes=lanes_df, names=names)
    return route_lines(
        lines,
        inventory=inventory_df,
        nodes=nodes_df,
        lanes=lanes_df,
        items=items_df,
        options=opt,
        progress=progress,
    )


def last_mile(
    stops: TableArg,
    *,
    nodes: TableArg,
    options: LastMileOptions | None = None,
    progress: ProgressFn | None = None,
    **option_fields: Any,
) -> LastMileResult:
    """Vehicle routes from each delivery station (CVRP / VRPTW with PyVRP).

    Parameters
    ----------
    stops
        ``stop_id, station, lat, lon, demand`` and optional time windows (frame or path).
    nodes
        The nodes table holding the stations' coordinates (frame or path).
    options
        :class:`LastMileOptions`; ``option_fields`` replace some of its fields.
    progress
        Optional ``(done, total)`` callback, one step per station.

    Raises
    ------
    InputDataError
        For a table that fails its schema or a stop whose station is not a node.
    InfeasibleError
        When no stop at all can be served.
    """
    from scot_cli.route.schema import STOPS
    from scot_cli.validate import check_references

    opt = (options or LastMileOptions()).replace(**option_fields)
    stops_df, stops_name = load_table(stops, STOPS, role="stops")
    nodes_df, nodes_name = load_table(nodes, NODES, role="nodes")
    check_references(
        stops_df,
        "station",
        nodes_df["node"].to_list(),
        source=stops_name,
        known_source=nodes_name,
        what="station",
    )
    return plan_last_mile(stops_df, nodes_df, options=opt, progress=progress)


def decide_from_inputs(
    inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]
) -> pl.DataFrame:
    """Recompute the shipments table from inputs by role and the recorded parameters.

    Roles: ``promises``, ``inventory``, ``nodes``, ``lanes`` and optionally ``items`` and
    ``orders``; ``params`` are those ``scot route`` records (:meth:`RouteOptions.params`).
    This is exactly what the command does between read and write.
    """
    result = route(
        inputs["promises"],
        inventory=inputs["inventory"],
        nodes=inputs["nodes"],
        lanes=inputs["lanes"],
        items=inputs.get("items"),
        orders=inputs.get("orders"),
        options=RouteOptions.from_params(params),
    )
    return result.shipments
