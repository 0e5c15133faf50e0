"""The simulation's outputs: daily measures, KPIs per replication, and their summary with
95% intervals and paired differences to the reference (the first policy, base scenario)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from .engine import FC_MEASURES, REGION_MEASURES, Trace
from .world import World

#: KPIs of ``sim_summary``: name -> help (rates are ratios of sums over the horizon).
KPIS: dict[str, str] = {
    "in_stock_rate": "units served with the sku ordered on the day / units demanded",
    "fill_rate": "units served (the sku or its substitute) on the day / units demanded",
    "share_1day": "units delivered within 1 day / units served",
    "share_2day": "units delivered within 2 days / units served",
    "promises_kept": "units delivered by their promised day / units promised and bought",
    "lost_units": "units demanded and not sold",
    "substituted_units": "units demanded and sold as the sku's substitute",
    "split_share": "orders shipped from more than one FC / orders shipped",
    "truck_fill": "volume loaded / capacity of the trucks leaving the FCs (route's trucks)",
    "avg_on_hand": "mean over days of the units on hand at the end of the day",
    "bought_units": "units bought over the horizon",
    "holding_cost": "cost of holding stock",
    "shipping_cost": "route's shipping cost: cost per unit on the path plus each line's "
    "share of its trucks",
    "lost_sales_cost": "lost units times their stockout cost (or margin)",
    "total_cost": "holding + shipping + lost-sales cost",
}


#: KPIs that are shares in [0, 1] (their intervals are clipped to it).
RATES = frozenset(
    (
        "in_stock_rate",
        "fill_rate",
        "share_1day",
        "share_2day",
        "promises_kept",
        "split_share",
        "truck_fill",
    )
)


@dataclass(frozen=True)
class Run:
    """One simulated run's trace and labels."""

    scenario: str
    policy: str
    replication: int
    trace: Trace


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


def kpis(trace: Trace) -> dict[str, float]:
    """The KPIs of one run (see :data:`KPIS`)."""
    r = {m: float(trace.region[:, :, i].sum()) for i, m in enumerate(REGION_MEASURES)}
    f = {m: float(trace.fc[:, :, i].sum()) for i, m in enumerate(FC_MEASURES)}
    total = r["shipping_cost"] + r["lost_sales_cost"] + f["holding_cost"]
    return {
        "in_stock_rate": _ratio(r["served"] - r["substituted"], r["demand"]),
        "fill_rate": _ratio(r["served"], r["demand"]),
        "share_1day": _ratio(r["served_1day"], r["served"]),
        "share_2day": _ratio(r["served_2day"], r["served"]),
        "promises_kept": _ratio(r["promises_kept"], r["promised"]),
        "lost_units": r["lost"],
        "substituted_units": r["substituted"],
        "split_share": _ratio(r["split_orders"], r["orders"]),
        "truck_fill": _ratio(f["truck_volume"], f["truck_capacity"]),
        "avg_on_hand": float(trace.fc[:, :, 0].sum(axis=1).mean()),
        "bought_units": f["bought"],
        "holding_cost": f["holding_cost"],
        "shipping_cost": r["shipping_cost"],
        "lost_sales_cost": r["lost_sales_cost"],
        "total_cost": total,
    }


def daily_frame(runs: list[Run], world: World) -> pl.DataFrame:
    """``sim_daily``: one row per scenario, policy, replication, date and node (region
    rows carry the demand measures, FC rows the stock measures; the others are null)."""
    frames = []
    for run in runs:
        days = run.trace.region.shape[0]
        dates = [world.start + dt.timedelta(days=t) for t in range(days)]
        frames.append(_block(run, dates, world.regions, run.trace.region, REGION_MEASURES))
        frames.append(_block(run, dates, world.fcs, run.trace.fc, FC_MEASURES))
    out = pl.concat(frames, how="diagonal_relaxed").with_columns(
        (pl.col("served") - pl.col("substituted")).alias("_own")
    )
    rates = {
        "in_stock_rate": ("_own", "demand"),
        "share_1day": ("served_1day", "served"),
        "share_2day": ("served_2day", "served"),
        "truck_fill": ("truck_volume", "truck_capacity"),
    }
    return (
        out.with_columns(
            [
                pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).alias(name)
                for name, (num, den) in rates.items()
            ]
        )
        .drop("_own")
        .sort("scenario", "policy", "replication", "date", "node")
    )


def _block(
    run: Run,
    dates: list[dt.date],
    nodes: list[str],
    arr: NDArray[np.float64],
    names: tuple[str, ...],
) -> pl.DataFrame:
    days, n = arr.shape[0], arr.shape[1]
    cols: dict[str, object] = {
        "scenario": [run.scenario] * (days * n),
        "policy": [run.policy] * (days * n),
        "replication": np.full(days * n, run.replication, dtype=np.int64),
        "date": pl.Series(np.repeat(np.array(dates, dtype="datetime64[D]"), n)).cast(pl.Date),
        "node": np.tile(np.array(nodes), days),
    }
    for i, m in enumerate(names):
        cols[m] = arr[:, :, i].ravel()
    return pl.DataFrame(cols)


def kpi_frame(runs: list[Run]) -> pl.DataFrame:
    """KPIs per scenario, policy and replication (long: one row per KPI)."""
    rows = [
        (run.scenario, run.policy, run.replication, k, v)
        for run in runs
        for k, v in kpis(run.trace).items()
    ]
    return pl.DataFrame(
        rows,
        schema=["scenario", "policy", "replication", "kpi", "value"],
        orient="row",
    )


def interval(values: NDArray[np.float64]) -> tuple[float, float, float]:
    """Mean and 95% t interval of ``values`` (one per replication); the interval is NaN
    with a single replication."""
    from scipy import stats

    v = values[~np.isnan(values)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(v.mean())
    if v.size < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return mean, mean - half, mean + half


def summary_frame(per_rep: pl.DataFrame, reference: tuple[str, str]) -> pl.DataFrame:
    """``sim_summary``: per scenario, policy and KPI the mean over replications with its
    95% interval, and the paired difference (same replications, same streams) with its
    interval: in the base scenario ``reference[0]`` to the first policy ``reference[1]``,
    in a what-if scenario to the same policy in the base scenario."""
    base, first = reference
    ref = per_rep.filter(pl.col("scenario") == base).select(
        pl.col("policy").alias("_ref_policy"), "replication", "kpi", pl.col("value").alias("_ref")
    )
    joined = per_rep.with_columns(
        pl.when(pl.col("scenario") == base)
        .then(pl.lit(first))
        .otherwise(pl.col("policy"))
        .alias("_ref_policy")
    ).join(ref, on=["_ref_policy", "replication", "kpi"], how="left")
    rows = []
    order = {k: i for i, k in enumerate(KPIS)}
    for (scen, pol, kpi), g in joined.group_by(["scenario", "policy", "kpi"], maintain_order=True):
        v = g["value"].to_numpy().astype(float)
        d = (g["value"] - g["_ref"]).to_numpy().astype(float)
        mean, lo, hi = interval(v)
        if str(kpi) in RATES:
            lo, hi = max(lo, 0.0), min(hi, 1.0)
        dm, dlo, dhi = interval(d)
        against = f"{first} ({base})" if scen == base else f"{pol} ({base})"
        rows.append(
            (scen, pol, kpi, order[str(kpi)], g.height, mean, lo, hi, dm, dlo, dhi, against)
        )
    out = pl.DataFrame(
        rows,
        schema=[
            "scenario",
            "policy",
            "kpi",
            "_order",
            "replications",
            "mean",
            "ci_low",
            "ci_high",
            "diff",
            "diff_low",
            "diff_high",
            "reference",
        ],
        orient="row",
    )
    nan_to_null = [
        pl.col(c).fill_nan(None)
        for c in ("mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high")
    ]
    return out.with_columns(nan_to_null).drop("_order")
