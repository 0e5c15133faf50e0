"""Output tables of ``scot forecast``: the forecast itself and the backtest metrics.

Plain declarations (no polars import) so that ``scot --help`` stays fast.
"""

from __future__ import annotations

from scot_cli.schema import ITEMS, Column, D, F, I, S, Table

#: Quantile columns declared by default; other ``pNN`` columns are allowed (``--quantiles``).
DEFAULT_QUANTILES = (0.1, 0.5, 0.9)


def quantile_column(q: float) -> str:
    """Column name of quantile ``q``: ``p`` followed by ``round(100 q)`` (0.1 -> ``p10``)."""
    return f"p{round(100 * q)}"


#: The items table as the forecast reads it: only the attributes it uses are required, so
#: an item master without costs or lead times forecasts too (extra columns are kept).
ITEMS_IN = Table(
    "items",
    "Item attributes the forecast uses: category and brand for cold start, launch dates.",
    tuple(ITEMS.column(c) for c in ("sku", "category", "brand", "launch_date")),
    keys=ITEMS.keys,
)

FORECAST = Table(
    "forecast",
    "Multi-horizon demand forecast per sku, location and period: mean and quantiles.",
    (
        Column("sku", S, "stock-keeping unit id"),
        Column("location", S, "demand region or node ('ALL' when the sales had none)"),
        Column("date", D, "forecast period start"),
        Column("horizon", I, "periods ahead of the last history period (1..H)", min=1),
        Column("mean", F, "expected demand in the period", min=0),
        *(
            Column(quantile_column(q), F, f"{q:g} quantile of demand (non-crossing)", min=0)
            for q in DEFAULT_QUANTILES
        ),
        Column("model", S, "model that produced the row (auto names its pick; cold_start:<basis>)"),
    ),
    keys=("sku", "location", "date"),
    notes="Other quantile columns `pNN` appear when `--quantiles` asks for them; the defaults "
    "p10, p50, p90 are present unless `--quantiles` replaces them.",
)

METRICS = Table(
    "forecast_metrics",
    "Rolling-origin backtest metrics per series, per demand class, per model family and "
    "overall, by model.",
    (
        Column(
            "level",
            S,
            "aggregation level: series, demand class, model family or overall",
            choices=("series", "class", "family", "overall"),
        ),
        Column("sku", S, "sku (null above series level)", nullable=True),
        Column("location", S, "location (null above series level)", nullable=True),
        Column(
            "demand_class",
            S,
            "smooth, erratic, intermittent or lumpy (ADI/CV2); 'all' overall",
            choices=("smooth", "erratic", "intermittent", "lumpy", "all"),
        ),
        Column(
            "family",
            S,
            "family of the model behind the series at the last origin (ets, theta, "
            "combination, intermittent, baseline, global, ...); 'all' above series level "
            "except on family rows",
        ),
        Column("model", S, "model evaluated"),
        Column(
            "metric",
            S,
            "rmsse, spl (scaled pinball), coverage (share of actuals at or below the "
            "quantile), coverage_below (share strictly below), bias_pct or mase (smooth only)",
            choices=("rmsse", "spl", "coverage", "coverage_below", "bias_pct", "mase"),
        ),
        Column(
            "quantile",
            F,
            "quantile of spl/coverage/coverage_below rows; null otherwise",
            nullable=True,
            min=0,
            max=1,
        ),
        Column("value", F, "metric value (mean over series above series level)", nullable=True),
        Column("n_series", I, "series behind the value", min=0),
    ),
    keys=("level", "sku", "location", "demand_class", "family", "model", "metric", "quantile"),
)

TABLES = (FORECAST, METRICS)

__all__ = ["DEFAULT_QUANTILES", "FORECAST", "ITEMS_IN", "METRICS", "TABLES", "quantile_column"]
