"""One unit at a time: the plain loop that commit mode must reproduce.

This is the definition of commit mode written as directly as possible (every FC, every ship
day, every supply event examined in Python). It is the oracle of the equivalence tests and the
baseline of the benchmark, not a code path of the command.
"""

from __future__ import annotations

import math

import numpy as np

from .commit import Decided
from .engine import CAPACITY, NO_PATH, NO_SHIP_DAY, NO_STOCK, Lines, State, Tables
from .supply import NEVER


def _avail(tables: Tables, sf: int, need: float) -> int:
    s = tables.supply
    if s.on_hand[sf] >= need - 1e-9:
        return -1
    for j in range(int(s.count[sf])):
        if s.ev_cum[s.start[sf] + j] >= need - 1e-9:
            return int(s.ev_day[s.start[sf] + j])
    return NEVER


def _option(
    tables: Tables, state: State, lines: Lines, rows: range, f: int
) -> tuple[float, int, int, list[int], int]:
    """(key, ship day, level, availability per line, release) of a unit at FC ``f``."""
    grid = tables.grid
    n_f, n_g = len(grid.fcs), len(grid.dests)
    first = rows[0]
    asked: dict[int, float] = {}  # what earlier lines of the unit ask of each (sku, FC)
    avails = []
    for i in rows:
        sf = int(lines.sku[i]) * n_f + f
        asked[sf] = asked.get(sf, 0.0) + float(lines.qty[i])
        avails.append(_avail(tables, sf, float(state.committed[sf]) + asked[sf]))
    base = int(lines.day[first]) + int(lines.hour[first] >= grid.cutoff[f]) + int(grid.proc[f])
    release = max([base, *avails])
    if max(avails) >= NEVER:
        return math.inf, 0, NO_STOCK, avails, release
    pg = f * n_g + int(lines.dest[first])
    if not grid.has_path[pg]:
        return math.inf, 0, NO_PATH, avails, release
    qty = float(sum(lines.qty[i] for i in rows))
    best, ship, any_day = math.inf, 0, False
    for t in range(max(release, 0), grid.horizon):
        if not math.isfinite(grid.key[pg, t]):
            continue
        any_day = True
        if state.shipped[f, t] + qty <= grid.capacity[f] + 1e-9 and grid.key[pg, t] < best:
            best, ship = float(grid.key[pg, t]), t
    if math.isfinite(best):
        return best, ship, -1, avails, release
    return math.inf, 0, CAPACITY if any_day else NO_SHIP_DAY, avails, release


def _decide(tables: Tables, state: State, lines: Lines, rows: range, out: Decided) -> bool:
    """Decide one unit, consume its stock and capacity; False when it has no option."""
    grid = tables.grid
    n_f = len(grid.fcs)
    rank = list(tables.rank[int(lines.cid[rows[0]])])
    best: tuple[float, int] | None = None
    level = -1
    chosen: tuple[int, int, list[int], int] | None = None
    for f in range(n_f):
        key, ship, lvl, avails, release = _option(tables, state, lines, rows, f)
        level = max(level, lvl)
        if math.isfinite(key) and (best is None or (key, rank.index(f)) < best):
            best, chosen = (key, rank.index(f)), (f, ship, avails, release)
    for j, i in enumerate(rows):
        out.level[i] = -1 if chosen else level
        if chosen:
            f, ship, avails, release = chosen
            out.fc[i], out.ship[i], out.avail[i], out.release[i] = f, ship, avails[j], release
    if chosen is None:
        return False
    f, ship = chosen[0], chosen[1]
    for i in rows:
        state.committed[int(lines.sku[i]) * n_f + f] += lines.qty[i]
        state.shipped[f, ship] += lines.qty[i]
    return True


def sequential_commit(
    tables: Tables,
    state: State,
    lines: Lines,
    starts: np.ndarray,
    counts: np.ndarray,
    *,
    one_box: bool,
) -> Decided:
    """Decide units one at a time in sequence (same contract as ``commit_units``)."""
    out = Decided.empty(lines.n)
    for s, c in zip(starts.tolist(), counts.tolist(), strict=True):
        rows = range(s, s + c)
        if not _decide(tables, state, lines, rows, out) and one_box and c > 1:
            for i in rows:
                out.split[i] = True
                _decide(tables, state, lines, range(i, i + 1), out)
    return out
