"""Truck loading and the shipments and trucks tables.

Lines on one lane departure are packed into trucks by :func:`scot_cli.route.binpack.pack`:
first-fit decreasing (Johnson (1973); at most 11/9 OPT + 6/9 bins, Dósa (2007)), kept when it
meets the Martello-Toth lower bound L2, else improved by best fit, a local search and, for
small loads, an exact model. A line is never split across trucks, so a truck's load never
exceeds its capacity.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from scot_cli.network import PATH_SEP
from scot_cli.route.binpack import STEPS, first_fit_decreasing, pack
from scot_cli.route.options import LIST_SEP

__all__ = ["first_fit_decreasing", "pack_trucks", "shipments_table", "slot_table", "trucks_table"]


def pack_trucks(legs: pl.DataFrame, slots: pl.DataFrame, *, seed: int = 0) -> pl.DataFrame:
    """Assign each (line, leg) of ``legs`` (``li``, ``slot``, ``volume``) to a truck.

    Returns ``legs`` with ``truck_id`` (slot key and ``#n``). The loop runs per lane
    departure; the packing inside (:func:`scot_cli.route.binpack.pack`) loops over the lines
    of that departure, and only searches past first-fit decreasing when that is above the
    lower bound.
    """
    if not legs.height:
        return legs.with_columns(pl.lit(None, pl.String).alias("truck_id"))
    legs = legs.sort("slot", "li")
    # each leg's volume, its slot's capacity and the slot's run (legs are sorted by slot)
    keyed = legs.select(
        pl.col("volume").cast(pl.Float64),
        pl.col("slot").replace_strict(
            slots["slot"], slots["capacity"].cast(pl.Float64), return_dtype=pl.Float64
        ),
        pl.col("slot").rle_id().alias("run"),
    )
    volume, cap = keyed["volume"].to_numpy(), keyed["slot"].to_numpy()
    code = keyed["run"].to_numpy()
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    ends = np.r_[starts[1:], code.shape[0]]
    truck = np.empty(code.shape[0], dtype=np.int64)
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        truck[a:b] = pack(
            volume[a:b], float(cap[a]), steps=search_steps(b - a), time_limit=5.0, seed=seed
        )
    return legs.with_columns(
        (pl.col("slot") + "#" + pl.Series(truck + 1).cast(pl.String)).alias("truck_id")
    )


#: Lines of a departure up to which the packing search takes all its steps
#: (:data:`scot_cli.route.binpack.STEPS`); the sizes of the Falkenauer sets it was tuned on.
SEARCH_LINES = 250
#: Steps the search takes at least, however many lines.
MIN_STEPS = 20


def search_steps(lines: int) -> int:
    """Steps of the packing search for a departure of ``lines`` lines: all of them up to
    :data:`SEARCH_LINES`, then fewer by the square of the size, the growth of a step's cost
    (measured on a 100k-line day: 1.1 ms a step at 2,338 lines, 13 ms at 6,536, so 5,000
    steps took 60 CPU s there while the packing's time limit, looked at every 2,000 steps,
    held none of it; no load there reached the bound with any number of steps tried).
    Counted in steps, so the packing stays the same on any machine."""
    if lines <= SEARCH_LINES:
        return STEPS
    return max(int(STEPS * (SEARCH_LINES / lines) ** 2), MIN_STEPS)


def trucks_table(packed: pl.DataFrame, slots: pl.DataFrame, *, min_fill: float) -> pl.DataFrame:
    """One row per truck: lane, departure, load, capacity, fill, lines, units, cost, flag."""
    t = (
        _truck_sums(packed)
        .lazy()
        .join(slots.lazy(), on="slot", how="left")
        .with_columns((pl.col("load") / pl.col("capacity")).clip(0.0, 1.0).alias("fill"))
    )
    return (
        t.select(
            "truck_id",
            "origin",
            "destination",
            "mode",
            "departure",
            "load",
            "capacity",
            "fill",
            pl.col("lines").cast(pl.Int64),
            "units",
            pl.col("cost_per_truck").alias("cost"),
            (pl.col("fill") < min_fill).alias("under_min_fill"),
        )
        .sort("truck_id")
        .collect()
    )


def _truck_sums(packed: pl.DataFrame) -> pl.DataFrame:
    """Each truck's slot, load, lines and units, summed in the rows' order (``packed`` is
    sorted by slot and line): a threaded group-by may add a truck's floats in another
    order from run to run, and the loads and costs would differ in their last bits."""
    ids = packed["truck_id"].to_numpy()
    trucks, first, code = np.unique(ids, return_index=True, return_inverse=True)
    n = trucks.size
    qty = packed["qty"]
    units = np.bincount(code, weights=qty.cast(pl.Float64).to_numpy(), minlength=n)
    return pl.DataFrame(
        {
            "truck_id": pl.Series(trucks, dtype=pl.String),
            "slot": packed["slot"].gather(first),
            "load": np.bincount(
                code, weights=packed["volume"].cast(pl.Float64).to_numpy(), minlength=n
            ),
            "lines": np.bincount(code, minlength=n).astype(np.int64),
            "units": pl.Series(units).cast(qty.dtype),
        }
    )


def _iso(col: str, fmt: str) -> pl.Expr:
    return pl.col(col).list.eval(pl.element().dt.strftime(fmt)).list.join(LIST_SEP)


def shipments_table(
    lines: pl.DataFrame,
    chosen: pl.DataFrame,
    packed: pl.DataFrame,
    trucks: pl.DataFrame,
    reasons: pl.DataFrame,
) -> pl.DataFrame:
    """One row per line: FC, path, leg times, trucks, cost share, on-time flag and reason.

    ``chosen`` holds the option of each shipped line (``li`` and option columns), ``packed``
    the truck of each (line, leg), ``reasons`` the reason of each late or unshipped line.
    """
    legs = packed.join(
        trucks.select("truck_id", "load", "cost"), on="truck_id", maintain_order="left"
    ).sort("li", "leg")
    # each line's share of its trucks' cost, added leg by leg in order (deterministic)
    start = np.flatnonzero(np.diff(legs["li"].to_numpy(), prepend=-1))
    part = legs.select(pl.col("cost") * pl.col("volume") / pl.col("load")).to_series()
    share = (
        legs.group_by("li", maintain_order=True)
        .agg(pl.col("truck_id").alias("trucks"))
        .with_columns(
            pl.Series(
                "truck_cost", np.add.reduceat(part.to_numpy(), start) if start.size else []
            ).cast(pl.Float64)
        )
        .lazy()
    )
    ship = (
        chosen.lazy()
        .join(share, on="li", how="left")
        .select(
            "li",
            pl.col("origin").alias("ship_node"),
            "path",
            "modes",
            _iso("departures", "%Y-%m-%dT%H").alias("departures"),
            _iso("arrivals", "%Y-%m-%dT%H:%M").alias("arrivals"),
            "depart",
            "arrive",
            pl.col("trucks").list.first().alias("truck_id"),
            pl.col("trucks").list.join(LIST_SEP).alias("truck_ids"),
            pl.col("late_days").cast(pl.Int64),
            (pl.col("cost_per_unit") * pl.col("qty") + pl.col("truck_cost").fill_null(0.0)).alias(
                "cost"
            ),
        )
    )
    out = lines.lazy().join(ship, on="li", how="left").join(reasons.lazy(), on="li", how="left")
    return (
        out.select(
            "order_id",
            "line",
            "sku",
            "qty",
            "volume",
            "destination",
            "ship_node",
            "path",
            "modes",
            "departures",
            "arrivals",
            "depart",
            "arrive",
            "truck_id",
            "truck_ids",
            "promise_date",
            "late_days",
            pl.when(pl.col("ship_node").is_null())
            .then(None)
            .otherwise(pl.col("late_days") == 0)
            .alias("on_time"),
            pl.col("cost").fill_null(0.0),
            pl.when(pl.col("ship_node").is_null())
            .then(pl.lit("unshipped"))
            .when(pl.col("late_days") > 0)
            .then(pl.lit("late"))
            .otherwise(pl.lit("on_time"))
            .alias("status"),
            pl.when(pl.col("ship_node").is_not_null() & (pl.col("late_days") == 0))
            .then(None)
            .otherwise(pl.col("reason"))
            .alias("reason"),
        )
        .sort("order_id", "line")
        .collect()
    )


def slot_table(schedules: pl.DataFrame, lanes: pl.DataFrame) -> pl.DataFrame:
    """Lane departures (first legs) and daily waves (later legs) used by the schedules:
    ``slot``, lane, ``departure``, truck capacity and cost."""
    legs = (
        schedules.lazy()
        .select("path", "modes", "slots", "waves")
        .with_columns(pl.int_ranges(pl.col("slots").list.len()).alias("leg"))
        .explode("slots", "waves", "leg")
    )
    hops, modes = pl.col("path").str.split(PATH_SEP), pl.col("modes").str.split(PATH_SEP)
    return (
        legs.select(
            pl.col("slots").alias("slot"),
            hops.list.get(pl.col("leg")).alias("origin"),
            hops.list.get(pl.col("leg") + 1).alias("destination"),
            modes.list.get(pl.col("leg")).alias("mode"),
            pl.col("waves").alias("departure"),
        )
        .unique("slot")
        .join(
            lanes.lazy().select(
                "origin",
                "destination",
                "mode",
                pl.col("truck_capacity").alias("capacity"),
                "cost_per_truck",
            ),
            on=["origin", "destination", "mode"],
            how="left",
        )
        .sort("slot")
        .collect()
    )
