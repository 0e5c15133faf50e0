"""``scot forecast``: multi-horizon quantile demand forecasts; ``evaluate`` backtests them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer

from scot_cli.forecast.registry import ALIGNS, MODELS, PERIODS
from scot_cli.schema import EVENTS, SALES

from ._common import (
    ENGINE_OPT,
    PARTITION_BY_OPT,
    SCHEDULER_OPT,
    SHARD_OPT,
    WORKERS_OPT,
    choice_option,
    default_group,
    epilog,
    help_models_option,
    info,
    output_option,
    parse_floats,
    progress,
    renamed,
    scale,
    seed_option,
    table_option,
    warn,
)

EXAMPLE = (
    "scot forecast fixtures/sales.parquet --items fixtures/items.parquet "
    "--events fixtures/events.parquet --horizon 28 -o out/forecast.parquet"
)
EVAL_EXAMPLE = (
    "scot forecast evaluate fixtures/sales.parquet --horizon 28 --folds 3 -o out/metrics.parquet"
)

SALES_ARG = typer.Argument(..., help="Sales history (Parquet), or - for stdin.")
ITEMS_OPT = table_option("items", help="Item master: category and brand for cold start.")
EVENTS_OPT = table_option("events", help="Planned events: promotions, holidays.")
HORIZON_OPT = typer.Option(..., "--horizon", "-H", help="Periods ahead to forecast (>= 1).")
FOLDS_OPT = typer.Option(3, "--folds", "-k", help="Backtest origins T-kH, k=1..K.")
FREQ_OPT = choice_option(PERIODS, "D", "--freq", help="Period; finer sales are summed.")
ALIGN_OPT = choice_option(ALIGNS, "grid", "--align", help="Series that end early.")
MODEL_OPT = choice_option(MODELS, "auto", "--model", help="Forecasting model.")
QUANTILES_OPT = typer.Option(
    "0.1,0.5,0.9", "--quantiles", help="Quantiles in (0,1); p10, p50, p90 always."
)
SEED_OPT = seed_option("Seed of the series sample.")
BATCH_OPT = typer.Option(
    20_000, "--batch-size", min=1, help="Series per partition (bounds memory)."
)
OUT_OPT = output_option("-o", "--output", help="Output Parquet file (default stdout).", stdout=True)
MODELS_OPT = help_models_option(MODELS, PERIODS, ALIGNS)


def run_forecast(
    sales: str = SALES_ARG,
    horizon: int = HORIZON_OPT,
    items: Path | None = ITEMS_OPT,
    events: Path | None = EVENTS_OPT,
    freq: str = FREQ_OPT,
    quantiles: str = QUANTILES_OPT,
    model: str = MODEL_OPT,
    seed: int = SEED_OPT,
    out: str | None = OUT_OPT,
    batch_size: int = BATCH_OPT,
    align: str = ALIGN_OPT,
    engine: str = ENGINE_OPT,
    shard: str | None = SHARD_OPT,
    scheduler: str | None = SCHEDULER_OPT,
    workers: int | None = WORKERS_OPT,
    partition_by: str | None = PARTITION_BY_OPT,
    _models: bool = MODELS_OPT,
) -> None:
    """Forecast demand quantiles per sku and location for the next HORIZON periods."""
    from scot_cli.forecast import ForecastOptions, forecast
    from scot_cli.io import SpillFile

    options = ForecastOptions(
        horizon=horizon,
        freq=freq,
        quantiles=_quantiles(quantiles),
        model=model,
        seed=seed,
        align=align,
    )
    plan = scale(engine, shard, scheduler, workers, partition_by, out)
    if plan.active:  # an engine, a shard or a dataset output (docs/scale-out.md)
        from scot_cli.engine.forecast import forecast_to

        series, notes = forecast_to(
            out, engine=plan.engine, shard=plan.shard, dataset=plan.dataset,
            partition_by=plan.partition_by, sales=sales, items=items, events=events,
            options=options, batch_size=batch_size,
        )  # fmt: skip
        for note in notes:
            warn(note)
        info(f"forecast: {series:,} series x {horizon} periods -> {out or 'stdout'}")
        return
    folder = None if out is None or out == "-" else Path(out).parent
    with SpillFile(folder) as spill, progress("forecasting") as bar:
        result = forecast(
            sales,
            items=items,
            events=events,
            options=options,
            batch_size=batch_size,
            progress=bar,
            spill=spill,
            sink=_writer(out, options.params(), seed, batch_size),
        )
    for note in result.summary.warnings:  # after the output: a failed run shows its error only
        warn(note)
    info(f"{result.summary} -> {out or 'stdout'}")


def _writer(
    out: str | None, params: dict[str, Any], seed: int, batch_size: int
) -> Callable[[Iterator[Any], tuple[Any, ...]], None]:
    """The forecast's sink: its frames written as they come, with the run's provenance."""

    def write(frames: Iterator[Any], inputs: tuple[Any, ...]) -> None:
        from scot_cli.forecast.schema import FORECAST
        from scot_cli.io import Run, write_stream

        run = Run("forecast", params=params, seed=seed, sources=list(inputs))
        write_stream(run, frames, out, FORECAST, extra={"batch_size": batch_size})

    return write


def _quantiles(text: str) -> tuple[float, ...]:
    return tuple(parse_floats(text, option="--quantiles"))


def run_evaluate(
    sales: str = SALES_ARG,
    horizon: int = HORIZON_OPT,
    folds: int = FOLDS_OPT,
    items: Path | None = ITEMS_OPT,
    events: Path | None = EVENTS_OPT,
    freq: str = FREQ_OPT,
    quantiles: str = QUANTILES_OPT,
    model: str = MODEL_OPT,
    seed: int = SEED_OPT,
    out: str | None = OUT_OPT,
    align: str = ALIGN_OPT,
    engine: str = ENGINE_OPT,
    scheduler: str | None = SCHEDULER_OPT,
    workers: int | None = WORKERS_OPT,
    _models: bool = MODELS_OPT,
) -> None:
    """Backtest a model (with zero and seasonal naive beside it) by rolling origin; metrics
    per series, per demand class, per model family and overall."""
    from scot_cli.forecast import EvaluateOptions, evaluate_forecast
    from scot_cli.forecast.schema import METRICS
    from scot_cli.io import Run

    options = EvaluateOptions(
        horizon=horizon,
        folds=folds,
        freq=freq,
        quantiles=_quantiles(quantiles),
        model=model,
        seed=seed,
        align=align,
    )
    plan = scale(engine, None, scheduler, workers, None)
    if plan.active:  # each (model, origin) fit a task (docs/scale-out.md)
        from scot_cli.engine.evaluate import evaluate_with

        result = evaluate_with(plan.engine, sales, items=items, events=events, options=options)
    else:
        with progress("backtesting") as bar:
            result = evaluate_forecast(
                sales, items=items, events=events, options=options, progress=bar
            )
    run = Run("forecast evaluate", params=options.params(), seed=seed, sources=[*result.inputs])
    run.write(result.metrics, out, METRICS)
    for line in result.summary.lines():
        info(line)


def register(app: typer.Typer) -> None:
    from scot_cli.forecast.schema import ITEMS_IN

    for command in ("forecast", "forecast run", "forecast evaluate"):
        renamed(command, {"-m": "--model"})
    sub = default_group(
        "forecast", "Forecast demand quantiles per sku and location; 'evaluate' backtests."
    )
    inputs = "Input columns: " + "; ".join(t.help_columns() for t in (SALES, ITEMS_IN, EVENTS))
    for name, fn, example in (
        ("run", run_forecast, EXAMPLE),
        ("evaluate", run_evaluate, EVAL_EXAMPLE),
    ):
        doc = (fn.__doc__ or "").strip()
        sub.command(
            name, help=doc, short_help=doc.split(";")[0], epilog=epilog(example, more=inputs)
        )(fn)
    app.add_typer(sub, name="forecast")
