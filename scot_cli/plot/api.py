"""``plot``: one picture of scot outputs, the call behind ``scot plot``."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from scot_cli.errors import UsageError

from .inputs import Inputs, gather, kind_of, load
from .options import PlotOptions
from .render import render, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PlotResult", "PlotSummary", "draw", "plot"]

Source = pl.DataFrame | str | Path


@dataclass(frozen=True)
class PlotSummary:
    """What was drawn, for a person."""

    kind: str
    format: str
    inputs: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        head = f"plot {self.kind} ({self.format}) of {', '.join(self.inputs)}"
        return [head, *self.notes]

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True)
class PlotResult:
    """The picture's bytes (PNG, SVG or HTML, as ``summary.format`` says) and its summary."""

    image: bytes
    summary: PlotSummary


def plot(
    inputs: Source | Sequence[Source],
    *,
    options: PlotOptions | None = None,
    **option_fields: Any,
) -> PlotResult:
    """Draw one picture of scot outputs.

    Parameters
    ----------
    inputs
        The tables drawn: frames or files (``-`` for stdin), recognised by their columns;
        the first sets the kind when ``options.kind`` is None. Inputs a file's provenance
        names (a forecast's sales and events, a placement's nodes) are added when the file
        is still there unchanged.
    options
        :class:`PlotOptions`; ``option_fields`` override its fields.

    Raises
    ------
    OptionError
        An unknown kind or format (exit 2).
    InputDataError
        A table the kind does not draw, or none it needs (exit 3).
    """
    options = (options or PlotOptions()).replace(**option_fields)
    sources = [inputs] if isinstance(inputs, pl.DataFrame | str | Path) else list(inputs)
    if not sources:
        raise UsageError("scot plot: give at least one input table")
    tables = [load(s) for s in sources]
    kind = options.kind or kind_of(tables[0])
    gathered = gather(kind, tables)
    fig, lines = draw(gathered, options)
    title = f"scot plot {kind}: {tables[0].name}"
    with style():
        image = render(fig, options.format, title=title)
    summary = PlotSummary(
        kind, options.format, tuple(t.name for t in tables), (*lines, *gathered.notes)
    )
    return PlotResult(image, summary)


def draw(inputs: Inputs, options: PlotOptions) -> tuple[Figure, list[str]]:
    """The figure of ``inputs.kind`` and its summary lines (drawn in scot's style)."""
    module = importlib.import_module(f"scot_cli.plot.{inputs.kind}")
    with style():
        fig, lines = module.draw(inputs, options)
    return fig, list(lines)
