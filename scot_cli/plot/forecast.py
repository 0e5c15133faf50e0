"""``scot plot forecast``: history, the p10-p90 fan and the p50 line per series."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from scot_cli.errors import InputDataError

from .inputs import Inputs
from .options import PlotOptions
from .render import BLUE, GREY, ORANGE, RED, figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["draw", "pick_series"]

#: Forecast period -> polars truncation of sales dates to that period.
_PERIODS = {"D": "1d", "W": "1w", "M": "1mo", "Q": "1q", "Y": "1y"}


def pick_series(fc: pl.DataFrame, *, skus: tuple[str, ...], top: int) -> pl.DataFrame:
    """The (sku, location) series drawn: those of ``skus`` (all of them), else the ``top``
    by forecast volume (p50 summed over the horizon), largest first, ties by key.

    Raises
    ------
    InputDataError
        A sku of ``skus`` that the forecast does not have.
    """
    if skus:
        known = set(fc["sku"].unique().to_list())
        missing = [s for s in skus if s not in known]
        if missing:
            sample = ", ".join(sorted(known)[:5])
            raise InputDataError(
                f"forecast: no sku {', '.join(missing)} in column sku (known: {sample}, ...)"
            )
        fc = fc.filter(pl.col("sku").is_in(list(skus)))
    volume = fc.group_by("sku", "location").agg(pl.col("p50").sum().alias("volume"))
    ranked = volume.sort(["volume", "sku", "location"], descending=[True, False, False])
    return ranked if skus else ranked.head(top)


def draw(inputs: Inputs, options: PlotOptions) -> tuple[Figure, list[str]]:
    """One panel per series: sales history, the quantile fan, p50, events and actuals."""
    fc = _with_location(inputs.need("forecast"))
    series = pick_series(fc, skus=options.sku, top=options.top)
    freq = str(inputs.params("forecast").get("freq") or "D")
    sales = inputs.get("sales")
    history = None if sales is None else _periodic(_with_location(sales), freq)
    fig = figure(10, 2.4 * series.height + 0.4)
    axes = fig.subplots(series.height, 1, squeeze=False)[:, 0]
    for ax, (sku, location, _) in zip(axes, series.iter_rows(), strict=True):
        one = fc.filter((pl.col("sku") == sku) & (pl.col("location") == location)).sort("date")
        past = None if history is None else _series_history(history, sku, location)
        _panel(ax, one, past, inputs, sku, location)
    axes[0].legend(loc="upper left", ncols=5, fontsize=8)
    lines = [f"{series.height} series drawn (of {fc.select('sku', 'location').n_unique():,})"]
    if sales is None:
        lines.append("no sales history given or found in the forecast's provenance")
    return fig, lines


def _with_location(df: pl.DataFrame) -> pl.DataFrame:
    return df if "location" in df.columns else df.with_columns(pl.lit("ALL").alias("location"))


def _periodic(sales: pl.DataFrame, freq: str) -> pl.DataFrame:
    """Sales per sku, location and forecast period (finer sales summed, as forecast does);
    a period is an event period when any of its days has an event."""
    event = pl.col("event").is_not_null().any() if "event" in sales.columns else pl.lit(False)
    period = pl.col("date").cast(pl.Date).dt.truncate(_PERIODS.get(freq, "1d"))
    return sales.group_by("sku", "location", period.alias("date")).agg(
        pl.col("units").sum(), event.alias("event_day")
    )


def _series_history(history: pl.DataFrame, sku: str, location: str) -> pl.DataFrame:
    one = history.filter(pl.col("sku") == sku)
    if location != "ALL":
        return one.filter(pl.col("location") == location).sort("date")
    # a forecast over all locations is drawn against the sum of every location's sales
    return one.group_by("date").agg(pl.col("units").sum(), pl.col("event_day").any()).sort("date")


def _panel(
    ax: Axes,
    fc: pl.DataFrame,
    past: pl.DataFrame | None,
    inputs: Inputs,
    sku: str,
    location: str,
) -> None:
    start, end = fc["date"].min(), fc["date"].max()
    if past is not None and past.height:
        shown = 3 * fc.height
        before = past.filter(pl.col("date") < start).tail(max(shown, 28))
        ax.plot(before["date"], before["units"], color=GREY, lw=1, label="history")
        actual = past.filter(pl.col("date").is_between(start, end))
        if actual.height:
            ax.plot(actual["date"], actual["units"], "o", ms=3, color="black", label="actuals")
        marked = before.filter(pl.col("event_day"))
        if marked.height:
            ax.plot(marked["date"], marked["units"], "v", ms=4, color=RED, label="event day")
    if "p10" in fc.columns and "p90" in fc.columns:
        ax.fill_between(fc["date"], fc["p10"], fc["p90"], color=BLUE, alpha=0.22, label="p10-p90")
    ax.plot(fc["date"], fc["p50"], color=BLUE, lw=1.6, label="p50")
    _mark_events(ax, inputs.get("events"), sku, ax.get_xlim())
    ax.set_title(_title(sku, location, fc, inputs), loc="left")
    ax.set_ylabel("units")
    ax.set_ylim(bottom=0)
    ax.axvline(start, color=ORANGE, lw=0.8, ls="--")  # type: ignore[arg-type]  # a date on a date axis


def _mark_events(
    ax: Axes, events: pl.DataFrame | None, sku: str, xlim: tuple[float, float]
) -> None:
    """Shade the days of the planned events that apply to every sku or to this one."""
    if events is None:
        return
    from matplotlib.dates import date2num

    rows = events
    if "sku" in rows.columns:
        rows = rows.filter(pl.col("sku").is_null() | (pl.col("sku") == sku))
    if "category" in rows.columns:
        rows = rows.filter(pl.col("category").is_null())
    lo, hi = xlim
    for name, start, end in rows.select("event", "start", "end").iter_rows():
        a, b = float(date2num(start)), float(date2num(end)) + 1.0  # type: ignore[no-untyped-call]
        if b >= lo and a <= hi:
            ax.axvspan(max(a, lo), min(b, hi), color=ORANGE, alpha=0.15, lw=0)
            ax.text(
                max(a, lo),
                1.0,
                f" {name}",
                transform=ax.get_xaxis_transform(),
                fontsize=7,
                va="top",
                color="#8a4b00",
            )
    ax.set_xlim(lo, hi)


def _title(sku: str, location: str, fc: pl.DataFrame, inputs: Inputs) -> str:
    model = f", {fc['model'][0]}" if "model" in fc.columns and fc.height else ""
    text = f"{sku} @ {location}{model}"
    metrics = inputs.get("evaluate")
    if metrics is None:
        return text
    model_name = str(inputs.params("evaluate").get("model") or "auto")
    rows = metrics.filter(
        (pl.col("level") == "series")
        & (pl.col("sku") == sku)
        & (pl.col("location") == location)
        & (pl.col("model") == model_name)
    )
    rmsse = rows.filter(pl.col("metric") == "rmsse")["value"].drop_nulls()
    cover = rows.filter(pl.col("metric") == "coverage").sort("quantile")
    parts = [f"backtest RMSSE {rmsse[0]:.2f}"] if rmsse.len() else []
    if cover.height >= 2:
        held = float(cover["value"][-1] - cover["value"][0])
        parts.append(f"p10-p90 held {held:.0%}")
    return text + (f"  |  {', '.join(parts)}" if parts else "")
