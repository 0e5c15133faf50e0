"""``scot plot route``: truck fill per lane (``scot route``'s trucks) and the last-mile
routes of ``scot route last-mile`` drawn on lat/lon, one colour per vehicle."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from scot_cli.errors import InputDataError

from .inputs import Inputs
from .options import PlotOptions
from .render import BLUE, GREY, RED, figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["draw", "route_paths"]


def draw(inputs: Inputs, options: PlotOptions) -> tuple[Figure, list[str]]:
    """One panel per table given: fill per lane, routes on a map."""
    trucks, routes = inputs.get("trucks"), inputs.get("routes")
    panels = [p for p in (trucks, routes) if p is not None]
    height = max(3.5, 0.28 * _lanes(trucks) + 1.2) if trucks is not None else 5.0
    fig = figure(6.0 * len(panels) + 0.5, height)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    lines: list[str] = []
    if trucks is not None:
        min_fill = inputs.params("trucks").get("min_fill")
        lines.append(_fill_panel(axes[0], trucks, min_fill))
    if routes is not None:
        lines.append(_routes_panel(axes[-1], routes, inputs))
    return fig, lines


def _lanes(trucks: pl.DataFrame) -> int:
    return trucks.select("origin", "destination").n_unique()


def _fill_panel(ax: Axes, trucks: pl.DataFrame, min_fill: object) -> str:
    lane = pl.concat_str("origin", pl.lit(" > "), "destination").alias("lane")
    t = trucks.with_columns(lane).sort("lane")
    lanes = t["lane"].unique(maintain_order=True).to_list()
    index = {name: i for i, name in enumerate(lanes)}
    y = np.array([index[x] for x in t["lane"]], dtype=float)
    jitter = np.random.default_rng(0).uniform(-0.18, 0.18, len(y))
    fill = t["fill"].to_numpy()
    under = fill < float(min_fill) if isinstance(min_fill, int | float) else np.zeros(len(y), bool)
    ax.scatter(fill[~under], (y + jitter)[~under], s=18, color=BLUE, label="truck")
    ax.scatter(fill[under], (y + jitter)[under], s=18, color=RED, label="under minimum fill")
    if isinstance(min_fill, int | float):
        ax.axvline(float(min_fill), color=RED, lw=0.8, ls="--")
    ax.set_yticks(range(len(lanes)), lanes, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, max(1.0, float(fill.max()) if len(fill) else 1.0))
    ax.set_xlabel("fill (load / capacity)")
    ax.set_title(f"truck fill per lane ({t.height} trucks)", loc="left")
    ax.legend(loc="lower right", fontsize=8)
    return f"{t.height} trucks on {len(lanes)} lanes, {int(under.sum())} under the minimum fill"


def route_paths(
    routes: pl.DataFrame, stops: pl.DataFrame, depot: tuple[float, float]
) -> dict[str, np.ndarray]:
    """Vehicle -> (n+2, 2) array of (lon, lat): the station, its stops by sequence, the
    station again. Unrouted stops (no vehicle) are left out."""
    joined = (
        routes.filter(pl.col("vehicle").is_not_null())
        .join(stops.select("stop_id", "lat", "lon"), on="stop_id", how="inner")
        .sort("vehicle", "sequence")
    )
    paths: dict[str, np.ndarray] = {}
    for (vehicle,), part in joined.group_by("vehicle", maintain_order=True):
        inner = part.select("lon", "lat").to_numpy()
        ends = np.array([[depot[1], depot[0]]])
        paths[str(vehicle)] = np.vstack([ends, inner, ends])
    return paths


def _routes_panel(ax: Axes, routes: pl.DataFrame, inputs: Inputs) -> str:
    import matplotlib as mpl

    stops = inputs.get("stops")
    if stops is None:
        raise InputDataError(
            "scot plot route: routes need their stops (lat, lon): give the stops table "
            "that scot route last-mile read"
        )
    station = str(routes["station"][0])
    depot = _station_position(inputs.get("nodes"), stops, station)
    paths = route_paths(routes, stops, depot)
    colours = mpl.colormaps["tab20"](np.linspace(0, 1, 20))
    for i, (vehicle, xy) in enumerate(sorted(paths.items())):
        ax.plot(xy[:, 0], xy[:, 1], "-o", ms=2.5, lw=1, color=colours[i % 20], label=vehicle)
    missed = routes.filter(pl.col("vehicle").is_null()).join(stops, on="stop_id")
    if missed.height:
        ax.plot(missed["lon"], missed["lat"], "x", color=RED, label="unassigned")
    ax.plot(depot[1], depot[0], "*", ms=14, color="black", label=station)
    ax.set_aspect(1 / np.cos(np.radians(depot[0])), adjustable="datalim")
    ax.set_xlabel("lon")
    ax.set_ylabel("lat")
    ax.set_title(f"last-mile routes from {station}", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    ax.grid(color=GREY, alpha=0.2)
    return f"{len(paths)} vehicles, {routes.height - missed.height}/{routes.height} stops routed"


def _station_position(
    nodes: pl.DataFrame | None, stops: pl.DataFrame, station: str
) -> tuple[float, float]:
    """The station's (lat, lon) from the nodes table, else the centre of its stops."""
    if nodes is not None:
        row = nodes.filter(pl.col("node") == station)
        if row.height:
            return float(row["lat"][0]), float(row["lon"][0])
    return float(stops["lat"].mean()), float(stops["lon"].mean())  # type: ignore[arg-type]
