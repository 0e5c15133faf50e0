"""``scot plot simulate``: KPI trends per policy over the simulated days with 95% bands
across replications (``sim_daily``), and each KPI's mean with its 95% interval
(``sim_summary``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from .inputs import Inputs
from .options import PlotOptions
from .render import figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["TRENDS", "daily_kpis", "draw", "trend_bands"]

#: KPI -> (numerator, denominator) summed over regions per day (``sim_daily`` columns).
TRENDS: dict[str, tuple[str, str]] = {
    "in_stock_rate": ("served", "demand"),
    "share_1day": ("served_1day", "served"),
    "promises_kept": ("promises_kept", "served"),
}
#: KPIs of the interval panel, when ``sim_summary`` has them.
SUMMARY_KPIS = ("in_stock_rate", "share_1day", "share_2day", "promises_kept")


def daily_kpis(daily: pl.DataFrame) -> pl.DataFrame:
    """Per scenario, policy, replication and date: each of :data:`TRENDS` over all regions
    (ratios of sums, as the simulation's KPIs are) and ``on_hand`` summed over FCs."""
    keys = ["scenario", "policy", "replication", "date"]
    rates = [
        (pl.col(num).sum() / pl.col(den).sum()).alias(kpi) for kpi, (num, den) in TRENDS.items()
    ]
    regions = daily.filter(pl.col("demand").is_not_null()).group_by(keys).agg(rates)
    fcs = daily.filter(pl.col("on_hand").is_not_null()).group_by(keys).agg(pl.col("on_hand").sum())
    return regions.join(fcs, on=keys, how="full", coalesce=True).sort(keys)


def trend_bands(per_day: pl.DataFrame, kpi: str) -> pl.DataFrame:
    """Mean of ``kpi`` over replications per scenario, policy and date with the 95%
    Student-t band (mean +- t(0.975, n-1) s / sqrt(n)); no band with one replication.
    Runs in (scenario, policy) order, so that every panel gives a run the same colour."""
    from scipy.stats import t as student

    stats = per_day.group_by("scenario", "policy", "date").agg(
        pl.col(kpi).mean().alias("mean"),
        pl.col(kpi).std().alias("sd"),
        pl.col(kpi).drop_nulls().len().alias("n"),
    )
    n = stats["n"].to_numpy()
    quantile = np.where(n > 1, student.ppf(0.975, np.maximum(n - 1, 1)), np.nan)
    half = quantile * stats["sd"].fill_null(np.nan).to_numpy() / np.sqrt(np.maximum(n, 1))
    return stats.with_columns(
        (pl.col("mean") - half).alias("lo"), (pl.col("mean") + half).alias("hi")
    ).sort("scenario", "policy", "date")


def draw(inputs: Inputs, options: PlotOptions) -> tuple[Figure, list[str]]:
    """A panel per trend KPI and on-hand stock, then the summary's intervals."""
    daily, summary = inputs.get("sim_daily"), inputs.get("sim_summary")
    panels = ([*TRENDS, "on_hand"] if daily is not None else []) + (
        ["summary"] if summary is not None else []
    )
    fig = figure(10, 2.3 * ((len(panels) + 1) // 2) + 0.6)
    grid = fig.subplots((len(panels) + 1) // 2, 2, squeeze=False).ravel()
    lines = []
    if daily is not None:
        per_day = daily_kpis(daily)
        for ax, kpi in zip(grid, [*TRENDS, "on_hand"], strict=False):
            _trend(ax, trend_bands(per_day, kpi), kpi)
        reps = per_day["replication"].n_unique()
        lines.append(f"{per_day['date'].n_unique()} days x {reps} replication(s)")
    if summary is not None:
        lines.append(_intervals(grid[len(panels) - 1], summary))
    for ax in grid[len(panels) :]:
        ax.set_axis_off()
    grid[0].legend(loc="lower left", fontsize=8)
    return fig, lines


def _label(scenario: str, policy: str, scenarios: int) -> str:
    return policy if scenarios == 1 else f"{scenario} / {policy}"


def _trend(ax: Axes, bands: pl.DataFrame, kpi: str) -> None:
    import matplotlib as mpl

    scenarios = bands["scenario"].n_unique()
    for i, ((scenario, policy), part) in enumerate(
        bands.group_by("scenario", "policy", maintain_order=True)
    ):
        colour = mpl.colormaps["tab10"](i % 10)
        label = _label(str(scenario), str(policy), scenarios)
        ax.plot(part["date"], part["mean"], color=colour, lw=1.4, label=label)
        lo, hi = part["lo"].to_numpy(), part["hi"].to_numpy()
        if kpi != "on_hand":  # a rate's band stays within [0, 1]
            lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
        ax.fill_between(part["date"], lo, hi, color=colour, alpha=0.18, lw=0)
    ax.set_title(kpi.replace("_", " ") + (" (units)" if kpi == "on_hand" else ""), loc="left")
    if kpi != "on_hand":
        ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
    ax.tick_params(axis="x", labelrotation=20)


def _intervals(ax: Axes, summary: pl.DataFrame) -> str:
    import matplotlib as mpl

    rows = summary.filter(pl.col("kpi").is_in(SUMMARY_KPIS))
    kpis = [k for k in SUMMARY_KPIS if k in set(rows["kpi"])]
    runs = rows.select("scenario", "policy").unique().sort("scenario", "policy").rows()
    width = 0.8 / max(len(runs), 1)
    for i, (scenario, policy) in enumerate(runs):
        part = rows.filter((pl.col("scenario") == scenario) & (pl.col("policy") == policy))
        by_kpi = {r["kpi"]: r for r in part.iter_rows(named=True)}
        x = np.arange(len(kpis)) + (i - (len(runs) - 1) / 2) * width
        mean = np.array([by_kpi[k]["mean"] for k in kpis], dtype=float)
        lo = np.array([by_kpi[k]["ci_low"] for k in kpis], dtype=float)
        hi = np.array([by_kpi[k]["ci_high"] for k in kpis], dtype=float)
        label = _label(str(scenario), str(policy), rows["scenario"].n_unique())
        ax.errorbar(
            x,
            mean,
            yerr=[mean - lo, hi - mean],
            fmt="o",
            ms=4,
            capsize=3,
            label=label,
            color=mpl.colormaps["tab10"](i % 10),
        )
    ax.set_xticks(range(len(kpis)), [k.replace("_", " ") for k in kpis], fontsize=8)
    ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
    ax.set_title("KPIs over the horizon, 95% intervals", loc="left")
    ax.legend(loc="lower left", fontsize=8)
    return f"{len(runs)} policy runs, {len(kpis)} KPIs with intervals"
