"""Choosing the FC, ship day and path of each unit (an order line, or a whole order in one box).

The search visits FCs in the order of their best date with stock on hand (precomputed per order
day, cut-off class and destination, :func:`scot_cli.promise.grid.class_tables`). That date is a
lower bound on what the FC can reach once receipts, commitments and capacity are counted, so a
unit stops as soon as the next FC's bound is no better than its best option: almost every unit is
settled by its first or second FC, vectorised over all units at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .grid import Grid
from .supply import NEVER, Supply

#: Failure levels, most informative last; a unit without an option reports its highest level.
LEVELS = ("no_stock", "no_path", "no_ship_day", "capacity")
NO_STOCK, NO_PATH, NO_SHIP_DAY, CAPACITY = range(4)


@dataclass(frozen=True)
class Lines:
    """Order lines in order-time sequence (orders contiguous), as index arrays."""

    sku: np.ndarray
    qty: np.ndarray
    dest: np.ndarray
    day: np.ndarray
    hour: np.ndarray
    cid: np.ndarray
    order_start: np.ndarray
    #: Units of the line's sku on earlier lines of its order: what a one-box unit (a whole
    #: order) has already asked of the same (sku, FC) before this line. Zero for lone lines.
    unit_before: np.ndarray

    @property
    def n(self) -> int:
        return int(self.sku.shape[0])


@dataclass
class State:
    """What earlier commitments took: units per (sku, FC) and units per (FC, ship day)."""

    committed: np.ndarray
    shipped: np.ndarray


@dataclass(frozen=True)
class Tables:
    """Everything a choice reads besides the state."""

    grid: Grid
    supply: Supply
    rank: np.ndarray
    lower: np.ndarray


@dataclass
class Choice:
    """Per unit: chosen FC (-1: none), ship day, failure level; per line: availability day."""

    fc: np.ndarray
    ship: np.ndarray
    level: np.ndarray
    avail: np.ndarray
    release: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def exclusive_group_cumsum(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` of the earlier elements with the same key (in array order)."""
    order = np.argsort(keys, kind="stable")
    k, v = keys[order], values[order]
    total = np.cumsum(v)
    new = np.ones(len(k), dtype=bool)
    new[1:] = k[1:] != k[:-1]
    base = np.maximum.accumulate(np.where(new, np.arange(len(k)), 0))
    before = total - v - (total[base] - v[base])
    out: np.ndarray = np.empty_like(before)
    out[order] = before
    return out


def order_sku_before(lines: Lines) -> np.ndarray:
    """Per line, the quantity of the same sku on earlier lines of its order.

    An order naming a sku on two lines needs both quantities from the FC that ships the box.
    """
    counts = np.diff(lines.order_start)
    order = np.repeat(np.arange(counts.size), counts)
    multi = np.repeat(counts > 1, counts)
    out = np.zeros(lines.n)
    if multi.any():
        n_sku = int(lines.sku.max()) + 1
        key = order[multi] * n_sku + lines.sku[multi]
        out[multi] = exclusive_group_cumsum(key, lines.qty[multi])
    return out


def need_before(lines: Lines, ln: np.ndarray, unit_count: np.ndarray) -> np.ndarray:
    """Per line ``ln`` of a unit of ``unit_count`` lines, what its unit asks of the line's
    (sku, FC) before it: the earlier lines of the same sku when the unit is a whole order."""
    return np.where(unit_count > 1, lines.unit_before[ln], 0.0)


def unit_lines(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Line indices of units ``[start, start + count)`` and each line's unit position."""
    seg = np.repeat(np.arange(len(starts)), counts)
    first = np.cumsum(counts) - counts
    return starts[seg] + np.arange(int(counts.sum())) - first[seg], seg


def _seg_reduce(values: np.ndarray, counts: np.ndarray, op: np.ufunc) -> np.ndarray:
    if counts.size == 0 or counts.max() == 1:
        return values
    return np.asarray(op.reduceat(values, np.cumsum(counts) - counts))


def choose(
    tables: Tables, state: State, lines: Lines, starts: np.ndarray, counts: np.ndarray
) -> Choice:
    """The best option of each unit given ``state`` (units are line ranges; see module doc)."""
    grid = tables.grid
    n_f, n_g = len(grid.fcs), len(grid.dests)
    n = len(starts)
    ln, _ = unit_lines(starts, counts)
    cid, dest, day, hour = (a[starts] for a in (lines.cid, lines.dest, lines.day, lines.hour))
    units_qty = _seg_reduce(lines.qty[ln], counts, np.add)
    best_key = np.full(n, np.inf)
    out = Choice(
        np.full(n, -1, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.full(n, -1, dtype=np.int64),
        np.full(len(ln), NEVER, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
    )
    first_pos = np.cumsum(counts) - counts
    single = counts.size == 0 or counts.max() == 1
    active = np.arange(n)
    for k in range(n_f):
        cid_a = cid[active] * n_f + k
        lower = tables.lower.ravel()[cid_a]
        keep = lower < best_key[active]
        keep |= np.isinf(lower) & (out.fc[active] < 0)
        active, cid_a = active[keep], cid_a[keep]
        if active.size == 0:
            break
        f = tables.rank.ravel()[cid_a]
        if single:
            act_pos, act_seg = active, np.arange(active.size)
        else:
            act_pos, act_seg = unit_lines(first_pos[active], counts[active])
        act_lines = ln[act_pos]
        sf = lines.sku[act_lines] * n_f + (f if single else f[act_seg])
        need = state.committed[sf] + lines.qty[act_lines]
        if not single:
            need += need_before(lines, act_lines, counts[active][act_seg])
        avail = tables.supply.available_day(sf, need)
        unit_avail = avail if single else _seg_reduce(avail, counts[active], np.maximum)
        release = np.maximum(
            day[active] + (hour[active] >= grid.cutoff[f]) + grid.proc[f], unit_avail
        )
        pg = f * n_g + dest[active]
        ship, level = _ship_day(tables, state, f, pg, release, units_qty[active])
        level[unit_avail >= NEVER] = NO_STOCK
        out.level[active] = np.maximum(out.level[active], level)
        flat = pg * grid.horizon + np.minimum(ship, grid.horizon - 1)
        key = np.where(level < 0, grid.key.ravel()[flat], np.inf)
        better = key < best_key[active]
        won = active[better]
        best_key[won] = key[better]
        out.fc[won], out.ship[won], out.release[won] = f[better], ship[better], release[better]
        line_won = better if single else better[act_seg]
        out.avail[act_pos[line_won]] = avail[line_won]
    out.level[out.fc >= 0] = -1
    return out


def _ship_day(
    tables: Tables,
    state: State,
    f: np.ndarray,
    pg: np.ndarray,
    release: np.ndarray,
    qty: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Best ship day on or after ``release`` with capacity for ``qty``; failure level or -1."""
    grid = tables.grid
    n_t = grid.horizon
    ship = grid.best(pg, np.minimum(release, n_t))
    level = np.full(len(pg), -1, dtype=np.int64)
    level[ship >= n_t] = NO_SHIP_DAY
    level[~grid.has_path[pg]] = NO_PATH
    ok = level < 0
    cap = grid.capacity[f]
    full = np.flatnonzero(ok & np.isfinite(cap))
    full = full[state.shipped[f[full], ship[full]] + qty[full] > cap[full] + 1e-9]
    if full.size:
        days = np.arange(n_t)[None, :]
        room = state.shipped[f[full]] + qty[full, None] <= cap[full, None] + 1e-9
        key = np.where(room & (days >= release[full, None]), grid.key[pg[full]], np.inf)
        alt = np.argmin(key, axis=1)
        found = np.isfinite(key[np.arange(full.size), alt])
        ship[full[found]] = alt[found]
        level[full[~found]] = CAPACITY
    return ship, level


def choose_fast(
    tables: Tables, state: State, lines: Lines, starts: np.ndarray, counts: np.ndarray
) -> Choice:
    """:func:`choose`, with a short cut for the units of one line (the same result).

    In rank order, the FCs before the first one that has the line's quantity on hand are
    either without any supply that could cover it (no option there: :func:`choose` only
    records ``no_stock``) or with receipts or in-transit units that might: a line meeting
    one of the latter is left to :func:`choose`, as is one with no FC holding it on hand.
    For the others the first FC holding the quantity wins at its lower bound (its option
    with stock on hand), which no FC after it can beat, unless its capacity is short.
    """
    n = len(starts)
    single = counts == 1
    if n == 0 or not single.any():
        return choose(tables, state, lines, starts, counts)
    out = Choice(
        np.full(n, -1, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.full(n, -1, dtype=np.int64),
        np.full(int(counts.sum()), NEVER, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
    )
    first_pos = np.cumsum(counts) - counts
    units = np.flatnonzero(single)
    done, fc, ship, release = _first_on_hand(tables, state, lines, starts[units])
    won = units[done]
    out.fc[won], out.ship[won], out.release[won] = fc, ship, release
    out.avail[first_pos[won]] = -1
    rest = np.flatnonzero(~single)
    rest = np.sort(np.concatenate([rest, units[~done]]))
    if rest.size:
        ch = choose(tables, state, lines, starts[rest], counts[rest])
        out.fc[rest], out.ship[rest], out.level[rest] = ch.fc, ch.ship, ch.level
        out.release[rest] = ch.release
        pos, _ = unit_lines(first_pos[rest], counts[rest])
        out.avail[pos] = ch.avail
    return out


def _first_on_hand(
    tables: Tables, state: State, lines: Lines, ln: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lines ``ln`` settled by their first FC (in rank order) with the quantity on hand.

    Returns the mask of settled lines and, for those, the FC, ship day and release day.
    """
    grid, supply = tables.grid, tables.supply
    n_f, n_g = len(grid.fcs), len(grid.dests)
    total = supply.total
    cid, sku, qty = lines.cid[ln], lines.sku[ln], lines.qty[ln]
    rank, lower = tables.rank.ravel(), tables.lower.ravel()
    k_on_hand = np.full(ln.size, -1, dtype=np.int64)
    active = np.arange(ln.size)
    for k in range(n_f):
        if active.size == 0:
            break
        sf = sku[active] * n_f + rank[cid[active] * n_f + k]
        need = state.committed[sf] + qty[active] - 1e-9
        on_hand = supply.on_hand[sf] >= need
        k_on_hand[active[on_hand]] = k
        # neither on hand nor ever covered: no option at this FC; else leave it to choose
        active = active[~on_hand & (total[sf] < need)]
    done = k_on_hand >= 0
    at = cid[done] * n_f + k_on_hand[done]
    done[done] = np.isfinite(lower[at])
    at = cid[done] * n_f + k_on_hand[done]
    f = rank[at]
    i = ln[done]
    release = lines.day[i] + (lines.hour[i] >= grid.cutoff[f]) + grid.proc[f]
    ship = grid.best(f * n_g + lines.dest[i], release)
    fits = state.shipped[f, ship] + qty[done] <= grid.capacity[f] + 1e-9
    done[done] = fits
    return done, f[fits], ship[fits], release[fits]
