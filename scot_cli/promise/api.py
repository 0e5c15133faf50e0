"""The promise call behind ``scot promise``: tables (frames or paths) in, a
:class:`PromiseResult` out."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from scot_cli.promise.core import Decision, decide_lines
from scot_cli.promise.options import PromiseOptions
from scot_cli.promise.schema import RECEIPTS, STATUSES
from scot_cli.schema import CALENDAR, INVENTORY, LANES, NODES, ORDERS
from scot_cli.validate import check_network

if TYPE_CHECKING:
    from scot_cli.io import Source

__all__ = [
    "PromiseParts",
    "PromiseResult",
    "PromiseSummary",
    "TableInput",
    "decide_from_inputs",
    "promise",
    "promise_parts",
]

#: A table argument: a frame, or the path of a Parquet (or Arrow IPC) file (``-``: stdin).
TableInput = pl.DataFrame | str | Path


@dataclass(frozen=True)
class PromiseSummary:
    """Lines promised by status, with the options that made them.

    ``str(summary)`` reads ``promised 1,200 lines (commit, split allow): backorder 3,
    promised 1,180, unavailable 17``.
    """

    lines: int
    mode: str
    split: str
    confidence: float
    #: Lines per status (:data:`scot_cli.promise.schema.STATUSES`), zeros included.
    by_status: dict[str, int]

    def __str__(self) -> str:
        counts = ", ".join(f"{s} {n:,}" for s, n in sorted(self.by_status.items()) if n)
        head = f"promised {self.lines:,} lines ({self.mode}, split {self.split})"
        return f"{head}: {counts}" if counts else head


@dataclass(frozen=True)
class PromiseResult:
    """The promises of one run.

    :attr:`promises` is the table a notebook wants (plain string columns); :attr:`table` is
    the same rows with the few-valued columns ``ship_node``, ``status``, ``reason``, ``path``
    and ``modes`` as polars Enum columns, which ``scot promise`` writes as they are (casting
    ten million rows to strings and writing them costs seconds).

    Attributes
    ----------
    table
        One row per order line (:data:`scot_cli.promise.schema.PROMISES`), in order-time
        sequence, few-valued columns as Enum columns.
    in_key_order
        Whether ``table`` is also in key order (``order_id``, ``line``).
    options
        The options the run used (``options.params()`` is what provenance records).
    summary
        Lines by status.
    sources
        The files read (role, path, SHA-256) for the tables given as paths.
    """

    table: pl.DataFrame
    in_key_order: bool
    options: PromiseOptions
    summary: PromiseSummary
    sources: tuple[Source, ...] = ()

    @functools.cached_property
    def promises(self) -> pl.DataFrame:
        """One row per order line, in order-time sequence, string columns as strings."""
        return self.table.with_columns(pl.col(pl.Enum).cast(pl.String))


def promise(
    orders: TableInput,
    *,
    inventory: TableInput,
    nodes: TableInput,
    lanes: TableInput,
    calendar: TableInput | None = None,
    receipts: TableInput | None = None,
    options: PromiseOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    **option_fields: Any,
) -> PromiseResult:
    """Promise a delivery date for every order line, met with ``options.confidence``.

    Parameters
    ----------
    orders
        Order lines (``order_id, line, sku, qty, destination, order_time``).
    inventory, nodes, lanes
        Stock per sku and node and the network (FC cut-offs, capacity; lane transit).
    calendar
        Days without pickup (FC) or delivery (destination); absent nodes work every day.
    receipts
        Purchase orders arriving at FCs (plan-buy's orders: ``sku, node, arrival_date,
        qty``).
    options
        :class:`PromiseOptions` (default: all defaults).
    progress
        Optional ``(done, total)`` callback (commit mode reports per round).
    **option_fields
        Fields of :class:`PromiseOptions` to change (``mode="commit"``).

    Every table is a polars frame or the path of a Parquet file, validated as ``scot
    promise`` validates its files; lanes, inventory and orders must name nodes of ``nodes``.

    Raises
    ------
    OptionError
        An option outside its domain, naming the field.
    InputDataError
        An input that breaks its schema or names an unknown node.
    """
    parts = promise_parts(
        orders,
        inventory=inventory,
        nodes=nodes,
        lanes=lanes,
        calendar=calendar,
        receipts=receipts,
        options=options,
        progress=progress,
        **option_fields,
    )
    table = parts.decision.table()
    return PromiseResult(
        table, parts.in_key_order, parts.options, _summary(table, parts.options), parts.sources
    )


@dataclass(frozen=True)
class PromiseParts:
    """Every line decided, the promises table not yet assembled: ``scot promise`` writes it
    block by block (:meth:`blocks`) while the next block is assembled.

    Attributes
    ----------
    decision
        The decided lines (:class:`scot_cli.promise.core.Decision`).
    in_key_order
        Whether the table's rows (sequence order) are also in key order.
    options
        The options the run used.
    sources
        The files read (role, path, SHA-256).
    """

    decision: Decision
    in_key_order: bool
    options: PromiseOptions
    sources: tuple[Source, ...] = ()

    def blocks(self, lines: int | None = None) -> Iterator[pl.DataFrame]:
        """The rows of :attr:`PromiseResult.table` in order, in blocks of whole orders."""
        return self.decision.blocks(lines)

    def summary(self, by_status: Mapping[str, int]) -> PromiseSummary:
        """The summary of a run whose lines counted ``by_status``."""
        counts = dict.fromkeys(STATUSES, 0) | {str(k): int(v) for k, v in by_status.items()}
        return PromiseSummary(
            lines=sum(counts.values()),
            mode=self.options.mode,
            split=self.options.split,
            confidence=self.options.confidence,
            by_status=counts,
        )


def promise_parts(
    orders: TableInput,
    *,
    inventory: TableInput,
    nodes: TableInput,
    lanes: TableInput,
    calendar: TableInput | None = None,
    receipts: TableInput | None = None,
    options: PromiseOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    **option_fields: Any,
) -> PromiseParts:
    """:func:`promise` up to the decision: inputs read and validated, every line decided,
    the table left to assemble (whole or in blocks). Parameters and errors as
    :func:`promise`."""
    from scot_cli.io import Run, read_input

    opts = (options or PromiseOptions()).replace(**option_fields)
    run = Run("promise")
    given = {"orders": orders, "inventory": inventory, "nodes": nodes, "lanes": lanes}
    optional = {"calendar": calendar, "receipts": receipts}
    tables = {"orders": ORDERS, "inventory": INVENTORY, "nodes": NODES, "lanes": LANES}
    tables |= {"calendar": CALENDAR, "receipts": RECEIPTS}
    frames: dict[str, pl.DataFrame] = {}
    names: dict[str, str] = {}
    for role, value in {**given, **optional}.items():
        if value is not None:
            frames[role], names[role] = read_input(value, tables[role], role=role, reader=run)
    checked = {r: frames[r] for r in ("lanes", "inventory", "orders")}
    check_network(frames["nodes"], checked, sources=names)
    decision = decide_lines(
        frames["orders"],
        inventory=frames["inventory"],
        nodes=frames["nodes"],
        lanes=frames["lanes"],
        calendar=frames.get("calendar"),
        receipts=frames.get("receipts"),
        options=opts,
        progress=progress,
    )
    return PromiseParts(decision, decision.in_key_order, opts, tuple(run.sources))


def _summary(table: pl.DataFrame, options: PromiseOptions) -> PromiseSummary:
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in table["status"].value_counts().iter_rows():
        counts[str(status)] = int(n)
    return PromiseSummary(
        lines=table.height,
        mode=options.mode,
        split=options.split,
        confidence=options.confidence,
        by_status=counts,
    )


def decide_from_inputs(
    inputs: Mapping[str, pl.DataFrame],
    params: Mapping[str, Any],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> pl.DataFrame:
    """Recompute the promises table from inputs by role and the recorded parameters
    (:meth:`PromiseOptions.from_params`), with plain string columns (for ``scot explain``).

    Roles: ``orders``, ``inventory``, ``nodes``, ``lanes`` (required), ``calendar`` and
    ``receipts`` (optional).
    """
    result = promise(
        inputs["orders"],
        inventory=inputs["inventory"],
        nodes=inputs["nodes"],
        lanes=inputs["lanes"],
        calendar=inputs.get("calendar"),
        receipts=inputs.get("receipts"),
        options=PromiseOptions.from_params(params),
        progress=progress,
    )
    return result.promises
