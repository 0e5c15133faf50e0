"""Planned events: where they fall, how much they lifted demand, and the lift ahead.

An event *cell* is one (series row, period) under a named event. Past cells come from the
sales ``event`` column and from past rows of the events table; future cells from the events
table. The lift of an event name is learned from its past cells as the ratio of observed
demand to a baseline (the mean of the same series one and two seasons before and after, on
periods without events), pooled over series and shrunk per item category towards the name's
lift. Models are fitted on history divided by the lift; forecasts are multiplied by it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
from numpy.typing import NDArray

from scot_cli.forecast.panel import FREQS, period_index
from scot_cli.validate import check_grid

Array = NDArray[np.float64]

#: Baseline units behind a category's own lift before it outweighs the event's overall lift.
CATEGORY_SHRINK = 20.0

CELL_SCHEMA = pl.Schema(
    {
        "_row": pl.UInt32(),
        "_t": pl.Int64(),
        "event": pl.String(),
        "planned": pl.Float64(),
    }
)


def event_cells(
    keys: pl.DataFrame,
    *,
    start: dt.date,
    freq: str,
    events: pl.DataFrame | None,
    categories: pl.DataFrame | None,
    sales_cells: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """All event cells, past and future, as ``_row, _t, event, planned`` (one row per cell).

    Parameters
    ----------
    keys
        ``(sku, location)`` of the panel rows, in row order.
    events
        The events table (``event, start, end`` and optional ``sku, category, lift``).
    categories
        ``sku, category`` of the items table, to resolve category-scoped events.
    sales_cells
        Cells tagged in the sales ``event`` column (``_row, _t, event``); they win over the
        events table on the same cell.
    """
    frames = []
    if sales_cells is not None and sales_cells.height:
        frames.append(
            sales_cells.select("_row", "_t", "event").with_columns(
                pl.lit(None, pl.Float64).alias("planned")
            )
        )
    if events is not None and events.height:
        frames.append(
            _table_cells(keys, start=start, freq=freq, events=events, categories=categories)
        )
    if not frames:
        return pl.DataFrame(schema=CELL_SCHEMA)
    cells = pl.concat([f.cast(CELL_SCHEMA) for f in frames])
    return cells.unique(["_row", "_t"], keep="first", maintain_order=True).sort("_row", "_t")


def _table_cells(
    keys: pl.DataFrame,
    *,
    start: dt.date,
    freq: str,
    events: pl.DataFrame,
    categories: pl.DataFrame | None,
) -> pl.DataFrame:
    ev = events.with_columns(
        *(pl.lit(None, pl.String).alias(c) for c in ("sku", "category") if c not in events.columns),
        *([] if "lift" in events.columns else [pl.lit(None, pl.Float64).alias("lift")]),
    )
    # days before the history carry no demand to learn from, and a negative period index
    # would wrap round to the end of the history: they are left out (see events_before)
    ev = ev.filter(pl.col("end") >= start).with_columns(
        pl.max_horizontal("start", pl.lit(start)).alias("start")
    )
    days = ev.with_columns(pl.date_ranges("start", "end").alias("day")).explode("day")
    days = days.filter(pl.col("day").is_not_null()).with_columns(
        period_index(pl.col("day").dt.truncate(FREQS[freq][1]), start, freq).alias("_t")
    )
    days = days.select("event", "sku", "category", pl.col("lift").alias("planned"), "_t")
    days = days.unique(maintain_order=True)
    rows = keys.with_row_index("_row")
    if categories is not None:
        rows = rows.join(
            categories.select("sku", pl.col("category").alias("_cat")), on="sku", how="left"
        )
    else:
        rows = rows.with_columns(pl.lit(None, pl.String).alias("_cat"))
    check_grid(
        {"event cells": _cell_count(ev, rows)},
        cause="events: the events' days from the history's start on, times their series",
    )
    by_sku = days.filter(pl.col("sku").is_not_null()).join(rows, on="sku")
    scoped = days.filter(pl.col("sku").is_null())
    by_cat = scoped.filter(pl.col("category").is_not_null()).join(
        rows, left_on="category", right_on="_cat"
    )
    by_all = scoped.filter(pl.col("category").is_null()).drop("sku").join(rows, how="cross")
    cols = ["_row", "_t", "event", "planned"]
    return pl.concat([f.select(cols).cast(CELL_SCHEMA) for f in (by_sku, by_cat, by_all)])


def _cell_count(events: pl.DataFrame, rows: pl.DataFrame) -> int:
    """Cells the events make before overlaps are merged: each event's days times the
    series it applies to (its sku's, its category's or all), counted without building them."""
    if events.height == 0:
        return 0
    ev = events.select(
        "sku", "category", ((pl.col("end") - pl.col("start")).dt.total_days() + 1).alias("n")
    )
    per_sku = rows.group_by("sku").len("m")
    per_cat = rows.filter(pl.col("_cat").is_not_null()).group_by("_cat").len("m")
    parts = [
        ev.filter(pl.col("sku").is_not_null()).join(per_sku, on="sku"),
        ev.filter(pl.col("sku").is_null() & pl.col("category").is_not_null()).join(
            per_cat, left_on="category", right_on="_cat"
        ),
        ev.filter(pl.col("sku").is_null() & pl.col("category").is_null()).with_columns(
            pl.lit(rows.height, pl.UInt32).alias("m")
        ),
    ]
    return sum(
        int(p.select((pl.col("n").cast(pl.Int64) * pl.col("m").cast(pl.Int64)).sum()).item() or 0)
        for p in parts
    )


def events_before(events: pl.DataFrame | None, first: dt.date) -> str | None:
    """A warning when some events end before the sales history starts on ``first``.

    Such events (a standing calendar next to a rolling window of sales) teach no lift: their
    days are left out. Events still to come keep their planned or learned lifts.
    """
    if events is None or events.height == 0:
        return None
    old = events.filter(pl.col("end") < first)
    if old.height == 0:
        return None
    names = old["event"].unique(maintain_order=True).to_list()
    shown = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
    return (
        f"events: {old.height:,} event(s) end before the sales history starts ({first}; "
        f"{shown}); they are ignored for learning lifts"
    )


def _baseline(y: Array, season: int, busy: NDArray[np.bool_]) -> Array:
    """Mean of the same series one and two seasons before and after, skipping events."""
    step = max(season, 1)
    total = np.zeros_like(y)
    count = np.zeros_like(y)
    clean = np.where(busy, np.nan, y)
    for k in (-2, -1, 1, 2):
        shifted = np.full_like(y, np.nan)
        d = k * step
        if abs(d) >= y.shape[1]:
            continue
        if d > 0:
            shifted[:, :-d] = clean[:, d:]
        else:
            shifted[:, -d:] = clean[:, :d]
        ok = ~np.isnan(shifted)
        total += np.where(ok, shifted, 0.0)
        count += ok
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def learn_lifts(
    y: Array, cells: pl.DataFrame, *, season: int, row_category: pl.Series | None = None
) -> pl.DataFrame:
    """Learned lift per event name, and per (event, category) when categories are known.

    Returns
    -------
    polars.DataFrame
        ``event, category, lift, base``: ``category`` is null on the name-level rows; ``base``
        is the baseline demand the lift rests on.
    """
    return lifts_from_sums(lift_sums(y, cells, season=season, row_category=row_category))


#: Observed and baseline demand summed over the past cells of an event (``category`` null)
#: and of an event within a category.
SUMS_SCHEMA = pl.Schema(
    {"event": pl.String(), "category": pl.String(), "obs": pl.Float64(), "base": pl.Float64()}
)
LIFTS_SCHEMA = pl.Schema(
    {"event": pl.String(), "category": pl.String(), "lift": pl.Float64(), "base": pl.Float64()}
)


def lift_sums(
    y: Array, cells: pl.DataFrame, *, season: int, row_category: pl.Series | None = None
) -> pl.DataFrame:
    """What :func:`learn_lifts` pools: per event (``category`` null) and per (event, category)
    the summed observed and baseline demand of its past cells. Sums of disjoint sets of series
    add up, so a partitioned run learns the lifts of the whole catalogue
    (:func:`merge_lift_sums`)."""
    past = cells.filter(pl.col("_t").is_between(0, y.shape[1], closed="left"))
    if past.height == 0:
        return pl.DataFrame(schema=SUMS_SCHEMA)
    rows, ts = past["_row"].to_numpy(), past["_t"].to_numpy()
    busy = np.zeros(y.shape, dtype=bool)
    busy[rows, ts] = True
    base = _baseline(y, season, busy)[rows, ts]
    obs = y[rows, ts]
    cat = (
        row_category.gather(rows)
        if row_category is not None
        else pl.Series([None] * rows.size, dtype=pl.String)
    )
    frame = (
        past.select("event")
        .with_columns(
            pl.Series("obs", obs),
            pl.Series("base", base),
            cat.alias("category"),
        )
        .filter(pl.col("obs").is_not_nan() & pl.col("base").is_not_nan())
    )
    names = frame.group_by("event").agg(_sorted_sum("obs"), _sorted_sum("base"))
    by_cat = (
        frame.filter(pl.col("category").is_not_null())
        .group_by("event", "category")
        .agg(_sorted_sum("obs"), _sorted_sum("base"))
    )
    names = names.with_columns(pl.lit(None, pl.String).alias("category"))
    return pl.concat([names.select(list(SUMS_SCHEMA)), by_cat.select(list(SUMS_SCHEMA))]).cast(
        SUMS_SCHEMA
    )


def _sorted_sum(name: str) -> pl.Expr:
    """Sum of a group's values in sorted order: the same bits whatever order the rows of a
    group arrive in (a parallel group-by does not fix that order)."""
    return pl.col(name).sort().sum()


def merge_lift_sums(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """:func:`lift_sums` of disjoint sets of series added up (one part is returned as is)."""
    if len(parts) == 1:
        return parts[0]
    return (
        pl.concat(parts)
        .group_by("event", "category", maintain_order=True)
        .agg(_sorted_sum("obs"), _sorted_sum("base"))
    )


def lifts_from_sums(sums: pl.DataFrame) -> pl.DataFrame:
    """Learned lifts (the result of :func:`learn_lifts`) from :func:`lift_sums`."""
    schema = LIFTS_SCHEMA
    if sums.height == 0:
        return pl.DataFrame(schema=schema)
    names = sums.filter(pl.col("category").is_null()).select(
        "event", (pl.col("obs") / pl.col("base")).alias("lift"), "base"
    )
    names = names.filter(pl.col("base") > 0)
    by_cat = (
        sums.filter(pl.col("category").is_not_null())
        .select("event", "category", "obs", "base")
        .join(names.select("event", pl.col("lift").alias("_name")), on="event")
    )
    by_cat = by_cat.select(
        "event",
        "category",
        (
            (pl.col("obs") + CATEGORY_SHRINK * pl.col("_name")) / (pl.col("base") + CATEGORY_SHRINK)
        ).alias("lift"),
        "base",
    )
    names = names.with_columns(pl.lit(None, pl.String).alias("category"))
    return (
        pl.concat([names.select(list(schema)), by_cat.select(list(schema))])
        .cast(schema)
        .sort("event", "category", nulls_last=False)
    )


def cell_lifts(
    cells: pl.DataFrame, lifts: pl.DataFrame, row_category: pl.Series | None = None
) -> pl.DataFrame:
    """Lift of each cell: planned, else learned for (event, category), else for the event,
    else the mean learned lift of the category, else of all events, else 1."""
    cat = (
        row_category.gather(cells["_row"])
        if row_category is not None
        else pl.Series([None] * cells.height, dtype=pl.String)
    )
    frame = cells.with_columns(cat.alias("category"))
    by_name = lifts.filter(pl.col("category").is_null()).select("event", pl.col("lift").alias("_n"))
    by_cat = lifts.filter(pl.col("category").is_not_null())
    cat_mean = by_cat.group_by("category").agg(pl.col("lift").sort().mean().alias("_c"))
    overall = by_name["_n"].mean() if by_name.height else None
    frame = (
        frame.join(
            by_cat.select("event", "category", pl.col("lift").alias("_ec")),
            on=["event", "category"],
            how="left",
        )
        .join(by_name, on="event", how="left")
        .join(cat_mean, on="category", how="left")
    )
    lift = pl.coalesce("planned", "_ec", "_n", "_c", pl.lit(overall, pl.Float64), pl.lit(1.0))
    return frame.select("_row", "_t", "event", lift.alias("lift"))


def lift_matrix(cells: pl.DataFrame, *, n: int, first: int, count: int) -> Array:
    """``(n, count)`` multipliers for periods ``first .. first+count-1`` (1 off events;
    the largest lift when events overlap)."""
    out = np.ones((n, count))
    sel = cells.filter((pl.col("_t") >= first) & (pl.col("_t") < first + count))
    if sel.height:
        rows, ts = sel["_row"].to_numpy(), sel["_t"].to_numpy() - first
        lift = sel["lift"].to_numpy()
        np.maximum.at(out, (rows, ts), lift)
        low = np.ones((n, count))
        np.minimum.at(low, (rows, ts), lift)
        out = np.where(out == 1.0, low, out)
    return out
