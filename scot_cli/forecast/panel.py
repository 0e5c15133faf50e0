"""Long sales table <-> dense panel (one row per series, one column per period).

Missing periods inside a series' life are zero sales; periods before its first row are
"not launched" and unobserved (``NaN``), as are periods with unknown ``units`` and periods
censored by a stock-out (``in_stock == false``): those are not read as zero demand.
When ``--freq`` is coarser than the data, days are summed into weeks or months; a period
with some out-of-stock days is scaled up by its in-stock share, and a first or last period
the data covers only in part by the share of its days covered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from scot_cli.validate import check_grid

#: Frequency -> (season length, polars truncation, minimum history for an own forecast).
FREQS: dict[str, tuple[int, str, int]] = {
    "D": (7, "1d", 14),
    "W": (52, "1w", 8),
    "M": (12, "1mo", 6),
    "Q": (4, "1q", 4),
    "Y": (1, "1y", 3),
}
#: Months per period of the calendar frequencies.
MONTHS = {"M": 1, "Q": 3, "Y": 12}

EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Panel:
    """Dense demand history of ``n`` series over ``T`` periods.

    Attributes
    ----------
    keys
        ``(sku, location)`` per row, in row order.
    start
        First period of the grid.
    freq
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.
    y
        ``(n, T)`` demand; ``NaN`` where unobserved.
    event_cells
        Past event occurrences: ``(row, period, event name)`` from the sales ``event`` column.
    last
        ``(n,)`` last period of each row that has a sales row (``-1``: none).
    offset
        ``(n,)`` periods each row was moved later by :func:`own_end` (None: not moved).
    """

    keys: pl.DataFrame
    start: dt.date
    freq: str
    y: NDArray[np.float64]
    event_cells: pl.DataFrame
    last: NDArray[np.int64] | None = None
    offset: NDArray[np.int64] | None = None

    @property
    def season(self) -> int:
        return FREQS[self.freq][0]

    @property
    def min_history(self) -> int:
        return FREQS[self.freq][2]

    def dates(self, first: int, count: int) -> list[dt.date]:
        """Period start dates of periods ``first .. first + count - 1``."""
        return [shift(self.start, self.freq, first + i) for i in range(count)]

    def row_dates(self, first: int, count: int) -> NDArray[np.datetime64]:
        """``(n, count)`` dates of periods ``first .. first + count - 1`` of each row, on
        the row's own calendar (periods earlier by its :attr:`offset`)."""
        n = self.y.shape[0]
        offset = self.offset if self.offset is not None else np.zeros(n, dtype=np.int64)
        out = np.empty((n, count), dtype="datetime64[D]")
        for d in np.unique(offset):  # distinct offsets, not rows
            out[offset == d] = np.array(self.dates(first - int(d), count), dtype="datetime64[D]")
        return out


def shift(start: dt.date, freq: str, periods: int) -> dt.date:
    """``start`` moved by ``periods`` periods of ``freq``."""
    if freq == "D":
        return start + dt.timedelta(days=periods)
    if freq == "W":
        return start + dt.timedelta(weeks=periods)
    months = start.year * 12 + start.month - 1 + periods * MONTHS[freq]
    return dt.date(months // 12, months % 12 + 1, 1)


def period_index(dates: pl.Expr, start: dt.date, freq: str) -> pl.Expr:
    """Period number of (already truncated) ``dates`` counted from ``start``."""
    if freq in MONTHS:
        months = (dates.dt.year() * 12 + dates.dt.month()) - (start.year * 12 + start.month)
        return months // MONTHS[freq]
    days = (dates - pl.lit(start)).dt.total_days()
    return days // 7 if freq == "W" else days


@dataclass(frozen=True)
class Bounds:
    """What the grid of every series depends on beyond its own rows: the first and last
    date of the whole sales table, whether all its dates are period starts and whether all
    are month starts (monthly rows: each covers its whole month). A partition of a catalogue
    is built on the catalogue's bounds, so that its rows match a whole run."""

    first: dt.date
    last: dt.date
    whole: bool
    months: bool = False

    def grid(self, freq: str) -> tuple[dt.date, dt.date]:
        """First and last period start."""
        trunc = FREQS[freq][1]
        start, end = (
            pl.select(pl.lit(d).dt.truncate(trunc)).item() for d in (self.first, self.last)
        )
        return start, end

    def periods(self, freq: str) -> int:
        """Periods of the grid."""
        start, end = self.grid(freq)
        return int(pl.select(period_index(pl.lit(end), start, freq)).item()) + 1


def bounds(sales: pl.LazyFrame, freq: str) -> Bounds | None:
    """:class:`Bounds` of a (lazy) sales table; None when it has no dates."""
    trunc = FREQS[freq][1]
    on_grid = pl.col("date") == pl.col("date").dt.truncate(trunc)
    row = (
        sales.select(
            pl.col("date").min().alias("first"),
            pl.col("date").max().alias("last"),
            (pl.lit(True) if freq == "D" else on_grid.all()).alias("whole"),
            _month_starts().alias("months"),
        )
        .collect(engine="streaming")
        .row(0)
    )
    if not isinstance(row[0], dt.date) or not isinstance(row[1], dt.date):
        return None
    return Bounds(row[0], row[1], bool(row[2]), bool(row[3]))


def _month_starts() -> pl.Expr:
    return (pl.col("date") == pl.col("date").dt.truncate("1mo")).all()


def _periods(sales: pl.DataFrame, freq: str, edges: Bounds | None = None) -> pl.DataFrame:
    """Sum days into periods; scale partly censored periods by their in-stock share and the
    first and last period by the share of their days the data covers."""
    ok = pl.col("units").is_not_null()
    if "in_stock" in sales.columns:
        ok = ok & pl.col("in_stock").fill_null(True)
    if freq == "D":  # keys are unique per day already: no aggregation needed
        return sales.with_columns(pl.when(ok).then(pl.col("units")).alias("units"))
    trunc = FREQS[freq][1]
    if edges is None:
        first, last = sales["date"].min(), sales["date"].max()
        months = bool(sales.select(_month_starts()).item())
    else:
        first, last, months = edges.first, edges.last, edges.months
    if months and freq in ("Q", "Y") and isinstance(last, dt.date):
        last = shift(last, "M", 1) - dt.timedelta(days=1)  # a monthly row covers its month
    frame = sales.with_columns(pl.col("date").dt.truncate(trunc).alias("date"), ok.alias("_ok"))
    agg = [
        pl.col("units").filter(pl.col("_ok")).sort().sum().alias("_sum"),
        pl.col("_ok").sum().alias("_n_ok"),
        pl.len().alias("_n"),
    ]
    if "event" in frame.columns:
        agg.append(pl.col("event").drop_nulls().first().alias("event"))
    out = frame.group_by("sku", "location", "date").agg(agg)
    end = pl.col("date").dt.offset_by(FREQS[freq][1]) - pl.duration(days=1)
    length = (end - pl.col("date")).dt.total_days() + 1
    covered = (
        pl.min_horizontal(end, pl.lit(last)) - pl.max_horizontal(pl.col("date"), pl.lit(first))
    ).dt.total_days() + 1
    # dates already at period starts are whole periods: no edge coverage to scale
    whole = (
        sales.select((pl.col("date") == pl.col("date").dt.truncate(trunc)).all()).item()
        if edges is None
        else edges.whole
    )
    edge = pl.lit(1.0) if whole else length / covered
    units = pl.when(pl.col("_n_ok") > 0).then(
        pl.col("_sum") * pl.col("_n") / pl.col("_n_ok") * edge
    )
    return out.with_columns(units.alias("units")).drop("_sum", "_n_ok", "_n")


def build_panel(sales: pl.DataFrame, *, freq: str = "D", edges: Bounds | None = None) -> Panel:
    """Turn a validated ``sales`` table into a :class:`Panel`.

    Parameters
    ----------
    sales
        Rows of the sales table (``sku, location, date, units`` and optionally ``in_stock``
        and ``event``).
    freq
        Period length: ``"D"`` day, ``"W"`` week (Monday start), ``"M"`` month, ``"Q"``
        quarter (January, April, July, October starts), ``"Y"`` calendar year.
    edges
        Bounds of the whole table when ``sales`` is a partition of it (default: its own).
    """
    per = _periods(sales, freq, edges)
    if edges is None:
        start, end = per["date"].min(), per["date"].max()
    else:
        start, end = edges.grid(freq)
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise ValueError("build_panel needs at least one sales row")
    per = _sorted_by_key(per).with_columns(
        period_index(pl.col("date"), start, freq).cast(pl.Int32).alias("_t")
    )
    n_periods = int(pl.select(period_index(pl.lit(end), start, freq)).item()) + 1
    new_key = (pl.col("sku") != pl.col("sku").shift()) | (
        pl.col("location") != pl.col("location").shift()
    )
    per = per.with_columns((new_key.fill_null(True).cum_sum() - 1).cast(pl.UInt32).alias("_row"))
    keys = per.filter(new_key.fill_null(True)).select("sku", "location")
    rows, cols = per["_row"].to_numpy(), per["_t"].to_numpy()
    first = np.full(keys.height, n_periods, dtype=np.int64)
    np.minimum.at(first, rows, cols)
    last = np.full(keys.height, -1, dtype=np.int64)
    np.maximum.at(last, rows, cols)
    check_grid(
        {"series": keys.height, "periods": n_periods},
        cause=f"sales: column date spans {start} .. {end}",
    )
    y = np.zeros((keys.height, n_periods))
    y[np.arange(n_periods)[None, :] < first[:, None]] = np.nan
    y[rows, cols] = per["units"].to_numpy()  # null -> nan
    cells = pl.DataFrame(schema={"_row": pl.UInt32, "_t": pl.Int64, "event": pl.String})
    if "event" in per.columns:
        cells = per.filter(pl.col("event").is_not_null()).select(
            pl.col("_row").cast(pl.UInt32), pl.col("_t").cast(pl.Int64), "event"
        )
    return Panel(keys=keys, start=start, freq=freq, y=y, event_cells=cells, last=last)


def own_end(panel: Panel) -> Panel:
    """``panel`` with every row moved later so that its last sales row falls on the grid's
    last period (``--align own-end``): a series whose records stop early is forecast from
    its own last period instead of reading the missing tail as zero sales. The periods
    before a moved row's history are unobserved (``NaN``); :attr:`Panel.offset` records the
    move so that forecasts get the row's own dates."""
    n, big_t = panel.y.shape
    last = panel.last if panel.last is not None else np.full(n, big_t - 1, dtype=np.int64)
    offset = np.where(last >= 0, big_t - 1 - last, 0).astype(np.int64)
    src = np.arange(big_t)[None, :] - offset[:, None]
    y = np.take_along_axis(panel.y, np.maximum(src, 0), axis=1)
    y[src < 0] = np.nan
    return Panel(
        keys=panel.keys,
        start=panel.start,
        freq=panel.freq,
        y=y,
        event_cells=panel.event_cells,
        last=last + offset,
        offset=offset,
    )


def _sorted_by_key(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` sorted by (sku, location); a no-op check for already sorted input."""
    prev_sku, prev_loc = pl.col("sku").shift(), pl.col("location").shift()
    ordered = (pl.col("sku") > prev_sku) | (
        (pl.col("sku") == prev_sku) & (pl.col("location") >= prev_loc)
    )
    if frame.select(ordered.fill_null(True).all()).item():
        return frame
    return frame.sort("sku", "location", maintain_order=True)
