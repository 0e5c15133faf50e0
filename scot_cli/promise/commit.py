"""Commit mode: units in order-time sequence consume stock and FC capacity, vectorised.

Sequential semantics: each unit, in turn, takes its best option given what every earlier unit
took. Computing that one unit at a time is a Python loop per line; instead each round lets every
pending unit of a window choose against the state of the units already final (speculation), then
certifies the prefix of choices the earlier pending units cannot have changed:

* consuming stock or capacity only ever makes options worse, so a unit whose choice is still
  feasible after the earlier pending units' consumption is exactly the sequential choice, provided
  those earlier units are final themselves;
* a unit is *uncertain* when its choice is infeasible after earlier consumption, when an earlier
  uncertain unit shares one of its skus, or when its FC-day capacity could be taken by the
  earlier uncertain units (counted at their full quantity, whatever FC they end at).

Uncertain units choose again next round against the grown state. The first pending unit is always
final or split (its choice was made against exactly the state it meets; an order naming a sku on
two lines asks for both quantities at once), so every round decides a unit and the rounds are
at most twice the lines; each round is a few vectorised passes over the window, and the window
doubles while most of it is certified and halves when little is. The result equals the
one-at-a-time loop (:func:`scot_cli.promise.reference.sequential_commit` checks it in tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .engine import (
    Choice,
    Lines,
    State,
    Tables,
    choose,
    exclusive_group_cumsum,
    need_before,
    unit_lines,
)
from .supply import NEVER

MIN_WINDOW = 2048
START_WINDOW = 1 << 16


@dataclass
class Decided:
    """Per line: FC (-1 none), ship day, availability day, failure level, release day."""

    fc: np.ndarray
    ship: np.ndarray
    avail: np.ndarray
    level: np.ndarray
    release: np.ndarray
    split: np.ndarray

    @classmethod
    def empty(cls, n: int) -> Decided:
        return cls(
            np.full(n, -1, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.full(n, -1, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.zeros(n, dtype=bool),
        )

    def record(self, ln: np.ndarray, seg: np.ndarray, ch: Choice, pos: np.ndarray) -> None:
        """Store the choices of units ``seg`` (their lines ``ln``, line positions ``pos``)."""
        self.fc[ln], self.ship[ln] = ch.fc[seg], ch.ship[seg]
        self.level[ln], self.release[ln] = ch.level[seg], ch.release[seg]
        self.avail[ln] = ch.avail[pos]


def _uncertain(
    tables: Tables,
    state: State,
    lines: Lines,
    starts: np.ndarray,
    counts: np.ndarray,
    ch: Choice,
    split_now: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Units of the window whose speculative choice may differ from the sequential one.

    Also returns, per line, the units of its (sku, FC) taken by earlier window units.
    """
    grid, supply = tables.grid, tables.supply
    n_f, n_t = len(grid.fcs), grid.horizon
    ln, seg = unit_lines(starts, counts)
    has = ch.fc >= 0
    fc_l, ship_l, qty_l = ch.fc[seg], ch.ship[seg], lines.qty[ln]
    sf = lines.sku[ln] * n_f + np.maximum(fc_l, 0)
    took = np.where(has[seg], qty_l, 0.0)
    stock_before = exclusive_group_cumsum(np.where(has[seg], sf, -1), took)
    stock_ok = supply.supply_by(sf, ship_l) + 1e-9 >= state.committed[sf] + stock_before + qty_l
    bad = np.zeros(len(starts), dtype=bool)
    np.logical_or.at(bad, seg, has[seg] & ~stock_ok)
    bad |= split_now | _reason_may_change(lines, ln, seg, has, split_now)
    qty_u = np.bincount(seg, weights=qty_l, minlength=len(starts))
    cap = grid.capacity[np.maximum(ch.fc, 0)]
    ft = np.where(has, np.maximum(ch.fc, 0) * n_t + ch.ship, -1)
    cap_before = exclusive_group_cumsum(ft, np.where(has, qty_u, 0.0))
    shipped = state.shipped.reshape(-1)[np.maximum(ft, 0)]
    bounded = has & np.isfinite(cap)
    bad |= bounded & (shipped + cap_before + qty_u > cap + 1e-9)
    n_sku = int(lines.sku.max()) + 2 if lines.n else 1
    # ``bad`` only grows, so it settles within one pass per unit
    for _ in range(len(starts) + 1):
        worst = np.cumsum(np.where(bad, qty_u, 0.0)) - np.where(bad, qty_u, 0.0)
        first_bad = np.full(n_sku, np.iinfo(np.int64).max)
        np.minimum.at(first_bad, lines.sku[ln[bad[seg]]], ln[bad[seg]])
        tainted = np.zeros(len(starts), dtype=bool)
        np.logical_or.at(tainted, seg, ln > first_bad[lines.sku[ln]])
        grown = bad | tainted | (bounded & (shipped + cap_before + worst + qty_u > cap + 1e-9))
        if (grown == bad).all():
            return bad, stock_before
        bad = grown
    raise RuntimeError("commit: the uncertain set did not settle (a bug)")


def _reason_may_change(
    lines: Lines, ln: np.ndarray, seg: np.ndarray, has: np.ndarray, split_now: np.ndarray
) -> np.ndarray:
    """Units without an option whose failure reason earlier units of their skus may change.

    Having no option stays true as stock is consumed, but the reason (say capacity) can turn
    into no_stock once an earlier line of the same sku takes the last units.
    """
    n_sku = int(lines.sku.max()) + 2 if lines.n else 1
    first_take = np.full(n_sku, np.iinfo(np.int64).max)
    taking = has[seg]
    np.minimum.at(first_take, lines.sku[ln[taking]], ln[taking])
    out = np.zeros(len(has), dtype=bool)
    np.logical_or.at(out, seg, ln > first_take[lines.sku[ln]])
    return np.asarray(out & ~has & ~split_now)


def _choose_reusing(
    tables: Tables,
    state: State,
    lines: Lines,
    starts: np.ndarray,
    counts: np.ndarray,
    cache: tuple[np.ndarray, np.ndarray],
) -> Choice:
    """Like :func:`choose`, but keep a unit's choice from an earlier round while it still fits.

    That choice was the best against an earlier state holding at least the stock and capacity
    of the current one, so if it still fits it is still the best (options only got worse).
    """
    grid, supply = tables.grid, tables.supply
    n_f = len(grid.fcs)
    fc, ship = cache[0][starts], cache[1][starts]
    reuse = fc >= 0
    idx = np.flatnonzero(reuse)
    if idx.size:
        ln, seg = unit_lines(starts[idx], counts[idx])
        sf = lines.sku[ln] * n_f + fc[idx][seg]
        need = state.committed[sf] + lines.qty[ln] + need_before(lines, ln, counts[idx][seg])
        short = supply.supply_by(sf, ship[idx][seg]) + 1e-9 < need
        qty_u = np.bincount(seg, weights=lines.qty[ln], minlength=idx.size)
        full = state.shipped[fc[idx], ship[idx]] + qty_u > grid.capacity[fc[idx]] + 1e-9
        full |= np.bincount(seg, weights=short, minlength=idx.size) > 0
        reuse[idx[full]] = False
    redo = np.flatnonzero(~reuse)
    fresh = choose(tables, state, lines, starts[redo], counts[redo])
    n_lines = int(counts.sum())
    out = Choice(
        np.where(reuse, fc, -1),
        np.where(reuse, ship, 0),
        np.full(len(starts), -1, dtype=np.int64),
        np.full(n_lines, NEVER, dtype=np.int64),
        np.zeros(len(starts), dtype=np.int64),
    )
    out.fc[redo], out.ship[redo], out.level[redo] = fresh.fc, fresh.ship, fresh.level
    out.release[redo] = fresh.release
    pos, _ = unit_lines((np.cumsum(counts) - counts)[redo], counts[redo])
    out.avail[pos] = fresh.avail
    return out


def commit_units(
    tables: Tables,
    state: State,
    lines: Lines,
    starts: np.ndarray,
    counts: np.ndarray,
    *,
    one_box: bool,
    progress: Callable[[int, int], None] | None = None,
) -> Decided:
    """Decide units ``[start, start + count)`` in sequence, consuming ``state`` as they go.

    With ``one_box`` a multi-line unit without any one-box option is split into line units
    at its place in the sequence (its lines then record ``split``).
    """
    grid = tables.grid
    n_f, n_t = len(grid.fcs), grid.horizon
    out = Decided.empty(lines.n)
    window = START_WINDOW
    done = 0
    cache = (np.full(lines.n, -1, dtype=np.int64), np.zeros(lines.n, dtype=np.int64))
    while starts.size:
        w_starts, w_counts = starts[:window], counts[:window]
        ch = _choose_reusing(tables, state, lines, w_starts, w_counts, cache)
        split_now = one_box & (ch.fc < 0) & (w_counts > 1)
        bad, before = _uncertain(tables, state, lines, w_starts, w_counts, ch, split_now)
        final = ~bad
        if not final.any() and not split_now.any():
            # every round finalises or splits a unit, which bounds the rounds by twice the
            # lines; a round doing neither would repeat forever
            raise RuntimeError("commit: a round decided no unit (a bug)")
        ln, seg = unit_lines(w_starts, w_counts)
        keep = final[seg]
        out.record(ln[keep], seg[keep], ch, np.flatnonzero(keep))
        took = keep & (ch.fc[seg] >= 0)
        sf = lines.sku[ln[took]] * n_f + ch.fc[seg[took]]
        # earlier units may have moved this line onto a receipt; the ship day stands
        out.avail[ln[took]] = tables.supply.available_day(
            sf, state.committed[sf] + before[took] + lines.qty[ln[took]]
        )
        np.add.at(state.committed, sf, lines.qty[ln[took]])
        np.add.at(
            state.shipped.reshape(-1),
            ch.fc[seg[took]] * n_t + ch.ship[seg[took]],
            lines.qty[ln[took]],
        )
        cache[0][w_starts[bad]], cache[1][w_starts[bad]] = ch.fc[bad], ch.ship[bad]
        split_ln = ln[split_now[seg]]
        out.split[split_ln] = True
        rest_starts = np.concatenate([w_starts[bad & ~split_now], split_ln, starts[window:]])
        rest_counts = np.concatenate(
            [w_counts[bad & ~split_now], np.ones(split_ln.size, dtype=np.int64), counts[window:]]
        )
        order = np.argsort(rest_starts, kind="stable")
        starts, counts = rest_starts[order], rest_counts[order]
        done += int(w_counts[final].sum())
        if progress is not None:
            progress(done, lines.n)
        ratio = final.sum() / max(len(w_starts), 1)
        window = (
            window * 2 if ratio > 0.5 else max(MIN_WINDOW, window // 2) if ratio < 0.1 else window
        )
    return out
