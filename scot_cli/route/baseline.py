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

    Stock is consumed line by line in a Python loop (the rule is sequential by nature);
    measured at about 1 s per 100k lines.
    """
    fastest = (
        schedules.filter(pl.col("hold") == 0)
        .sort("origin", "destination", "ready", "arrive", "cost_per_unit", "path")
        .group_by("origin", "destination", "ready", maintain_order=True)
        .first()
    )
    cand = (
        lines.join(fastest, on=["destination", "ready"], how="inner")
        .join(fc_distances(nodes), on=["origin", "destination"], how="inner")
        .filter(pl.col("volume") <= pl.col("min_capacity"))
        .sort("li", "km", "origin")
    )
    left = {(r[0], r[1]): r[2] for r in stock.iter_rows()}
    daily = {
        n: c for n, c in zip(nodes["node"], nodes["daily_capacity"], strict=True) if c is not None
    }
    keep = np.zeros(cand.height, dtype=bool)
    done: set[int] = set()
    rows = cand.select("li", "sku", "origin", "fc_day", "qty").iter_rows()
    for i, (li, sku, fc, day, qty) in enumerate(rows):
        room = daily.get((fc, day), daily.get(fc, np.inf))
        if li in done or left.get((sku, fc), 0.0) < qty or room < qty:
            continue
        left[(sku, fc)] -= qty
        daily[(fc, day)] = room - qty
        done.add(li)
        keep[i] = True
    chosen = cand.filter(pl.Series(keep)).with_columns(
        (pl.col("arrive").dt.date() - pl.col("promise_date"))
        .dt.total_days()
        .clip(lower_bound=0)
        .alias("late_days")
    )
    return chosen.drop("km").sort("li").with_columns(pl.int_range(pl.len()).alias("oi"))
