"""``scot plot placement``: FCs and regions on lat/lon before and after ``scot place``:
stock per FC as the marker's size, each region's 1- and 2-day reach (share of its expected
demand within reach) as its colour and label, and the network's reach by days."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from scot_cli.errors import InputDataError

from .inputs import Inputs
from .options import PlotOptions
from .render import BLUE, ORANGE, figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["draw", "fc_stock", "region_reach"]


def fc_stock(placement: pl.DataFrame) -> pl.DataFrame:
    """Units per FC before (current) and after (target) the placement, FCs by name."""
    return (
        placement.group_by("node")
        .agg(
            pl.col("current_units").sum().alias("before"),
            pl.col("target_units").sum().alias("after"),
        )
        .sort("node")
    )


def region_reach(coverage: pl.DataFrame) -> pl.DataFrame:
    """Per region (not ``ALL``): share of demand within 1 and 2 days, before and after."""
    per = coverage.filter(pl.col("region") != "ALL")
    cols = []
    for days in (1, 2):
        for when in ("before", "after"):
            share = pl.col(f"share_{when}").filter(pl.col("days") == days).first()
            cols.append(share.alias(f"d{days}_{when}"))
    return per.group_by("region").agg(*cols).sort("region")


def draw(inputs: Inputs, options: PlotOptions) -> tuple[Figure, list[str]]:
    """Two maps (before, after) and the reach bars, from what is given."""
    nodes = inputs.get("nodes")
    placement, coverage = inputs.get("placement"), inputs.get("coverage")
    if nodes is None:
        raise InputDataError(
            "scot plot placement: needs a nodes table (lat, lon); give the --nodes file "
            "that scot place read"
        )
    stock = None if placement is None else fc_stock(placement)
    reach = None if coverage is None else region_reach(coverage)
    fig = figure(12, 4.6)
    axes = fig.subplots(1, 3, width_ratios=[3, 3, 2])
    scale = _scale(stock)
    for ax, when in zip(axes[:2], ("before", "after"), strict=True):
        _map(ax, nodes, stock, reach, when, scale)
    lines = []
    if coverage is not None:
        lines.append(_reach_bars(axes[2], coverage))
    else:
        axes[2].set_axis_off()
    if stock is not None:
        moved = float((stock["after"] - stock["before"]).abs().sum()) / 2
        lines.append(f"{stock.height} FCs, {moved:,.0f} units change FC (net)")
    return fig, lines


def _scale(stock: pl.DataFrame | None) -> float:
    if stock is None:
        return 1.0
    top = max(float(stock["before"].max() or 0.0), float(stock["after"].max() or 0.0))  # type: ignore[arg-type]
    return 900.0 / top if top > 0 else 1.0


def _map(
    ax: Axes,
    nodes: pl.DataFrame,
    stock: pl.DataFrame | None,
    reach: pl.DataFrame | None,
    when: str,
    scale: float,
) -> None:
    import matplotlib as mpl

    regions = nodes.filter(pl.col("kind") == "region")
    if reach is not None:
        regions = regions.join(reach, left_on="node", right_on="region", how="left")
        two = regions[f"d2_{when}"].fill_null(0.0).to_numpy()
        one = regions[f"d1_{when}"].fill_null(0.0).to_numpy()
        dots = ax.scatter(
            regions["lon"],
            regions["lat"],
            c=two,
            cmap="RdYlGn",
            vmin=0,
            vmax=1,
            s=160,
            marker="s",
            edgecolors="#444",
            linewidths=0.5,
        )
        for name, lon, lat, d1, d2 in zip(
            regions["node"], regions["lon"], regions["lat"], one, two, strict=True
        ):
            ax.annotate(
                f"{name}\n1d {d1:.0%} 2d {d2:.0%}",
                (lon, lat),
                fontsize=6.5,
                xytext=(0, -14),
                textcoords="offset points",
                ha="center",
                va="top",
            )
        if when == "after":
            bar = ax.figure.colorbar(dots, ax=ax, shrink=0.7, pad=0.01)
            bar.set_label("2-day reach")
            bar.ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
    else:
        ax.scatter(regions["lon"], regions["lat"], s=60, marker="s", color="#bbbbbb")
    fcs = nodes.filter(pl.col("kind") == "fc")
    if stock is not None:
        fcs = fcs.join(stock, on="node", how="left")
        units = fcs[when].fill_null(0.0).to_numpy()
        ax.scatter(
            fcs["lon"],
            fcs["lat"],
            s=np.maximum(units * scale, 8),
            color=BLUE,
            alpha=0.6,
            edgecolors="#123",
            linewidths=0.6,
        )
        for name, lon, lat, u in zip(fcs["node"], fcs["lon"], fcs["lat"], units, strict=True):
            ax.annotate(
                f"{name}\n{u:,.0f} u",
                (lon, lat),
                fontsize=7,
                xytext=(0, 10),
                textcoords="offset points",
                ha="center",
                color="#123",
            )
    mid = float(nodes.filter(pl.col("kind").is_in(["fc", "region"]))["lat"].mean() or 0.0)  # type: ignore[arg-type]
    ax.set_aspect(1 / np.cos(np.radians(mid)), adjustable="datalim")
    ax.margins(0.12)
    ax.set_title(f"{when}: FC stock and regions' reach", loc="left")
    ax.set_xlabel("lon")
    ax.set_ylabel("lat")


def _reach_bars(ax: Axes, coverage: pl.DataFrame) -> str:
    import matplotlib as mpl

    total = coverage.filter(pl.col("region") == "ALL").sort("days")
    days = total["days"].to_numpy()
    ax.bar(days - 0.2, total["share_before"], width=0.4, color="#9ecae1", label="before")
    ax.bar(days + 0.2, total["share_after"], width=0.4, color=BLUE, label="after")
    for x, v in zip(days, total["share_after"], strict=True):
        ax.text(x + 0.2, v, f"{v:.0%}", ha="center", va="bottom", fontsize=7, color=ORANGE)
    ax.set_xticks(days, [f"{d} d" for d in days])
    ax.set_ylim(0, 1.08)
    ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
    ax.set_title("demand within reach", loc="left")
    ax.legend(loc="upper left", fontsize=8)
    shares = dict(
        zip(
            days.tolist(),
            zip(total["share_before"], total["share_after"], strict=True),
            strict=True,
        )
    )
    parts = [f"{d}-day {b:.0%} -> {a:.0%}" for d, (b, a) in shares.items() if d <= 2]
    return "reach " + ", ".join(parts) if parts else "no network reach rows"
