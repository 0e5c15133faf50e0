"""The myopic rule the optimiser is measured against.

"Ship each line from the nearest FC with stock, on the first departure": lines are taken in
order (order id, line); each goes to the nearest FC (great-circle distance to its destination)
that still has stock for the whole line, on the path from that FC with the earliest arrival,
leaving on the first scheduled departure, while the FC's daily capacity lasts. No
consolidation, no look-ahead.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from scot_cli.route.options import haversine_km


def fc_distances(nodes: pl.DataFrame) -> pl.DataFrame:
    """Great-circle km from every FC to every region node: ``origin``, ``destination``, ``km``."""
    fcs = nodes.filter(pl.col("kind") == "fc").select(
        pl.col("node").alias("origin"), pl.col("lat").alias("lat1"), pl.col("lon").alias("lon1")
    )
    regions = nodes.filter(pl.col("kind") != "fc").select(
        pl.col("node").alias("destination"),
        pl.col("lat").alias("lat2"),
        pl.col("lon").alias("lon2"),
    )
    pairs = fcs.join(regions, how="cross")
    km = haversine_km(*(pairs[c].to_numpy() for c in ("lat1", "lon1", "lat2", "lon2")))
    return pairs.select("origin", "destination").with_columns(pl.Series("km", km))


def myopic_options(
    lines: pl.DataFrame, schedules: pl.DataFrame, stock: pl.DataFrame, nodes: pl.DataFrame
) -> pl.DataFrame:
    """One option per line chosen by the myopic rule (lines without one stay unshipped).

    Stock is consumed line by line in a Python loop over integer codes (the rule is
    sequential by nature, :func:`_take`).
    """
    fastest = (
        schedules.lazy()
        .filter(pl.col("hold") == 0)
        .sort("origin", "destination", "ready", "arrive", "cost_per_unit", "path")
        .group_by("origin", "destination", "ready", maintain_order=True)
        .first()
    )
    cand = (
        lines.lazy()
        .join(fastest, on=["destination", "ready"], how="inner")
        .join(fc_distances(nodes).lazy(), on=["origin", "destination"], how="inner")
        .filter(pl.col("volume") <= pl.col("min_capacity"))
        .sort("li", "km", "origin")
        .collect()
    )
    keep = _take(cand, stock, nodes)
    return (
        cand.lazy()
        .filter(pl.lit(pl.Series(keep)))
        .with_columns(
            (pl.col("arrive").dt.date() - pl.col("promise_date"))
            .dt.total_days()
            .clip(lower_bound=0)
            .alias("late_days")
        )
        .drop("km")
        .sort("li")
        .with_columns(pl.int_range(pl.len()).alias("oi"))
        .collect()
    )


def _take(cand: pl.DataFrame, stock: pl.DataFrame, nodes: pl.DataFrame) -> np.ndarray:
    """Which candidates the rule takes, in ``cand``'s order: a line takes its first
    candidate whose (sku, FC) stock and (FC, ship day) capacity both hold the line's units,
    and consumes them. The loop runs over plain lists of codes (no per-row lookups by name).
    """
    n = cand.height
    keys = cand.lazy().select("li", "sku", "origin", "fc_day", "qty")
    cap = nodes.lazy().select(
        pl.col("node").alias("origin"), pl.col("daily_capacity").alias("_cap")
    )
    held, days = pl.collect_all(
        [
            stock.lazy()
            .select("sku", pl.col("node").alias("origin"), "on_hand")
            .unique(["sku", "origin"], keep="last", maintain_order=True)
            .with_row_index("_s"),
            keys.select("origin", "fc_day")
            .unique(maintain_order=True)
            .join(cap, on="origin", how="left", maintain_order="left")
            .with_row_index("_d"),
        ]
    )
    coded = (
        keys.join(held.lazy(), on=["sku", "origin"], how="left", maintain_order="left")
        .join(days.lazy(), on=["origin", "fc_day"], how="left", maintain_order="left")
        .select(
            pl.col("_s").fill_null(held.height).cast(pl.Int64),  # no stock: 0 units
            pl.col("_d").cast(pl.Int64),
            pl.col("li").cast(pl.Int64),
            pl.col("qty").cast(pl.Float64),
        )
        .collect()
    )
    sf, fd = coded["_s"].to_list(), coded["_d"].to_list()
    left = [*held["on_hand"].cast(pl.Float64).to_list(), 0.0]
    room = days["_cap"].cast(pl.Float64).fill_null(np.inf).to_list()
    li, qty = coded["li"].to_list(), coded["qty"].to_list()
    done: set[int] = set()
    keep = np.zeros(n, dtype=bool)
    for i in range(n):
        line, q, s, d = li[i], qty[i], sf[i], fd[i]
        if line in done or left[s] < q or room[d] < q:
            continue
        left[s] -= q
        room[d] -= q
        done.add(line)
        keep[i] = True
    return keep
