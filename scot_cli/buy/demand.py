"""Demand over a protection interval, from a quantile forecast, per sku (and node).

The forecast gives, per sku, location and period, a mean and quantile columns ``pNN``.
Demand over an interval of ``P`` days after the as-of date is the sum of the periods it
covers (a partial last period counts with its fraction ``w``) across every location that
feeds the sku (and node). Uncertainty is summed correctly, not by adding quantiles:

- means add;
- variances add (periods and locations taken as independent); a period's spread comes from
  its outer quantiles, ``sd = (p_hi - p_lo) / (z_hi - z_lo)``;
- random lead time adds ``d^2 * sd_L^2`` with ``d`` the mean daily demand
  (``Var[D_L] = E[L] Var[D] + E[D]^2 Var[L]``; Snyder & Shen, Section 4.3.3);
- the quantile *shape* is the comonotone sum of the periods' quantile offsets, rescaled to
  the independent spread: skew survives, the width is right.

A forecast shorter than the interval is extended at the average rate of its last 7 days
(flagged in ``extended_days``).
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from .distributions import Array, norm_ppf

QUANTILE_COLUMN = re.compile(r"^p(\d{1,2})$")
#: Days at the end of the forecast whose average rate extends a short forecast.
TAIL_DAYS = 7


def quantile_columns(forecast: pl.DataFrame) -> list[tuple[float, str]]:
    """The ``pNN`` columns of a forecast as ``(level, name)``, sorted by level."""
    found = []
    for name in forecast.columns:
        m = QUANTILE_COLUMN.match(name)
        if m and 0 < int(m.group(1)) < 100:
            found.append((int(m.group(1)) / 100, name))
    return sorted(found)


def period_days(forecast: pl.DataFrame) -> int:
    """Length of a forecast period in days (1 for daily, 7 for weekly), from the dates."""
    dates = forecast.get_column("date").unique().sort()
    if dates.len() < 2:
        return 1
    step = dates.diff().drop_nulls().dt.total_days().min()
    return max(int(step), 1) if isinstance(step, int | float) else 1


def interval_frame(
    forecast: pl.DataFrame,
    lengths: pl.DataFrame,
    *,
    as_of: pl.Expr | object,
    group: list[str],
) -> pl.DataFrame:
    """Sum the forecast over each row of ``lengths`` (``group`` keys + ``days``).

    Returns one row per group row with ``mean``, ``var`` (independent sum), ``spread``
    (comonotone sum of per-period spreads), ``q_<name>`` (comonotone sum of quantile offsets
    from the mean, per quantile column), ``rate_mean``/``rate_var`` (per-day averages of the
    last ``TAIL_DAYS`` days) and ``extended_days``.
    """
    qcols = quantile_columns(forecast)
    step = period_days(forecast)
    z = norm_ppf(np.array([q for q, _ in qcols])) if qcols else np.array([])
    sd_expr = (
        (pl.col(qcols[-1][1]) - pl.col(qcols[0][1])) / float(z[-1] - z[0])
        if len(qcols) >= 2 and z[-1] > z[0]
        else pl.col("mean").sqrt()
    )
    f = forecast.with_columns(
        ((pl.col("date") - pl.lit(as_of)).dt.total_days() / step).ceil().alias("_k"),
        sd_expr.clip(lower_bound=0).alias("_sd"),
    ).filter(pl.col("_k") >= 1)
    last_k = f.group_by(group).agg(pl.col("_k").max().alias("_kmax"))
    f = f.join(lengths, on=group, how="inner").with_columns(
        ((pl.col("days") - (pl.col("_k") - 1) * step) / step).clip(0, 1).alias("_w")
    )
    tail = (
        f.join(last_k, on=group)
        .filter(pl.col("_k") > pl.col("_kmax") - max(TAIL_DAYS // step, 1))
        .group_by(group)
        .agg(
            (pl.col("mean").sum() / (pl.col("_k").n_unique() * step)).alias("rate_mean"),
            ((pl.col("_sd") ** 2).sum() / (pl.col("_k").n_unique() * step)).alias("rate_var"),
            (pl.col("_sd").sum() / (pl.col("_k").n_unique() * step)).alias("rate_spread"),
        )
    )
    used = f.filter(pl.col("_w") > 0)
    agg = used.group_by(group).agg(
        (pl.col("mean") * pl.col("_w")).sum().alias("mean"),
        ((pl.col("_sd") * pl.col("_w")) ** 2).sum().alias("var"),
        (pl.col("_sd") * pl.col("_w")).sum().alias("spread"),
        *[
            ((pl.col(name) - pl.col("mean")) * pl.col("_w")).sum().alias(f"q_{name}")
            for _, name in qcols
        ],
        pl.col("_k").n_unique().alias("_periods"),
    )
    out = (
        lengths.join(last_k, on=group, how="left")
        .join(agg, on=group, how="left")
        .join(tail, on=group, how="left")
        .with_columns(
            (pl.col("days") - pl.col("_kmax").fill_null(0) * step)
            .clip(lower_bound=0)
            .alias("extended_days")
        )
    )
    fill = [pl.col(c).fill_null(0.0) for c in ("mean", "var", "spread")]
    ext = pl.col("extended_days")
    spread = pl.col("spread") + ext * pl.col("rate_spread").fill_null(0.0)
    # offsets grow with the spread when the interval is extended past the forecast
    grow = pl.when(pl.col("spread") > 0).then(spread / pl.col("spread")).otherwise(0.0)
    return (
        out.with_columns(*fill, *[pl.col(f"q_{n}").fill_null(0.0) for _, n in qcols])
        .with_columns(
            (pl.col("mean") + ext * pl.col("rate_mean").fill_null(0.0)).alias("mean"),
            (pl.col("var") + ext * pl.col("rate_var").fill_null(0.0)).alias("var"),
            *[(pl.col(f"q_{n}") * grow).alias(f"q_{n}") for _, n in qcols],
            spread.alias("spread"),
        )
        .drop("_kmax", "_periods")
    )


def shape_knots(frame: pl.DataFrame, qcols: list[tuple[float, str]], sd: Array) -> Array:
    """Quantile knots of the interval demand: mean + rescaled comonotone offsets (rows x J)."""
    mean = frame.get_column("mean").to_numpy()
    spread = frame.get_column("spread").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(spread > 0, sd / spread, 0.0)
    offsets = np.column_stack([frame.get_column(f"q_{n}").to_numpy() for _, n in qcols])
    knots = mean[:, None] + offsets * scale[:, None]
    return np.asarray(np.maximum.accumulate(knots, axis=1), dtype=np.float64)
