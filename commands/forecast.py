"""``scot forecast``: multi-horizon quantile demand forecasts; ``evaluate`` backtests them."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from scot_cli.errors import UsageError
from scot_cli.schema import EVENTS, ITEMS, SALES

from ._common import default_group, epilog, info, parse_floats, progress, warn

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
    "D", "--freq", help="Period: D (day), W (week from Monday), M (month); finer sales are summed."
)
QUANTILES_OPT = typer.Option(
    "0.1,0.5,0.9", "--quantiles", help="Increasing quantiles in (0,1); p10, p50, p90 always appear."
)
SEED_OPT = typer.Option(0, "--seed", help="Seed of the global model's series sample.")
OUT_OPT = typer.Option(None, "-o", "--output", help="Output Parquet file (default stdout).")


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
    from scot_cli.forecast.api import unknown_event_skus
    from scot_cli.io import Run

    run = Run(command, params=params, seed=seed)
    sales_df = run.read(sales, SALES, role="sales")
    items_df = run.read_optional(str(items) if items else None, ITEMS, role="items")
    events_df = run.read_optional(str(events) if events else None, EVENTS, role="events")
    known = sales_df["sku"] if items_df is None else sales_df["sku"].append(items_df["sku"])
    unknown = unknown_event_skus(events_df, known)
    if unknown:
        warn(
            f"{events}: {len(unknown)} sku(s) in column sku are in neither the sales nor the "
            f"items (first: {unknown[0]!r}); their events are ignored"
        )
    return run, sales_df, items_df, events_df


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
) -> None:
    """Forecast demand quantiles per sku and location for the next HORIZON periods."""
    from scot_cli.forecast.api import check_options, forecast
    from scot_cli.forecast.engine import DEFAULT_WINDOWS
    from scot_cli.forecast.schema import FORECAST

    qs = check_options(horizon=horizon, quantiles=_quantiles(quantiles), model=model, freq=freq)
    params = {
        "horizon": horizon,
        "freq": freq,
        "quantiles": qs,
        "model": model,
        "windows": DEFAULT_WINDOWS,
        "seed": seed,
    }
    run, sales_df, items_df, events_df = _read(sales, items, events, params, seed, "forecast")
    with progress("forecasting") as bar:
        df = forecast(
            sales_df,
            items=items_df,
            events=events_df,
            horizon=horizon,
            freq=freq,
            quantiles=qs,
            model=model,
            seed=seed,
            progress=bar,
        )
    run.write(df, out, FORECAST)
    info(
        f"forecast: {df.select('sku', 'location').n_unique():,} series x {horizon} periods "
        f"-> {out or 'stdout'}"
    )


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
) -> None:
    """Backtest a model (with zero and seasonal naive beside it) by rolling origin."""
    from scot_cli.forecast.api import check_options, evaluate
    from scot_cli.forecast.schema import METRICS

    qs = check_options(
        horizon=horizon, quantiles=_quantiles(quantiles), model=model, freq=freq, folds=folds
    )
    params = {
        "horizon": horizon,
        "folds": folds,
        "freq": freq,
        "quantiles": qs,
        "model": model,
        "seed": seed,
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


def demo_step(fixtures: Path, out: Path, invoke: Callable[[list[str]], None]) -> list[str]:
    """Forecast the fixtures' sales 28 days ahead (with items and events) into the demo."""
    import polars as pl

    target = out / "forecast.parquet"
    invoke(
        [
            "forecast",
            str(fixtures / "sales.parquet"),
            "--items",
            str(fixtures / "items.parquet"),
            "--events",
            str(fixtures / "events.parquet"),
            "--horizon",
            "28",
            "-o",
            str(target),
        ]
    )
    df = pl.read_parquet(target)
    cold = df.filter(pl.col("model").str.starts_with("cold_start"))["sku"].n_unique()
    top = df["model"].value_counts(sort=True).head(3)
    picks = ", ".join(f"{m} {c // 28}" for m, c in top.iter_rows())
    return [
        f"forecast: {df.select('sku', 'location').n_unique():,} series x 28 days, "
        f"{df['mean'].sum():,.0f} units expected",
        f"models picked per series: {picks}; {cold} new sku(s) by cold start",
    ]
