"""The partitioned forecast as a map-reduce on an engine.

The steps of :class:`scot_cli.forecast.partition.PartitionRun`, in the order its local run
takes them, with the pooled parts reduced on the client in partition order:

1. event lifts: each partition's lift sums (map), merged into lifts (reduce); skipped
   without events;
2. the global model and pooled score quantile: the seeded sample trained once (a task);
3. each partition's forecast (map), its short series marked when cold start follows;
4. cold start: each partition's donor sums (map), the peer means (reduce), each partition
   filled (map).

Same partitions (``batch_size``), same seed: the frames equal the local run's bit for bit.
With a :class:`~scot_cli.engine.Shard` only that shard's partitions are forecast (steps 1
and 2 still see the whole catalogue, so a shard's rows are the whole run's rows).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from scot_cli.engine import Engine, EngineSpec, Failed, Shard, describe_skus, open_engine
from scot_cli.errors import UsageError
from scot_cli.forecast import coldstart
from scot_cli.forecast.events import LIFTS_SCHEMA, events_before, lifts_from_sums, merge_lift_sums
from scot_cli.forecast.options import ForecastOptions
from scot_cli.forecast.partition import (
    EARLY_SHARE,
    PartitionRun,
    Trained,
    catalogue,
    partitions,
)
from scot_cli.forecast.schema import ITEMS_IN
from scot_cli.io import Run, read_input, scan_input
from scot_cli.io.dataset import PartWriter, is_dataset
from scot_cli.schema import EVENTS, SALES, Table

__all__ = [
    "EngineForecast",
    "PartSink",
    "Written",
    "engine_forecast",
    "forecast_to",
    "run_partitions",
]

TableArg = pl.DataFrame | str | Path


@dataclass(frozen=True)
class EngineForecast:
    """The frames of a forecast on an engine (one per partition, in sku order, consumed
    once), what the run read and its warnings."""

    frames: Iterator[pl.DataFrame]
    inputs: tuple[Any, ...]
    warnings: tuple[str, ...]
    partitions: int
    series: int
    #: Index of the first partition forecast (a shard's first).
    first: int = 0
    #: The run behind ``frames`` (to run it again with a sink instead).
    run: PartitionRun | None = None


def engine_forecast(
    engine: Engine,
    sales: TableArg,
    *,
    items: TableArg | None,
    events: TableArg | None,
    options: ForecastOptions,
    batch_size: int | None,
    shard: Shard | None = None,
) -> EngineForecast:
    """Read the inputs (a Parquet file or dataset of sales is scanned, each partition read
    where it is forecast) and forecast on ``engine``.

    Raises
    ------
    UsageError
        ``shard`` with ``items`` (cold start pools the forecasts of the whole catalogue).
    """
    if shard is not None and items is not None:
        raise UsageError(
            "--shard with --items: cold start pools the forecasts of every shard; "
            "run the cold-started forecast whole, or on --engine dask"
        )
    reader = Run("forecast")
    load: Callable[[pl.Series], pl.DataFrame]
    if isinstance(sales, pl.DataFrame):
        df = read_input(sales, SALES, role="sales", reader=reader)[0]
        lazy, load = df.lazy(), _FrameLoader(df)
    elif str(sales) != "-" and (is_dataset(str(sales)) or Path(str(sales)).is_file()):
        scanned = scan_input(reader, str(sales), SALES, role="sales", key="sku")
        lazy, load = scanned.lazy, scanned.load
    else:
        df = read_input(str(sales), SALES, role="sales", reader=reader)[0]
        lazy, load = df.lazy(), _FrameLoader(df)
    items_df = (
        None if items is None else read_input(items, ITEMS_IN, role="items", reader=reader)[0]
    )
    events_df = (
        None if events is None else read_input(events, EVENTS, role="events", reader=reader)[0]
    )
    cat = catalogue(lazy, freq=options.freq)
    notes = []
    if options.align == "grid" and cat.early > EARLY_SHARE * cat.keys.height:
        notes.append(
            f"sales: {cat.early:,} of {cat.keys.height:,} series have no row in the last "
            f"period ({cat.edges.last}); their missing tail counts as zero sales"
        )
    if note := events_before(events_df, cat.edges.first):
        notes.append(note)
    run = PartitionRun(
        cat=cat,
        parts=partitions(cat.keys, batch_size),
        load=load,
        items=items_df,
        events=events_df,
        freq=options.freq,
        horizon=options.horizon,
        quantiles=options.levels,
        model=options.model,
        windows=options.windows,
        seed=options.seed,
        align=options.align,
    )
    n = len(run.parts)
    if shard is not None and shard.of > n:
        raise UsageError(
            f"--shard {shard}: the catalogue makes {n} partition(s) of --batch-size "
            f"{batch_size}; use at most {n} shards or a smaller --batch-size"
        )
    first = 0 if shard is None else shard.take(n).start
    frames = run_partitions(engine, run, shard)
    return EngineForecast(
        frames, tuple(reader.sources), tuple(notes), n, cat.keys.height, first, run
    )


def forecast_to(
    out: str | None,
    *,
    engine: EngineSpec,
    shard: Shard | None,
    dataset: bool,
    partition_by: str | None,
    sales: TableArg,
    items: TableArg | None,
    events: TableArg | None,
    options: ForecastOptions,
    batch_size: int | None,
) -> tuple[int, tuple[str, ...]]:
    """``scot forecast`` on an engine: the forecast written to ``out`` (a file, stdout, or
    a dataset folder), with the run's provenance. Returns the series written and the
    warnings."""
    from scot_cli.forecast.schema import FORECAST
    from scot_cli.io import write_stream
    from scot_cli.io.dataset import DatasetWriter

    eng = open_engine(engine)
    try:
        result = engine_forecast(
            eng,
            sales,
            items=items,
            events=events,
            options=options,
            batch_size=batch_size,
            shard=shard,
        )
        run = Run("forecast", params=options.params(), seed=options.seed)
        run.sources = list(result.inputs)
        extra: dict[str, Any] = {"batch_size": batch_size}
        if shard is not None:
            extra |= {"shard": str(shard), "partitions": result.partitions}
        series = 0
        if dataset:  # each partition written by the worker that made it
            assert out is not None and result.run is not None
            with DatasetWriter(out, run.provenance(extra), partition_by=partition_by) as w:
                sink = PartSink(w.part_writer(), run, FORECAST)
                for written in run_partitions(eng, result.run, shard, sink=sink):
                    w.add(written.files)
                    series += written.series
                w.commit()
        else:

            def counted() -> Iterator[pl.DataFrame]:
                nonlocal series
                for frame in result.frames:
                    series += frame.select("sku", "location").n_unique()
                    yield frame

            write_stream(run, counted(), out, FORECAST, extra=extra)
        return series, result.warnings
    finally:
        eng.close()


class _FrameLoader:
    """The rows of some skus of a frame in memory (picklable, unlike a closure)."""

    def __init__(self, df: pl.DataFrame) -> None:
        self.df = df
        self.n_skus = df["sku"].n_unique()

    def __call__(self, skus: pl.Series) -> pl.DataFrame:
        if skus.len() == self.n_skus:
            return self.df
        return self.df.filter(pl.col("sku").is_in(skus.implode()))


@dataclass(frozen=True)
class Written:
    """What a worker wrote of one partition: the manifest entries of its files, and its
    series."""

    files: list[dict[str, Any]]
    series: int


@dataclass(frozen=True)
class PartSink:
    """A partition's frame checked against ``table`` as ``run``'s output, sorted, and
    written into the dataset's temporary folder where it was made."""

    writer: PartWriter
    run: Run
    table: Table

    def __call__(self, item: tuple[int, pl.DataFrame]) -> Written:
        index, frame = item
        files = self.writer(index, self.run.prepare(frame, self.table))
        return Written(files, frame.select("sku", "location").n_unique())


def run_partitions(
    engine: Engine,
    run: PartitionRun,
    shard: Shard | None = None,
    *,
    sink: Callable[[tuple[int, pl.DataFrame]], Any] | None = None,
) -> Iterator[Any]:
    """The frames of ``run`` computed on ``engine`` (see the module docstring), or with a
    ``sink`` what it returns for each ``(partition index, frame)``, called where the frame
    was made (the frame does not travel)."""
    run = dataclasses.replace(run, progress=None)
    picked = (
        range(len(run.parts))
        if shard is None
        else range(len(run.parts))[shard.take(len(run.parts))]
    )
    if len(run.parts) == 1:
        if picked:
            label = describe_skus(run.parts[0])
            whole = engine.submit(_whole, run, sink, label=label)
            yield from next(engine.results([whole]))
        return
    labels = [describe_skus(p) for p in run.parts]
    shared = engine.share(run)
    lifts = pl.DataFrame(schema=LIFTS_SCHEMA)
    if run.needs_lifts():
        sums = list(engine.results(engine.map(_lift_sums, run.parts, shared, labels=labels)))
        lifts = lifts_from_sums(merge_lift_sums(sums))
    lifts_h = engine.share(lifts)
    trained = engine.submit(_sample, shared, lifts_h, label="the training sample")
    mine = [run.parts[i] for i in picked]
    mine_labels = [labels[i] for i in picked]
    parts = engine.map(_partition, mine, shared, lifts_h, trained, labels=mine_labels)
    if run.items is not None:
        donors = list(engine.results(engine.map(_donor_sums, parts, shared, labels=mine_labels)))
        levels, sites = coldstart.peer_levels([d for d, _ in donors], run.quantiles)
        peers = engine.share((levels, sites, donors[0][1] if donors else []))
        parts = engine.map(_fill, parts, shared, peers, labels=mine_labels)
    if sink is None:
        yield from engine.results(parts)
        return
    items = list(zip(picked, parts, strict=True))
    yield from engine.results(engine.map(_sunk, items, engine.share(sink), labels=mine_labels))


@dataclass(frozen=True)
class _Part:
    """A partition's forecast with its short series marked, and the forecast dates."""

    frame: pl.DataFrame
    dates: list[Any]
    index: int


def _whole(run: PartitionRun, sink: Callable[[tuple[int, pl.DataFrame]], Any] | None) -> list[Any]:
    frames = list(run.frames())
    if sink is None:
        return frames
    return [sink((0, pl.concat(frames)))]


def _sunk(item: tuple[int, Any], sink: Callable[[tuple[int, pl.DataFrame]], Any]) -> Any:
    index, frame = item
    if isinstance(frame, Failed):  # the partition's forecast failed on its data
        return frame
    return sink((index, frame))


def _lift_sums(skus: pl.Series, run: PartitionRun) -> pl.DataFrame:
    return run.lift_sums(skus)


def _sample(run: PartitionRun, lifts: pl.DataFrame) -> Trained:
    return run.sample(lifts)


def _partition(skus: pl.Series, run: PartitionRun, lifts: pl.DataFrame, trained: Trained) -> Any:
    frame = run.partition_frame(skus, lifts, trained)
    if run.items is None:
        return frame
    index = next(i for i, p in enumerate(run.parts) if p[0] == skus[0])
    return _Part(frame, list(run.dates), index)


def _donor_sums(part: _Part, run: PartitionRun) -> tuple[pl.DataFrame, list[Any]]:
    return run.donor_sums(part.frame), part.dates


def _fill(part: _Part, run: PartitionRun, shared: tuple[Any, Any, list[Any]]) -> pl.DataFrame:
    levels, sites, dates = shared
    return run.fill(part.frame, run.unseen()[part.index], levels, sites, dates)
