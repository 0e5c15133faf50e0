"""The forecast's one call shape: tables (frames or paths) and options in, a result out.

``forecast(sales, *, items=None, events=None, options=None, **option_fields)`` returns a
:class:`ForecastResult` (the ``forecast`` frame and a :class:`ForecastSummary`);
``evaluate_forecast`` the same for the rolling-origin backtest (:class:`EvaluateResult`).
``scot forecast`` and ``scot forecast evaluate`` call exactly these.

Every table is validated on entry with the checks the command applies when it reads a
file (:data:`scot_cli.schema.SALES` and friends), defaults included: a sales table without
``location`` is one location, ``'ALL'``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl

from scot_cli.errors import InputDataError
from scot_cli.forecast import partition
from scot_cli.forecast.metrics import demand_class, metrics_frame, series_metrics
from scot_cli.forecast.options import EvaluateOptions, ForecastOptions
from scot_cli.forecast.registry import family
from scot_cli.forecast.schema import ITEMS_IN
from scot_cli.forecast.stages import Prepared, Progress, prepare, scored_fold
from scot_cli.io import Run, Source, is_parquet_file, read_input, scan_input
from scot_cli.options import at_least
from scot_cli.schema import EVENTS, SALES, Table

__all__ = [
    "EvaluateResult",
    "EvaluateSummary",
    "ForecastResult",
    "ForecastSummary",
    "ModelScore",
    "Sink",
    "TableInput",
    "decide_from_inputs",
    "evaluate_forecast",
    "forecast",
    "unknown_event_skus",
]

#: A table argument: a polars frame, or the path of a Parquet (or Arrow IPC) file
#: (``"-"``: standard input).
TableInput = pl.DataFrame | str | Path
#: Receives the forecast's frames as they are made (one per partition of skus, in key
#: order) and the files read (for provenance); ``scot forecast`` writes them as they come.
Sink = Callable[[Iterator[pl.DataFrame], tuple[Source, ...]], object]

OptionsT = TypeVar("OptionsT", bound=ForecastOptions)


@dataclass(frozen=True)
class ForecastSummary:
    """What a forecast run did, for a person: series forecast, periods ahead, warnings."""

    series: int
    horizon: int
    freq: str
    model: str
    #: Doubts about the input that did not stop the run (series ending early, events
    #: naming unknown skus or ending before the history).
    warnings: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The human summary (warnings apart)."""
        return [f"forecast: {self.series:,} series x {self.horizon} periods"]

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True)
class ForecastResult:
    """A forecast: the ``forecast`` table (``sku, location, date, horizon, mean, pNN...,
    model``; None when its frames went to a ``sink``), the summary, the options it ran with
    and the files it read (role, path, SHA-256)."""

    forecast: pl.DataFrame | None
    summary: ForecastSummary
    options: ForecastOptions
    inputs: tuple[Source, ...] = ()


@dataclass(frozen=True)
class ModelScore:
    """One model's overall RMSSE in a backtest (None when no series could be scored)."""

    model: str
    rmsse: float | None
    series: int

    def __str__(self) -> str:
        value = "none" if self.rmsse is None else f"{self.rmsse:.3f}"
        return f"{self.model}: RMSSE {value} over {self.series:,} series"


@dataclass(frozen=True)
class EvaluateSummary:
    """The overall RMSSE of every model backtested (the chosen one, zero, seasonal naive)."""

    scores: tuple[ModelScore, ...]

    def lines(self) -> list[str]:
        return [str(s) for s in self.scores]

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True)
class EvaluateResult:
    """A backtest: the ``forecast_metrics`` table, the summary, the options and the files
    read."""

    metrics: pl.DataFrame
    summary: EvaluateSummary
    options: EvaluateOptions
    inputs: tuple[Source, ...] = ()


def forecast(
    sales: TableInput,
    *,
    items: TableInput | None = None,
    events: TableInput | None = None,
    options: ForecastOptions | None = None,
    batch_size: int | None = None,
    progress: Progress = None,
    spill: partition.Spill | None = None,
    sink: Sink | None = None,
    **option_fields: Any,
) -> ForecastResult:
    """Multi-horizon quantile forecast of every (sku, location) in ``sales``.

    Parameters
    ----------
    sales, items, events
        The input tables (items and events optional), each a frame or a file path;
        validated on entry. A Parquet file of sales is read one partition of skus at a time.
    options
        :class:`~scot_cli.forecast.options.ForecastOptions`; ``option_fields`` (``horizon=7``,
        ``model="ets"``, ...) replace its fields, or build it when it is None.
    batch_size
        Series per partition (None: all at once); see :mod:`scot_cli.forecast.partition`.
        The result does not depend on it.
    progress
        Called with ``(done, total)`` models fitted.
    spill
        Where partitions wait for the cold-start peer means (several partitions and
        ``items``); in memory by default.
    sink
        Receives the frames as they are made instead of the result (which then holds no
        frame), so a large catalogue never sits in memory whole.

    Returns
    -------
    ForecastResult

    Raises
    ------
    OptionError
        An option outside its domain (naming the field).
    InputDataError
        A table breaking its schema (naming the table or file, column and key).

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(60)]
    >>> sales = pl.DataFrame({"sku": "A", "date": days, "units": 3.0})
    >>> result = forecast(sales, horizon=2, model="naive")
    >>> result.forecast.select("location", "horizon", "mean").rows()
    [('ALL', 1, 3.0), ('ALL', 2, 3.0)]
    >>> str(result.summary)
    'forecast: 1 series x 2 periods'
    """
    opts = _resolve(ForecastOptions, options, option_fields)
    at_least("batch_size", batch_size, 1)
    reader = Run("forecast")
    lazy, load = _sales_input(sales, reader)
    items_df = _table(items, ITEMS_IN, "items", reader)
    events_df = _table(events, EVENTS, "events", reader)
    notes = _event_notes(events, events_df, lazy, items_df)
    frames = partition.forecast_partitions(
        lazy,
        load,
        horizon=opts.horizon,
        quantiles=opts.levels,
        items=items_df,
        events=events_df,
        freq=opts.freq,
        model=opts.model,
        windows=opts.windows,
        seed=opts.seed,
        batch_size=batch_size,
        progress=progress,
        spill=spill,
        align=opts.align,
        warn=notes.append,
    )
    counted = _Counted(frames)
    inputs = tuple(reader.sources)
    df = None
    if sink is None:
        df = pl.concat(list(counted))
    else:
        sink(iter(counted), inputs)
    summary = ForecastSummary(
        counted.series, opts.horizon, opts.freq, opts.model, warnings=tuple(notes)
    )
    return ForecastResult(df, summary, opts, inputs)


def evaluate_forecast(
    sales: TableInput,
    *,
    items: TableInput | None = None,
    events: TableInput | None = None,
    options: ForecastOptions | None = None,
    progress: Progress = None,
    **option_fields: Any,
) -> EvaluateResult:
    """Rolling-origin backtest: ``folds`` origins ``T - k H``; metrics per series, per
    demand class, per model family (of the model behind each series at the last origin)
    and overall for the model, the zero forecast and seasonal naive.

    Lifts are re-learned at each origin from the history before it; the events inside the
    test window are known in advance (they are planned). ``options`` may be
    :class:`~scot_cli.forecast.options.EvaluateOptions` or the
    :class:`~scot_cli.forecast.options.ForecastOptions` of a forecast to backtest
    (``folds`` then 3 unless given); other arguments as :func:`forecast`.
    """
    if options is not None and not isinstance(options, EvaluateOptions):
        options = EvaluateOptions.from_params(options.params())
    opts = _resolve(EvaluateOptions, options, option_fields)
    reader = Run("forecast evaluate")
    sales_df = _table(sales, SALES, "sales", reader)
    assert sales_df is not None
    prep = prepare(
        sales_df,
        freq=opts.freq,
        items=_table(items, ITEMS_IN, "items", reader),
        events=_table(events, EVENTS, "events", reader),
        align=opts.align,
    )
    metrics = _backtest(prep, opts, progress)
    overall = metrics.filter((pl.col("level") == "overall") & (pl.col("metric") == "rmsse"))
    scores = tuple(
        ModelScore(str(r["model"]), r["value"], int(r["n_series"]))
        for r in overall.iter_rows(named=True)
    )
    return EvaluateResult(metrics, EvaluateSummary(scores), opts, tuple(reader.sources))


def decide_from_inputs(
    inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]
) -> pl.DataFrame:
    """Recompute the forecast from inputs by role (``sales``, optional ``items``,
    ``events``) and the parameters ``scot forecast`` recorded
    (:meth:`ForecastOptions.params <scot_cli.options.Options.params>`)."""
    result = forecast(
        inputs["sales"],
        items=inputs.get("items"),
        events=inputs.get("events"),
        options=ForecastOptions.from_params(params),
    )
    assert result.forecast is not None
    return result.forecast


def _resolve(cls: type[OptionsT], options: OptionsT | None, fields: Mapping[str, Any]) -> OptionsT:
    """``options`` with ``fields`` replaced, or ``cls(**fields)`` when it is None; an
    unknown field name is a TypeError naming the known ones."""
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = [name for name in fields if name not in known]
    if unknown:
        raise TypeError(f"unknown option {unknown[0]!r} (options: {', '.join(known)})")
    if options is None:
        if "horizon" not in fields:
            raise TypeError("the forecast needs a horizon, e.g. horizon=28")
        return cls(**fields)
    return options.replace(**fields) if fields else options


def unknown_event_skus(events: pl.DataFrame | None, known: pl.Series) -> list[str]:
    """SKUs named in the events table that are neither in the sales nor in the items."""
    if events is None or "sku" not in events.columns:
        return []
    named = events["sku"].drop_nulls().unique()
    return sorted(named.filter(~named.is_in(known.implode())).to_list())


def _table(value: TableInput | None, table: Table, role: str, reader: Run) -> pl.DataFrame | None:
    """``value`` validated against ``table``: a frame as given (errors name ``role``), a path
    read through :mod:`scot_cli.io` (errors name the file; the file is recorded)."""
    if value is None:
        return None
    return read_input(value, table, role=role, reader=reader)[0]


def _sales_input(
    sales: TableInput, reader: Run
) -> tuple[pl.LazyFrame, Callable[[pl.Series], pl.DataFrame]]:
    """The sales as a scan and a loader of the validated rows of some skus: a Parquet file
    is scanned (read one partition at a time), anything else read and validated whole."""
    if not isinstance(sales, pl.DataFrame) and is_parquet_file(str(sales)):
        scanned = scan_input(reader, str(sales), SALES, role="sales", key="sku")
        return scanned.lazy, scanned.load
    df = _table(sales, SALES, "sales", reader)
    assert df is not None
    n_skus = df["sku"].n_unique()

    def load(skus: pl.Series) -> pl.DataFrame:
        if skus.len() == n_skus:
            return df
        return df.filter(pl.col("sku").is_in(skus.implode()))

    return df.lazy(), load


def _event_notes(
    source: TableInput | None,
    events: pl.DataFrame | None,
    sales: pl.LazyFrame,
    items: pl.DataFrame | None,
) -> list[str]:
    """A warning when events name skus in neither the sales nor the items."""
    if events is None or "sku" not in events.columns:
        return []
    known = sales.select("sku").unique().collect(engine="streaming")["sku"]
    if items is not None:
        known = known.append(items["sku"])
    unknown = unknown_event_skus(events, known)
    if not unknown:
        return []
    name = "events" if isinstance(source, pl.DataFrame) else str(source)
    return [
        f"{name}: {len(unknown)} sku(s) in column sku are in neither the sales nor the items "
        f"(first: {unknown[0]!r}); their events are ignored"
    ]


class _Counted:
    """The forecast's frames passed through, counting their series (partitions hold
    disjoint skus, so the counts add up)."""

    def __init__(self, frames: Iterator[pl.DataFrame]) -> None:
        self._frames = frames
        self.series = 0

    def __iter__(self) -> Iterator[pl.DataFrame]:
        for frame in self._frames:
            self.series += frame.select("sku", "location").n_unique()
            yield frame


def _backtest(prep: Prepared, opts: EvaluateOptions, progress: Progress) -> pl.DataFrame:
    """The metrics of :func:`evaluate_forecast` for the prepared panel."""
    y = prep.panel.y
    horizon, folds, qs = opts.horizon, opts.folds, opts.levels
    cuts = [y.shape[1] - k * horizon for k in range(folds, 0, -1)]
    if cuts[0] < 2:
        raise InputDataError(
            f"sales: {y.shape[1]} periods of history cannot hold {folds} "
            f"fold(s) of {horizon} periods; use fewer folds or a shorter horizon"
        )
    classes = demand_class(y[:, : cuts[0]])
    names = list(dict.fromkeys([opts.model, "zero", "seasonal_naive"]))
    frames = []
    for m_i, name in enumerate(names):
        terms = []
        labels = np.full(y.shape[0], name, dtype=np.str_)
        for k, c in enumerate(cuts):
            fold, labels = scored_fold(
                prep,
                c,
                horizon=horizon,
                quantiles=qs,
                model=name,
                windows=opts.windows,
                seed=opts.seed,
            )
            terms.append(fold)
            if progress is not None:
                progress(m_i * len(cuts) + k + 1, len(names) * len(cuts))
        values = series_metrics(terms, qs, classes)
        families = np.asarray([family(str(m)) for m in np.unique(labels)], dtype=np.str_)
        by_row = families[np.searchsorted(np.unique(labels), labels)]
        frames.append(metrics_frame(prep.panel.keys, name, values, qs, classes, by_row))
    return pl.concat(frames)
