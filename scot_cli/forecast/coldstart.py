"""Cold start: SKUs with no or too little history borrow from similar SKUs.

A SKU of the items table without sales, or a series with fewer observed periods than the
frequency's minimum history, gets per location and horizon the mean forecast (mean and each
quantile, i.e. Vincentised quantiles) of the established SKUs of the same category and brand
when at least :data:`MIN_PEERS` of them sell there, else of the same category (same rule),
else of all SKUs selling there (at every location when the category sells nowhere). Its
``model`` names the basis (``cold_start:category+brand``, ``cold_start:category``,
``cold_start:all``). Periods before an item's ``launch_date`` are forecast as zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

from scot_cli.forecast.schema import quantile_column

#: Established SKUs needed in a group before its mean stands in for a new SKU.
MIN_PEERS = 3


def _peer_means(
    donors: pl.DataFrame, by: list[str], values: list[str], basis: str, least: int = MIN_PEERS
) -> pl.DataFrame:
    grouped = donors.group_by([*by, "location", "horizon"]).agg(
        *(pl.col(v).sort().mean() for v in values), pl.col("sku").n_unique().alias("_peers")
    )
    return (
        grouped.filter(pl.col("_peers") >= least)
        .drop("_peers")
        .with_columns(pl.lit(f"cold_start:{basis}").alias("model"))
    )


def apply(
    frame: pl.DataFrame,
    *,
    items: pl.DataFrame,
    panel_keys: pl.DataFrame,
    observed: np.ndarray,
    min_history: int,
    dates: Sequence[dt.date],
    quantiles: Sequence[float],
) -> pl.DataFrame:
    """Replace short-history series and add unseen items; zero periods before launch."""
    values = ["mean", *(quantile_column(q) for q in quantiles)]
    short = short_series(panel_keys, observed, min_history)
    attrs = _attrs(items)
    donors = frame.join(short, on=["sku", "location"], how="anti").join(attrs, on="sku")
    unseen = attrs.join(panel_keys.select("sku").unique(), on="sku", how="anti")
    sites = donors.select("category", "location").unique()
    cold = _cold_rows(short, attrs, unseen, sites, sites.select("location").unique())
    if cold.height == 0 or donors.height == 0:
        return _zero_before_launch(frame, items, values)
    levels = [
        (
            ["category", "brand"],
            _peer_means(donors, ["category", "brand"], values, "category+brand"),
        ),
        (["category"], _peer_means(donors, ["category"], values, "category")),
        (
            [],
            _peer_means(
                donors.with_columns(pl.lit(1).alias("_all")), ["_all"], values, "all", 1
            ).drop("_all"),
        ),
    ]
    return _cascade(frame, cold, short, levels, items=items, dates=dates, values=values)


def _cold_rows(
    short: pl.DataFrame,
    attrs: pl.DataFrame,
    new: pl.DataFrame,
    sites: pl.DataFrame,
    locations: pl.DataFrame,
) -> pl.DataFrame:
    """``sku, location, category, brand`` of every series to fill: the ``short`` ones, and
    ``new`` skus at each of their category's donor ``sites`` (at every donor location when
    the category has none)."""
    return pl.concat(
        [
            short.join(attrs, on="sku"),
            new.join(sites, on="category").select("sku", "location", "category", "brand"),
            new.join(sites, on="category", how="anti")
            .join(locations, how="cross")
            .select("sku", "location", "category", "brand"),
        ]
    )


def _cascade(
    frame: pl.DataFrame,
    cold: pl.DataFrame,
    short: pl.DataFrame,
    levels: list[tuple[list[str], pl.DataFrame]],
    *,
    items: pl.DataFrame,
    dates: Sequence[dt.date],
    values: list[str],
) -> pl.DataFrame:
    """Fill each cold series and horizon from the first level of peer means that has it,
    replace the short series in ``frame`` and zero periods before launch."""
    horizons = pl.DataFrame(
        {
            "horizon": np.arange(1, len(dates) + 1, dtype=np.int64),
            "date": pl.Series(list(dates), dtype=pl.Date),
        }
    )
    rest = cold.join(horizons, how="cross")
    filled = []
    for by, means in levels:
        hit = rest.join(means, on=[*by, "location", "horizon"], how="inner")
        filled.append(hit.select(frame.columns))
        rest = rest.join(
            hit.select("sku", "location", "horizon"), on=["sku", "location", "horizon"], how="anti"
        )
    keep = frame.join(short, on=["sku", "location"], how="anti")
    out = pl.concat([keep, *filled], how="vertical_relaxed")
    return _zero_before_launch(out, items, values)


def _zero_before_launch(
    frame: pl.DataFrame, items: pl.DataFrame, values: list[str]
) -> pl.DataFrame:
    if "launch_date" not in items.columns:
        return frame
    launch = items.select("sku", "launch_date").filter(pl.col("launch_date").is_not_null())
    out = frame.join(launch, on="sku", how="left")
    before = pl.col("launch_date").is_not_null() & (pl.col("date") < pl.col("launch_date"))
    return out.with_columns(
        pl.when(before).then(0.0).otherwise(pl.col(v)).alias(v) for v in values
    ).drop("launch_date")


def _attrs(items: pl.DataFrame) -> pl.DataFrame:
    return items.select(
        "sku",
        "category",
        pl.col("brand") if "brand" in items.columns else pl.lit(None, pl.String).alias("brand"),
    )


def short_series(panel_keys: pl.DataFrame, observed: np.ndarray, min_history: int) -> pl.DataFrame:
    """``sku, location`` of the series with fewer than ``min_history`` observed periods."""
    return (
        panel_keys.with_columns(pl.Series("_obs", observed))
        .filter(pl.col("_obs") < min_history)
        .select("sku", "location")
    )


def donor_sums(
    frame: pl.DataFrame, *, items: pl.DataFrame, short: pl.DataFrame, quantiles: Sequence[float]
) -> pl.DataFrame:
    """Per (category, brand, location, horizon) the summed forecasts, rows and skus of the
    established series in ``frame``: the part of the peer means one partition holds. Parts of
    disjoint sets of skus add up (:func:`peer_levels`)."""
    values = ["mean", *(quantile_column(q) for q in quantiles)]
    donors = frame.join(short, on=["sku", "location"], how="anti").join(_attrs(items), on="sku")
    return donors.group_by("category", "brand", "location", "horizon").agg(
        *(pl.col(v).sort().sum() for v in values),
        pl.len().alias("_rows"),
        pl.col("sku").n_unique().alias("_peers"),
    )


def peer_levels(
    sums: list[pl.DataFrame], quantiles: Sequence[float]
) -> tuple[list[tuple[list[str], pl.DataFrame]], pl.DataFrame]:
    """Peer means by category and brand, by category and over all skus (each with the rule
    of :func:`apply`) and the (category, location) pairs that have donors, from the
    :func:`donor_sums` of every partition."""
    values = ["mean", *(quantile_column(q) for q in quantiles)]
    total = pl.concat(sums)

    def level(by: list[str], basis: str, least: int) -> pl.DataFrame:
        grouped = total.group_by([*by, "location", "horizon"], maintain_order=True).agg(
            *(pl.col(v).sort().sum() for v in values), pl.col("_rows").sum(), pl.col("_peers").sum()
        )
        return (
            grouped.filter(pl.col("_peers") >= least)
            .select(
                *by,
                "location",
                "horizon",
                *((pl.col(v) / pl.col("_rows")).alias(v) for v in values),
            )
            .with_columns(pl.lit(f"cold_start:{basis}").alias("model"))
        )

    levels = [
        (["category", "brand"], level(["category", "brand"], "category+brand", MIN_PEERS)),
        (["category"], level(["category"], "category", MIN_PEERS)),
        ([], level([], "all", 1)),
    ]
    return levels, total.select("category", "location").unique(maintain_order=True)


def fill(
    frame: pl.DataFrame,
    *,
    items: pl.DataFrame,
    short: pl.DataFrame,
    unseen: pl.Series,
    levels: list[tuple[list[str], pl.DataFrame]],
    sites: pl.DataFrame,
    dates: Sequence[dt.date],
    quantiles: Sequence[float],
) -> pl.DataFrame:
    """:func:`apply` for one partition of a catalogue, with the peer means and donor sites of
    the whole catalogue (:func:`peer_levels`): replace its ``short`` series, add rows for the
    ``unseen`` skus of the items that fall in it, zero periods before launch."""
    values = ["mean", *(quantile_column(q) for q in quantiles)]
    attrs = _attrs(items)
    new = attrs.filter(pl.col("sku").is_in(unseen.implode()))
    locations = sites.select("location").unique(maintain_order=True)
    cold = _cold_rows(short, attrs, new, sites, locations)
    if cold.height == 0 or sites.height == 0:
        return _zero_before_launch(frame, items, values)
    return _cascade(frame, cold, short, levels, items=items, dates=dates, values=values)
