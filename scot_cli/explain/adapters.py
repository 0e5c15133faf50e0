"""Decision functions explain re-runs when a command's main output is not all it explains.

plan-buy's ``decide_from_inputs`` returns the purchase orders; its policy table
(safety stock, reorder point, cost components) is the other half of the same
decision. :func:`buy_orders_and_policy` returns both joined, so explain can
attribute either file's columns. place's coverage (the share of each region's demand
served within 1, 2 and 3 days) is :func:`place_coverage`, explained at one day
(:func:`one_day_regions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

#: Columns of plan-buy's orders joined onto its policy rows.
_ORDER_COLUMNS = ("qty", "vendor", "order_date", "arrival_date")


def buy_orders_and_policy(
    inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]
) -> pl.DataFrame:
    """plan-buy's policy rows with the order quantity of its orders, keyed by sku and node.

    Same roles and parameters as :func:`scot_cli.buy.decide_from_inputs`.
    """
    from scot_cli.buy import BuyOptions, plan_buy

    plan = plan_buy(
        inputs["forecast"],
        items=inputs["items"],
        inventory=inputs["inventory"],
        nodes=inputs.get("nodes"),
        lanes=inputs.get("lanes"),
        seller_limits=inputs.get("seller_limits"),
        price_breaks=inputs.get("price_breaks"),
        options=BuyOptions.from_params(params),
    )
    cols = [c for c in _ORDER_COLUMNS if c in plan.orders.columns and c not in plan.policy]
    return plan.policy.join(
        plan.orders.select("sku", "node", *cols), on=["sku", "node"], how="full", coalesce=True
    )


#: Delivery days at which place's coverage shares are explained (place's headline).
COVERAGE_DAYS = 1


def one_day_regions(coverage: pl.DataFrame) -> pl.DataFrame:
    """The rows of place's coverage explained: each region's share within
    :data:`COVERAGE_DAYS` day (the network row ``ALL`` is the subject ``(all)``)."""
    return coverage.filter((pl.col("days") == COVERAGE_DAYS) & (pl.col("region") != "ALL"))


def place_coverage(inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]) -> pl.DataFrame:
    """place's coverage rows explained (:func:`one_day_regions`), from inputs by role and
    recorded parameters as :func:`scot_cli.place.decide_from_inputs` takes them."""
    from scot_cli.place import PlaceOptions, place

    result = place(
        inputs["forecast"],
        items=inputs["items"],
        inventory=inputs["inventory"],
        nodes=inputs["nodes"],
        lanes=inputs["lanes"],
        receipts=inputs.get("receipts", inputs.get("supply")),
        options=PlaceOptions.from_params(params),
    )
    return one_day_regions(result.coverage)
