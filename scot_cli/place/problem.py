"""The placement problem as numpy arrays, built from scot's input frames.

Everything the LP needs is collected in :class:`PlaceProblem`: demand by sku and region
over the planning period (mean and spread), supply by sku and FC, costs, and the
FC -> region arcs with their delivery days. The model modules only see these arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from scot_cli.errors import InputDataError
from scot_cli.network import fc_paths
from scot_cli.schema import quantile_columns
from scot_cli.validate import check_grid

#: Quantile columns of the forecast (``p10``, ``p90``, ...).


@dataclass(frozen=True)
class PlaceProblem:
    """Arrays of one placement problem (S skus, F FCs, R regions, E FC -> region arcs).

    Attributes
    ----------
    skus, fcs, regions
        Ids in array order.
    mu, sd
        (S, R) expected period demand and its standard deviation.
    volume
        (S,) unit volume.
    holding
        (S, F) holding cost per unit held for the period.
    current
        (S, F) units at the FC: on hand plus in transit arriving in the period.
    arriving
        (S,) units of buys arriving in the period, to be received at some FC.
    inbound_cost
        (S, F) cost per arriving unit received at the FC.
    transfer_cost
        (S, F) cost per unit moved into the FC from another FC.
    eligible
        (S, F) whether the sku may be stocked at the FC.
    lost
        (S, R) penalty per expected unit not served.
    arc_fc, arc_region, arc_cost, arc_days
        (E,) FC index, region index, cost per unit and delivery days of each arc.
    storage, throughput
        (F,) storage volume and units processed over the period (``inf`` when unlimited).
    period_days
        Length of the planning period in days.
    speed_rhs
        (R,) units each region must get from fast FCs; None for ``share * sum_s mu``
        (set by the batched solve, :mod:`scot_cli.place.decompose`).
    """

    skus: list[str]
    fcs: list[str]
    regions: list[str]
    mu: np.ndarray
    sd: np.ndarray
    volume: np.ndarray
    holding: np.ndarray
    current: np.ndarray
    arriving: np.ndarray
    inbound_cost: np.ndarray
    transfer_cost: np.ndarray
    eligible: np.ndarray
    lost: np.ndarray
    arc_fc: np.ndarray
    arc_region: np.ndarray
    arc_cost: np.ndarray
    arc_days: np.ndarray
    storage: np.ndarray
    throughput: np.ndarray
    period_days: int = 7
    speed_rhs: np.ndarray | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(S, F, R)."""
        return len(self.skus), len(self.fcs), len(self.regions)

    def take(self, rows: np.ndarray) -> PlaceProblem:
        """The sub-problem of the skus at positions ``rows`` (shared capacities unchanged)."""
        per_sku = (
            "mu",
            "sd",
            "volume",
            "holding",
            "current",
            "arriving",
            "inbound_cost",
            "transfer_cost",
            "eligible",
            "lost",
        )
        return replace(
            self,
            skus=[self.skus[i] for i in rows],
            **{name: getattr(self, name)[rows] for name in per_sku},  # type: ignore[arg-type]
        )


def period_demand(forecast: pl.DataFrame, *, days: int) -> pl.DataFrame:
    """Expected demand and its spread per (sku, location) over the first ``days`` forecast days.

    Daily spread comes from the widest pair of quantile columns around the median under a
    normal approximation, sd = (p_hi - p_lo) / (z_hi - z_lo), and Poisson (sd = sqrt(mean))
    when the forecast has no such pair; days are summed as independent.
    Returns ``sku, location, mu, sd``.
    """
    # scipy.special, not scipy.stats: the latter takes seconds to import
    from scipy.special import ndtri

    last = forecast["date"].min() + _days(days - 1)  # type: ignore[operator]
    window = forecast.filter(pl.col("date") <= pl.lit(last))
    levels = quantile_columns(forecast.columns)
    lo = [(q, name) for q, name in levels if q < 0.5]
    hi = [(q, name) for q, name in levels if q > 0.5]
    if lo and hi:
        (q_lo, name_lo), (q_hi, name_hi) = lo[0], hi[-1]
        span = float(ndtri(q_hi) - ndtri(q_lo))
        var = ((pl.col(name_hi) - pl.col(name_lo)) / span) ** 2
    else:
        var = pl.col("mean")
    return (
        window.group_by("sku", "location")
        .agg(pl.col("mean").sum().alias("mu"), var.sum().sqrt().alias("sd"))
        .sort("sku", "location")
    )


def service_arcs(nodes: pl.DataFrame, lanes: pl.DataFrame) -> pl.DataFrame:
    """One arc per (FC, region): the cheapest path among those with the fewest delivery days.

    Delivery days = FC ``processing_days`` + path transit rounded up to whole days (at least 1).
    Returns ``fc, region, cost, days, path``.
    """
    paths = fc_paths(nodes, lanes)
    proc = nodes.select(
        pl.col("node").alias("origin"), pl.col("processing_days").fill_null(0).alias("proc")
    )
    return (
        paths.join(proc, on="origin", how="left")
        .with_columns(
            (pl.col("proc") + (pl.col("transit_days") - 1e-9).ceil().cast(pl.Int64))
            .clip(lower_bound=1)
            .alias("days")
        )
        .sort("origin", "destination", "days", "cost_per_unit", "path")
        .group_by("origin", "destination", maintain_order=True)
        .first()
        .select(
            pl.col("origin").alias("fc"),
            pl.col("destination").alias("region"),
            pl.col("cost_per_unit").alias("cost"),
            "days",
            "path",
        )
    )


def build_problem(
    *,
    forecast: pl.DataFrame,
    items: pl.DataFrame,
    inventory: pl.DataFrame,
    nodes: pl.DataFrame,
    lanes: pl.DataFrame,
    receipts: pl.DataFrame | None = None,
    period_days: int = 7,
    transfer_cost: float = 0.5,
) -> PlaceProblem:
    """Collect the arrays of a placement problem from validated input frames.

    Parameters
    ----------
    forecast
        Forecast by sku and region node (``location``); the first ``period_days`` dates form
        the planning period.
    items, inventory, nodes, lanes
        Validated input tables (``scot_cli.schema``).
    receipts
        Buys (plan-buy's orders): ``sku, arrival_date, qty`` and optionally ``status``; those
        arriving by the end of the period are received at an FC the plan chooses.
    period_days
        Days in the planning period.
    transfer_cost
        Cost per unit moved between FCs.

    Raises
    ------
    InputDataError
        When the forecast is not by region or names skus missing from the items table.
    """
    fcs = nodes.filter(pl.col("kind") == "fc").sort("node")
    regions = nodes.filter(pl.col("kind") == "region")["node"].sort().to_list()
    if fcs.height == 0:
        raise InputDataError("nodes: no node of kind 'fc'; place needs at least one FC")
    _check_forecast(forecast, regions, items)
    demand = period_demand(forecast, days=period_days)
    end = forecast["date"].min() + _days(period_days - 1)  # type: ignore[operator]
    skus = sorted(
        set(demand["sku"])
        | set(inventory.filter(pl.col("node").is_in(fcs["node"].to_list()))["sku"])
    )
    unknown = sorted(set(skus) - set(items["sku"]))
    if unknown:
        raise InputDataError(
            f"inventory.parquet: sku {unknown[0]!r} in column sku is not in items.parquet; "
            "add it to the items table"
        )
    fc_ids = fcs["node"].to_list()
    sku_ix = {s: i for i, s in enumerate(skus)}
    fc_ix = {f: i for i, f in enumerate(fc_ids)}
    reg_ix = {r: i for i, r in enumerate(regions)}
    shape = (len(skus), len(fc_ids))
    check_grid(
        {"skus": len(skus), "FCs and regions": len(fc_ids) + len(regions)},
        cause="forecast and inventory: the skus to place",
    )
    mu = _dense(demand, "sku", "location", "mu", sku_ix, reg_ix, (len(skus), len(regions)))
    sd = _dense(demand, "sku", "location", "sd", sku_ix, reg_ix, (len(skus), len(regions)))
    current = _dense(_current(inventory, end), "sku", "node", "units", sku_ix, fc_ix, shape)
    item = items.filter(pl.col("sku").is_in(skus)).sort("sku")
    unit_cost = item["unit_cost"].to_numpy()
    holding = np.repeat(
        (unit_cost * item["holding_cost_rate"].to_numpy() * period_days / 365)[:, None],
        len(fc_ids),
        axis=1,
    )
    arcs = service_arcs(nodes, lanes).filter(pl.col("region").is_in(regions))
    arc_fc = np.array([fc_ix[f] for f in arcs["fc"]], dtype=np.int64)
    arc_region = np.array([reg_ix[r] for r in arcs["region"]], dtype=np.int64)
    arc_cost = arcs["cost"].to_numpy().astype(float)
    worst = np.zeros(len(regions))
    np.maximum.at(worst, arc_region, arc_cost)
    return PlaceProblem(
        skus=skus,
        fcs=fc_ids,
        regions=regions,
        mu=mu,
        sd=sd,
        volume=item["unit_volume"].to_numpy().astype(float),
        holding=holding,
        current=current,
        arriving=_arriving(receipts, end, sku_ix),
        inbound_cost=_inbound_cost(item, lanes, fc_ids),
        transfer_cost=np.full(shape, float(transfer_cost)),
        eligible=np.ones(shape, dtype=bool),
        lost=_lost_base(item)[:, None] + worst[None, :],
        arc_fc=arc_fc,
        arc_region=arc_region,
        arc_cost=arc_cost,
        arc_days=arcs["days"].to_numpy().astype(np.int64),
        storage=fcs["storage_capacity"].fill_null(math.inf).to_numpy().astype(float),
        throughput=(fcs["daily_capacity"].fill_null(math.inf) * period_days)
        .to_numpy()
        .astype(float),
        period_days=period_days,
        extra={"arc_path": arcs["path"].to_list()},
    )


def _days(n: int) -> object:
    import datetime as dt

    return dt.timedelta(days=n)


def _check_forecast(forecast: pl.DataFrame, regions: list[str], items: pl.DataFrame) -> None:
    if forecast.height == 0:
        raise InputDataError("forecast: no rows; run scot forecast first")
    bad = forecast.filter(~pl.col("location").is_in(regions))["location"].unique().sort()
    if bad.len():
        raise InputDataError(
            f"forecast: location {bad[0]!r} in column location is not a region node of "
            f"nodes.parquet (known: {', '.join(regions[:6])}{', ...' if len(regions) > 6 else ''});"
            " forecast sales by region for placement"
        )
    missing = forecast.filter(~pl.col("sku").is_in(items["sku"].to_list()))["sku"].unique().sort()
    if missing.len():
        raise InputDataError(
            f"forecast: sku {missing[0]!r} in column sku is not in items.parquet; "
            "add it to the items table"
        )


def _dense(
    df: pl.DataFrame,
    row: str,
    col: str,
    value: str,
    row_ix: dict[str, int],
    col_ix: dict[str, int],
    shape: tuple[int, int],
) -> np.ndarray:
    out = np.zeros(shape)
    keep = df.filter(pl.col(row).is_in(list(row_ix)) & pl.col(col).is_in(list(col_ix)))
    i = np.array([row_ix[v] for v in keep[row]], dtype=np.int64)
    j = np.array([col_ix[v] for v in keep[col]], dtype=np.int64)
    np.add.at(out, (i, j), keep[value].to_numpy().astype(float))
    return out


def _current(inventory: pl.DataFrame, end: object) -> pl.DataFrame:
    """On hand plus in transit whose eta falls in the period (or is unknown)."""
    transit = pl.lit(0.0)
    if "in_transit" in inventory.columns:
        transit = pl.col("in_transit").fill_null(0.0)
        if "eta" in inventory.columns:
            transit = (
                pl.when(pl.col("eta").is_null() | (pl.col("eta") <= pl.lit(end)))
                .then(transit)
                .otherwise(0.0)
            )
    return inventory.select("sku", "node", (pl.col("on_hand") + transit).alias("units"))


def _arriving(receipts: pl.DataFrame | None, end: object, sku_ix: dict[str, int]) -> np.ndarray:
    out = np.zeros(len(sku_ix))
    if receipts is None or receipts.height == 0:
        return out
    rows = receipts.filter(
        (pl.col("qty") > 0)
        & (pl.col("arrival_date") <= pl.lit(end))
        & pl.col("sku").is_in(list(sku_ix))
    )
    if "status" in rows.columns:
        rows = rows.filter(
            pl.col("status").is_null() | ~pl.col("status").is_in(["skip", "skipped", "cancelled"])
        )
    np.add.at(
        out, np.array([sku_ix[s] for s in rows["sku"]], dtype=np.int64), rows["qty"].to_numpy()
    )
    return out


def _inbound_cost(items: pl.DataFrame, lanes: pl.DataFrame, fcs: list[str]) -> np.ndarray:
    """Cheapest vendor -> FC lane cost per unit; the FC's median inbound cost when none."""
    vendor_fc = (
        lanes.filter(pl.col("destination").is_in(fcs))
        .group_by("origin", "destination")
        .agg(pl.col("cost_per_unit").min())
    )
    fallback = vendor_fc.group_by("destination").agg(pl.col("cost_per_unit").median())
    grid = items.select("sku", "vendor").join(pl.DataFrame({"fc": fcs}), how="cross")
    cost = (
        grid.join(
            vendor_fc, left_on=["vendor", "fc"], right_on=["origin", "destination"], how="left"
        )
        .join(
            fallback.rename({"cost_per_unit": "fb"}),
            left_on="fc",
            right_on="destination",
            how="left",
        )
        .with_columns(pl.coalesce("cost_per_unit", "fb", pl.lit(0.0)).alias("c"))
        .sort("sku", pl.col("fc").replace_strict({f: i for i, f in enumerate(fcs)}))
    )
    return cost["c"].to_numpy().reshape(items.height, len(fcs)).astype(float)


def _lost_base(items: pl.DataFrame) -> np.ndarray:
    """stockout_cost when given, else the lost margin price - unit_cost (at least 0)."""
    margin = (pl.col("price") - pl.col("unit_cost")).clip(lower_bound=0.0)
    expr = pl.coalesce("stockout_cost", margin) if "stockout_cost" in items.columns else margin
    return items.select(expr.alias("p"))["p"].to_numpy().astype(float)
