"""``scot forecast``: multi-horizon quantile demand forecasts; ``evaluate`` backtests them."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from scot_cli.errors import UsageError
from scot_cli.schema import EVENTS, ITEMS, SALES

from ._common import default_group, epilog, info, output_option, parse_floats, progress, warn

EXAMPLE = (
    "scot forecast fixtures/sales.parquet --items fixtures/items.parquet "
    "--events fixtures/events.parquet --horizon 28 -o forecast.parquet"
)
EVAL_EXAMPLE = (
    "scot forecast evaluate fixtures/sales.parquet --horizon 28 --folds 3 -o metrics.parquet"
)

SALES_ARG = typer.Argument(..., help="Sales history (Parquet), or - for stdin.")
ITEMS_OPT = typer.Option(
    None, "--items", help="Item master: categories and brands for cold start, launch dates."
)
EVENTS_OPT = typer.Option(
    None,
    "--events",
    help="Planned events; their lift is learned from past events of the same name or category.",
)
HORIZON_OPT = typer.Option(..., "--horizon", "-H", help="Periods ahead to forecast (>= 1).")
FREQ_OPT = typer.Option(
    "D",
    "--freq",
    help="Period: D (day, season 7), W (week from Monday, 52), M (month, 12), Q (quarter, 4), "
    "Y (year, no season); finer sales are summed.",
)
ALIGN_OPT = typer.Option(
    "grid",
    "--align",
    help="grid: all series on the sales table's calendar, a series without rows at the end "
    "sold nothing there; own-end: forecast each series from its own last period.",
)
QUANTILES_OPT = typer.Option(
    "0.1,0.5,0.9", "--quantiles", help="Increasing quantiles in (0,1); p10, p50, p90 always appear."
)
SEED_OPT = typer.Option(0, "--seed", help="Seed of the global model's series sample.")
BATCH_OPT = typer.Option(
    20_000,
    "--batch-size",
    min=1,
    help="Series forecast together; memory grows with it, not with the catalogue "
    "(a Parquet file is read one batch of skus at a time).",
)
OUT_OPT = output_option("-o", "--output", help="Output Parquet file (default stdout).", stdout=True)


def _model_option() -> Any:
    from scot_cli.forecast.registry import MODELS

    return typer.Option(
        "auto", "--model", "-m", help=f"One of {', '.join(MODELS)} (described below)."
    )


def _with_model_option(fn: Callable[..., None]) -> None:
    """Give ``fn``'s ``model`` parameter the registry-built option (kept out of module level so
    that the registry is imported only when commands register)."""
    sig = inspect.signature(fn)
    params = [
        p.replace(default=_model_option()) if p.name == "model" else p
        for p in sig.parameters.values()
    ]
    fn.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]


def _read(
    sales: str,
    items: Path | None,
    events: Path | None,
    params: dict[str, Any],
    seed: int,
    command: str,
) -> tuple[Any, Any, Any, Any]:
    from scot_cli.io import Run

    run = Run(command, params=params, seed=seed)
    sales_df = run.read(sales, SALES, role="sales")
    items_df, events_df = _read_extras(run, sales_df.lazy(), items, events)
    return run, sales_df, items_df, events_df


def _read_extras(run: Any, sales: Any, items: Path | None, events: Path | None) -> tuple[Any, Any]:
    """Read items and events; warn about event skus that appear nowhere."""
    from scot_cli.forecast.api import unknown_event_skus

    items_df = run.read_optional(str(items) if items else None, ITEMS, role="items")
    events_df = run.read_optional(str(events) if events else None, EVENTS, role="events")
    if events_df is not None and "sku" in events_df.columns:
        known = sales.select("sku").unique().collect(engine="streaming")["sku"]
        if items_df is not None:
            known = known.append(items_df["sku"])
        unknown = unknown_event_skus(events_df, known)
        if unknown:
            warn(
                f"{events}: {len(unknown)} sku(s) in column sku are in neither the sales nor "
                f"the items (first: {unknown[0]!r}); their events are ignored"
            )
    return items_df, events_df


def _quantiles(text: str) -> list[float]:
    qs = parse_floats(text, option="--quantiles")
    if not qs:
        raise UsageError("--quantiles: give at least one quantile, e.g. 0.1,0.5,0.9")
    return qs


def run_forecast(
    sales: str = SALES_ARG,
    horizon: int = HORIZON_OPT,
    items: Path | None = ITEMS_OPT,
    events: Path | None = EVENTS_OPT,
    freq: str = FREQ_OPT,
    quantiles: str = QUANTILES_OPT,
    model: str = "auto",
    seed: int = SEED_OPT,
    out: str | None = OUT_OPT,
    batch_size: int = BATCH_OPT,
    align: str = ALIGN_OPT,
) -> None:
    """Forecast demand quantiles per sku and location for the next HORIZON periods."""
    from scot_cli.forecast.api import check_options
    from scot_cli.forecast.engine import DEFAULT_WINDOWS
    from scot_cli.io import is_parquet_file

    qs = check_options(
        horizon=horizon, quantiles=_quantiles(quantiles), model=model, freq=freq, align=align
    )
    params = {
        "horizon": horizon,
        "freq": freq,
        "quantiles": qs,
        "model": model,
        "windows": DEFAULT_WINDOWS,
        "seed": seed,
        "align": align,
    }
    go = _streamed if is_parquet_file(sales) else _in_memory
    series = go(sales, items, events, params, out, batch_size)
    info(f"forecast: {series:,} series x {horizon} periods -> {out or 'stdout'}")


def _in_memory(
    sales: str,
    items: Path | None,
    events: Path | None,
    params: dict[str, Any],
    out: str | None,
    batch_size: int,
) -> int:
    """Forecast stdin or Arrow IPC input, read whole; returns the series written."""
    from scot_cli.forecast.api import forecast
    from scot_cli.forecast.schema import FORECAST

    run, sales_df, items_df, events_df = _read(
        sales, items, events, params, params["seed"], "forecast"
    )
    notes: list[str] = []
    with progress("forecasting") as bar:
        df = forecast(
            sales_df,
            items=items_df,
            events=events_df,
            **_options(params),
            progress=bar,
            batch_size=batch_size,
            warn=notes.append,
        )
    run.write(df, out, FORECAST, extra={"batch_size": batch_size})
    _flush(notes)
    return int(df.select("sku", "location").n_unique())


def _streamed(
    sales: str,
    items: Path | None,
    events: Path | None,
    params: dict[str, Any],
    out: str | None,
    batch_size: int,
) -> int:
    """Forecast a Parquet file one partition of skus at a time, writing as it goes."""
    from scot_cli.forecast.partition import forecast_partitions
    from scot_cli.forecast.schema import FORECAST
    from scot_cli.io import Run, SpillFile, scan_input, write_stream

    run = Run("forecast", params=params, seed=params["seed"])
    scanned = scan_input(run, sales, SALES, role="sales", key="sku")
    items_df, events_df = _read_extras(run, scanned.lazy, items, events)
    folder = None if out is None or out == "-" else Path(out).parent
    notes: list[str] = []
    with SpillFile(folder) as spill, progress("forecasting") as bar:
        frames = forecast_partitions(
            scanned.lazy,
            scanned.load,
            items=items_df,
            events=events_df,
            **_options(params),
            windows=params["windows"],
            batch_size=batch_size,
            progress=bar,
            spill=spill,
            warn=notes.append,
        )
        rows = write_stream(run, frames, out, FORECAST, extra={"batch_size": batch_size})
    _flush(notes)
    return rows // int(params["horizon"])


def _flush(notes: list[str]) -> None:
    """Print the run's warnings once it has succeeded: a partition that fails validation
    later must leave its error as the only line on stderr."""
    for note in notes:
        warn(note)


def _options(params: dict[str, Any]) -> dict[str, Any]:
    keys = ("horizon", "freq", "quantiles", "model", "seed", "align")
    return {k: params[k] for k in keys}


def run_evaluate(
    sales: str = SALES_ARG,
    horizon: int = HORIZON_OPT,
    folds: int = typer.Option(3, "--folds", "-k", help="Backtest origins T-kH, k=1..K."),
    items: Path | None = ITEMS_OPT,
    events: Path | None = EVENTS_OPT,
    freq: str = FREQ_OPT,
    quantiles: str = QUANTILES_OPT,
    model: str = "auto",
    seed: int = SEED_OPT,
    out: str | None = OUT_OPT,
    align: str = ALIGN_OPT,
) -> None:
    """Backtest a model (with zero and seasonal naive beside it) by rolling origin; metrics
    per series, per demand class, per model family and overall."""
    from scot_cli.forecast.api import check_options, evaluate
    from scot_cli.forecast.schema import METRICS

    qs = check_options(
        horizon=horizon,
        quantiles=_quantiles(quantiles),
        model=model,
        freq=freq,
        folds=folds,
        align=align,
    )
    params = {
        "horizon": horizon,
        "folds": folds,
        "freq": freq,
        "quantiles": qs,
        "model": model,
        "seed": seed,
        "align": align,
    }
    run, sales_df, items_df, events_df = _read(
        sales, items, events, params, seed, "forecast evaluate"
    )
    with progress("backtesting") as bar:
        df = evaluate(
            sales_df,
            items=items_df,
            events=events_df,
            horizon=horizon,
            folds=folds,
            freq=freq,
            quantiles=qs,
            model=model,
            seed=seed,
            progress=bar,
            align=align,
        )
    run.write(df, out, METRICS)
    for row in df.filter((df["level"] == "overall") & (df["metric"] == "rmsse")).iter_rows(
        named=True
    ):
        info(f"{row['model']}: RMSSE {row['value']:.3f} over {row['n_series']:,} series")


def register(app: typer.Typer) -> None:
    from scot_cli.forecast.registry import MODELS

    sub = default_group(
        "forecast", "Forecast demand quantiles per sku and location; 'evaluate' backtests."
    )
    models = "Models:\n\n" + "\n\n".join(f"  {n}: {m.description}" for n, m in MODELS.items())
    for name, fn, example, tables in (
        ("run", run_forecast, EXAMPLE, [SALES, ITEMS, EVENTS]),
        ("evaluate", run_evaluate, EVAL_EXAMPLE, [SALES, ITEMS, EVENTS]),
    ):
        _with_model_option(fn)
        sub.command(
            name, help=(fn.__doc__ or "").strip(), epilog=epilog(example, tables, more=models)
        )(fn)
    app.add_typer(sub, name="forecast")
