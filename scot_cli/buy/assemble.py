"""Turn planned levels into the two output tables: rounding, status and reasons."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from scot_cli.validate import polars_schema

from .levels import Labels
from .rounding import ROUNDINGS, round_order_codes
from .schema import BUY_ORDERS, BUY_POLICY

KEYS = ["sku", "node"]


def build_outputs(
    rows: pl.DataFrame, result: pl.DataFrame | None, as_of: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Orders and policy frames for every row of ``rows`` (planned or not), in key order.

    ``rows`` is the sorted universe with ``_idx`` and ``position``; ``result`` carries the
    planned rows' levels keyed by ``_idx``.
    """
    frame = rows.select(
        "_idx",
        *KEYS,
        "vendor",
        "reason",
        "lead_days",
        "case_pack",
        "moq",
        pl.col("position").alias("inventory_position"),
    )
    if result is not None:
        if result.height == frame.height:  # every row planned, in the same order
            frame = frame.hstack(result.drop("_idx"))
        else:
            frame = frame.join(result, on="_idx", how="left", maintain_order="left")
        if "level_reason" in frame.columns:
            frame = frame.with_columns(pl.coalesce("reason", "level_reason").alias("reason"))
    else:
        # nothing planned (no items, or every row unplanned): the levels are all null
        frame = frame.with_columns(
            pl.lit(None, dtype=dtype).alias(name)
            for name, dtype in {
                **polars_schema(BUY_POLICY),
                "constrained": pl.Boolean(),
                "binding_constraint": pl.String(),
            }.items()
            if name not in frame.columns
        )
    # round down only rows a binding limit holds, so that rounding never breaks it
    frame = _rounded(frame, down=frame.get_column("binding_constraint").is_not_null().to_numpy())
    frame = frame.with_columns(_status().alias("status")).with_columns(_reason().alias("reason"))
    orders = frame.select(
        "sku",
        "vendor",
        "node",
        pl.lit(as_of).alias("order_date"),
        pl.when(pl.col("status") != "unplanned")
        .then(pl.lit(as_of) + pl.duration(days=pl.col("lead_days").round(0).cast(pl.Int64)))
        .alias("arrival_date"),
        pl.col("qty").fill_null(0.0),
        "status",
        "reason",
    )
    policy = frame.select([_policy_column(c.name) for c in BUY_POLICY.columns])
    return orders.select([c.name for c in BUY_ORDERS.columns]), policy


def _rounded(frame: pl.DataFrame, *, down: np.ndarray) -> pl.DataFrame:
    if "raw_qty" not in frame.columns:
        return frame.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("qty"), pl.lit("none").alias("rounding")
        )
    planned = frame.get_column("raw_qty").is_not_null().to_numpy()
    raw = frame.get_column("raw_qty").fill_null(0.0).to_numpy()
    pack = frame.get_column("case_pack").fill_null(1).to_numpy()
    moq = frame.get_column("moq").fill_null(0).to_numpy()
    qty, codes = round_order_codes(raw, case_pack=pack, moq=moq, down=down)
    codes[~planned] = ROUNDINGS.index("none")
    return frame.with_columns(
        pl.Series("qty", np.where(planned, qty + 0.0, np.nan)).fill_nan(None),
        Labels(codes, ROUNDINGS).column("rounding"),
    )


def _status() -> pl.Expr:
    return (
        pl.when(pl.col("reason").is_not_null())
        .then(pl.lit("unplanned"))
        .when(pl.col("qty") > 0)
        .then(pl.lit("order"))
        .otherwise(pl.lit("no_order"))
    )


def _num(name: str, digits: int = 1) -> pl.Expr:
    return pl.col(name).round(digits).cast(pl.String)


def _reason() -> pl.Expr:
    trigger = pl.col("inventory_position").fill_null(0.0) <= pl.col("reorder_point")
    where = pl.format(
        "{}: position {} {} reorder point {}",
        pl.col("policy"),
        _num("inventory_position"),
        pl.when(trigger).then(pl.lit("at or below")).otherwise(pl.lit("above")),
        _num("reorder_point"),
    )
    # a stage of a central tier orders against its echelon: its stock and all below it
    echelon = pl.col("echelon_position") < pl.col("echelon_level")
    trigger = pl.when(pl.col("echelon_level").is_not_null()).then(echelon).otherwise(trigger)
    where = (
        pl.when(pl.col("echelon_level").is_not_null())
        .then(
            pl.format(
                "{}: echelon position {} {} echelon level {}",
                pl.col("policy"),
                _num("echelon_position"),
                pl.when(echelon).then(pl.lit("below")).otherwise(pl.lit("at or above")),
                _num("echelon_level"),
            )
        )
        .otherwise(where)
    )
    rounding = (
        pl.when(pl.col("rounding") != "none")
        .then(pl.format(" (rounded by {})", pl.col("rounding")))
        .otherwise(pl.lit(""))
    )
    cut = (
        pl.when(pl.col("constrained").fill_null(False))
        .then(
            pl.format("; cut to fit the {} limit", pl.col("binding_constraint").fill_null("given"))
        )
        .otherwise(pl.lit(""))
    )
    outcome = (
        pl.when(pl.col("status") == "order")
        .then(
            pl.format(
                "; order {} toward {}{}",
                _num("qty", 0),
                pl.coalesce(_num("echelon_level"), _num("order_up_to")),
                rounding,
            )
        )
        .when(
            trigger
            & ~pl.col("constrained").fill_null(False)
            & (pl.col("raw_qty").fill_null(0.0) <= 0)
        )
        .then(pl.lit("; nothing to add (no demand expected)"))
        .otherwise(pl.lit(""))
    )
    return (
        pl.when(pl.col("status") == "unplanned")
        .then(pl.col("reason"))
        .otherwise(pl.concat_str([where, outcome, cut]))
    )


def _policy_column(name: str) -> pl.Expr:
    if name == "inventory_position":
        return pl.col(name).fill_null(0.0)
    if name == "policy":
        return pl.col(name).fill_null("none")
    if name == "constrained":
        return pl.col(name).fill_null(False)
    return pl.col(name)
