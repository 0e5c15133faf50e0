"""``scot plot explain``: a waterfall from a metric's value before to after, one step per
driver (Shapley contributions from ``scot explain``, which add up to the change)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from scot_cli.errors import InputDataError

from .inputs import Inputs
from .options import PlotOptions
from .render import BLUE, GREEN, GREY, RED, figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["draw", "waterfall_steps"]


def waterfall_steps(
    table: pl.DataFrame, *, metric: str | None, subject: str, top: int
) -> tuple[str, float, float, list[tuple[str, float]]]:
    """(metric, before, after, [(driver, contribution), ...]) of one subject: the ``top``
    drivers by size, the rest pooled as ``other drivers``, and any part of the change the
    contributions leave unexplained as ``unattributed``.

    Raises
    ------
    InputDataError
        A subject or metric the table does not have.
    """
    rows = table.filter(pl.col("subject") == subject)
    if rows.is_empty():
        known = ", ".join(table["subject"].unique(maintain_order=True).head(5).to_list())
        raise InputDataError(f"explain table: no subject {subject!r} (known: {known}, ...)")
    metric = metric or _largest_move(rows)
    rows = rows.filter(pl.col("metric") == metric)
    if rows.is_empty():
        known = ", ".join(table["metric"].unique(maintain_order=True).to_list())
        raise InputDataError(f"explain table: no metric {metric!r} (known: {known})")
    before, after = float(rows["before"][0]), float(rows["after"][0])
    ranked = rows.sort(pl.col("contribution").abs(), "driver", descending=[True, False])
    steps = [(str(d), float(c)) for d, c in ranked.select("driver", "contribution").iter_rows()]
    if len(steps) > top:
        steps = [*steps[:top], ("other drivers", sum(c for _, c in steps[top:]))]
    gap = (after - before) - sum(c for _, c in steps)
    if abs(gap) > 1e-6 * max(1.0, abs(after - before)):
        steps.append(("unattributed", gap))
    return metric, before, after, steps


def _largest_move(rows: pl.DataFrame) -> str:
    moved = rows.group_by("metric", maintain_order=True).agg(
        (pl.col("delta").first() / pl.col("before").first().abs().clip(1e-9)).abs().alias("rel")
    )
    return str(moved.sort("rel", descending=True, maintain_order=True)["metric"][0])


def draw(inputs: Inputs, options: PlotOptions) -> tuple[Figure, list[str]]:
    """Bars: before, each driver's step up (green) or down (red), after."""
    table = inputs.need("attribution")
    metric, before, after, steps = waterfall_steps(
        table, metric=options.metric, subject=options.subject, top=max(options.top, 6)
    )
    labels = ["before", *[d for d, _ in steps], "after"]
    fig = figure(max(6.0, 1.1 * len(labels) + 2), 4.2)
    ax = fig.subplots()
    ax.bar(0, before, color=BLUE, width=0.6)
    level = before
    for i, (_, step) in enumerate(steps, start=1):
        ax.bar(i, step, bottom=level, color=GREEN if step >= 0 else RED, width=0.6)
        ax.text(
            i,
            level + step,
            f"{step:+,.0f}",
            ha="center",
            va="bottom" if step >= 0 else "top",
            fontsize=8,
        )
        ax.plot([i - 0.7, i + 0.3], [level, level], color=GREY, lw=0.6)
        level += step
    ax.bar(len(labels) - 1, after, color=BLUE, width=0.6)
    for x, value in ((0, before), (len(labels) - 1, after)):
        ax.text(x, value, f"{value:,.0f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    ax.set_ylabel(metric)
    who = "total" if options.subject == "(all)" else options.subject
    ax.set_title(f"{metric} ({who}): {before:,.0f} -> {after:,.0f}", loc="left")
    _zoom(ax, before, after, steps)
    return fig, [f"{metric} of {who}: {len(steps)} steps from {before:,.0f} to {after:,.0f}"]


def _zoom(ax: Axes, before: float, after: float, steps: list[tuple[str, float]]) -> None:
    """Start the value axis near the lowest level reached, so small steps stay visible."""
    levels = [before, after]
    level = before
    for _, step in steps:
        level += step
        levels.append(level)
    lo, hi = min(levels), max(levels)
    span = hi - lo or max(abs(hi), 1.0)
    if lo > 0 and lo - span > 0:
        ax.set_ylim(lo - span, hi + 0.25 * span)
