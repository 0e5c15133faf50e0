"""Demand over a protection interval, from a quantile forecast, per sku (and node).

The forecast gives, per sku, location and period, a mean and quantile columns ``pNN``.
Demand over an interval of ``P`` days after the as-of date is the sum of the periods it
covers (a partial last period counts with its fraction ``w``) across every location that
feeds the sku (and node). Uncertainty is summed correctly, not by adding quantiles:

- means add;
- variances add (periods and locations taken as independent); a period's spread comes from
  its outer quantiles, ``sd = (p_hi - p_lo) / (z_hi - z_lo)``; where the forecast gives no
  spread the Poisson ``sqrt(mean)`` stands in (``spread_floor``: optionally wherever the
  quantiles give less, for lumpy forecasts whose quantiles understate it);
- random lead time adds ``d^2 * sd_L^2`` with ``d`` the mean daily demand
  (``Var[D_L] = E[L] Var[D] + E[D]^2 Var[L]``; Snyder & Shen, Section 4.3.3);
- the quantile *shape* is the comonotone sum of the periods' quantile offsets, rescaled to
  the independent spread: skew survives, the width is right.

A forecast shorter than the interval is extended at the average daily rate of its last 7 days,
summed over locations (flagged in ``extended_days``).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from scot_cli.schema import quantile_columns as schema_quantile_columns

from .distributions import Array, norm_ppf

#: Days at the end of the forecast whose average rate extends a short forecast.
TAIL_DAYS = 7
EPOCH = dt.date(1970, 1, 1)


def quantile_columns(forecast: pl.DataFrame) -> list[tuple[float, str]]:
    """The ``pNN`` columns of a forecast as ``(level, name)``, sorted by level
    (:func:`scot_cli.schema.quantile_columns`)."""
    return schema_quantile_columns(forecast.columns)


def period_days(forecast: pl.DataFrame) -> int:
    """Length of a forecast period in days (1 for daily, 7 for weekly), from the dates."""
    # the first rows hold the first key's periods; enough to see the step
    dates = forecast.get_column("date").head(4096).unique().sort()
    if dates.len() < 2:
        return 1
    step = dates.diff().drop_nulls().dt.total_days().min()
    return max(int(step), 1) if isinstance(step, int | float) else 1


@dataclass(frozen=True)
class Block:
    """The forecast rows of one block, attached: one entry per kept forecast row.

    ``row`` is the planned row each forecast row feeds, ``k`` its period index after the as-of
    date (1 = first), ``sd`` its spread and ``quantiles`` the quantile values. ``lo``/``hi``
    bound the rows of the block when it is *local* (every row it feeds lies wholly inside it,
    so sums can be taken over ``hi - lo + 1`` rows and are final); otherwise ``lo = 0`` and
    ``hi = n - 1``. The arrays may be read-only views of the forecast's columns.
    """

    row: NDArray[np.int64]
    k: Array
    mean: Array
    sd: Array
    quantiles: tuple[Array, ...]
    lo: int
    hi: int
    #: Rows whose spread was raised to the Poisson floor (None: the floor is off).
    floored: NDArray[np.bool_] | None = None

    def total(self, values: Array, out: Array) -> None:
        """Add the sum of ``values`` per row into ``out`` (exact: a row's values are summed
        in forecast order, as one ``bincount`` over every forecast row would)."""
        if self.lo == 0 and self.hi == out.shape[0] - 1:
            out += np.bincount(self.row, weights=values, minlength=out.shape[0])
            return
        local = np.bincount(self.row - self.lo, weights=values, minlength=self.hi - self.lo + 1)
        out[self.lo : self.hi + 1] += local


class ForecastArrays:
    """Forecast rows attached to planned rows, produced block by block on demand.

    The forecast is never copied into arrays of its full length (21 million rows for a million
    SKUs): each pass (:func:`interval_sums`, the tail rates) walks blocks of about
    :data:`BLOCK_ROWS` forecast rows that stay in cache, reading views of the forecast's
    columns. Blocks follow run boundaries; when every planned row is fed by one run and runs
    come in row order (a forecast sorted like the rows) each block's sums are final, else one
    block covers the whole forecast.

    ``kmax`` (each row's last period) is per planned row; ``row``, ``k``, ``mean``, ``sd``,
    ``quantiles`` and ``offsets`` give the flat arrays (built only when asked for).
    """

    def __init__(
        self,
        make: Callable[[int, int, int, int, int, int], Block],
        bounds: list[tuple[int, int, int, int, int, int]],
        *,
        levels: tuple[float, ...],
        step: int,
        n: int,
        kmax: Array,
        columns: RawColumns | None = None,
    ) -> None:
        self._make = make
        #: The forecast's columns for the compiled pass (None: blocks only).
        self.columns = columns
        self._bounds = bounds
        self.levels = levels
        self.step = step
        self.n = n
        self.kmax = kmax
        #: Forecast rows the blocks walk.
        self.rows = sum(stop - start for _, _, start, stop, _, _ in bounds)

    def blocks(self) -> Iterator[Block]:
        """The blocks, computed afresh (cheap next to keeping them all in memory)."""
        for bound in self._bounds:
            block = self._make(*bound)
            if block.row.size:
                yield block

    @functools.cached_property
    def _flat(self) -> Block:
        parts = list(self.blocks())
        if not parts:
            empty = np.zeros(0)
            return Block(np.zeros(0, dtype=np.int64), empty, empty, empty, (), 0, self.n - 1)
        width = len(parts[0].quantiles)
        return Block(
            np.concatenate([b.row for b in parts]),
            np.concatenate([b.k for b in parts]),
            np.concatenate([b.mean for b in parts]),
            np.concatenate([b.sd for b in parts]),
            tuple(np.concatenate([b.quantiles[j] for b in parts]) for j in range(width)),
            0,
            self.n - 1,
            None if parts[0].floored is None else np.concatenate([b.floored for b in parts]),
        )

    @property
    def row(self) -> NDArray[np.int64]:
        return self._flat.row

    @property
    def k(self) -> Array:
        return self._flat.k

    @property
    def mean(self) -> Array:
        return self._flat.mean

    @property
    def sd(self) -> Array:
        return self._flat.sd

    @property
    def quantiles(self) -> tuple[Array, ...]:
        return self._flat.quantiles

    @property
    def offsets(self) -> tuple[Array, ...]:
        """Quantile values minus the mean, one array per level."""
        return tuple(q - self.mean for q in self.quantiles)

    @functools.cached_property
    def tail_rates(self) -> tuple[Array, Array, Array]:
        """Per-day mean, variance and spread of each row's last ``TAIL_DAYS`` of forecast,
        summed over the locations that feed the row (computed only when some interval
        reaches past the forecast)."""
        last = self.kmax - max(TAIL_DAYS // self.step, 1)
        periods = np.zeros(self.n, dtype=np.int64)
        sums = np.zeros((3, self.n))
        for b in self.blocks():
            tail = b.k > last[b.row]
            # the rate is a sum over locations, so divide by the distinct tail periods of
            # the row, not by its tail forecast rows (one per location and period): counting
            # rows divided the rate by the number of locations feeding the row
            k = b.k[tail].astype(np.int64)
            span = int(k.max()) + 1 if k.size else 1
            pairs = np.unique(b.row[tail] * span + k)
            periods += np.bincount(pairs // span, minlength=self.n)
            b.total(b.mean * tail, sums[0])
            b.total(b.sd**2 * tail, sums[1])
            b.total(b.sd * tail, sums[2])
        per_day = np.where(periods > 0, 1 / np.maximum(periods * self.step, 1e-12), 0.0)
        return sums[0] * per_day, sums[1] * per_day, sums[2] * per_day


@dataclass(frozen=True)
class RawColumns:
    """The forecast columns a :class:`ForecastArrays` reads, for the compiled pass
    (:mod:`scot_cli.buy.kernel`): period index ``ceil((period - offset) / divide)``, mean
    and quantile columns, the runs and the planned row each feeds, and the spread rule."""

    period: pl.Series
    offset: float
    divide: int
    mean: pl.Series
    quantiles: tuple[pl.Series, ...]
    run_starts: NDArray[np.int64]
    to_row: NDArray[np.int64]
    inv_dz: float
    spread_floor: str

    def chunks(self) -> Iterator[tuple[int, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]]:
        """``(first row, period, mean, quantiles)`` per chunk of the columns (no copies
        where the columns are chunked alike and without nulls)."""
        cols = [self.period, self.mean, *self.quantiles]
        if any(c.chunk_lengths() != cols[0].chunk_lengths() for c in cols):
            cols = [c.rechunk() for c in cols]
        first = 0
        for parts in zip(*(c.get_chunks() for c in cols), strict=True):
            arrays = [p.to_numpy() for p in parts]
            yield first, arrays[0], arrays[1], tuple(arrays[2:])
            first += parts[0].len()


@dataclass(frozen=True)
class IntervalSums:
    """Demand over one interval per planned row: independent and comonotone sums
    (``offsets``: the comonotone quantile offsets, one row per quantile level, shape
    ``(levels, rows)``)."""

    mean: Array
    var: Array
    spread: Array
    offsets: Array
    extended_days: Array
    #: Periods inside the interval whose spread the Poisson floor raised.
    floored: Array | None = None


class Runs:
    """Consecutive forecast rows that share a key: one key row per run and where runs start.

    A forecast sorted by key (as ``scot forecast`` writes it) has one run per key, so joins
    touch one row per key instead of one per forecast row; an unsorted forecast still works,
    with more runs. ``run`` (the run id of every forecast row) is built only when asked for.
    """

    def __init__(self, keys: pl.DataFrame, starts: NDArray[np.int64], rows: int) -> None:
        self.keys = keys
        self.starts = starts
        self.rows = rows

    @property
    def lengths(self) -> NDArray[np.int64]:
        """Forecast rows per run."""
        return np.diff(self.starts, append=self.rows)

    @functools.cached_property
    def run(self) -> NDArray[np.int64]:
        """Run id of every forecast row."""
        return np.repeat(np.arange(self.starts.size, dtype=np.int64), self.lengths)


def key_runs(forecast: pl.DataFrame, keys: list[str]) -> Runs:
    """The runs of ``forecast`` over ``keys`` and the key of each run."""
    n = forecast.height
    frame = forecast.select(keys)
    if n == 0:
        return Runs(frame, np.zeros(0, dtype=np.int64), 0)
    column = frame.get_column(keys[0])
    if len(keys) == 1 and column.null_count() == 0:
        # one key without nulls: polars' run lengths (one pass, no shifted copy compared)
        lengths = column.rle().struct.field("len").to_numpy()
        starts = np.zeros(lengths.size, dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        return Runs(frame[starts], starts, n)
    # a run starts where any key differs from the row above (nulls equal nulls, as rle_id)
    above, below = frame.slice(0, n - 1), frame.slice(1)
    change = functools.reduce(
        operator.or_, (below.get_column(k).ne_missing(above.get_column(k)) for k in keys)
    )
    starts = np.empty(int(change.sum()) + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = change.arg_true().to_numpy()
    starts[1:] += 1
    return Runs(frame[starts], starts, n)


def _run_rows(runs: Runs, rows: pl.DataFrame, keys: list[str]) -> NDArray[np.int64]:
    """The row of ``rows`` each run feeds (-1 for none)."""
    if runs.keys.equals(rows.select(keys)):
        return np.arange(rows.height, dtype=np.int64)
    return (
        runs.keys.with_row_index("_run")
        .join(rows.select(keys).with_row_index("_row"), on=keys, how="left")
        .sort("_run")
        .get_column("_row")
        .fill_null(-1)
        .to_numpy()
        .astype(np.int64)
    )


#: Forecast rows per block (about a megabyte per float column: the passes stay in cache).
BLOCK_ROWS = 1 << 17


class _Column:
    """A forecast column read block by block: slices of one numpy view when the column is a
    single chunk (no copy at all), else small per-block copies of the polars slice."""

    def __init__(self, series: pl.Series) -> None:
        self.series = series
        self.whole = series.to_numpy() if series.n_chunks() == 1 else None

    def take(self, start: int, stop: int) -> NDArray[Any]:
        if self.whole is not None:
            return self.whole[start:stop]
        return self.series.slice(start, stop - start).to_numpy()


def _period_column(forecast: pl.DataFrame, as_of: object, step: int) -> tuple[_Column, float, int]:
    """``(column, offset, step)`` giving the period index ``k = ceil((column - offset) / step)``:
    the date's day number when it is a date, else ``k`` itself (offset 0, step 1)."""
    date = forecast.get_column("date")
    if date.dtype == pl.Date and isinstance(as_of, dt.date) and not isinstance(as_of, dt.datetime):
        return _Column(date.to_physical()), float((as_of - EPOCH).days), step
    k = forecast.select(
        ((pl.col("date") - pl.lit(as_of)).dt.total_days() / step).ceil().cast(pl.Float64)
    )
    return _Column(k.to_series()), 0.0, 1


def _block_bounds(
    starts: NDArray[np.int64], rows: int, to_row: NDArray[np.int64], n: int
) -> list[tuple[int, int, int, int, int, int]]:
    """``(first run, end run, first forecast row, end forecast row, lo, hi)`` per block.

    Local blocks (many, cut at run starts) when the mapped runs feed strictly increasing
    rows: every row then has all its forecast rows in one block. Else one block of all.
    """
    mapped = to_row[to_row >= 0]
    runs = starts.size
    if runs == 0 or mapped.size == 0 or not bool(np.all(mapped[1:] > mapped[:-1])):
        return [(0, runs, 0, rows, 0, n - 1)]
    cuts = np.unique(np.searchsorted(starts, np.arange(0, rows, BLOCK_ROWS)))
    ends = np.append(cuts[1:], runs)
    # rows fed by a block: after the last row fed before it, up to the last row it feeds
    last_row = np.maximum.accumulate(np.where(to_row >= 0, to_row, -1))
    out = []
    for r0, r1 in zip(cuts.tolist(), ends.tolist(), strict=True):
        hi = int(last_row[r1 - 1])
        before = int(last_row[r0 - 1]) if r0 > 0 else -1
        if hi <= before:
            continue  # no mapped run in this block
        stop = int(starts[r1]) if r1 < runs else rows
        out.append((r0, r1, int(starts[r0]), stop, before + 1, hi))
    return out


def attach(
    forecast: pl.DataFrame,
    runs: Runs,
    rows: pl.DataFrame,
    *,
    keys: list[str],
    as_of: object,
    run_rows: NDArray[np.int64] | None = None,
    spread_floor: str = "auto",
) -> ForecastArrays:
    """Attach each forecast row to its planned row (a join of runs, not rows), in blocks.

    ``run_rows`` (the row of ``rows`` each run feeds, -1 for none) skips the join when the
    caller already knows it. ``spread_floor`` (:data:`scot_cli.buy.registry.SPREAD_FLOORS`)
    says when a period's spread is raised to the Poisson ``sqrt(mean)``: ``auto`` only where
    the forecast gives none (no quantile columns, or equal outer quantiles), ``poisson``
    wherever it is below, ``none`` never.
    """
    qcols = quantile_columns(forecast)
    step = period_days(forecast)
    z = norm_ppf(np.array([q for q, _ in qcols])) if qcols else np.array([])
    spread_ok = len(qcols) >= 2 and z[-1] > z[0]
    inv_dz = 1.0 / float(z[-1] - z[0]) if spread_ok else 1.0
    to_row = _run_rows(runs, rows, keys) if run_rows is None else run_rows
    lengths = runs.lengths
    period, offset, divide = _period_column(forecast, as_of, step)
    mean_col = _Column(forecast.get_column("mean").cast(pl.Float64))
    q_cols = [_Column(forecast.get_column(c).cast(pl.Float64)) for _, c in qcols]
    n = rows.height

    def periods(start: int, stop: int) -> Array:
        k: Array = np.subtract(period.take(start, stop), offset, dtype=np.float64)
        if divide != 1:
            k /= divide
            np.ceil(k, out=k)
        return k

    def make(r0: int, r1: int, start: int, stop: int, lo: int, hi: int) -> Block:
        row = np.repeat(to_row[r0:r1], lengths[r0:r1])
        k = periods(start, stop)
        mean = np.asarray(mean_col.take(start, stop), dtype=np.float64)
        quantiles = [np.asarray(c.take(start, stop), dtype=np.float64) for c in q_cols]
        sd, floored = _spread(mean, quantiles, spread_ok, inv_dz, spread_floor)
        # drop forecast rows that feed no planned row or fall on or before the as-of date
        if not (bool((to_row[r0:r1] >= 0).all()) and k.size and k.min() >= 1):
            keep = (row >= 0) & (k >= 1)
            row, k, mean, sd = row[keep], k[keep], mean[keep], sd[keep]
            quantiles = [q[keep] for q in quantiles]
            floored = None if floored is None else floored[keep]
        return Block(row, k, mean, sd, tuple(quantiles), lo, hi, floored)

    # latest period per planned row: a max per run (runs are contiguous), then per row
    kmax = np.zeros(n)
    bounds = _block_bounds(runs.starts, runs.rows, to_row, n)
    for r0, r1, start, stop, _, _ in bounds:
        k = periods(start, stop)
        if k.size == 0:
            continue
        run_max = np.maximum.reduceat(k, runs.starts[r0:r1] - start)
        mapped = to_row[r0:r1] >= 0
        np.maximum.at(kmax, to_row[r0:r1][mapped], run_max[mapped])
    np.maximum(kmax, 0.0, out=kmax)
    columns = RawColumns(
        period.series,
        offset,
        divide,
        mean_col.series,
        tuple(c.series for c in q_cols),
        runs.starts,
        to_row,
        inv_dz if spread_ok else 0.0,
        spread_floor,
    )
    return ForecastArrays(
        make,
        bounds,
        levels=tuple(q for q, _ in qcols),
        step=step,
        n=n,
        kmax=kmax,
        columns=columns if q_cols else None,
    )


def _spread(
    mean: Array, quantiles: list[Array], spread_ok: bool, inv_dz: float, mode: str
) -> tuple[Array, NDArray[np.bool_] | None]:
    """Each period's spread ``(p_hi - p_lo) / (z_hi - z_lo)`` and where the Poisson floor
    ``sqrt(mean)`` raised it (count demand is at least as variable as Poisson)."""
    if spread_ok:
        sd = quantiles[-1] - quantiles[0]
        sd *= inv_dz  # as polars divides by a scalar (bit for bit)
    else:
        sd = np.zeros_like(mean)
    np.maximum(sd, 0.0, out=sd)  # (nulls are skipped as in a horizontal max)
    if mode == "none":
        return sd, None
    floor = np.maximum(mean, 0.0)
    np.sqrt(floor, out=floor)
    raise_ = floor > sd if mode == "poisson" else (sd <= 0) & (floor > 0)
    return np.where(raise_, floor, sd), raise_


#: Forecast rows from which the interval sums run compiled (:mod:`scot_cli.buy.kernel`):
#: below, loading numba costs more than the loop saves.
COMPILED_FROM = 1 << 20


def interval_sums(fa: ForecastArrays, days: Array, *, shape: bool = True) -> IntervalSums:
    """Sum the attached forecast over ``days`` days after the as-of date, per planned row.

    A period that is only partly inside counts with its fraction ``w``: mean and quantile
    offsets times ``w``, variance times ``w`` (the part is ``w`` of the period's days, taken
    as independent like the periods themselves); days beyond the forecast are added at the
    tail rate and reported in ``extended_days``. ``shape=False`` skips the quantile offsets
    (mean and variance only).
    """
    return interval_sums_many(fa, [days], shape=shape)[0]


def interval_sums_many(
    fa: ForecastArrays,
    days: list[Array],
    *,
    shape: bool = True,
    compiled: bool | None = None,
) -> list[IntervalSums]:
    """:func:`interval_sums` of several intervals (one ``days`` array each) in one pass
    over the forecast. ``compiled``: add each block's terms in one compiled loop (the
    same sums, bit for bit; default: from :data:`COMPILED_FROM` forecast rows)."""
    # integer lead times must not break the in-place ops
    each = np.stack([np.asarray(d, dtype=np.float64) for d in days]).reshape(len(days), fa.n)
    n = fa.n
    width = len(fa.levels) if shape else 0
    sums = np.zeros((len(days), 4, n))  # mean, spread, variance, floored periods
    cols = np.zeros((len(days), width, n))
    if compiled is None:
        compiled = fa.rows >= COMPILED_FROM
    raw = fa.columns
    if compiled and raw is not None:
        from .kernel import FLOOR_CODES, interval_chunk

        for first, period, mean, quantiles in raw.chunks():
            interval_chunk(
                period,
                mean,
                quantiles,
                first,
                raw.run_starts,
                raw.to_row,
                raw.offset,
                raw.divide,
                raw.inv_dz,
                FLOOR_CODES[raw.spread_floor],
                each,
                fa.step,
                sums,
                cols,
            )
    else:
        for b in fa.blocks():
            for d in range(len(days)):
                _block_sums(b, each[d], fa.step, sums[d], cols[d])
    return [_finish(fa, each[d], sums[d], cols[d]) for d in range(len(days))]


def _block_sums(b: Block, days: Array, step: int, sums: Array, cols: Array) -> None:
    """Add one block's terms into ``sums`` (mean, spread, variance, floored) and ``cols``."""
    buf = np.subtract(b.k, 1.0)
    w = days[b.row]
    if step != 1:  # (multiplying and dividing by 1 changes nothing)
        buf *= step
        w -= buf
        w /= step
    else:
        w -= buf
    np.clip(w, 0.0, 1.0, out=w)
    b.total(np.multiply(w, b.mean, out=buf), sums[0])
    np.multiply(w, b.sd, out=buf)
    b.total(buf, sums[1])
    # a fraction w of a period is w of its independent days: variance times w, not w^2
    np.square(b.sd, out=buf)
    buf *= w
    b.total(buf, sums[2])
    if b.floored is not None and b.floored.any():
        b.total(np.multiply(w > 0, b.floored, out=buf), sums[3])
    for j in range(cols.shape[0]):
        np.subtract(b.quantiles[j], b.mean, out=buf)
        buf *= w
        b.total(buf, cols[j])


def _finish(fa: ForecastArrays, days: Array, sums: Array, cols: Array) -> IntervalSums:
    """The interval from its forecast sums: extended at the tail rate past the forecast."""
    mean, spread, var, floored = sums
    extended = np.maximum(days - fa.kmax * fa.step, 0.0)
    if extended.any():
        tail_mean, tail_var, tail_spread = fa.tail_rates
        mean = mean + extended * tail_mean
        var = var + extended * tail_var
        grown = spread + extended * tail_spread
    else:
        grown = spread
    with np.errstate(divide="ignore", invalid="ignore"):
        grow = np.where(spread > 0, grown / spread, 0.0)
    cols *= grow  # one row per level: whole-row passes, no transpose
    return IntervalSums(
        mean=mean,
        var=var,
        spread=grown,
        offsets=cols,
        extended_days=extended,
        floored=floored,
    )


def shape_knots(sums: IntervalSums, sd: Array) -> Array:
    """Quantile knots of the interval demand: mean + comonotone offsets rescaled to ``sd``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(sums.spread > 0, sd / sums.spread, 0.0)
    # built a level at a time (whole-column passes; broadcasting along rows of three knots
    # runs numpy's inner loop once per row), the same sums and products
    width = sums.offsets.shape[0]
    knots = np.empty((sums.mean.size, width))
    term = np.empty(sums.mean.size)
    for j in range(width):
        np.multiply(sums.offsets[j], scale, out=term)
        np.add(sums.mean, term, out=knots[:, j])
        if j:  # the running maximum along the row (np.maximum.accumulate), in place
            np.maximum(knots[:, j - 1], knots[:, j], out=knots[:, j])
    return knots
