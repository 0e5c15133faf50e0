"""Candidate fulfilment options of each order line: ship-from FC, path and departures.

A line is released at its FC at 00:00 of its ``ship_date`` and leaves on the first leg's next
scheduled departure (``departure_hour`` on the ``weekdays`` the lane runs); with holding it may
take one of the following departures, which the model only uses when the promise still holds.
A leg's ``transit_days`` includes the dwell at its origin (:mod:`scot_cli.network`), so the
later legs are timed by adding their transit to the hand-over time (the convention ``scot
promise`` uses too), and their trucks consolidate per lane and day: the day's wave, nominally
at the lane's ``departure_hour``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from scot_cli.network import PATH_SEP, fc_paths

#: Separator of the departure, arrival and truck lists in the shipments table.
LIST_SEP = "|"


def next_departures(
    earliest: dt.datetime, *, hour: int, weekdays: str, count: int = 1
) -> list[dt.datetime]:
    """The first ``count`` scheduled departures at or after ``earliest``.

    >>> next_departures(dt.datetime(2026, 11, 1, 10), hour=20, weekdays="1111100", count=2)
    [datetime.datetime(2026, 11, 2, 20, 0), datetime.datetime(2026, 11, 3, 20, 0)]
    """
    out: list[dt.datetime] = []
    day = earliest.date()
    runs = weekdays if "1" in weekdays else "1111111"
    while len(out) < count:
        when = dt.datetime.combine(day, dt.time(hour))
        if runs[day.weekday()] == "1" and when >= earliest:
            out.append(when)
        day += dt.timedelta(days=1)
    return out


def slot_key(origin: str, destination: str, mode: str, departure: dt.datetime) -> str:
    """Identifier of one scheduled departure of a lane (the trucks of it share this prefix)."""
    return f"{origin}{PATH_SEP}{destination}:{mode}@{departure:%Y-%m-%dT%H}"


def _schedule_path(
    nodes: list[str],
    modes: list[str],
    ready: dt.date,
    hold: int,
    lanes: dict[tuple[str, str, str], dict[str, Any]],
) -> dict[str, object]:
    t = dt.datetime.combine(ready, dt.time())
    deps: list[dt.datetime] = []
    arrs: list[dt.datetime] = []
    keys: list[str] = []
    caps: list[float] = []
    waves: list[dt.datetime] = []
    for i, mode in enumerate(modes):
        lane = lanes[(nodes[i], nodes[i + 1], mode)]
        if i == 0:
            dep = next_departures(
                t, hour=lane["departure_hour"], weekdays=lane["weekdays"], count=hold + 1
            )[-1]
            wave = dep
        else:
            dep = t
            wave = dt.datetime.combine(t.date(), dt.time(lane["departure_hour"]))
        t = dep + dt.timedelta(days=lane["transit_days"])
        deps.append(dep)
        arrs.append(t)
        waves.append(wave)
        keys.append(slot_key(nodes[i], nodes[i + 1], mode, wave))
        caps.append(lane["truck_capacity"])
    return {
        "depart": deps[0],
        "arrive": t,
        "fc_day": deps[0].date(),
        "slots": keys,
        "departures": deps,
        "arrivals": arrs,
        "waves": waves,
        "min_capacity": min(caps),
    }


#: Schedules of the last network's paths per (ready date, holds): the network's paths
#: frame (:func:`scot_cli.network.fc_paths` returns the same frame for an equal network)
#: and the frames by key. A simulation routes every day on the same network.
_SCHEDULED: dict[str, Any] = {"paths": None, "frames": {}}
_SCHEDULED_DATES = 64

_SCHEDULE_SCHEMA: dict[str, Any] = {
    "origin": pl.String,
    "destination": pl.String,
    "path": pl.String,
    "modes": pl.String,
    "ready": pl.Date,
    "hold": pl.Int64,
    "cost_per_unit": pl.Float64,
    "depart": pl.Datetime("us"),
    "arrive": pl.Datetime("us"),
    "fc_day": pl.Date,
    "slots": pl.List(pl.String),
    "departures": pl.List(pl.Datetime("us")),
    "arrivals": pl.List(pl.Datetime("us")),
    "waves": pl.List(pl.Datetime("us")),
    "min_capacity": pl.Float64,
}


def path_schedules(
    nodes: pl.DataFrame, lanes: pl.DataFrame, *, ready_dates: list[dt.date], holds: int = 0
) -> pl.DataFrame:
    """Every FC -> region path scheduled from each ready date, with ``holds`` later first legs.

    Returns one row per (path, ready date, hold): ``origin`` (FC), ``destination``, ``path``,
    ``modes``, ``ready``, ``hold``, ``cost_per_unit``, ``depart``, ``arrive``, ``fc_day``,
    ``slots`` (lane departure keys), ``departures``, ``arrivals`` and ``min_capacity``.
    The loop runs over paths and dates, not over order lines; a date the same network was
    scheduled from before is taken from the last calls.
    """
    paths = fc_paths(nodes, lanes)
    if _SCHEDULED["paths"] is not paths:
        _SCHEDULED.update(paths=paths, frames={})
    frames: dict[tuple[dt.date, int], pl.DataFrame] = _SCHEDULED["frames"]
    parts = []
    for j, ready in enumerate(ready_dates):
        key = (ready, holds)
        if key not in frames:
            frames[key] = _scheduled_on(paths, lanes, ready, holds)
            for old in list(frames)[: max(len(frames) - _SCHEDULED_DATES, 0)]:
                del frames[old]
        parts.append(frames[key].with_columns(pl.lit(j).alias("_r")))
    if not parts:
        return pl.DataFrame(schema=_SCHEDULE_SCHEMA)
    # rows by path, then ready date as given, then hold (as one loop over them makes them)
    return pl.concat(parts).sort("_p", "_r", "hold", maintain_order=True).drop("_p", "_r")


def _scheduled_on(
    paths: pl.DataFrame, lanes: pl.DataFrame, ready: dt.date, holds: int
) -> pl.DataFrame:
    """The schedules of every path from one ready date (``_p``: the path's row)."""
    lane_map = {(r["origin"], r["destination"], r["mode"]): r for r in lanes.iter_rows(named=True)}
    rows = []
    for i, p in enumerate(paths.iter_rows(named=True)):
        hops, modes = p["path"].split(PATH_SEP), p["modes"].split(PATH_SEP)
        for hold in range(holds + 1):
            rows.append(
                {
                    "_p": i,
                    "origin": p["origin"],
                    "destination": p["destination"],
                    "path": p["path"],
                    "modes": p["modes"],
                    "ready": ready,
                    "hold": hold,
                    "cost_per_unit": p["cost_per_unit"],
                    **_schedule_path(hops, modes, ready, hold, lane_map),
                }
            )
    return pl.DataFrame(rows, schema={"_p": pl.Int64, **_SCHEDULE_SCHEMA})


def line_options(
    lines: pl.DataFrame,
    schedules: pl.DataFrame,
    stock: pl.DataFrame,
    *,
    paths_per_fc: int = 2,
) -> pl.DataFrame:
    """Candidate options per line, pruned to keep the model small.

    ``lines`` carries ``li`` (line index), ``sku``, ``qty``, ``volume``, ``destination``,
    ``ready`` and ``promise_date``; ``stock`` carries ``sku``, ``node`` and ``on_hand``.
    An option needs stock for the whole line at its FC and trucks big enough for its volume.
    Per line, FC and hold the ``paths_per_fc`` cheapest on-time paths are kept; held
    departures only when on time; when an FC has no on-time path, its earliest arrival is
    kept as a late option (lateness is penalised in the objective, never hidden).
    """
    opts = (
        lines.join(schedules, on=["destination", "ready"], how="inner")
        .join(stock.rename({"node": "origin"}), on=["sku", "origin"], how="inner")
        .filter((pl.col("on_hand") >= pl.col("qty")) & (pl.col("volume") <= pl.col("min_capacity")))
        .with_columns(
            (pl.col("arrive").dt.date() - pl.col("promise_date"))
            .dt.total_days()
            .clip(lower_bound=0)
            .alias("late_days")
        )
    )
    on_time = (
        opts.filter(pl.col("late_days") == 0)
        .sort("li", "origin", "hold", "cost_per_unit", "arrive", "path")
        .filter(pl.int_range(pl.len()).over("li", "origin", "hold") < paths_per_fc)
    )
    late = (
        opts.filter(pl.col("hold") == 0)
        .join(on_time.select("li", "origin").unique(), on=["li", "origin"], how="anti")
        .sort("li", "origin", "arrive", "cost_per_unit", "path")
        .filter(pl.int_range(pl.len()).over("li", "origin") < 1)
    )
    out = pl.concat([on_time, late]).sort("li", "origin", "hold", "path")
    return out.with_columns(pl.int_range(pl.len()).alias("oi")).drop("on_hand")


def no_option_reason(
    lines: pl.DataFrame, stock: pl.DataFrame, schedules: pl.DataFrame
) -> pl.DataFrame:
    """Why a line has no option at all: a backorder, not promised, no stock, no lane, or too
    large for a truck."""
    has_stock = (
        lines.lazy()
        .join(stock.lazy(), on="sku", how="inner")
        .filter(pl.col("on_hand") >= pl.col("qty"))
        .select("li")
        .unique()
        .with_columns(pl.lit(True).alias("stocked"))
    )
    cap = schedules.lazy().group_by("destination").agg(pl.col("min_capacity").max().alias("maxcap"))
    return (
        lines.lazy()
        .join(has_stock, on="li", how="left")
        .join(cap, on="destination", how="left")
        .select(
            "li",
            pl.when(pl.col("ready").is_null() & (pl.col("status") == "backorder"))
            .then(pl.lit("backorder"))
            .when(pl.col("ready").is_null() | pl.col("promise_date").is_null())
            .then(pl.lit("not promised"))
            .when(pl.col("stocked").is_null())
            .then(pl.lit("no stock"))
            .when(pl.col("maxcap").is_null())
            .then(pl.lit("no lane fast enough"))
            .otherwise(pl.lit("too large for a truck"))
            .alias("reason"),
        )
        .collect()
    )


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in km (mean Earth radius 6,371 km)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    return np.asarray(6371.0 * 2 * np.arcsin(np.sqrt(a)))
