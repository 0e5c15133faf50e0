"""The promise pipeline: index the orders, build the grid and supply, decide, assemble."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from scot_cli.validate import strictly_sorted

from .commit import Decided, commit_units
from .engine import Choice, Lines, State, Tables, choose_fast, order_sku_before, unit_lines
from .grid import PAD_DAYS, Grid, build_grid, class_tables, codes, epoch_days
from .options import PromiseOptions
from .output import assemble
from .supply import Supply, build_supply


def sequence(orders: pl.DataFrame) -> pl.DataFrame:
    """Order lines in order-time sequence (ties by order id, then line): commit mode's order."""
    if in_order(orders, ("order_time", "order_id", "line")):
        return orders  # often already so; checking costs a fraction of the sort
    return orders.sort("order_time", "order_id", "line")


def in_order(df: pl.DataFrame, cols: tuple[str, ...], *, strict: bool = False) -> bool:
    """Whether the rows of ``df`` (no nulls in ``cols``) are sorted by ``cols``.

    ``strict``: and no two rows have equal ``cols``.
    """
    if df.height < 2:
        return True
    expr: pl.Expr | None = None
    for c in reversed(cols):
        cur, nxt = pl.col(c), pl.col(c).shift(-1)
        if expr is None:
            expr = (cur < nxt) if strict else (cur <= nxt)
        else:
            expr = (cur < nxt) | ((cur == nxt) & expr)
    assert expr is not None
    return bool(df.select(expr.slice(0, df.height - 1).all()).item())


def sequenced(orders: pl.DataFrame) -> tuple[pl.DataFrame, bool, np.ndarray | None]:
    """:func:`sequence`, whether its result is in strict key order and which of its rows
    start an order (None: not computed), checked together in one pass over the orders
    when they are already in sequence."""
    if orders.height < 2:
        return orders, True, np.ones(orders.height, dtype=bool)
    steps = _steps(orders)
    if steps is None:
        last = orders.height - 1
        time_ok, key_ok = orders.select(
            strictly_sorted(("order_time", "order_id", "line"), strict=False).slice(0, last).all(),
            strictly_sorted(("order_id", "line")).slice(0, last).all().alias("key"),
        ).row(0)
        if time_ok:
            return orders, bool(key_ok), None
        seq = orders.sort("order_time", "order_id", "line")
        return seq, in_order(seq, ("order_id", "line"), strict=True), None
    if not steps.in_time_order():
        orders = orders.sort("order_time", "order_id", "line")
        steps = _steps(orders)
        assert steps is not None
    return orders, steps.in_key_order(), steps.order_starts()


@dataclass(frozen=True)
class _Steps:
    """Each row compared with the next on the sequence's columns (all rows but the last)."""

    id_lt: np.ndarray
    id_eq: np.ndarray
    time: np.ndarray
    line: np.ndarray

    def in_time_order(self) -> bool:
        """Sorted by order time, order id and line (ties allowed)."""
        t, ln = self.time, self.line
        time_lt, time_eq = t[:-1] < t[1:], t[:-1] == t[1:]
        line_le = ln[:-1] <= ln[1:]
        return bool(np.all(time_lt | (time_eq & (self.id_lt | (self.id_eq & line_le)))))

    def in_key_order(self) -> bool:
        """Strictly sorted by order id and line."""
        ln = self.line
        return bool(np.all(self.id_lt | (self.id_eq & (ln[:-1] < ln[1:]))))

    def order_starts(self) -> np.ndarray:
        """Per row, whether its order id differs from the row before's (the first: True)."""
        return np.concatenate([[True], ~self.id_eq])


def _steps(df: pl.DataFrame) -> _Steps | None:
    """:class:`_Steps` of validated orders (None with nulls or other types: the callers
    then compare with polars expressions).

    The order ids are compared as two slices of one chunk: shifting a column of many
    chunks (one per row group read) against itself copies both sides for every compare.
    """
    cols = ("order_time", "order_id", "line")
    if df["order_id"].dtype != pl.String or any(df[c].null_count() for c in cols):
        return None
    if df["order_time"].dtype != pl.Datetime("us") or df["line"].dtype != pl.Int64:
        return None
    ids = df["order_id"].rechunk()
    head, tail = ids.slice(0, df.height - 1), ids.slice(1)
    return _Steps(
        (head < tail).to_numpy(),
        (head == tail).to_numpy(),
        df["order_time"].to_physical().to_numpy(),
        df["line"].to_numpy(),
    )


#: Units per block of the snapshot decision.
SNAPSHOT_BLOCK = 1 << 18

#: Days after the last order day within which receipts can still be promised.
LOOKAHEAD_DAYS = 120


def _horizon(
    day: np.ndarray,
    grid_proc: int,
    inventory: pl.DataFrame,
    receipts: pl.DataFrame | None,
    day0: int,
) -> int:
    first = int(day.max()) + 1 + grid_proc if day.size else 0
    last = first
    for df, col in ((inventory, "eta"), (receipts, "arrival_date")):
        if df is not None and col in df.columns and df[col].drop_nulls().len():
            last = max(last, int(epoch_days(df[col].drop_nulls()).max()) - day0)
    # arrivals further out than the look-ahead leave their lines without a ship day
    return min(last, first + LOOKAHEAD_DAYS) + PAD_DAYS + 1


#: Microseconds per hour and per day.
_US_HOUR, _US_DAY = 3_600_000_000, 86_400_000_000


def day_hour(times: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Epoch day and hour of the day (int64) of a datetime series without nulls.

    A time zone-free microsecond series (the validated orders' type) is read as its
    integers: two divisions instead of two casts through dates and hours.
    """
    if times.dtype == pl.Datetime("us") and times.null_count() == 0:
        hours = times.to_physical().to_numpy() // _US_HOUR
        day = hours // 24
        return day, hours - day * 24
    hour = times.dt.hour().cast(pl.Int64).to_numpy()
    return epoch_days(times), hour


def _build_lines(
    seq: pl.DataFrame,
    *,
    dests: list[str],
    day: np.ndarray,
    hour: np.ndarray,
    new: np.ndarray | None,
) -> Lines:
    """Index arrays of the sequenced order lines (``day``: day index from the first order
    day; ``new``: the rows that start an order, when known), but their sku codes and cut-off
    classes (``cid`` holds the destination code)."""
    if new is None:
        oid = pl.col("order_id")
        new = seq.select((oid != oid.shift(1)).fill_null(True))["order_id"].to_numpy()
    dest = codes(seq["destination"], dests)
    order_start = np.append(np.flatnonzero(new), seq.height).astype(np.int64)
    qty = seq["qty"].to_numpy()
    empty = np.zeros(0, dtype=np.int64)
    return Lines(empty, qty, dest, day, hour, dest, order_start, np.zeros(qty.size))


def _with_classes(lines: Lines, sku: np.ndarray, cuts: np.ndarray, n_dests: int) -> Lines:
    """``lines`` with their sku codes and the class index ``cid`` of their order day, cut-off
    class and destination (see :func:`scot_cli.promise.grid.class_tables`)."""
    # the cut-off class of each hour of the day, looked up (hours are 0 .. 23)
    cls = np.searchsorted(cuts, np.arange(24), side="right")[lines.hour]
    cid = (lines.day * (len(cuts) + 1) + cls) * n_dests + lines.dest
    return dataclasses.replace(lines, sku=sku, cid=cid)


def _snapshot(
    tables: Tables,
    state: State,
    lines: Lines,
    starts: np.ndarray,
    counts: np.ndarray,
    *,
    one_box: bool,
    out: Decided | None = None,
    offset: int = 0,
) -> Decided:
    """Every unit against the same state, in blocks of units decided on two threads.

    Blocks keep numpy's temporaries small (reused memory instead of fresh pages for every
    array) and let the two cores share the work; the result does not depend on them.
    ``out``: the decisions so far, to which these units' lines are added (default: none),
    its row ``i`` holding line ``offset + i``.
    """
    out = Decided.empty(lines.n - offset) if out is None else out

    def block(lo: int) -> tuple[np.ndarray, np.ndarray, Choice, np.ndarray, Choice | None]:
        s, c = starts[lo : lo + SNAPSHOT_BLOCK], counts[lo : lo + SNAPSHOT_BLOCK]
        ch = choose_fast(tables, state, lines, s, c)
        again = None
        ln = np.zeros(0, dtype=np.int64)
        if one_box:
            failed = (ch.fc < 0) & (c > 1)
            ln, _ = unit_lines(s[failed], c[failed])
            if ln.size:
                again = choose_fast(tables, state, lines, ln, np.ones(ln.size, dtype=np.int64))
        return s, c, ch, ln, again

    with ThreadPoolExecutor(max_workers=2) as pool:
        for s, c, ch, ln, again in pool.map(block, range(0, len(starts), SNAPSHOT_BLOCK)):
            _record_all(out, ch, s, c, offset)
            if again is not None:
                _record_all(out, again, ln, np.ones(ln.size, dtype=np.int64), offset)
                out.split[ln - offset] = True
    return out


def _record_all(
    out: Decided, ch: Choice, starts: np.ndarray, counts: np.ndarray, offset: int = 0
) -> None:
    """Store the choices of units ``[start, start + count)`` in ``out`` (row = line -
    ``offset``)."""
    n = int(counts.sum())
    if n and _contiguous(starts, counts, n):
        # a block of consecutive units: its lines are one range, written by slices
        rows = slice(int(starts[0]) - offset, int(starts[0]) - offset + n)
        seg = None if n == counts.size else np.repeat(np.arange(counts.size), counts)
        for name in ("fc", "ship", "level", "release"):
            unit = getattr(ch, name)
            getattr(out, name)[rows] = unit if seg is None else unit[seg]
        out.avail[rows] = ch.avail
        return
    ln, seg = unit_lines(starts, counts)
    out.record(ln - offset, seg, ch, np.arange(ln.size))


def _contiguous(starts: np.ndarray, counts: np.ndarray, n: int) -> bool:
    """Whether units ``[start, start + count)`` follow each other without a gap."""
    if int(starts[-1]) + int(counts[-1]) - int(starts[0]) != n:
        return False
    return bool(np.array_equal(starts[1:], starts[:-1] + counts[:-1]))


def promise_table(
    orders: pl.DataFrame,
    *,
    inventory: pl.DataFrame,
    nodes: pl.DataFrame,
    lanes: pl.DataFrame,
    calendar: pl.DataFrame | None = None,
    receipts: pl.DataFrame | None = None,
    options: PromiseOptions,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pl.DataFrame, bool]:
    """Promise a delivery date for every order line of validated tables.

    Parameters
    ----------
    orders, inventory, nodes, lanes
        Validated input tables (``scot_cli.schema``).
    calendar
        Days without pickup (FC) or delivery (destination); absent nodes work every day.
    receipts
        Purchase orders arriving at FCs (``sku``, ``node``, ``arrival_date``, ``qty``).
    options
        Confidence, mode and split policy.
    progress
        Optional ``(done, total)`` callback (commit mode reports per round).

    Returns
    -------
    tuple[pl.DataFrame, bool]
        The promises table (:data:`scot_cli.promise.schema.PROMISES`) in sequence order, its
        few-valued string columns as Enum columns, and whether that order is also the
        table's key order (order id, line).
    """
    decision = decide_lines(
        orders,
        inventory=inventory,
        nodes=nodes,
        lanes=lanes,
        calendar=calendar,
        receipts=receipts,
        options=options,
        progress=progress,
    )
    return decision.table(), decision.in_key_order


#: Order lines per block of :meth:`Decision.blocks` (whole orders; a block may be longer).
BLOCK_LINES = 1 << 20


@dataclass
class Decision:
    """Every line decided, before the promises table is assembled: the whole table at once
    (:meth:`table`) or in blocks of whole orders (:meth:`blocks`), the same rows either way."""

    seq: pl.DataFrame
    confidence: float
    in_key_order: bool
    grid: Grid | None = None
    lines: Lines | None = None
    decided: Decided | None = None
    #: Snapshot units not decided yet (every unit is decided against the same state, so
    #: :meth:`blocks` decides each block's units as it goes, and ``decided`` holds no lines
    #: meanwhile); None once all are decided.
    pending: Problem | None = None

    def table(self) -> pl.DataFrame:
        """The promises table of every line, in sequence order."""
        if self.grid is None or self.lines is None or self.decided is None:
            return assemble_empty(self.seq)
        if self.pending is not None:
            self.decided = self._decided(0, self.lines.n)
            self.pending = None
        return assemble(self.seq, self.grid, self.lines, self.decided, confidence=self.confidence)

    def _decided(self, a: int, b: int) -> Decided:
        """The decisions of lines ``a .. b - 1`` (whole orders): snapshot units are decided
        now, into arrays of these lines only (a block's, reused from one block to the next
        instead of arrays of every line)."""
        p = self.pending
        assert self.decided is not None
        if p is None:
            return _decided_slice(self.decided, a, b)
        u0, u1 = np.searchsorted(p.starts, [a, b])
        return _snapshot(
            p.tables,
            p.state,
            p.lines,
            p.starts[u0:u1],
            p.counts[u0:u1],
            one_box=p.one_box,
            out=Decided.empty(b - a),
            offset=a,
        )

    def blocks(self, lines: int | None = None) -> Iterator[pl.DataFrame]:
        """The promises table in consecutive blocks of whole orders of about ``lines`` lines
        (default :data:`BLOCK_LINES`): the rows of :meth:`table`, in the same order (each
        block's Enum columns have the categories that block uses)."""
        if self.grid is None or self.lines is None or self.decided is None:
            yield assemble_empty(self.seq)
            return
        ranges = _order_ranges(self.lines.order_start, max(int(lines or BLOCK_LINES), 1))
        for o, o1, a, b in ranges:
            # snapshot: each block's units are decided as it comes (each against the same
            # state as before) while the caller writes the block before it
            yield assemble(
                self.seq.slice(a, b - a),
                self.grid,
                _lines_slice(self.lines, o, o1),
                self._decided(a, b),
                confidence=self.confidence,
            )
        # snapshot: the blocks' decisions are not kept (``pending`` stays for :meth:`table`)


def _order_ranges(starts: np.ndarray, size: int) -> list[tuple[int, int, int, int]]:
    """Consecutive blocks of whole orders of about ``size`` lines: first and end order, first
    and end line of each."""
    n_orders = len(starts) - 1
    out = []
    o = 0
    while o < n_orders:
        a = int(starts[o])
        o1 = int(np.searchsorted(starts, a + size, side="left"))
        o1 = min(max(o1, o + 1), n_orders)
        out.append((o, o1, a, int(starts[o1])))
        o = o1
    return out


def _lines_slice(lines: Lines, o0: int, o1: int) -> Lines:
    """The lines of orders ``o0 .. o1 - 1``."""
    a, b = int(lines.order_start[o0]), int(lines.order_start[o1])
    return Lines(
        lines.sku[a:b],
        lines.qty[a:b],
        lines.dest[a:b],
        lines.day[a:b],
        lines.hour[a:b],
        lines.cid[a:b],
        lines.order_start[o0 : o1 + 1] - a,
        lines.unit_before[a:b],
    )


def _decided_slice(dec: Decided, a: int, b: int) -> Decided:
    return Decided(
        dec.fc[a:b], dec.ship[a:b], dec.avail[a:b], dec.level[a:b], dec.release[a:b], dec.split[a:b]
    )


def decide_lines(
    orders: pl.DataFrame,
    *,
    inventory: pl.DataFrame,
    nodes: pl.DataFrame,
    lanes: pl.DataFrame,
    calendar: pl.DataFrame | None = None,
    receipts: pl.DataFrame | None = None,
    options: PromiseOptions,
    progress: Callable[[int, int], None] | None = None,
) -> Decision:
    """:func:`promise_table`'s decision, every line, without assembling the table."""
    seq, in_key_order, order_starts = sequenced(orders)
    if seq.height == 0:
        return Decision(seq, options.confidence, True)
    prob = prepare(
        seq,
        inventory=inventory,
        nodes=nodes,
        lanes=lanes,
        calendar=calendar,
        receipts=receipts,
        confidence=options.confidence,
        one_box=options.split == "avoid",
        order_starts=order_starts,
    )
    commit = options.mode == "commit" and bool(prob.tables.grid.fcs)
    if commit:  # without FCs nothing is consumed
        dec = commit_units(
            prob.tables,
            prob.state,
            prob.lines,
            prob.starts,
            prob.counts,
            one_box=prob.one_box,
            progress=progress,
        )
    else:
        # decided block by block as the table is made (Decision.blocks or Decision.table)
        dec = Decided.empty(0)
    pending = None if commit else prob
    grid = prob.tables.grid
    return Decision(seq, options.confidence, in_key_order, grid, prob.lines, dec, pending)


@dataclass
class Problem:
    """Indexed inputs of one promise run: tables, empty state and the units to decide."""

    tables: Tables
    state: State
    lines: Lines
    starts: np.ndarray
    counts: np.ndarray
    one_box: bool


def prepare(
    seq: pl.DataFrame,
    *,
    inventory: pl.DataFrame,
    nodes: pl.DataFrame,
    lanes: pl.DataFrame,
    calendar: pl.DataFrame | None,
    receipts: pl.DataFrame | None,
    confidence: float,
    one_box: bool,
    order_starts: np.ndarray | None = None,
) -> Problem:
    """Index sequenced orders (non-empty) and build the grid, supply and units
    (``order_starts``: per row, whether it starts an order, when known)."""
    day, hour = day_hour(seq["order_time"])
    day0 = int(day.min())
    stocked = [inventory["sku"]] + ([receipts["sku"]] if receipts is not None else [])
    skus = pl.concat(stocked).unique().sort().to_list()
    proc = nodes.filter(pl.col("kind") == "fc")["processing_days"].fill_null(0).to_numpy()
    horizon = _horizon(day - day0, int(proc.max()) if proc.size else 0, inventory, receipts, day0)
    dests = sorted(seq["destination"].unique().to_list())

    def tables() -> tuple[Grid, np.ndarray, np.ndarray, np.ndarray, Supply]:
        grid = build_grid(
            nodes=nodes,
            lanes=lanes,
            calendar=calendar,
            dests=dests,
            day0=day0,
            horizon=horizon,
            confidence=confidence,
        )
        cuts, rank, lower = class_tables(grid, n_days=int(day.max()) - day0 + 1)
        supply = build_supply(
            inventory=inventory, receipts=receipts, skus=pl.Series(skus), fcs=grid.fcs, day0=day0
        )
        return grid, cuts, rank, lower, supply

    # the grid and supply, and the sku look-up, on other threads while this one indexes the
    # lines (numpy's and polars' large passes run without the GIL: the two cores share them)
    with ThreadPoolExecutor(max_workers=2) as pool:
        made = pool.submit(tables)
        sku = pool.submit(codes, seq["sku"], skus)
        lines = _build_lines(seq, dests=dests, day=day - day0, hour=hour, new=order_starts)
        grid, cuts, rank, lower, supply = made.result()
        lines = _with_classes(lines, sku.result(), cuts, len(dests))
    state = State(
        np.zeros((len(skus) + 1) * len(grid.fcs)), np.zeros((len(grid.fcs), grid.horizon))
    )
    if one_box:
        lines = dataclasses.replace(lines, unit_before=order_sku_before(lines))
        starts, counts = lines.order_start[:-1], np.diff(lines.order_start)
    else:
        starts, counts = np.arange(lines.n), np.ones(lines.n, dtype=np.int64)
    return Problem(Tables(grid, supply, rank, lower), state, lines, starts, counts, one_box)


def assemble_empty(seq: pl.DataFrame) -> pl.DataFrame:
    """The promises table of no orders (``seq`` has no rows)."""
    from scot_cli.validate import empty_frame

    from .schema import PROMISES

    return empty_frame(PROMISES)
