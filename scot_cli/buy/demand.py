"""Demand over a protection interval, from a quantile forecast, per sku (and node).

The forecast gives, per sku, location and period, a mean and quantile columns ``pNN``.
Demand over an interval of ``P`` days after the as-of date is the sum of the periods it
covers (a partial last period counts with its fraction ``w``) across every location that
feeds the sku (and node). Uncertainty is summed correctly, not by adding quantiles:

- means add;
- variances add (periods and locations taken as independent); a period's spread comes from
  its outer quantiles, ``sd = (p_hi - p_lo) / (z_hi - z_lo)``, floored at the Poisson
  ``sqrt(mean)`` (quantiles of lumpy forecasts understate the spread);
- random lead time adds ``d^2 * sd_L^2`` with ``d`` the mean daily demand
  (``Var[D_L] = E[L] Var[D] + E[D]^2 Var[L]``; Snyder & Shen, Section 4.3.3);
- the quantile *shape* is the comonotone sum of the periods' quantile offsets, rescaled to
  the independent spread: skew survives, the width is right.

A forecast shorter than the interval is extended at the average daily rate of its last 7 days,
summed over locations (flagged in ``extended_days``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

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
    # the first rows hold the first key's periods; enough to see the step
    dates = forecast.get_column("date").head(4096).unique().sort()
    if dates.len() < 2:
        return 1
    step = dates.diff().drop_nulls().dt.total_days().min()
    return max(int(step), 1) if isinstance(step, int | float) else 1


@dataclass(frozen=True)
class ForecastArrays:
    """Forecast rows attached to planned rows, as flat arrays (one entry per forecast row).

    ``row`` is the planned row each forecast row feeds, ``k`` its period index after the as-of
    date (1 = first), ``offsets`` the quantile values minus the mean (columns ``levels``).
    ``kmax`` (the last period) and ``tail_rates`` are per planned row.
    """

    row: NDArray[np.int64]
    k: Array
    mean: Array
    sd: Array
    offsets: tuple[Array, ...]
    levels: tuple[float, ...]
    step: int
    n: int
    kmax: Array

    @functools.cached_property
    def tail_rates(self) -> tuple[Array, Array, Array]:
        """Per-day mean, variance and spread of each row's last ``TAIL_DAYS`` of forecast,
        summed over the locations that feed the row (computed only when some interval
        reaches past the forecast)."""
        tail = self.k > self.kmax[self.row] - max(TAIL_DAYS // self.step, 1)
        # the rate is a sum over locations, so divide by the distinct tail periods of the
        # row, not by its tail forecast rows (one per location and period): counting rows
        # divided the rate by the number of locations feeding the row
        k = self.k[tail].astype(np.int64)
        span = int(k.max()) + 1 if k.size else 1
        pairs = np.unique(self.row[tail] * span + k)
        periods = np.bincount(pairs // span, minlength=self.n)
        per_day = np.where(periods > 0, 1 / np.maximum(periods * self.step, 1e-12), 0.0)

        def total(values: Array) -> Array:
            return np.asarray(
                np.bincount(self.row, weights=values, minlength=self.n) * per_day,
                dtype=np.float64,
            )

        return total(self.mean * tail), total(self.sd**2 * tail), total(self.sd * tail)


@dataclass(frozen=True)
class IntervalSums:
    """Demand over one interval per planned row: independent and comonotone sums."""

    mean: Array
    var: Array
    spread: Array
    offsets: Array
    extended_days: Array


@dataclass(frozen=True)
class Runs:
    """Consecutive forecast rows that share a key: a run id per row and one key row per run.

    A forecast sorted by key (as ``scot forecast`` writes it) has one run per key, so joins
    touch one row per key instead of one per forecast row; an unsorted forecast still works,
    with more runs.
    """

    run: NDArray[np.int64]
    keys: pl.DataFrame
    starts: NDArray[np.int64]


def key_runs(forecast: pl.DataFrame, keys: list[str]) -> Runs:
    """Run ids of ``forecast`` over ``keys`` and the key of each run."""
    expr = pl.col(keys[0]) if len(keys) == 1 else pl.struct(keys)
    ids = forecast.select(expr.rle_id().alias("_run")).get_column("_run").to_numpy()
    run = ids.astype(np.int64)
    starts = np.flatnonzero(np.diff(run, prepend=-1))  # rle ids step by one at each new run
    return Runs(run, forecast.select(keys)[starts], starts)


def attach(
    forecast: pl.DataFrame, runs: Runs, rows: pl.DataFrame, *, keys: list[str], as_of: object
) -> ForecastArrays:
    """Attach each forecast row to its planned row (a join of runs, not rows) and flatten."""
    qcols = quantile_columns(forecast)
    step = period_days(forecast)
    z = norm_ppf(np.array([q for q, _ in qcols])) if qcols else np.array([])
    spread_ok = len(qcols) >= 2 and z[-1] > z[0]
    # count demand is at least as variable as Poisson: quantiles of lumpy forecasts (mean
    # above p90) understate the spread, so the variance is floored at the mean
    floor = pl.col("mean").clip(lower_bound=0).sqrt()
    sd_expr = (
        pl.max_horizontal((pl.col(qcols[-1][1]) - pl.col(qcols[0][1])) / float(z[-1] - z[0]), floor)
        if spread_ok
        else floor
    )
    to_row = (
        runs.keys.with_row_index("_run")
        .join(rows.select(keys).with_row_index("_row"), on=keys, how="left")
        .sort("_run")
        .get_column("_row")
        .fill_null(-1)
        .to_numpy()
        .astype(np.int64)
    )
    f = forecast.select(
        ((pl.col("date") - pl.lit(as_of)).dt.total_days() / step).ceil().cast(pl.Float64),
        pl.col("mean").cast(pl.Float64),
        sd_expr.clip(lower_bound=0).cast(pl.Float64).alias("_sd"),
        *[(pl.col(n) - pl.col("mean")).cast(pl.Float64).alias(n) for _, n in qcols],
    )
    row = to_row[runs.run]
    k = f.to_series(0).to_numpy()
    # latest period per planned row: a max per run (runs are contiguous), then per row
    kmax = np.zeros(rows.height)
    run_max = np.maximum.reduceat(k, runs.starts) if k.size else np.zeros(0)
    mapped = to_row >= 0
    np.maximum.at(kmax, to_row[mapped], run_max[mapped])
    np.maximum(kmax, 0.0, out=kmax)
    keep = (row >= 0) & (k >= 1)
    everything = bool(keep.all())

    def column(i: int) -> Array:
        values = np.asarray(f.to_series(i).to_numpy(), dtype=np.float64)
        return values if everything else values[keep]

    if not everything:
        row, k = row[keep], k[keep]
    mean, sd = column(1), column(2)
    offsets = tuple(column(3 + j) for j in range(len(qcols)))
    return ForecastArrays(
        row=row,
        k=k,
        mean=mean,
        sd=sd,
        offsets=offsets,
        levels=tuple(q for q, _ in qcols),
        step=step,
        n=rows.height,
        kmax=kmax,
    )


def interval_sums(fa: ForecastArrays, days: Array, *, shape: bool = True) -> IntervalSums:
    """Sum the attached forecast over ``days`` days after the as-of date, per planned row.

    A period that is only partly inside counts with its fraction ``w`` (mean and quantile
    offsets times ``w``, variance times ``w^2``); days beyond the forecast are added at the
    tail rate and reported in ``extended_days``. ``shape=False`` skips the quantile offsets
    (mean and variance only).
    """
    days = np.asarray(days, dtype=np.float64)  # integer lead times must not break the in-place ops
    w = days[fa.row]
    w -= (fa.k - 1) * fa.step
    w /= fa.step
    np.clip(w, 0.0, 1.0, out=w)
    n = fa.n

    def total(values: Array) -> Array:
        return np.asarray(np.bincount(fa.row, weights=values, minlength=n), dtype=np.float64)

    mean = total(w * fa.mean)
    wsd = w * fa.sd
    spread = total(wsd)
    np.square(wsd, out=wsd)
    var = total(wsd)
    offsets = (
        np.column_stack([total(w * o) for o in fa.offsets])
        if shape and fa.offsets
        else np.zeros((n, 0))
    )
    extended = np.maximum(days - fa.kmax * fa.step, 0.0)
    if extended.any():
        tail_mean, tail_var, tail_spread = fa.tail_rates
        mean += extended * tail_mean
        var += extended * tail_var
        grown = spread + extended * tail_spread
    else:
        grown = spread
    with np.errstate(divide="ignore", invalid="ignore"):
        grow = np.where(spread > 0, grown / spread, 0.0)
    return IntervalSums(
        mean=mean,
        var=var,
        spread=grown,
        offsets=np.asarray(offsets * grow[:, None], dtype=np.float64),
        extended_days=extended,
    )


def shape_knots(sums: IntervalSums, sd: Array) -> Array:
    """Quantile knots of the interval demand: mean + comonotone offsets rescaled to ``sd``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(sums.spread > 0, sd / sums.spread, 0.0)
    knots = sums.mean[:, None] + sums.offsets * scale[:, None]
    return np.asarray(np.maximum.accumulate(knots, axis=1), dtype=np.float64)
