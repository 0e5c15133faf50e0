"""``scot report``: one self-contained HTML page of a folder of scot outputs."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import epilog, info, output_option

EXAMPLE = "scot report out/demo -o out/demo/report.html"


def report(
    folder: Path = typer.Argument(..., help="Folder of scot outputs (a demo or pipeline run)."),
    out: str = output_option(
        "-o", "--output", help="HTML file (default: report.html in the folder); - for stdout."
    ),
    top: int = typer.Option(4, "--top", min=1, help="Forecast series drawn."),
) -> None:
    """Write one HTML page with a picture of each scot output in FOLDER and the runs'
    summaries; it needs no network to view."""
    from scot_cli.io import write_text_file, write_text_stdout
    from scot_cli.plot.options import PlotOptions
    from scot_cli.plot.report import report as build

    result = build(folder, options=PlotOptions(top=top))
    for line in result.summary.lines():
        info(line)
    if out == "-":
        write_text_stdout(result.html)
        return
    target = Path(out) if out is not None else folder / "report.html"
    write_text_file(target, result.html)
    info(f"wrote {target}")


def register(app: typer.Typer) -> None:
    app.command(
        "report",
        help="Write one self-contained HTML page of a folder of scot outputs.",
        epilog=epilog(EXAMPLE),
    )(report)
