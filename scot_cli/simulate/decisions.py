"""The one place the simulation calls scot's decisions (forecast, plan-buy, place).

Each call goes through the decision package's public function, so the simulation runs
exactly what the commands run; only this module knows their call shapes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl


def forecast(
    sales: pl.DataFrame,
    *,
    horizon: int,
    items: pl.DataFrame | None,
    events: pl.DataFrame | None,
    seed: int,
) -> pl.DataFrame:
    """scot forecast: daily quantile forecast of every (sku, location) of ``sales``."""
    from scot_cli.forecast import forecast as run

    keep = [c for c in ("sku", "location", "date", "units") if c in sales.columns]
    result: Any = run(sales.select(keep), horizon=horizon, items=items, events=events, seed=seed)
    return result if isinstance(result, pl.DataFrame) else result.forecast  # type: ignore[no-any-return]


def plan_buy(
    forecast: pl.DataFrame,
    *,
    items: pl.DataFrame,
    inventory: pl.DataFrame,
    nodes: pl.DataFrame,
    lanes: pl.DataFrame,
    as_of: dt.date,
    review_days: int,
    fields: dict[str, Any],
) -> pl.DataFrame:
    """scot plan-buy per FC: ``sku, node, qty`` of the orders placed on ``as_of``."""
    from scot_cli.buy import BuyOptions
    from scot_cli.buy import plan_buy as run

    options = BuyOptions(**{"review_days": float(review_days), **fields, "as_of": as_of})
    result = run(
        forecast, items=items, inventory=inventory, nodes=nodes, lanes=lanes, options=options
    )
    orders: pl.DataFrame = result.orders
    return orders.filter(pl.col("qty") > 0).select("sku", "node", "qty", "arrival_date")


def place(
    forecast: pl.DataFrame,
    *,
    items: pl.DataFrame,
    inventory: pl.DataFrame,
    nodes: pl.DataFrame,
    lanes: pl.DataFrame,
    supply: pl.DataFrame | None,
    period_days: int,
    fields: dict[str, Any],
) -> pl.DataFrame:
    """scot place: ``sku, node, transfer_in, transfer_out`` for the coming period.

    The steps of :func:`scot_cli.place.place` on frames the simulation built from validated
    inputs, without its report of the positions before the transfers (a second LP the
    simulation does not read).
    """
    from scot_cli.place import PlaceOptions
    from scot_cli.place.api import check_servable
    from scot_cli.place.decompose import solve_batched
    from scot_cli.place.plan import solve
    from scot_cli.place.problem import build_problem
    from scot_cli.place.report import placement_frame

    opts = PlaceOptions(**{**fields, "period_days": period_days})
    prob = build_problem(
        forecast=forecast,
        items=items,
        inventory=inventory,
        nodes=nodes,
        lanes=lanes,
        receipts=supply,
        period_days=opts.period_days,
        transfer_cost=opts.transfer_cost,
    )
    check_servable(prob)
    if 0 < opts.batch_size < len(prob.skus):
        plan = solve_batched(prob, opts, batch_size=opts.batch_size, fair_share=opts.fair_share)
    else:
        plan = solve(prob, opts, fair_share=opts.fair_share)
    placement: pl.DataFrame = placement_frame(plan)
    return placement.select("sku", "node", "transfer_in", "transfer_out")
