"""``scot plan-buy`` on an engine: batches of skus planned where they are read.

Without a budget, a storage limit or seller limits, each sku's orders and policy depend on
its own rows and the options only (the order date is fixed once, from the whole forecast),
so batches of skus planned apart and joined in sku order are the plan of the whole table.
The limits couple every sku through one LP and are refused here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from scot_cli.buy import BuyOptions, BuyResult, plan_buy
from scot_cli.buy.options import BuySummary
from scot_cli.buy.schema import BUY_ORDERS, BUY_POLICY, PRICE_BREAKS
from scot_cli.engine import (
    Engine,
    EngineSpec,
    Failed,
    Shard,
    describe_skus,
    open_engine,
    sku_ranges,
)
from scot_cli.errors import InputDataError, UsageError
from scot_cli.forecast.schema import FORECAST
from scot_cli.io import Run, scan_input
from scot_cli.io.dataset import DatasetWriter, PartWriter, is_dataset, is_dataset_output
from scot_cli.schema import INVENTORY, ITEMS, LANES, NODES

__all__ = ["BATCH_SKUS", "BuyTables", "OrdersSink", "Tally", "plan_buy_on", "plan_buy_to", "tally"]

#: Most skus per batch.
BATCH_SKUS = 20_000


@dataclass(frozen=True)
class BuyTables:
    """plan-buy's inputs as read on the client: the forecast as a loader of some skus' rows
    (the file is read where each batch is planned), the other tables whole."""

    load: Callable[[pl.Series], pl.DataFrame]
    forecast_skus: pl.Series
    first_date: dt.date
    items: pl.DataFrame
    inventory: pl.DataFrame
    nodes: pl.DataFrame | None
    lanes: pl.DataFrame | None
    price_breaks: pl.DataFrame | None


class _Rows:
    """The rows of some skus of a table in memory (picklable)."""

    def __init__(self, df: pl.DataFrame) -> None:
        self.df = df

    def __call__(self, skus: pl.Series) -> pl.DataFrame:
        return self.df.filter(pl.col("sku").is_in(skus.implode()))


def read_tables(
    run: Run,
    forecast: str,
    *,
    items: str,
    inventory: str,
    nodes: str | None,
    lanes: str | None,
    price_breaks: str | None,
) -> BuyTables:
    """Read plan-buy's inputs for an engine run (recorded in ``run``)."""
    if forecast != "-" and (is_dataset(forecast) or Path(forecast).is_file()):
        scanned = scan_input(run, forecast, FORECAST, role="forecast", key="sku")
        load: Callable[[pl.Series], pl.DataFrame] = scanned.load
        lazy = scanned.lazy
    else:
        df = run.read(forecast, FORECAST, role="forecast")
        load, lazy = _Rows(df), df.lazy()
    skus = lazy.select(pl.col("sku").unique().sort()).collect(engine="streaming")["sku"]
    first = lazy.select(pl.col("date").min()).collect(engine="streaming").item()
    if not isinstance(first, dt.date):
        raise InputDataError(f"{forecast}: no rows; run scot forecast first")
    read = run.read_optional
    return BuyTables(
        load,
        skus,
        first,
        run.read(items, ITEMS, role="items"),
        run.read(inventory, INVENTORY, role="inventory"),
        read(nodes, NODES, role="nodes"),
        read(lanes, LANES, role="lanes"),
        read(price_breaks, PRICE_BREAKS, role="price_breaks"),
    )


def batches(skus: pl.Series, workers: int, most: int = BATCH_SKUS) -> list[pl.Series]:
    """Sorted skus cut into runs: four per worker at least, ``most`` skus at most."""
    n = skus.len()
    size = max(1, min(most, -(-n // max(4 * workers, 1))))
    return [skus.slice(a, size) for a in range(0, n, size)]


def plan_buy_on(
    engine: Engine,
    tables: BuyTables,
    options: BuyOptions,
    shard: Shard | None = None,
    *,
    sink: Callable[[tuple[int, tuple[pl.DataFrame, pl.DataFrame]]], Any] | None = None,
) -> Iterator[Any]:
    """Orders and policy of each batch of skus, in sku order; with a ``sink``, what it
    returns for each ``(batch index, (orders, policy))``, called where the batch was
    planned.

    Raises
    ------
    UsageError
        A budget, a storage limit (seller limits are refused by the caller, which holds the
        table).
    """
    if options.budget is not None or options.storage is not None:
        raise UsageError(
            "--budget/--storage with --engine or --shard: a limit couples every sku in one "
            "LP; plan it in one process"
        )
    if options.as_of is None:  # the eve of the whole forecast, not of each batch's
        options = options.replace(as_of=tables.first_date - dt.timedelta(days=1))
    skus = tables.forecast_skus.append(tables.items["sku"]).unique().sort()
    if shard is not None:
        skus = sku_ranges(skus, shard)
    parts = batches(skus, engine.workers)
    if not parts:
        return
    shared = engine.share((tables, options))
    labels = [describe_skus(p) for p in parts]
    handles = engine.map(_plan, parts, shared, labels=labels)
    if sink is None:
        yield from engine.results(handles)
        return
    items = list(enumerate(handles))
    yield from engine.results(engine.map(_sunk, items, engine.share(sink), labels=labels))


@dataclass(frozen=True)
class Tally:
    """A batch's orders counted (for the summary), and its policy."""

    rows: int
    orders: int
    units: float
    unplanned: int
    policy: pl.DataFrame
    files: list[dict[str, Any]]


def tally(orders: pl.DataFrame, policy: pl.DataFrame, files: list[dict[str, Any]]) -> Tally:
    """The counts of a batch's orders."""
    status = orders["status"]
    return Tally(
        rows=orders.height,
        orders=int((status == "order").sum()),
        units=float(orders["qty"].filter(status == "order").sum() or 0.0),
        unplanned=int((status == "unplanned").sum()),
        policy=policy,
        files=files,
    )


@dataclass(frozen=True)
class OrdersSink:
    """A batch's orders checked as ``run``'s output and written into the dataset's
    temporary folder where they were planned; the policy goes back to the client."""

    writer: PartWriter
    run: Run

    def __call__(self, item: tuple[int, tuple[pl.DataFrame, pl.DataFrame]]) -> Tally:
        index, (orders, policy) = item
        prepared = self.run.prepare(orders, BUY_ORDERS)
        return tally(prepared, policy, self.writer(index, prepared))


def _sunk(item: tuple[int, Any], sink: Callable[[tuple[int, Any]], Any]) -> Any:
    index, value = item
    if isinstance(value, Failed):  # the batch failed on its data
        return value
    return sink((index, value))


def _plan(skus: pl.Series, shared: tuple[BuyTables, BuyOptions]) -> tuple[Any, Any]:
    t, options = shared
    rows = _Rows

    def pick(df: pl.DataFrame | None) -> pl.DataFrame | None:
        return None if df is None else rows(df)(skus)

    result: BuyResult = plan_buy(
        t.load(skus),
        items=rows(t.items)(skus),
        inventory=rows(t.inventory)(skus),
        nodes=t.nodes,
        lanes=t.lanes,
        price_breaks=pick(t.price_breaks),
        options=options,
    )
    return result.orders, result.policy


def plan_buy_to(
    out: str | None,
    policy_out: str | None,
    *,
    engine: EngineSpec,
    shard: Shard | None,
    partition_by: str | None,
    run: Run,
    forecast: str,
    items: str,
    inventory: str,
    nodes: str | None,
    lanes: str | None,
    price_breaks: str | None,
    options: BuyOptions,
) -> BuySummary:
    """``scot plan-buy`` on an engine: orders to ``out`` and the policy to ``policy_out``
    (files, stdout, or dataset folders), with the run's provenance."""
    from scot_cli.io import write_stream

    tables = read_tables(
        run,
        forecast,
        items=items,
        inventory=inventory,
        nodes=nodes,
        lanes=lanes,
        price_breaks=price_breaks,
    )
    as_of = options.as_of or tables.first_date - dt.timedelta(days=1)
    extra: dict[str, Any] = {} if shard is None else {"shard": str(shard)}
    eng = open_engine(engine)
    tallies: list[Tally] = []

    def orders() -> Iterator[pl.DataFrame]:
        for o, p in plan_buy_on(eng, tables, options, shard):
            tallies.append(tally(o, p, []))
            yield run.prepare(o, BUY_ORDERS)

    try:
        if is_dataset_output(out, partition_by):  # each batch written where it is planned
            assert out is not None
            with DatasetWriter(out, run.provenance(extra), partition_by=partition_by) as w:
                sink = OrdersSink(w.part_writer(), run)
                for t in plan_buy_on(eng, tables, options, shard, sink=sink):
                    w.add(t.files)
                    tallies.append(t)
                w.commit()
        else:
            write_stream(run, orders(), out, BUY_ORDERS, extra=extra)
    finally:
        eng.close()
    policies = [t.policy for t in tallies]
    if policy_out is not None:
        policy = pl.concat(policies) if policies else None
        if policy is not None:
            run.write(policy, policy_out, BUY_POLICY, extra=extra)
    return BuySummary(
        rows=sum(t.rows for t in tallies),
        orders=sum(t.orders for t in tallies),
        units=sum(t.units for t in tallies),
        unplanned=sum(t.unplanned for t in tallies),
        as_of=as_of,
    )
