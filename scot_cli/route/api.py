"""Entry points shared by the command and ``scot explain``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from scot_cli.route.assign import RouteOptions, route_lines


def attach_orders(promises: pl.DataFrame, orders: pl.DataFrame | None) -> pl.DataFrame:
    """Add ``qty`` and ``destination`` from the orders table when the promises lack them."""
    need = [c for c in ("qty", "destination") if c not in promises.columns]
    if not need or orders is None:
        return promises
    return promises.join(
        orders.select("order_id", "line", *need), on=["order_id", "line"], how="left"
    )


def options_from_params(params: Mapping[str, Any]) -> RouteOptions:
    """:class:`RouteOptions` from recorded parameters (unknown keys are ignored)."""
    fields = RouteOptions.__dataclass_fields__
    return RouteOptions(**{k: v for k, v in params.items() if k in fields})


def decide_from_inputs(
    inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]
) -> pl.DataFrame:
    """Recompute the shipments table from inputs by role and the recorded parameters.

    Roles: ``promises``, ``inventory``, ``nodes``, ``lanes`` and optionally ``items`` and
    ``orders``; ``params`` are those ``scot route`` records (the fields of
    :class:`RouteOptions`). This is exactly what the command does between read and write.
    """
    promises = attach_orders(inputs["promises"], inputs.get("orders"))
    plan = route_lines(
        promises,
        inventory=inputs["inventory"],
        nodes=inputs["nodes"],
        lanes=inputs["lanes"],
        items=inputs.get("items"),
        options=options_from_params(params),
    )
    return plan.shipments
