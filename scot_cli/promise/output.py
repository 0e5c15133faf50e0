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
    pg = np.maximum(dec.fc, 0) * n_g + lines.dest
    t = np.minimum(dec.ship, grid.horizon - 1)
    path = np.where(has, grid.path[pg, t], -1)
    date = np.where(has, grid.date[pg, t], -1)
    prob = np.where(has, grid.prob[pg, t], np.nan)
    order = np.repeat(np.arange(len(lines.order_start) - 1), np.diff(lines.order_start))
    ship_key = np.where(
        has, (dec.fc * grid.horizon + dec.ship) * (len(grid.path_names) + 1) + path, -1
    )
    first = np.ones(lines.n, dtype=bool)
    first[1:] = (order[1:] != order[:-1]) | (ship_key[1:] != ship_key[:-1])
    shipments = np.bincount(order[has & first], minlength=len(lines.order_start) - 1)
    multi = shipments[order] > 1
    if not multi.any():
        return path, date, prob
    sel = np.flatnonzero(multi & has)
    o = order[sel]
    o_date = np.full(len(lines.order_start) - 1, -1, dtype=np.int64)
    np.maximum.at(o_date, o, date[sel])
    uniq = sel[_unique_shipments(o, ship_key[sel])]
    need = np.log(confidence) - 1e-12
    todo = o[np.concatenate([[True], o[1:] != o[:-1]])]
    for _ in range(_MAX_STEPS):
        logp = np.bincount(
            order[uniq],
            weights=np.log(
                np.maximum(
                    _arrival_prob(grid, path[uniq], dec.ship[uniq], o_date[order[uniq]]), 1e-300
                )
            ),
            minlength=len(o_date),
        )
        late = todo[logp[todo] < need]
        if late.size == 0:
            break
        g = lines.dest[lines.order_start[late]]
        nxt = np.minimum(o_date[late] + 1, grid.deliver_next.shape[1] - 1)
        o_date[late] = grid.deliver_next[g, nxt]
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
    name: str, values: tuple[str, ...], idx: np.ndarray, valid: np.ndarray
) -> pl.Series:
    """``values[idx]`` as an Enum column of the values used (null where not ``valid``)."""
    if not values:
        return pl.repeat(None, len(idx), dtype=pl.Enum([""]), eager=True).alias(name)
    names, inverse = _sorted_values(values)
    code = inverse[np.clip(idx, 0, len(values) - 1)]
    used = np.bincount(code[valid], minlength=len(names)) > 0
    categories = [str(v) for v in names[used]] or [""]
    at = (np.cumsum(used) - 1).astype(np.uint32)[code]
    # a masked array becomes a column with nulls where masked, in one pass
    return pl.Series(name, categories, dtype=pl.Enum(categories)).gather(
        pl.Series(np.ma.masked_array(at, ~valid))
    )


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
        _enum_column("status", STATUSES, status, np.ones(len(status), dtype=bool)),
        _enum_column("reason", tuple(REASONS), reason, reason >= 0),
        day_col("waits_for", dec.avail, waits),
        _enum_column("path", grid.path_names, path, has),
        _enum_column("modes", grid.path_modes, path, has),
    )
