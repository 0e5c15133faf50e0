"""``scot sql``: DuckDB over Parquet files, printed as a table or written as a file."""

from __future__ import annotations

from enum import StrEnum

import typer

from ._common import epilog, rich_table, stdout_console


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def sql(
    query: str = typer.Argument(..., help="SQL; refer to files as 'path/to/file.parquet'."),
    fmt: Format = typer.Option(
        None,
        "--format",
        "-f",
        help="table (default on a terminal), csv (default in a pipe), json or parquet.",
    ),
    out: str = typer.Option(None, "-o", "--output", help="Write the result to this file."),
) -> None:
    """Run a DuckDB query over Parquet files."""
    from scot_cli.io import (
        check_output,
        refuse_query_overwrite,
        sql_query,
        stdout_is_terminal,
        write_frame_as,
    )

    chosen = fmt.value if fmt else ("table" if out is None and stdout_is_terminal() else "csv")
    if chosen == "table" and out is not None:
        chosen = "csv"
    to_file = out is not None and out != "-"
    check_output(out if to_file else None, option="-o", stdout=chosen == "parquet")
    refuse_query_overwrite(query, out)
    df = sql_query(query, fmt=chosen)
    if chosen == "table":
        stdout_console().print(rich_table(df, f"{df.height:,} rows"))
        return
    write_frame_as(df, out, chosen)


def register(app: typer.Typer) -> None:
    app.command(
        "sql",
        help="Run SQL (DuckDB) over Parquet files; print a table or write CSV, JSON or Parquet.",
        epilog=epilog("scot sql \"select count(*) from 'fixtures/sales.parquet'\""),
    )(sql)
