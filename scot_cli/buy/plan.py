"""``plan_buy``: from a quantile forecast, items and stock to purchase orders and policies.

The steps, each a frame-in/frame-out function over a batch of SKUs:

1. map forecast locations to buying nodes (``ALL`` without a network; the fastest FC of each
   region with one);
2. sum demand over the protection interval (lead time + review period), the lead time alone
   and, for the newsvendor, the whole horizon (:mod:`scot_cli.buy.demand`);
3. set the levels of the chosen policy (:mod:`scot_cli.buy.levels`);
4. order against the inventory position, optionally under a budget or storage limit
   (:mod:`scot_cli.buy.constrained`), and round to case packs and MOQs.

SKUs that cannot be planned (bad costs, no forecast, not in items) get a ``status`` of
``unplanned`` and a ``reason`` while the rest are planned.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from scot_cli.errors import InputDataError
from scot_cli.options import OptionError
from scot_cli.validate import check_network

from .assemble import build_outputs
from .demand import (
    COMPILED_FROM,
    ForecastArrays,
    IntervalSums,
    attach,
    interval_sums,
    interval_sums_many,
    key_runs,
    shape_knots,
)
from .disruptions import rates
from .distributions import norm_ppf
from .levels import (
    Interval,
    Labels,
    LevelTable,
    Rows,
    choose_kind,
    choose_policy,
    compute_levels,
)
from .limits import constrain, discount_batches, seller_groups
from .options import BuyOptions, BuyPlan, BuyResult, BuySummary, check_options, summarise
from .policies import order_quantity
from .schema import ALL
from .tiers import Demand, find_tiers, plan_tiers, supplied, with_central_keys

KEYS = ["sku", "node"]
ProgressFn = Callable[[int, int], None]
Table = pl.DataFrame | str | Path


def plan_buy(
    forecast: Table,
    *,
    items: Table,
    inventory: Table,
    nodes: Table | None = None,
    lanes: Table | None = None,
    seller_limits: Table | None = None,
    price_breaks: Table | None = None,
    options: BuyOptions | None = None,
    progress: ProgressFn | None = None,
    **option_fields: Any,
) -> BuyResult:
    """Plan purchases for every sku (and node) of ``items`` and ``forecast``.

    Every table is a polars frame or a Parquet path, validated on entry with the checks
    ``scot plan-buy`` makes (a forecast without ``location`` is one location, ``ALL``).

    Parameters
    ----------
    forecast
        ``sku, location, date, mean`` and quantile columns ``pNN`` (the forecast table).
    items
        The items table (costs, lead times, packs, vendor).
    inventory
        ``sku, node, on_hand`` and optionally ``in_transit``.
    nodes, lanes
        The network; when given, demand is bought per FC (each region served by its fastest
        FC) and the vendor-to-FC lane adds to the lead time.
    seller_limits
        ``seller, node, max_volume``: the storage each seller (the items' ``seller`` column)
        may take, at a node or over all (``ALL``); orders are cut where they save least and
        each row reports its seller's shadow price.
    price_breaks
        ``sku, min_qty, unit_cost, kind``: quantity discounts; the batch of ``ss_heuristic``
        becomes the discount EOQ (all-units or incremental; Snyder & Shen 3.6).
    options
        Policy, demand model, service target, review period, as-of date, limits.
    progress
        Called with ``(done, total)`` rows as policy groups finish.
    **option_fields
        Fields of :class:`BuyOptions` changed on ``options`` (``policy="ss"``).

    Examples
    --------
    >>> result = plan_buy("fixtures/forecast.parquet", items="fixtures/items.parquet",
    ...                   inventory="fixtures/inventory.parquet", policy="ss")  # doctest: +SKIP
    """
    o = (options or BuyOptions()).replace(**option_fields)
    _warm_kernel(forecast)
    if (nodes is None) != (lanes is None):
        raise OptionError("nodes", "nodes and lanes go together; pass both or neither")
    tables = load_inputs(
        forecast,
        items=items,
        inventory=inventory,
        nodes=nodes,
        lanes=lanes,
        seller_limits=seller_limits,
        price_breaks=price_breaks,
    )
    return _plan(tables, o, progress)


def _warm_kernel(forecast: Table) -> None:
    """Load the compiled interval pass on a second thread while the inputs are prepared,
    when the forecast is large enough to use it (:data:`scot_cli.buy.demand.COMPILED_FROM`)."""
    if not isinstance(forecast, pl.DataFrame) or forecast.height < COMPILED_FROM:
        return
    if os.environ.get("SCOT_NO_PRELOAD"):
        return

    def warm() -> None:
        from .kernel import warm

        warm()

    threading.Thread(target=warm, name="scot-buy-kernel", daemon=True).start()


def load_inputs(
    forecast: Table,
    *,
    items: Table,
    inventory: Table,
    nodes: Table | None = None,
    lanes: Table | None = None,
    seller_limits: Table | None = None,
    price_breaks: Table | None = None,
) -> dict[str, pl.DataFrame]:
    """The input tables by role, read when given as paths and validated with the command's
    schema checks; with a network, lanes and inventory must name its nodes."""
    from scot_cli.forecast.schema import FORECAST
    from scot_cli.schema import INVENTORY, ITEMS, LANES, NODES

    out = {
        "forecast": _table(forecast, FORECAST, "forecast"),
        "items": _table(items, ITEMS, "items"),
        "inventory": _table(inventory, INVENTORY, "inventory"),
    }
    if nodes is not None and lanes is not None:
        out["nodes"] = _table(nodes, NODES, "nodes")
        out["lanes"] = _table(lanes, LANES, "lanes")
        check_network(out["nodes"], {"lanes": out["lanes"], "inventory": out["inventory"]})
    if seller_limits is not None:
        from .schema import SELLER_LIMITS

        out["seller_limits"] = _table(seller_limits, SELLER_LIMITS, "seller_limits")
        if "seller" not in out["items"].columns:
            raise InputDataError(
                "items: no 'seller' column, needed with seller limits; add each sku's seller"
            )
    if price_breaks is not None:
        from .schema import PRICE_BREAKS

        out["price_breaks"] = _table(price_breaks, PRICE_BREAKS, "price_breaks")
    return out


def _table(value: Table, table: Any, role: str) -> pl.DataFrame:
    """One input (:func:`scot_cli.io.table_input`); a forecast without ``location`` is one
    location, ``ALL``, as a sales table without it is."""
    from scot_cli.io import Run, table_input
    from scot_cli.validate import already_validated, validate

    if isinstance(value, pl.DataFrame) and already_validated(table, value):
        return value  # the command read it with these checks a moment ago
    if role != "forecast":
        return table_input(value, table, role=role)
    is_frame = isinstance(value, pl.DataFrame)
    frame = value if isinstance(value, pl.DataFrame) else Run(role).read(str(value), None)
    if "location" not in frame.columns:
        frame = frame.with_columns(pl.lit(ALL).alias("location"))
    return validate(table, frame, source=role if is_frame else str(value))


def _plan(
    tables: Mapping[str, pl.DataFrame], o: BuyOptions, progress: ProgressFn | None
) -> BuyResult:
    forecast, items, inventory = tables["forecast"], tables["items"], tables["inventory"]
    nodes, lanes = tables.get("nodes"), tables.get("lanes")
    as_of = o.as_of or _default_as_of(forecast)
    mapped = _map_locations(forecast, nodes, lanes)
    keys = KEYS if nodes is not None else ["sku"]
    runs = key_runs(mapped, keys)
    tiers = find_tiers(nodes, lanes) if nodes is not None and lanes is not None else None
    if tiers is None:
        universe = _universe(runs.keys, items, lanes)
    else:
        _no_limits_with_tiers(o, tables)
        universe = supplied(_universe(with_central_keys(runs.keys, tiers), items, lanes), tiers)
    rows = _with_position(universe, inventory, by_node=nodes is not None).with_row_index("_idx")
    plannable = pl.col("reason").is_null()
    if tiers is not None:
        plannable = plannable & ~pl.col("_central")
    planned = rows.filter(plannable).with_columns(pl.col("position").fill_null(0.0))
    if planned.height == 0:
        return _assemble(rows, None, as_of)
    # each run's planned row: a binary search when the rows allow it, else a join in attach
    run_rows = None
    skus = planned.get_column("sku")
    run_skus = runs.keys.get_column("sku")
    if keys == ["sku"] and run_skus.dtype == pl.String and _strictly_increasing(skus):
        run_rows = lookup(skus, run_skus)
    fa = attach(
        mapped,
        runs,
        planned,
        keys=keys,
        as_of=as_of,
        run_rows=run_rows,
        spread_floor=o.spread_floor,
    )
    result = _plan_rows(
        fa, planned, o, progress, tables.get("seller_limits"), tables.get("price_breaks")
    )
    if tiers is not None:
        rows, result = plan_tiers(rows, planned, result, _daily(fa, planned, o), tiers)
    del fa
    return _assemble(rows, result, as_of)


def _no_limits_with_tiers(o: BuyOptions, tables: Mapping[str, pl.DataFrame]) -> None:
    """Budget, storage and seller limits are single-echelon programs: not with a central tier."""
    if o.budget is not None or o.storage is not None or "seller_limits" in tables:
        raise OptionError(
            "nodes",
            "budget, storage and seller limits are not planned with a central tier (dc nodes "
            "feeding FCs); plan the tiers without limits, or the FCs without the dc lanes",
        )


def _daily(fa: ForecastArrays, planned: pl.DataFrame, o: BuyOptions) -> Demand:
    """Mean and spread of one day's demand per planned row (averaged over its protection
    interval, without lead-time spread), with the row's shortage cost or target."""
    days = planned.get_column("lead_days").to_numpy() + o.review_days
    iv = _intervals(fa, days, np.zeros(planned.height), None, shape=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(days > 0, iv.mean / days, 0.0)
        sd = np.where(days > 0, iv.sd / np.sqrt(days), 0.0)
    p, target = _targets(planned, o)
    return Demand(mean=mean, sd=sd, p=p, target=target)


def _strictly_increasing(s: pl.Series) -> bool:
    """True for a string series without nulls whose values strictly increase (sorted, unique)."""
    if s.dtype != pl.String or s.null_count():
        return False
    return s.len() < 2 or bool((s.slice(1) > s.slice(0, s.len() - 1)).all())


def lookup(keys: pl.Series, values: pl.Series) -> NDArray[np.int64]:
    """Index of each of ``values`` in ``keys`` (strictly increasing strings), -1 when absent.

    A binary search per value instead of a hash join: several times faster on a million
    string keys, and free when the two series are equal (one sorted key list everywhere).
    """
    if values.equals(keys):
        return np.arange(keys.len(), dtype=np.int64)
    if keys.len() == 0:
        return np.full(values.len(), -1, dtype=np.int64)
    where = keys.search_sorted(values, side="left").to_numpy().astype(np.int64)
    np.minimum(where, keys.len() - 1, out=where)
    hit = (keys.gather(where) == values).fill_null(False).to_numpy()
    return np.where(hit, where, -1)


def _default_as_of(forecast: pl.DataFrame) -> dt.date:
    first = forecast.get_column("date").min()
    if not isinstance(first, dt.date):
        raise InputDataError("forecast: no rows; run scot forecast first")
    return first - dt.timedelta(days=1)


def _map_locations(
    forecast: pl.DataFrame, nodes: pl.DataFrame | None, lanes: pl.DataFrame | None
) -> pl.DataFrame:
    """Add ``node``, the fastest FC serving each region (unchanged without a network)."""
    if nodes is None or lanes is None:
        return forecast
    from scot_cli.network import fc_paths

    paths = fc_paths(nodes, lanes)
    best = (
        paths.sort(["destination", "transit_days", "origin"])
        .group_by("destination", maintain_order=True)
        .first()
        .select(pl.col("destination").alias("location"), pl.col("origin").alias("node"))
    )
    fcs = nodes.filter(pl.col("kind") == "fc").select(
        pl.col("node").alias("location"), pl.col("node")
    )
    mapping = pl.concat([best, fcs]).unique("location", keep="first")
    out = forecast.join(mapping, on="location", how="left")
    missing = out.filter(pl.col("node").is_null()).get_column("location").unique().sort()
    if missing.len():
        known = ", ".join(mapping.get_column("location").sort().head(8).to_list())
        raise InputDataError(
            f"forecast: location {missing[0]!r} is neither a region reachable from an FC nor an "
            f"FC in the network (known: {known}, ...); forecast per region or plan without "
            "the network"
        )
    return out


def _universe(
    run_keys: pl.DataFrame, items: pl.DataFrame, lanes: pl.DataFrame | None
) -> pl.DataFrame:
    """Every (sku, node) to report, with item data and a reason when it cannot be planned."""
    items = items.with_columns(
        pl.lit(None, dtype=pl.Float64).alias(c)
        for c in ("service_level", "stockout_cost")
        if c not in items.columns
    )
    merged = _sorted_merge(run_keys, items)
    presorted = merged is not None
    if merged is None:
        fkeys = run_keys.unique()
        if "node" not in fkeys.columns:
            fkeys = fkeys.with_columns(pl.lit(ALL).alias("node"))
        merged = (
            fkeys.with_columns(pl.lit(True).alias("_forecast"))
            .join(
                items.with_columns(pl.lit(True).alias("_item")), on="sku", how="full", coalesce=True
            )
            .with_columns(pl.col("node").fill_null(ALL))
        )
    merged = _lead_times(merged, lanes).with_columns(
        pl.when(pl.col("_item").is_null())
        .then(pl.lit("sku is not in items.parquet; add it to items to plan it"))
        .when(pl.col("_forecast").is_null())
        .then(pl.lit("no forecast for this sku; forecast it (cold-start items need a launch_date)"))
        .otherwise(_bad_item_reason(items.columns))
        .alias("reason")
    )
    merged = merged.drop("_forecast", "_item")
    return merged if presorted else merged.sort(KEYS)


def _sorted_merge(run_keys: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame | None:
    """The universe without a join, sorted, when forecast skus (one run each, no network) and
    item skus are both strictly increasing and every forecast sku is an item; else None."""
    if run_keys.columns != ["sku"]:
        return None
    fsku, isku = run_keys.get_column("sku"), items.get_column("sku")
    if not (_strictly_increasing(fsku) and _strictly_increasing(isku)):
        return None
    if fsku.equals(isku):
        has_forecast = pl.lit(True)
    else:
        where = lookup(isku, fsku)
        if (where < 0).any():
            return None  # a forecast sku that is not an item: the full join reports it
        flags = np.zeros(items.height, dtype=bool)
        flags[where] = True
        has_forecast = pl.when(pl.lit(pl.Series(flags))).then(True)  # null without, as a join
    rest = [c for c in items.columns if c != "sku"]
    return items.select(
        "sku",
        pl.lit(ALL).alias("node"),
        has_forecast.alias("_forecast"),
        *rest,
        pl.lit(True).alias("_item"),
    )


def _lead_times(rows: pl.DataFrame, lanes: pl.DataFrame | None) -> pl.DataFrame:
    """Lead time mean and spread: the item's, plus the vendor-to-node lane with a network."""
    base = rows.with_columns(
        pl.col("lead_time_days").alias("lead_days"), pl.col("lead_time_sd").alias("lead_sd")
    )
    if lanes is None:
        return base
    legs = (
        lanes.sort("transit_days")
        .group_by(["origin", "destination"], maintain_order=True)
        .first()
        .select(
            pl.col("origin").alias("vendor"),
            pl.col("destination").alias("node"),
            "transit_days",
            "transit_sd",
        )
    )
    return (
        base.join(legs, on=["vendor", "node"], how="left")
        .with_columns(
            (pl.col("lead_days") + pl.col("transit_days").fill_null(0.0)).alias("lead_days"),
            (pl.col("lead_sd") ** 2 + pl.col("transit_sd").fill_null(0.0) ** 2)
            .sqrt()
            .alias("lead_sd"),
        )
        .drop("transit_days", "transit_sd")
    )


def _bad_item_reason(columns: list[str]) -> pl.Expr:
    """A one-line reason for item data that cannot be planned (null when fine)."""
    sl = pl.col("service_level")
    disrupted = (
        pl.col("disruption_rate").fill_null(0.0) > 0
        if "disruption_rate" in columns
        else pl.lit(False)
    )
    recovery = pl.col("recovery_days") if "recovery_days" in columns else pl.lit(None)
    checks = [
        (pl.col("unit_cost") <= 0, "unit_cost must be > 0 (it sets the holding cost)"),
        (pl.col("holding_cost_rate") <= 0, "holding_cost_rate must be > 0"),
    ]
    return pl.coalesce(
        *[pl.when(cond).then(pl.lit(msg)) for cond, msg in checks],
        pl.when(sl.is_not_null() & ((sl <= 0) | (sl >= 1))).then(
            pl.lit("service_level must be strictly between 0 and 1")
        ),
        pl.when(
            sl.is_null() & pl.col("stockout_cost").is_not_null() & (pl.col("stockout_cost") <= 0)
        ).then(pl.lit("stockout_cost must be > 0 (or give a service_level)")),
        pl.when(disrupted & ~(recovery.fill_null(0.0) > 0)).then(
            pl.lit("disruption_rate needs recovery_days > 0 (the mean length of a disruption)")
        ),
    )


def _with_position(rows: pl.DataFrame, inventory: pl.DataFrame, *, by_node: bool) -> pl.DataFrame:
    """Add ``position`` (on hand + in transit) per sku and node, summed to ALL without a
    network; null where the inventory has no row."""
    transit = (
        pl.col("in_transit").fill_null(0.0) if "in_transit" in inventory.columns else pl.lit(0.0)
    )
    stock = pl.col("on_hand") + transit
    sku = rows.get_column("sku")
    if by_node or not _strictly_increasing(sku) or inventory.get_column("sku").dtype != pl.String:
        inv = inventory.with_columns(stock.alias("position"))
        if not by_node:
            inv = inv.with_columns(pl.lit(ALL).alias("node"))
        position = inv.group_by(KEYS).agg(pl.col("position").sum())
        return rows.join(position, on=KEYS, how="left", maintain_order="left")
    # one row per sku: sum the inventory rows into their sku by binary search, not group + join
    where = lookup(sku, inventory.get_column("sku"))
    found = where >= 0
    values = inventory.select(stock.fill_null(0.0)).to_series().to_numpy()
    if not found.all():
        where, values = where[found], values[found]
    total = np.bincount(where, weights=values, minlength=rows.height)
    held = np.bincount(where, minlength=rows.height) > 0
    return rows.with_columns(
        pl.Series("position", total, dtype=pl.Float64).set(pl.Series(~held), None)
    )


def _plan_rows(
    fa: ForecastArrays,
    planned: pl.DataFrame,
    o: BuyOptions,
    progress: ProgressFn | None,
    seller_limits: pl.DataFrame | None = None,
    price_breaks: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Levels, raw orders and (optionally constrained) quantities for the plannable rows."""
    rows = _economics(fa, planned, o)
    if price_breaks is not None:
        rows.discount_batch = discount_batches(planned, price_breaks, rows.lam)
    kind = choose_kind(rows, o.distribution)
    policy = choose_policy(rows, o.policy, kind)
    table = compute_levels(rows, policy, kind, progress=progress)
    position = planned.get_column("position").to_numpy()
    raw = order_quantity(policy, position, table.levels)
    frame = guard_levels(_levels_frame(planned, rows, policy, table, raw))
    if o.budget is not None or o.storage is not None or seller_limits is not None:
        groups = [] if seller_limits is None else seller_groups(planned, seller_limits)
        frame = constrain(frame, planned, rows, table, o, groups)
    return frame


def _intervals(
    fa: ForecastArrays,
    days: np.ndarray,
    lead_sd: np.ndarray,
    rate: np.ndarray | None,
    *,
    shape: bool = True,
) -> Interval:
    """One interval per planned row, lead-time spread folded into the variance."""
    return _interval(fa, interval_sums(fa, days, shape=shape), days, lead_sd, rate, shape=shape)


def _interval(
    fa: ForecastArrays,
    sums: IntervalSums,
    days: np.ndarray,
    lead_sd: np.ndarray,
    rate: np.ndarray | None,
    *,
    shape: bool = True,
) -> Interval:
    """:func:`_intervals` from the forecast sums of its ``days``."""
    if rate is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(days > 0, sums.mean / days, 0.0)
    sd = np.sqrt(np.maximum(sums.var + np.square(rate * lead_sd), 0.0))
    if len(fa.levels) < 2 or not shape:
        return Interval(sums.mean, sd, floored=sums.floored)
    knots = shape_knots(sums, sd)
    return Interval(sums.mean, sd, knots, norm_ppf(np.array(fa.levels)), sums.floored)


def _economics(fa: ForecastArrays, planned: pl.DataFrame, o: BuyOptions) -> Rows:
    """Costs, targets and demand intervals as arrays, one entry per planned row."""
    col = planned.get_column
    lead = col("lead_days").to_numpy()
    lead_sd = col("lead_sd").to_numpy()
    review = np.full(planned.height, o.review_days)
    # the review period's demand (the (s,S) policies') is summed in the same pass
    period = o.policy in ("ss", "ss_power", "auto")
    sums = interval_sums_many(fa, [lead + review, review] if period else [lead + review])
    protection = _interval(fa, sums[0], lead + review, lead_sd, None)
    rate = np.where(lead + review > 0, protection.mean / (lead + review), 0.0)
    # lead-time demand alone is used by (r,Q) only, which auto never picks
    continuous = o.policy in ("rq", "rq_eil")
    lead_iv = _intervals(fa, lead, lead_sd, rate, shape=False) if continuous else protection
    h = col("unit_cost").to_numpy() * col("holding_cost_rate").to_numpy() / 365.0
    p, target = _targets(planned, o)
    rows = Rows(
        h=h,
        p=p,
        target=target,
        K=col("order_cost").to_numpy(),
        review=review,
        protection=protection,
        lead=lead_iv,
        service_type=o.service_type,
        extras={"protection_days": lead + review, "lead_days": lead},
    )
    if "disruption_rate" in planned.columns:
        rows.disruption = rates(
            planned.get_column("disruption_rate").fill_null(0.0).to_numpy(),
            _column(planned, "recovery_days").fill_null(0.0).to_numpy(),
        )
    if o.policy == "newsvendor":
        _add_horizon(rows, fa, planned)
    if period:
        rows.period = _interval(fa, sums[1], review, np.zeros(planned.height), rate)
    if o.policy == "lot_size":
        rows.schedule, rows.step = _schedule(fa), fa.step
        rows.extras["position"] = planned.get_column("position").to_numpy()
    return rows


def _column(frame: pl.DataFrame, name: str) -> pl.Series:
    """A float column of ``frame``, all null when it has none."""
    if name in frame.columns:
        return frame.get_column(name).cast(pl.Float64)
    return pl.Series(name, [None] * frame.height, dtype=pl.Float64)


def _schedule(fa: ForecastArrays) -> np.ndarray:
    """Mean demand per row and forecast period after the as-of date, shape ``(n, T)``."""
    periods = max(int(fa.kmax.max(initial=0.0)), 1)
    flat = np.zeros(fa.n * periods)
    for b in fa.blocks():
        at = b.row * periods + (b.k.astype(np.int64) - 1)
        flat += np.bincount(at, weights=b.mean, minlength=flat.size)
    return flat.reshape(fa.n, periods)


def _targets(planned: pl.DataFrame, o: BuyOptions) -> tuple[np.ndarray, np.ndarray]:
    """Shortage cost per unit or service target per row (the other one NaN)."""
    n = planned.height

    def arr(name: str) -> np.ndarray:
        if name not in planned.columns:
            return np.full(n, np.nan)
        return planned.get_column(name).cast(pl.Float64).fill_null(np.nan).to_numpy()

    if o.service_level is not None:
        return np.full(n, np.nan), np.full(n, o.service_level)
    sl, cost = arr("service_level"), arr("stockout_cost")
    use_cost = np.isnan(sl) & np.isfinite(cost)
    target = np.where(np.isfinite(sl), sl, np.where(use_cost, np.nan, o.default_service_level))
    return np.where(use_cost, cost, np.nan), target


def _add_horizon(rows: Rows, fa: ForecastArrays, planned: pl.DataFrame) -> None:
    """The whole-horizon interval (the longest forecast) and newsvendor over/underage costs."""
    days = np.full(planned.height, float(fa.kmax.max(initial=1.0)) * fa.step)
    rows.horizon = _intervals(fa, days, np.zeros(planned.height), None)
    rows.horizon_days = days
    cost = planned.get_column("unit_cost").to_numpy()
    margin = np.maximum(planned.get_column("price").to_numpy() - cost, 1e-9)
    rows.overage = cost
    rows.underage = np.where(np.isfinite(rows.p), rows.p, margin)


LEVEL_COLUMNS = ("reorder_point", "order_up_to", "raw_qty", "demand_mean", "demand_sd")


def guard_levels(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows whose levels are not finite become unplanned with a reason (never a crash); any
    other non-finite figure becomes null."""
    bad = pl.any_horizontal(~pl.col(c).is_finite() for c in LEVEL_COLUMNS)
    numeric = [c for c, t in frame.schema.items() if t == pl.Float64]
    # one cheap pass first: usually every level is finite and only a few columns hold a
    # NaN or infinity, so only those are rewritten
    found = frame.select(
        bad.any().alias("_bad"), *[(~pl.col(c).is_finite()).any().alias(c) for c in numeric]
    ).row(0, named=True)
    if not found.pop("_bad"):
        return frame.with_columns(
            pl.lit(None, dtype=pl.String).alias("level_reason"),
            *[pl.when(pl.col(c).is_finite()).then(pl.col(c)).alias(c) for c in numeric if found[c]],
        ).with_columns(pl.col("raw_qty").fill_null(0.0))
    return frame.with_columns(
        pl.when(bad)
        .then(pl.lit("no finite policy levels for this sku; check its costs and forecast"))
        .alias("level_reason"),
        *[pl.when(~bad & pl.col(c).is_finite()).then(pl.col(c)).alias(c) for c in numeric],
    ).with_columns(pl.col("raw_qty").fill_null(0.0))


def _levels_frame(
    planned: pl.DataFrame, rows: Rows, policy: Labels, table: LevelTable, raw: np.ndarray
) -> pl.DataFrame:
    lv = table.levels
    days = rows.extras["protection_days"]
    mean = rows.protection.mean
    sd = rows.protection.sd
    if rows.horizon is not None and rows.horizon_days is not None:
        nv = policy.is_("newsvendor")
        days = np.where(nv, rows.horizon_days, days)
        mean = np.where(nv, rows.horizon.mean, mean)
        sd = np.where(nv, rows.horizon.sd, sd)
    continuous = policy.any_of(("rq", "rq_eil"))
    lead_mean = np.where(continuous, rows.lead.mean, mean)
    return planned.select("_idx").with_columns(
        policy.column("policy"),
        table.kind.column("distribution"),
        pl.Series("protection_days", np.where(continuous, rows.extras["lead_days"], days)),
        pl.Series("demand_mean", np.where(continuous, rows.lead.mean, mean)),
        pl.Series("demand_sd", np.where(continuous, rows.lead.sd, sd)),
        pl.Series(
            "target", np.clip(np.where(np.isfinite(rows.target), rows.target, lv.in_stock), 0, 1)
        ),
        pl.Series("reorder_point", lv.reorder_point),
        pl.Series("order_up_to", lv.order_up_to),
        pl.Series("safety_stock", lv.reorder_point - lead_mean),
        pl.Series("cycle_stock", np.maximum(lv.batch, rows.lam * rows.review) / 2),
        pl.Series("fill_rate", lv.fill_rate),
        pl.Series("in_stock_prob", lv.in_stock),
        pl.Series("holding_cost", lv.holding),
        pl.Series("stockout_cost", lv.shortage),
        pl.Series("ordering_cost", lv.ordering),
        pl.Series("unit_shortage_cost", table.p_used),
        pl.Series("raw_qty", raw),
        pl.lit(False).alias("constrained"),
        pl.lit(None, dtype=pl.String).alias("binding_constraint"),
        pl.lit(None, dtype=pl.Float64).alias("shadow_price"),
        pl.Series("spread_floored", _floored(rows, policy)),
        *[pl.lit(None, dtype=pl.Float64).alias(c) for c in ECHELON_COLUMNS],
    )


#: Policy columns of multi-echelon rows (null elsewhere; :mod:`scot_cli.buy.tiers`).
ECHELON_COLUMNS = ("echelon_level", "echelon_position", "service_days", "replenishment_days")


def _floored(rows: Rows, policy: Labels) -> np.ndarray:
    """Rows whose reported interval has a period the Poisson floor raised."""

    def count(iv: Interval | None) -> np.ndarray:
        return np.zeros(rows.n) if iv is None or iv.floored is None else iv.floored

    out = count(rows.protection)
    if rows.horizon is not None:
        out = np.where(policy.is_("newsvendor"), count(rows.horizon), out)
    out = np.where(policy.any_of(("rq", "rq_eil")), count(rows.lead), out)
    return out > 0


def _assemble(rows: pl.DataFrame, result: pl.DataFrame | None, as_of: dt.date) -> BuyResult:
    """Round, decide status and reason, and build the two output frames and the summary."""
    orders, policy = build_outputs(rows, result, as_of)
    return BuyResult(orders=orders, policy=policy, summary=summarise(orders, policy, as_of))


def decide_from_inputs(
    inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]
) -> pl.DataFrame:
    """Recompute the purchase orders from inputs by role and recorded parameters.

    Roles: ``forecast``, ``items``, ``inventory`` and, when the run used a network,
    ``nodes`` and ``lanes``. ``params`` are the run's recorded parameters
    (:meth:`BuyOptions.params`). This is exactly what ``scot plan-buy`` does between
    reading and writing, so ``scot explain`` can re-run the decision with mixed inputs.
    """
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
    return plan.orders


__all__ = [
    "ALL",
    "BuyOptions",
    "BuyPlan",
    "BuyResult",
    "BuySummary",
    "check_options",
    "decide_from_inputs",
    "load_inputs",
    "plan_buy",
]
