"""``scot check``: validate a file against a declared table of the data contract."""

from __future__ import annotations

import typer

from scot_cli.schema import INPUT_TABLES, NODES

from ._common import epilog, info, table_option

_TABLES = {t.name: t for t in INPUT_TABLES}


def check(
    table: str = typer.Argument(..., help=f"Table name: {', '.join(_TABLES)}."),
    path: str = typer.Argument(..., help="Parquet or Arrow IPC file, or - for stdin."),
    nodes: str = table_option("nodes", help="Nodes Parquet to check the node references against."),
) -> None:
    """Validate a file against the data contract; exit 3 with one line naming the problem."""
    from scot_cli.errors import UsageError
    from scot_cli.io import Run
    from scot_cli.validate import check_nodes

    if table not in _TABLES:
        raise UsageError(f"unknown table {table!r}; choose one of {', '.join(_TABLES)}")
    run = Run("check")
    df = run.read(path, _TABLES[table])
    if nodes is not None:
        node_df = run.read(nodes, NODES, role="nodes")
        check_nodes(_TABLES[table], df, node_df, source=path, nodes_source=nodes)
    info(f"ok: {path} is a valid {table} table ({df.height:,} rows)")


def register(app: typer.Typer) -> None:
    app.command(
        "check",
        help="Validate a file against a table of the data contract (exit 3 when it breaks it).",
        epilog=epilog(
            "scot check lanes fixtures/lanes.parquet --nodes fixtures/nodes.parquet",
            more="Tables: " + ", ".join(_TABLES),
        ),
    )(check)
