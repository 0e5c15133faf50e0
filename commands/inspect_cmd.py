"""``scot inspect``: schema, rows, head, per-column summary and provenance of a file."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from ._common import epilog, rich_table, stdout_console, warn

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console


def inspect(
    path: str = typer.Argument(..., help="Parquet or Arrow IPC file, or - for stdin."),
    head: int = typer.Option(5, "--head", "-n", min=0, help="Rows of the head to show."),
) -> None:
    """Show a file's schema, row count, head, column summary and provenance."""
    from scot_cli.errors import InputDataError
    from scot_cli.inspection import column_summary
    from scot_cli.io import parse_frame, provenance_of, read_input_bytes

    data = read_input_bytes(path)
    df = parse_frame(data, name="<stdin>" if path == "-" else path)
    out = stdout_console()
    out.print(
        f"[bold]{'<stdin>' if path == '-' else path}[/]: {df.height:,} rows, {df.width} columns"
    )
    out.print(rich_table(column_summary(df), "columns"))
    _distributions(out, df)
    if head > 0:
        out.print(rich_table(df.head(head), f"head({head})"))
    try:
        prov = provenance_of(data, name=path)
    except InputDataError as exc:
        warn(exc.message)
        return
    if prov:
        out.print("[bold]provenance[/]")
        out.print(json.dumps(prov, indent=2, sort_keys=True), markup=False, highlight=False)


def _distributions(out: Console, df: pl.DataFrame) -> None:
    """One line per numeric column: its minimum, a sparkline of its histogram, its maximum."""
    from scot_cli.plot.spark import column_sparklines

    lines = column_sparklines(df)
    if lines:
        out.print("[bold]distribution[/]")
        width = max(len(name) for name, _ in lines)
        for name, line in lines:
            out.print(f"  {name:<{width}}  {line}", markup=False)


def register(app: typer.Typer) -> None:
    app.command(
        "inspect",
        help="Show a Parquet file's schema, rows, head, column summary and provenance.",
        epilog=epilog("scot inspect fixtures/sales.parquet   (or: cat f.parquet | scot inspect -)"),
    )(inspect)
