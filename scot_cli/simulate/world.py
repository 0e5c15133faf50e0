"""The simulated network as arrays: skus x FCs x regions, built once from the input tables.

Delivery paths come from :func:`scot_cli.network.fc_paths` (the same FC -> region paths
place and promise use); each region ranks its FCs by the fastest path's mean transit (the
baseline's buys follow that ranking; fulfilment is promise's and route's own).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from scot_cli.errors import InputDataError

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class World:
    """Everything the day loop reads, as arrays indexed by sku ``k``, FC ``f``, region ``g``.

    ``path_days[f, g]`` is the fastest path's mean transit (``inf`` without one),
    ``rank[g]`` the FCs by that transit (fastest first), ``lost_unit_cost`` the cost of a
    lost unit (``stockout_cost``, else the margin ``price - unit_cost``).
    """

    skus: list[str]
    fcs: list[str]
    regions: list[str]
    start: dt.date
    path_days: Array
    path_sd: Array
    rank: IntArray
    unit_cost: Array
    holding_per_day: Array
    lost_unit_cost: Array
    lead_mean: Array
    lead_sd: Array
    case_pack: Array
    moq: Array
    on_hand: Array
    in_transit: Array
    transit_day: IntArray
    inbound_days: Array

    @property
    def shape(self) -> tuple[int, int, int]:
        """(skus, FCs, regions)."""
        return len(self.skus), len(self.fcs), len(self.regions)


def _fill(items: pl.DataFrame, col: str, default: float) -> Array:
    if col not in items.columns:
        return np.full(items.height, default)
    return items[col].cast(pl.Float64).fill_null(default).to_numpy().copy()


def _dense(
    df: pl.DataFrame, rows: list[str], cols: list[str], row: str, col: str, value: str
) -> Array:
    out = np.zeros((len(rows), len(cols)))
    r_ix = {v: i for i, v in enumerate(rows)}
    c_ix = {v: i for i, v in enumerate(cols)}
    keep = df.filter(pl.col(row).is_in(rows) & pl.col(col).is_in(cols))
    i = keep[row].replace_strict(r_ix, return_dtype=pl.Int64).to_numpy()
    j = keep[col].replace_strict(c_ix, return_dtype=pl.Int64).to_numpy()
    np.add.at(out, (i, j), keep[value].cast(pl.Float64).fill_null(0.0).to_numpy())
    return out


def paths(
    nodes: pl.DataFrame, lanes: pl.DataFrame, fcs: list[str], regions: list[str]
) -> tuple[Array, Array]:
    """Mean transit and its spread of the fastest path per (FC, region)."""
    from scot_cli.network import fastest_paths, fc_paths

    best = fastest_paths(fc_paths(nodes, lanes))
    days = np.full((len(fcs), len(regions)), np.inf)
    sd = np.zeros_like(days)
    f_ix = {v: i for i, v in enumerate(fcs)}
    g_ix = {v: i for i, v in enumerate(regions)}
    for o, d, t, s in best.select(
        "origin", "destination", "transit_days", "transit_sd"
    ).iter_rows():
        if o in f_ix and d in g_ix:
            days[f_ix[o], g_ix[d]] = t
            sd[f_ix[o], g_ix[d]] = s or 0.0
    return days, sd


def inbound(items: pl.DataFrame, lanes: pl.DataFrame, fcs: list[str]) -> Array:
    """Whole days of the vendor-to-FC lane per (sku, FC): the fastest lane from the item's
    vendor (0 where the vendor has no lane to the FC, or the item no vendor)."""
    out = np.zeros((items.height, len(fcs)))
    if "vendor" not in items.columns:
        return out
    fastest = (
        lanes.filter(pl.col("destination").is_in(fcs))
        .group_by("origin", "destination")
        .agg(pl.col("transit_days").min())
    )
    rows = items.select(pl.col("sku"), pl.col("vendor").alias("origin")).with_row_index("_k")
    hit = rows.join(fastest, on="origin")
    f_ix = {v: i for i, v in enumerate(fcs)}
    k = hit["_k"].cast(pl.Int64).to_numpy()
    f = hit["destination"].replace_strict(f_ix, return_dtype=pl.Int64).to_numpy()
    out[k, f] = np.rint(hit["transit_days"].to_numpy())
    return out


def build_world(
    *,
    items: pl.DataFrame,
    nodes: pl.DataFrame,
    lanes: pl.DataFrame,
    inventory: pl.DataFrame,
    regions: list[str],
    start: dt.date,
) -> World:
    """The arrays of the network for a simulation starting on ``start``.

    ``regions`` are the demand locations (region nodes) in the order demand arrays use.
    """
    items = items.sort("sku")
    skus = items["sku"].to_list()
    fcs = sorted(nodes.filter(pl.col("kind") == "fc")["node"].to_list())
    if not fcs:
        raise InputDataError("nodes: no node of kind 'fc'; a simulation needs at least one FC")
    days, sd = paths(nodes, lanes, fcs, regions)
    rank = np.argsort(days, axis=0, kind="stable").T.astype(np.int64)
    unit_cost = _fill(items, "unit_cost", 0.0)
    price = _fill(items, "price", 0.0)
    stockout = _fill(items, "stockout_cost", np.nan)
    lost = np.where(np.isnan(stockout), np.maximum(price - unit_cost, 0.0), stockout)
    inv = inventory.with_columns(
        pl.col("in_transit").fill_null(0.0) if "in_transit" in inventory.columns else pl.lit(0.0)
    ).rename({"in_transit": "_transit"} if "in_transit" in inventory.columns else {})
    if "_transit" not in inv.columns:
        inv = inv.with_columns(pl.lit(0.0).alias("_transit"))
    eta = pl.col("eta") if "eta" in inv.columns else pl.lit(None, dtype=pl.Date)
    inv = inv.with_columns(
        ((eta.fill_null(start) - pl.lit(start)).dt.total_days().clip(0, None)).alias("_day")
    )
    transit_day = _dense(inv, skus, fcs, "sku", "node", "_day").astype(np.int64)
    return World(
        skus=skus,
        fcs=fcs,
        regions=regions,
        start=start,
        path_days=days,
        path_sd=sd,
        rank=rank,
        unit_cost=unit_cost,
        holding_per_day=unit_cost * _fill(items, "holding_cost_rate", 0.25) / 365.0,
        lost_unit_cost=lost,
        lead_mean=_fill(items, "lead_time_days", 7.0),
        lead_sd=_fill(items, "lead_time_sd", 0.0),
        case_pack=np.maximum(_fill(items, "case_pack", 1.0), 1.0),
        moq=_fill(items, "moq", 0.0),
        on_hand=_dense(inv, skus, fcs, "sku", "node", "on_hand"),
        in_transit=_dense(inv, skus, fcs, "sku", "node", "_transit"),
        transit_day=transit_day,
        inbound_days=inbound(items, lanes, fcs),
    )
