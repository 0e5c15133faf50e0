"""``scot plot``: one picture (PNG, SVG or self-contained HTML) of scot outputs."""

from __future__ import annotations

from pathlib import Path

import typer

from scot_cli.errors import UsageError
from scot_cli.plot.kinds import KINDS
from scot_cli.plot.options import PlotOptions
from scot_cli.plot.render import FORMATS

from ._common import epilog, help_models_option, info, output_option

EXAMPLE = "scot plot forecast out/forecast.parquet -o out/forecast.png"
DEFAULTS = PlotOptions()
#: File suffix -> picture format.
SUFFIXES = {".png": "png", ".svg": "svg", ".html": "html", ".htm": "html"}


def plot(
    inputs: list[str] = typer.Argument(
        ...,
        metavar="[KIND] INPUT...",
        help=f"Kind ({KINDS.synopsis()}; default: from the first input's provenance), "
        "then scot outputs (- for stdin).",
    ),
    out: str = output_option("-o", "--output", help="Picture file: .png, .svg or .html."),
    fmt: str | None = typer.Option(
        None, "--format", metavar=FORMATS.synopsis(), help="Format (default: from -o's suffix)."
    ),
    sku: list[str] = typer.Option(None, "--sku", help="forecast: a sku to draw (repeatable)."),
    top: int = typer.Option(
        DEFAULTS.top, "--top", min=1, help="forecast: series drawn without --sku."
    ),
    metric: str | None = typer.Option(
        None, "--metric", help="explain: metric of the waterfall (default: the largest move)."
    ),
    subject: str = typer.Option(
        DEFAULTS.subject, "--subject", help="explain: subject of the waterfall (default: total)."
    ),
    _models: bool = help_models_option(KINDS),
) -> None:
    """Draw a scot output: forecast fan, placement map, promise days, routes, explain
    waterfall, simulated KPI trends."""
    from scot_cli.io import atomic_write
    from scot_cli.plot.api import plot as draw

    kind, files = split_kind(inputs)
    options = PlotOptions(
        kind=kind,
        format=picture_format(out, fmt),
        sku=tuple(sku or ()),
        top=top,
        metric=metric,
        subject=subject,
    )
    result = draw(files, options=options)
    atomic_write(Path(out), lambda f: f.write(result.image))
    for line in result.summary.lines():
        info(line)
    info(f"wrote {out}")


plot.scot_flags = {"kind": "KIND", "format": "--format"}  # type: ignore[attr-defined]


def split_kind(args: list[str]) -> tuple[str | None, list[str]]:
    """(kind, inputs): the first argument is a kind unless it names an input file."""
    first, rest = args[0], args[1:]
    if first in KINDS:
        if not rest:
            raise UsageError(f"scot plot {first}: give the input file(s) after the kind")
        return first, rest
    if rest and first != "-" and not Path(first).exists():
        KINDS.check(first)  # neither a kind nor a file: name the kinds
    return None, args


def picture_format(out: str | None, fmt: str | None) -> str:
    """The format: --format, else -o's suffix."""
    if out is None or out == "-":
        raise UsageError("-o: give the picture file (.png, .svg or .html)")
    if fmt is not None:
        FORMATS.check(fmt)
        return fmt
    suffix = Path(out).suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(f"-o {out}: unknown picture suffix {suffix!r}; use .png, .svg or .html")
    return SUFFIXES[suffix]


def register(app: typer.Typer) -> None:
    app.command(
        "plot",
        help="Draw a scot output as a PNG, SVG or HTML picture.",
        epilog=epilog(EXAMPLE, more="Kinds: " + KINDS.one_line()),
    )(plot)
