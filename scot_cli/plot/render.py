"""Figures to bytes: PNG and SVG from matplotlib's Agg backend, and self-contained HTML.

Figures are built as :class:`matplotlib.figure.Figure` objects, never through pyplot, so no
global state or display is touched. The same inputs give the same bytes: the SVG hash salt
and the files' date metadata are fixed.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scot_cli.registry import Registry

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FORMATS", "Chart", "figure", "html_page", "render", "style"]

FORMATS: Registry[str] = Registry(
    "format",
    {
        "png": "raster image (the Agg backend)",
        "svg": "vector image",
        "html": "one self-contained page (the SVG inline, no network needed)",
    },
)

#: Colours (matplotlib's tab10, which reads in grey and for the common colour blindnesses).
BLUE, ORANGE, GREEN, RED, PURPLE, GREY = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#7f7f7f",
)

_RC: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "axes.axisbelow": True,
    "svg.hashsalt": "scot",
    "svg.fonttype": "path",
    "figure.dpi": 100,
    "savefig.dpi": 100,
}


@contextmanager
def style() -> Iterator[None]:
    """scot's house style for the figures drawn inside."""
    import matplotlib as mpl

    with mpl.rc_context(_RC):  # type: ignore[arg-type]  # keys are plain strings here
        yield


def figure(width: float, height: float) -> Figure:
    """A new figure of ``width`` x ``height`` inches with a constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def render(fig: Figure, fmt: str, *, title: str = "") -> bytes:
    """``fig`` as PNG, SVG or a self-contained HTML page."""
    FORMATS.check(fmt)
    if fmt == "html":
        return html_page(title or "scot plot", [Chart(title, render(fig, "svg"))]).encode()
    buf = io.BytesIO()
    meta: dict[str, Any] = {"Date": None} if fmt == "svg" else {"Software": None}
    with style():
        fig.savefig(buf, format=fmt, metadata=meta)
    return buf.getvalue()


@dataclass(frozen=True)
class Chart:
    """One picture of a page: its heading, SVG bytes and a line under it."""

    title: str
    svg: bytes
    caption: str = ""


_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0 auto; max-width: 1100px; padding: 1.5rem; color: #222; background: #fff; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.15rem; margin: 1.8rem 0 .4rem; }
p.sub { color: #555; margin: 0 0 1rem; }
nav a { margin-right: .9rem; }
figure.chart { margin: 0; border: 1px solid #ddd; border-radius: 6px; padding: .5rem; }
figure.chart img { width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: .9rem; margin-top: .3rem; }
table { border-collapse: collapse; font-size: .88rem; margin: .4rem 0; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .2rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
pre { background: #f6f6f6; padding: .6rem; overflow-x: auto; font-size: .85rem; }
"""


def html_page(
    title: str,
    charts: Sequence[Chart],
    *,
    subtitle: str = "",
    blocks: Sequence[tuple[str, str]] = (),
) -> str:
    """A self-contained HTML page: inline CSS, each chart an ``<img>`` of its SVG as a
    ``data:`` URI, no script and no link out, so it shows the same with no network.

    ``blocks`` are (heading, HTML) sections after the charts (summary tables); their HTML is
    the caller's, already escaped.
    """
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if subtitle:
        parts.append(f'<p class="sub">{html.escape(subtitle)}</p>')
    for i, chart in enumerate(charts):
        data = base64.b64encode(chart.svg).decode("ascii")
        parts.append(f'<section id="chart-{i + 1}">')
        if chart.title:
            parts.append(f"<h2>{html.escape(chart.title)}</h2>")
        parts.append(
            f'<figure class="chart"><img alt="{html.escape(chart.title or title)}" '
            f'src="data:image/svg+xml;base64,{data}">'
        )
        if chart.caption:
            parts.append(f"<figcaption>{html.escape(chart.caption)}</figcaption>")
        parts.append("</figure></section>")
    for heading, body in blocks:
        parts.append(f"<section><h2>{html.escape(heading)}</h2>{body}</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
