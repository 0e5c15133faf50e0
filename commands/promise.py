"""``scot promise``: delivery dates customers can trust, per order line."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import typer

from scot_cli.errors import UsageError
from scot_cli.promise.registry import MODES, SPLITS, choices_help
from scot_cli.promise.schema import RECEIPTS
from scot_cli.schema import CALENDAR, INVENTORY, LANES, NODES, ORDERS

from ._common import epilog, info, output_option, progress

Mode = StrEnum("Mode", {m: m for m in MODES})  # type: ignore[misc]
Split = StrEnum("Split", {s: s for s in SPLITS})  # type: ignore[misc]

EXAMPLE = (
    "scot promise fixtures/orders.parquet --inventory fixtures/inventory.parquet "
    "--nodes fixtures/nodes.parquet --lanes fixtures/lanes.parquet "
    "--calendar fixtures/calendar.parquet --mode commit -o promises.parquet"
)


def run(
    orders: str = typer.Argument(..., help="Order lines (Parquet), or - for stdin."),
    inventory: str = typer.Option(..., "--inventory", help="Stock per sku and node."),
    nodes: str = typer.Option(..., "--nodes", help="Network nodes (FC cut-off, capacity)."),
    lanes: str = typer.Option(..., "--lanes", help="Lanes; FC -> region paths come from them."),
    receipts: str = typer.Option(
        None, "--receipts", help="plan-buy's orders: units arriving at FCs by date."
    ),
    calendar: str = typer.Option(
        None, "--calendar", help="Days without pickup or delivery per node."
    ),
    confidence: float = typer.Option(
        0.95, "--confidence", help="Probability the promised date is met, in (0, 1)."
    ),
    mode: Mode = typer.Option("snapshot", "--mode", help=choices_help(MODES)),
    split: Split = typer.Option("allow", "--split", help=choices_help(SPLITS)),
    out: str = output_option(
        "-o", "--output", help="Promises file (default: stdout).", stdout=True
    ),
) -> None:
    """Promise a delivery date per order line, met with the given confidence."""
    from scot_cli.io import Run
    from scot_cli.promise import decide_for_output
    from scot_cli.promise.schema import PROMISES

    if not 0 < confidence < 1:
        raise UsageError(f"--confidence: expected a probability in (0, 1), got {confidence:g}")
    params = {"confidence": confidence, "mode": mode.value, "split": split.value}
    run_ = Run("promise", params=params)
    inputs = {
        "orders": run_.read(orders, ORDERS, role="orders"),
        "inventory": run_.read(inventory, INVENTORY, role="inventory"),
        "nodes": run_.read(nodes, NODES, role="nodes"),
        "lanes": run_.read(lanes, LANES, role="lanes"),
    }
    if calendar is not None:
        inputs["calendar"] = run_.read(calendar, CALENDAR, role="calendar")
    if receipts is not None:
        inputs["receipts"] = run_.read(receipts, RECEIPTS, role="receipts")
    _check_nodes(inputs, {"orders": orders, "inventory": inventory, "nodes": nodes, "lanes": lanes})
    with progress("promising") as bar:
        result, key_ordered = decide_for_output(inputs, params, progress=bar)
    # built from the validated orders, whose keys it keeps
    run_.write(result, out, PROMISES, trusted=True, presorted=key_ordered)
    counts = result["status"].value_counts()
    info(
        f"promised {result.height:,} lines ({mode.value}, split {split.value}): "
        + ", ".join(f"{s} {n:,}" for s, n in sorted(counts.iter_rows()))
    )


def _check_nodes(inputs: Mapping[str, Any], paths: dict[str, str]) -> None:
    import polars as pl

    from scot_cli.validate import check_nodes

    nodes = inputs["nodes"]
    assert isinstance(nodes, pl.DataFrame)
    for role, table in (("lanes", LANES), ("inventory", INVENTORY), ("orders", ORDERS)):
        df = inputs[role]
        assert isinstance(df, pl.DataFrame)
        check_nodes(table, df, nodes, source=paths[role], nodes_source=paths["nodes"])


def register(app: typer.Typer) -> None:
    app.command(
        "promise",
        help="Promise delivery dates per order line from stock, receipts, cut-offs, capacity "
        "and lane transit spread.",
        epilog=epilog(EXAMPLE, [ORDERS, INVENTORY, NODES, LANES, CALENDAR, RECEIPTS]),
    )(run)
