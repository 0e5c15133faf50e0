"""``scot plot promise``: how many days each region is promised, and how likely on time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from .inputs import Inputs
from .options import PlotOptions
from .render import BLUE, GREY, figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["days_by_region", "draw"]

#: Promised days shown one by one; longer promises are pooled in the last bucket.
MAX_DAYS = 6


def days_by_region(promises: pl.DataFrame) -> pl.DataFrame:
    """Share of each region's promised lines by promised days (1..MAX_DAYS, the last
    pooling longer ones) with the region's mean and 10th-percentile on-time probability;
    one row per region, regions by name. Unpromised lines (no promise date) are left out."""
    # names as strings, also when a column of them is all null (a null-typed column)
    ok = promises.filter(pl.col("promise_days").is_not_null()).with_columns(
        pl.col("destination").cast(pl.String)
    )
    bucket = pl.col("promise_days").clip(0, MAX_DAYS).alias("bucket")
    shares = (
        ok.group_by("destination", bucket)
        .len()
        .with_columns((pl.col("len") / pl.col("len").sum().over("destination")).alias("share"))
        .pivot(on="bucket", index="destination", values="share", sort_columns=True)
        .fill_null(0.0)
    )
    prob = ok.group_by("destination").agg(
        pl.len().alias("lines"),
        pl.col("on_time_prob").mean().alias("on_time_mean"),
        pl.col("on_time_prob").quantile(0.1).alias("on_time_p10"),
    )
    return prob.join(shares, on="destination").sort("destination")


def draw(inputs: Inputs, options: PlotOptions) -> tuple[Figure, list[str]]:
    """Left: stacked shares of promised days per region; right: on-time probability."""
    import matplotlib as mpl

    promises = inputs.need("promises")
    table = days_by_region(promises)
    buckets = [c for c in table.columns if c.lstrip("-").isdigit()]
    regions = table["destination"].to_list()
    y = np.arange(len(regions))
    fig = figure(10, 0.35 * len(regions) + 1.6)
    left, right = fig.subplots(1, 2, sharey=True, width_ratios=[3, 2])
    colours = mpl.colormaps["viridis"](np.linspace(0.1, 0.9, max(len(buckets), 1)))
    start = np.zeros(len(regions))
    for colour, bucket in zip(colours, buckets, strict=False):
        share = table[bucket].to_numpy()
        label = f"{bucket}+ days" if int(bucket) == MAX_DAYS else f"{bucket} d"
        left.barh(y, share, left=start, color=colour, label=label, height=0.7)
        start += share
    left.set_yticks(y, regions)
    left.invert_yaxis()
    left.set_xlim(0, 1)
    left.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
    left.set_title("share of lines by promised days", loc="left")
    left.legend(loc="lower center", bbox_to_anchor=(0.5, 1.06), ncols=len(buckets), fontsize=8)
    right.barh(y, table["on_time_mean"].to_numpy(), color=BLUE, height=0.6, label="mean")
    right.plot(table["on_time_p10"].to_numpy(), y, "|", ms=10, color="black", label="p10 line")
    low = float(min(table["on_time_p10"].min() or 0.0, 0.9))  # type: ignore[arg-type]
    right.set_xlim(max(0.0, low - 0.05), 1.0)
    right.xaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
    right.set_title("on-time probability", loc="left")
    right.legend(loc="lower center", bbox_to_anchor=(0.5, 1.06), ncols=2, fontsize=8)
    unpromised = promises.height - int(table["lines"].sum())
    if unpromised:
        fig.text(0.01, 0.0, f"{unpromised:,} lines without a promise date", color=GREY, fontsize=8)
    return fig, [f"{int(table['lines'].sum()):,} promised lines over {len(regions)} regions"]
