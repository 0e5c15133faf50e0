"""From decided lines to the promises table: order dates, statuses and reasons.

An order's promised date covers all its shipments: the first delivery day, on or after the
latest shipment's own promise, on which the probability that *every* shipment has arrived
reaches the confidence (shipments from different FCs, days or paths taken as independent; lines
in the same shipment travel together). One shipment keeps its own date and probability.
"""

from __future__ import annotations

import functools

import numpy as np
import polars as pl

from .commit import Decided
from .engine import Lines
from .grid import Grid, normal_cdf
from .schema import REASONS, STATUSES

_MAX_STEPS = 60
_MAX_LAG = 32


def _arrival_prob(grid: Grid, path: np.ndarray, ship: np.ndarray, date: np.ndarray) -> np.ndarray:
    """P(a shipment on ``path`` leaving on ``ship`` is delivered by day index ``date``)."""
    m = ship + grid.path_offset[path]
    sd = grid.path_sd[path]
    safe = np.where(sd > 0, sd, 1.0)
    return np.where(sd > 0, normal_cdf((date + 1 - m) / safe), (date + 1 > m).astype(float))


def order_dates(
    grid: Grid, lines: Lines, dec: Decided, *, confidence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per line: path id, the order's promised day index and its on-time probability."""
    n_g = len(grid.dests)
    has = dec.fc >= 0
    if not has.any():
        return np.full(lines.n, -1), np.full(lines.n, -1), np.full(lines.n, np.nan)
    # one flat index into the (pair, ship day) tables instead of three 2-D look-ups
    flat = (np.maximum(dec.fc, 0) * n_g + lines.dest) * grid.horizon
    flat += np.minimum(dec.ship, grid.horizon - 1)
    path, date, prob = (np.take(a.reshape(-1), flat) for a in (grid.path, grid.date, grid.prob))
    if not has.all():
        none = ~has
        path[none], date[none], prob[none] = -1, -1, np.nan
    counts = np.diff(lines.order_start)
    n_orders = counts.size
    ship_key = np.where(
        has, (dec.fc * grid.horizon + dec.ship) * (len(grid.path_names) + 1) + path, -1
    )
    # a line opens a shipment when its order or its shipment differs from the line before
    first = np.empty(lines.n, dtype=bool)
    first[0] = True
    np.not_equal(ship_key[1:], ship_key[:-1], out=first[1:])
    first[lines.order_start[:-1]] = True
    opened = np.concatenate([[0], np.cumsum(has & first)])
    multi_order = opened[lines.order_start[1:]] - opened[lines.order_start[:-1]] > 1
    if not multi_order.any():
        return path, date, prob
    multi = np.repeat(multi_order, counts)
    sel = np.flatnonzero(multi & has)
    o = np.repeat(np.arange(n_orders), counts)[sel]
    # ``o`` is sorted: each order's lines are one run
    run_start = np.flatnonzero(np.concatenate([[True], o[1:] != o[:-1]]))
    todo = o[run_start]
    o_date = np.full(n_orders, -1, dtype=np.int64)
    o_date[todo] = np.maximum.reduceat(date[sel], run_start)
    first_of = _unique_shipments(o, ship_key[sel])
    uniq = sel[first_of]
    need = np.log(confidence) - 1e-12
    # the shipments' fixed terms once; after the first step only the orders still late are
    # summed again (an order that is not late keeps its date, so its sum stays the same)
    u_order = o[first_of]
    u_path = path[uniq]
    u_m = dec.ship[uniq] + grid.path_offset[u_path]
    u_sd = grid.path_sd[u_path]
    u_safe = np.where(u_sd > 0, u_sd, 1.0)
    logp: np.ndarray = np.zeros(n_orders)
    for step in range(_MAX_STEPS):
        d = o_date[u_order]
        arrive = np.where(u_sd > 0, normal_cdf((d + 1 - u_m) / u_safe), (d + 1 > u_m).astype(float))
        part = np.bincount(u_order, weights=np.log(np.maximum(arrive, 1e-300)), minlength=n_orders)
        if step == 0:
            logp = part
        else:
            logp[todo] = part[todo]
        late = todo[logp[todo] < need]
        if late.size == 0:
            break
        g = lines.dest[lines.order_start[late]]
        nxt = np.minimum(o_date[late] + 1, grid.deliver_next.shape[1] - 1)
        o_date[late] = grid.deliver_next[g, nxt]
        todo = late
        is_late = np.zeros(n_orders, dtype=bool)
        is_late[late] = True
        keep = is_late[u_order]
        u_order, u_m, u_sd, u_safe = u_order[keep], u_m[keep], u_sd[keep], u_safe[keep]
    date[sel] = o_date[o]
    prob[sel] = np.exp(logp[o])
    return path, date, prob


def _unique_shipments(order: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Positions of the first line of each distinct (order, shipment); ``order`` is sorted."""
    starts = np.flatnonzero(np.concatenate([[True], order[1:] != order[:-1], [True]]))
    longest = int(np.diff(starts).max())
    if longest <= _MAX_LAG:
        dup = np.zeros(len(order), dtype=bool)
        for lag in range(1, longest):
            dup[lag:] |= (order[lag:] == order[:-lag]) & (key[lag:] == key[:-lag])
        return np.flatnonzero(~dup)
    idx = np.lexsort((key, order))
    new = np.ones(len(idx), dtype=bool)
    new[1:] = (order[idx][1:] != order[idx][:-1]) | (key[idx][1:] != key[idx][:-1])
    return np.sort(idx[new])


def _enum_column(
    name: str, values: tuple[str, ...], idx: np.ndarray, valid: np.ndarray | None
) -> pl.Series:
    """``values[idx]`` as an Enum column of the values used (null where not ``valid``;
    None: every row is valid)."""
    if not values:
        return pl.repeat(None, len(idx), dtype=pl.Enum([""]), eager=True).alias(name)
    names, inverse = _sorted_values(values)
    n = len(values)
    shown = idx if valid is None else idx[valid]
    if shown.size and (shown.min() < 0 or shown.max() >= n):
        shown = np.clip(shown, 0, n - 1)
    used = np.zeros(len(names), dtype=bool)
    used[inverse[np.bincount(shown, minlength=n) > 0]] = True
    categories = pl.Series(name, names[used].tolist() or [""], dtype=pl.String)
    # each value's position among the categories used, looked up per row in one pass
    at = np.take((np.cumsum(used) - 1).astype(np.uint32)[inverse], idx, mode="clip")
    # (the Enum made from a Series: one made from a list is hashed value by value in Python)
    column = categories.cast(pl.Enum(categories))
    if valid is None:
        return column.gather(pl.Series(at))
    # a masked array becomes a column with nulls where masked, in one pass
    return column.gather(pl.Series(np.ma.masked_array(at, ~valid)))


@functools.lru_cache(maxsize=32)
def _sorted_values(values: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``values`` sorted, and each value's position among them."""
    names, inverse = np.unique(np.asarray(values, dtype=object), return_inverse=True)
    return names, inverse.astype(np.int64)


def assemble(
    sorted_orders: pl.DataFrame, grid: Grid, lines: Lines, dec: Decided, *, confidence: float
) -> pl.DataFrame:
    """The promises table for ``sorted_orders`` (in sequence order) and their decisions.

    The columns with few distinct values (``ship_node``, ``status``, ``reason``, ``path``,
    ``modes``) are Enum columns (written as they are; their categories are the values used).
    """
    path, date, prob = order_dates(grid, lines, dec, confidence=confidence)
    has = dec.fc >= 0
    f = np.maximum(dec.fc, 0)
    base = (lines.day + (lines.hour >= grid.cutoff[f]) + grid.proc[f]) if grid.fcs else lines.day
    waits = has & (dec.avail > base)
    status = np.where(has, np.where(waits, 1, 0), 2)
    reason = np.where(
        ~has,
        2 + np.maximum(dec.level, 1 if len(grid.fcs) == 0 else 0),
        np.where(waits, 0, np.where(dec.split, 1, -1)),
    )
    day0 = grid.day0

    def masked(name: str, values: np.ndarray, valid: np.ndarray) -> pl.Series:
        return pl.Series(name, np.ma.masked_array(values, ~valid))

    def day_col(name: str, values: np.ndarray, valid: np.ndarray) -> pl.Series:
        return masked(name, np.where(valid, values + day0, 0).astype(np.int32), valid).cast(pl.Date)

    return sorted_orders.select("order_id", "line", "sku", "qty", "destination").with_columns(
        _enum_column("ship_node", grid.fcs, f, has),
        day_col("ship_date", dec.ship, has),
        day_col("promise_date", date, has),
        masked("promise_days", np.where(has, date - lines.day, 0), has),
        masked("on_time_prob", np.where(has, np.minimum(prob, 1.0), 0.0), has),
        _enum_column("status", STATUSES, status, None),
        _enum_column("reason", tuple(REASONS), reason, reason >= 0),
        day_col("waits_for", dec.avail, waits),
        _enum_column("path", grid.path_names, path, has),
        _enum_column("modes", grid.path_modes, path, has),
    )
