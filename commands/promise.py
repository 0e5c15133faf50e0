"""``scot promise``: delivery dates customers can trust, per order line."""

from __future__ import annotations

import ctypes
import os
import sys
from collections import Counter
from typing import TYPE_CHECKING

import typer

from scot_cli.promise.options import PromiseOptions
from scot_cli.promise.registry import MODES, SPLITS
from scot_cli.promise.schema import RECEIPTS
from scot_cli.schema import ORDERS

if TYPE_CHECKING:
    import polars as pl

from ._common import (
    choice_option,
    epilog,
    help_models_option,
    info,
    output_option,
    progress,
    table_option,
)

EXAMPLE = (
    "scot promise fixtures/orders.parquet --inventory fixtures/inventory.parquet "
    "--nodes fixtures/nodes.parquet --lanes fixtures/lanes.parquet "
    "--calendar fixtures/calendar.parquet --mode commit -o out/promises.parquet"
)
DEFAULTS = PromiseOptions()


def run(
    orders: str = typer.Argument(..., help="Order lines (Parquet), or - for stdin."),
    inventory: str = table_option("inventory", required=True, help="Stock per sku and node."),
    nodes: str = table_option("nodes", required=True, help="Network nodes (FC cut-off, capacity)."),
    lanes: str = table_option("lanes", required=True, help="Lanes (FC -> region paths)."),
    receipts: str | None = table_option("receipts", help="Arriving buys (plan-buy's orders)."),
    calendar: str | None = table_option("calendar", help="Days without pickup or delivery."),
    confidence: float = typer.Option(
        DEFAULTS.confidence, "--confidence", help="Probability the promised date is met."
    ),
    mode: str = choice_option(MODES, DEFAULTS.mode, "--mode", help="Promise mode."),
    split: str = choice_option(SPLITS, DEFAULTS.split, "--split", help="Multi-line orders."),
    out: str | None = output_option(
        "-o", "--output", help="Promises Parquet (default stdout).", stdout=True
    ),
    _models: bool = help_models_option(MODES, SPLITS),
) -> None:
    """Promise a delivery date per order line, met with the given confidence."""
    from scot_cli.io import Run, write_parts
    from scot_cli.promise.api import promise_parts
    from scot_cli.promise.schema import PROMISES

    options = PromiseOptions(confidence=confidence, mode=mode, split=split)
    _reuse_freed_memory()
    with progress("promising") as bar:
        parts = promise_parts(
            orders,
            inventory=inventory,
            nodes=nodes,
            lanes=lanes,
            calendar=calendar,
            receipts=receipts,
            options=options,
            progress=bar,
        )
    run_ = Run("promise", params=options.params(), sources=list(parts.sources))
    counts: Counter[str] = Counter()

    def counted(block: pl.DataFrame) -> pl.DataFrame:
        for status, n in block["status"].value_counts().iter_rows():
            counts[str(status)] += int(n)
        return block

    # built from the validated orders, whose keys it keeps
    if parts.in_key_order:
        # written block by block as each is assembled: the writer works on the other core
        write_parts(run_, map(counted, parts.blocks()), out, PROMISES, trusted=True)
    else:
        table = counted(parts.decision.table())
        run_.write(table, out, PROMISES, trusted=True)
    info(str(parts.summary(counts)))


def _reuse_freed_memory() -> None:
    """Keep the memory numpy frees for reuse, and no huge page advice (allocation policy only:
    every value is the same; the same two settings as ``scot plan-buy``).

    A run makes short-lived arrays of a million lines or more. By default glibc maps each
    afresh and unmaps it when freed, so the kernel zeroes its pages every time; from the heap,
    trimmed above 2 GiB only, the pages are reused. numpy also asks for transparent huge pages
    on every array of 4 MiB or more, and where the kernel's ``defrag`` setting is ``madvise``
    (a common default) a page fault then compacts memory synchronously: on 10M lines the
    process's system CPU time was 9-14 s with the advice and about 4-5 s without it, and
    about 3.5-4 s with the heap reused too (same outputs, a loaded 2-core machine).
    """
    if not sys.platform.startswith("linux"):
        return
    if "NUMPY_MADVISE_HUGEPAGE" not in os.environ:
        import numpy as np

        multiarray = getattr(getattr(np, "_core", None), "multiarray", None)
        advise = getattr(multiarray, "_set_madvise_hugepage", None)
        if callable(advise):
            advise(False)
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_MAX, 0)
    mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)


#: glibc ``mallopt`` parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4


def register(app: typer.Typer) -> None:
    app.command(
        "promise",
        help="Promise delivery dates per order line from stock, receipts, cut-offs, capacity "
        "and lane transit spread.",
        epilog=epilog(
            EXAMPLE,
            more=f"Input columns: {ORDERS.help_columns()}; {RECEIPTS.help_columns()}; "
            "the others as in docs/schemas.md.",
        ),
    )(run)
