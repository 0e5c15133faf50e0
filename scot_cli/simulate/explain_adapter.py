"""What ``scot explain`` needs to attribute a change between two ``scot simulate`` runs.

Explain re-runs the simulation on mixed inputs (:func:`decide_from_inputs`, same streams:
the seed is a recorded parameter) and compares the rows :func:`node_totals` keeps: one
per scenario, policy and node over the whole horizon and every replication. Rates are
rates: ``in_stock_rate`` is ``(served - substituted) / demand`` of the rows aggregated, so explain
aggregates it as a mean weighted by :data:`RATE_WEIGHTS` (``demand``), never as a sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

#: Input roles ``scot simulate`` records in its provenance.
ROLES = ("sales", "items", "nodes", "lanes", "inventory", "events", "actuals", "forecast")

#: Metrics explained, and the column each rate is weighted by (None: a sum).
RATE_WEIGHTS: dict[str, str | None] = {
    "in_stock_rate": "demand",
    "share_1day": "served",
    "share_2day": "served",
    "promise_kept_rate": "promised",
    "lost": None,
    "total_cost": None,
    "holding_cost": None,
    "shipping_cost": None,
    "lost_sales_cost": None,
}

_SUMS = (
    "demand",
    "served",
    "lost",
    "served_1day",
    "served_2day",
    "promised",
    "promises_kept",
    "substituted",
    "shipping_cost",
    "lost_sales_cost",
    "holding_cost",
    "on_hand",
)


def decide_from_inputs(
    inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]
) -> pl.DataFrame:
    """Re-run ``scot simulate`` from inputs by role and its recorded parameters; returns
    ``sim_daily``."""
    from .api import simulate
    from .options import SimulateOptions

    result = simulate(
        inputs["sales"],
        items=inputs["items"],
        nodes=inputs["nodes"],
        lanes=inputs["lanes"],
        inventory=inputs["inventory"],
        events=inputs.get("events"),
        actuals=inputs.get("actuals"),
        forecast=inputs.get("forecast"),
        options=SimulateOptions.from_params(params),
    )
    return result.daily


def node_totals(daily: pl.DataFrame) -> pl.DataFrame:
    """``sim_daily`` summed per scenario, policy and node over dates and replications,
    with the rates of the sums (region rows: ``in_stock_rate``, ``share_1day``,
    ``share_2day``, ``promise_kept_rate``; null on FC rows) and ``total_cost`` (shipping +
    lost sales on region rows, holding on FC rows)."""
    for col in ("promised", "substituted"):  # sim_daily written before these existed
        if col not in daily.columns:
            daily = daily.with_columns(
                (pl.col("served") if col == "promised" else pl.lit(0.0)).alias(col)
            )
    present = [c for c in _SUMS if c in daily.columns]
    sums = daily.group_by("scenario", "policy", "node", maintain_order=True).agg(
        [pl.col(c).sum().alias(c) if c != "on_hand" else pl.col(c).mean() for c in present]
    )

    def rate(num: str, den: str) -> pl.Expr:
        return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den))

    return sums.with_columns(
        pl.when(pl.col("demand") > 0)
        .then((pl.col("served") - pl.col("substituted")) / pl.col("demand"))
        .alias("in_stock_rate"),
        rate("served_1day", "served").alias("share_1day"),
        rate("served_2day", "served").alias("share_2day"),
        rate("promises_kept", "promised").alias("promise_kept_rate"),
        (pl.col("shipping_cost") + pl.col("lost_sales_cost") + pl.col("holding_cost")).alias(
            "total_cost"
        ),
    ).sort("scenario", "policy", "node")
