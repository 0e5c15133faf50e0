"""``scot forecast evaluate`` on an engine: the backtest's fits as tasks.

The rolling-origin backtest fits every model (the chosen one, zero, seasonal naive) at
every origin ``T - kH`` on the whole panel: the fits are independent of one another, so
each (model, origin) is one task, and the client sums their fold terms into the metrics in
the order the local backtest takes them. The fits are the local ones (the same panel, seed
and event lifts, pooled over the whole catalogue), so the metrics equal
:func:`scot_cli.forecast.evaluate_forecast`'s bit for bit.

Every task reads the panel (it is sent once to each worker that runs a fit), so the
backtest spreads over up to ``3 * folds`` workers; a catalogue too large for one worker's
memory is backtested on a sample of skus, or shard by shard of ``scot forecast``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from scot_cli.engine import Engine, EngineSpec, describe_skus, open_engine
from scot_cli.errors import InputDataError
from scot_cli.forecast.api import EvaluateResult, EvaluateSummary, ModelScore, TableInput
from scot_cli.forecast.metrics import demand_class, metrics_frame, series_metrics
from scot_cli.forecast.options import EvaluateOptions
from scot_cli.forecast.registry import family
from scot_cli.forecast.schema import ITEMS_IN
from scot_cli.forecast.stages import Prepared, prepare, scored_fold
from scot_cli.io import Run, read_input
from scot_cli.schema import EVENTS, SALES

__all__ = ["evaluate_on", "evaluate_with"]


@dataclass(frozen=True)
class _Fold:
    """A (model, origin) fit's per-series fold sums and the model behind each series."""

    terms: dict[str, Any]
    labels: Any


def evaluate_with(
    spec: EngineSpec,
    sales: TableInput,
    *,
    items: TableInput | None,
    events: TableInput | None,
    options: EvaluateOptions,
) -> EvaluateResult:
    """:func:`evaluate_on` an engine started from ``spec`` (and closed)."""
    engine = open_engine(spec)
    try:
        return evaluate_on(engine, sales, items=items, events=events, options=options)
    finally:
        engine.close()


def evaluate_on(
    engine: Engine,
    sales: TableInput,
    *,
    items: TableInput | None,
    events: TableInput | None,
    options: EvaluateOptions,
) -> EvaluateResult:
    """The backtest of :func:`scot_cli.forecast.evaluate_forecast`, its fits on ``engine``.

    Raises
    ------
    InputDataError
        Bad input (naming the file and column), too short a history for the folds, or a
        fit failed on its data (naming the model, the origin and the skus).
    """
    reader = Run("forecast evaluate")

    def table(value: TableInput | None, schema: Any, role: str) -> pl.DataFrame | None:
        return None if value is None else read_input(value, schema, role=role, reader=reader)[0]

    sales_df = table(sales, SALES, "sales")
    assert sales_df is not None
    prep = prepare(
        sales_df,
        freq=options.freq,
        items=table(items, ITEMS_IN, "items"),
        events=table(events, EVENTS, "events"),
        align=options.align,
    )
    y = prep.panel.y
    horizon, folds = options.horizon, options.folds
    cuts = [y.shape[1] - k * horizon for k in range(folds, 0, -1)]
    if cuts[0] < 2:
        raise InputDataError(
            f"sales: {y.shape[1]} periods of history cannot hold {folds} "
            f"fold(s) of {horizon} periods; use fewer folds or a shorter horizon"
        )
    classes = demand_class(y[:, : cuts[0]])
    names = list(dict.fromkeys([options.model, "zero", "seasonal_naive"]))
    skus = describe_skus(prep.panel.keys["sku"].unique().sort())
    fits = [(name, c) for name in names for c in cuts]
    labels = [f"model {name} at period {c}, {skus}" for name, c in fits]
    handles = engine.map(_fold, fits, engine.share(prep), options, labels=labels)
    done = iter(engine.results(handles))
    frames = []
    for name in names:
        terms = []
        model = np.full(y.shape[0], name, dtype=np.str_)
        for _ in cuts:
            fold: _Fold = next(done)
            terms.append(fold.terms)
            model = fold.labels
        values = series_metrics(terms, options.levels, classes)
        kinds = np.unique(model)
        families = np.asarray([family(str(m)) for m in kinds], dtype=np.str_)
        by_row = families[np.searchsorted(kinds, model)]
        frames.append(metrics_frame(prep.panel.keys, name, values, options.levels, classes, by_row))
    metrics = pl.concat(frames)
    overall = metrics.filter((pl.col("level") == "overall") & (pl.col("metric") == "rmsse"))
    scores = tuple(
        ModelScore(str(r["model"]), r["value"], int(r["n_series"]))
        for r in overall.iter_rows(named=True)
    )
    return EvaluateResult(metrics, EvaluateSummary(scores), options, tuple(reader.sources))


def _fold(fit: tuple[str, int], prep: Prepared, options: EvaluateOptions) -> _Fold:
    """One model fitted on the history before period ``c``, scored on the next horizon."""
    name, c = fit
    terms, model = scored_fold(
        prep,
        c,
        horizon=options.horizon,
        quantiles=options.levels,
        model=name,
        windows=options.windows,
        seed=options.seed,
    )
    return _Fold(terms, model)
