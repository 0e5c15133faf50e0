"""The promise grid: for every FC, destination and ship day, the earliest date kept at a confidence.

Everything that does not depend on stock is computed once per run over a day axis that starts
at the first order day: FC pickup days (node calendar and the first leg's departure weekdays),
destination delivery days, and for each path the promised date and its on-time probability.

Transit model. A path's transit ``T`` is normal with the path's mean ``mu`` and spread
``sigma`` (legs independent, ``scot_cli.network``). A parcel shipped on day ``s`` leaves at the
first leg's departure hour ``h`` and arrives at ``X = s + h/24 + T`` (in days); it is delivered
on day ``floor(X)`` when that is a delivery day at the destination, else on the next delivery
day. For a delivery day ``D``::

    P(delivered by D) = P(X < D + 1) = Phi((D + 1 - s - h/24 - mu) / sigma)

so the promise at confidence ``c`` is the first delivery day on or after
``ceil(s + h/24 + mu + z_c sigma - 1)`` with ``z_c = Phi^-1(c)``: the ``c``-quantile of the
delivery day (newsvendor-style service level; Hopp & Spearman, *Factory Physics*, ch. 8 on
quoted lead times). Among the paths that depart on ``s`` the earliest date wins, then the higher
probability, then the lower unit cost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import polars as pl

from scot_cli.network import PATH_SEP, fc_paths
from scot_cli.validate import check_grid, fmt_count

#: Days added after the last release day so that pickup gaps and full days can roll forward.
PAD_DAYS = 28
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
_NO_CUTOFF = 24


@dataclass(frozen=True)
class Grid:
    """Stock-independent promise tables over ``T`` ship days (index 0 = ``day0``).

    Pair index ``pg = f * G + g`` for FC ``f`` and destination ``g``.
    ``key[pg, t]`` ranks the best option of shipping on day ``t`` (integer part: promised day
    index; inf when nothing departs), ``date``/``prob``/``path`` describe it, and
    ``arg[pg, r]`` is the ship day ``t >= r`` with the least key (``T`` when none).
    """

    day0: int
    fcs: tuple[str, ...]
    dests: tuple[str, ...]
    cutoff: np.ndarray
    proc: np.ndarray
    capacity: np.ndarray
    key: np.ndarray
    date: np.ndarray
    prob: np.ndarray
    path: np.ndarray
    arg: np.ndarray
    has_path: np.ndarray
    deliver_next: np.ndarray
    path_names: tuple[str, ...]
    path_modes: tuple[str, ...]
    path_offset: np.ndarray
    path_sd: np.ndarray

    @property
    def horizon(self) -> int:
        return int(self.key.shape[1])

    def best(self, pg: np.ndarray, r: np.ndarray) -> np.ndarray:
        """Ship day index of the best option on or after release day ``r`` (``T`` when none)."""
        t_max = self.horizon
        out = np.full(pg.shape, t_max, dtype=np.int64)
        ok = r < t_max
        out[ok] = self.arg[pg[ok], np.maximum(r[ok], 0)]
        return out


def _date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=day)


def epoch_days(dates: pl.Series) -> np.ndarray:
    """Days since 1970-01-01 of a date or datetime series, as int64."""
    return dates.cast(pl.Date).cast(pl.Int32).to_numpy().astype(np.int64)


#: Values from which :func:`codes` looks them up by hash rather than by an Enum cast.
HASHED_CODES = 1 << 16
#: Categories from which it does so (casting to an Enum of a few categories is faster).
HASHED_CATEGORIES = 1 << 12


def codes(values: pl.Series, categories: list[str]) -> np.ndarray:
    """Position of each value in ``categories`` (``len(categories)`` when absent), as int64.

    Many values are looked up by their hash in a table of the categories' hashes, then
    checked equal to the category found (a hash shared with another string finds nothing
    wrong: the check fails and the value counts as absent, as it is); several times faster
    than casting millions of strings to an Enum.
    """
    n = len(categories)
    text = values.cast(pl.String)
    cats = pl.Series(categories, dtype=pl.String)
    hashed = values.len() >= HASHED_CODES and n >= HASHED_CATEGORIES
    h_cat = cats.hash(seed=0).to_numpy() if hashed else None
    if h_cat is None or n == 0 or np.unique(h_cat).size < n:
        found = values.cast(pl.String).cast(pl.Enum(categories), strict=False).to_physical()
        return found.fill_null(n).to_numpy().astype(np.int64)
    h_val = text.hash(seed=0).to_numpy()
    bits = max((8 * n).bit_length(), 4)
    shift = np.uint64(64 - bits)
    slot = (h_cat >> shift).astype(np.int64)
    table = np.full(1 << bits, -1, dtype=np.int64)
    table[slot] = np.arange(n)
    table[np.bincount(slot, minlength=1 << bits) > 1] = -2  # slots two categories share
    idx = table[(h_val >> shift).astype(np.int64)]
    shared = np.flatnonzero(idx == -2)
    if shared.size:
        order = np.argsort(h_cat, kind="stable")
        h_sorted = h_cat[order]
        pos = np.minimum(np.searchsorted(h_sorted, h_val[shared]), n - 1)
        idx[shared] = np.where(h_sorted[pos] == h_val[shared], order[pos], -1)
    same = (text == cats.gather(np.maximum(idx, 0))).fill_null(False).to_numpy()
    return np.where(same & (idx >= 0), idx, n).astype(np.int64)


def z_value(confidence: float) -> float:
    """``Phi^-1(confidence)``: standard normal quantile."""
    return NormalDist().inv_cdf(confidence)


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF, vectorised, absolute error below 1.5e-7.

    ``Phi(x) = (1 + erf(x / sqrt 2)) / 2`` with erf from Abramowitz & Stegun (1964), formula
    7.1.26: plain numpy, so the command does not pay for importing scipy.
    """
    u = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * u)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = 1.0 - poly * np.exp(-u * u)
    return np.asarray(0.5 * (1.0 + np.sign(x) * erf), dtype=np.float64)


def _node_int(nodes: pl.DataFrame, fcs: list[str], col: str, default: float) -> np.ndarray:
    lookup = dict(zip(nodes["node"].to_list(), nodes[col].to_list(), strict=True))
    return np.array([default if lookup[f] is None else lookup[f] for f in fcs], dtype=np.float64)


def _calendar_mask(
    calendar: pl.DataFrame | None, names: list[str], flag: str, day0: int, length: int
) -> np.ndarray:
    """``mask[i, t]``: node ``names[i]`` works on day ``t`` (nodes or days absent: it works)."""
    mask = np.ones((len(names), length), dtype=bool)
    if calendar is None or calendar.height == 0 or not names:
        return mask
    index = {n: i for i, n in enumerate(names)}
    off = calendar.filter(~pl.col(flag) & pl.col("node").is_in(names))
    if off.height == 0:
        return mask
    rows = np.array([index[n] for n in off["node"].to_list()], dtype=np.int64)
    days = epoch_days(off["date"]) - day0
    keep = (days >= 0) & (days < length)
    mask[rows[keep], days[keep]] = False
    return mask


def _next_true(mask: np.ndarray) -> np.ndarray:
    """``out[i, t]``: the first ``t' >= t`` with ``mask[i, t']`` (row length when none)."""
    length = mask.shape[1]
    idx = np.where(mask, np.arange(length), length)
    return np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1]


def promise_paths(
    nodes: pl.DataFrame, lanes: pl.DataFrame, fcs: list[str], dests: list[str]
) -> pl.DataFrame:
    """FC -> destination paths with the first leg's departure weekdays, one row per path."""
    paths = fc_paths(nodes, lanes).filter(
        pl.col("origin").is_in(fcs) & pl.col("destination").is_in(dests)
    )
    first = lanes.select(
        pl.col("origin"),
        pl.col("destination").alias("hop"),
        pl.col("mode").alias("first_mode"),
        "weekdays",
    )
    return (
        paths.with_columns(pl.col("path").str.split(PATH_SEP).list.get(1).alias("hop"))
        .join(first, on=["origin", "hop", "first_mode"], how="left")
        .with_columns(pl.col("weekdays").fill_null("1111111"))
        .sort("origin", "destination", "path")
    )


def _weekday_flags(weekdays: pl.Series) -> np.ndarray:
    """``flags[i, d]``: lane ``i`` departs on weekday ``d`` (Monday = 0)."""
    kinds = weekdays.unique().sort()
    table = np.array(
        [[ch == "1" for ch in w.ljust(7, "1")[:7]] for w in kinds], dtype=bool
    ).reshape(-1, 7)
    return np.asarray(table[weekdays.cast(pl.Enum(kinds.to_list())).to_physical().to_numpy()])


def build_grid(
    *,
    nodes: pl.DataFrame,
    lanes: pl.DataFrame,
    calendar: pl.DataFrame | None,
    dests: list[str],
    day0: int,
    horizon: int,
    confidence: float,
) -> Grid:
    """Compute the promise grid for ship days ``day0 .. day0 + horizon - 1``.

    Parameters
    ----------
    nodes, lanes, calendar
        Validated input tables (calendar optional: every node works every day).
    dests
        Destination node ids, in the order used for the pair index.
    day0
        Epoch day of index 0 (the first order day).
    horizon
        Number of ship days ``T`` on the axis.
    confidence
        Service level ``c`` of the promised date.
    """
    fcs = sorted(nodes.filter(pl.col("kind") == "fc")["node"].to_list())
    n_f, n_g, n_t = len(fcs), len(dests), horizon
    paths = promise_paths(nodes, lanes, fcs, dests)
    f_idx = codes(paths["origin"], fcs)
    g_idx = codes(paths["destination"], dests)
    pg = f_idx * n_g + g_idx
    mu = paths["transit_days"].to_numpy() + paths["departure_hour"].to_numpy() / 24.0
    sd = paths["transit_sd"].to_numpy()
    z = z_value(confidence)
    span = int(np.ceil(mu.max() + z * sd.max())) if paths.height else 0
    n_d = n_t + max(span, 0) + PAD_DAYS
    cause = f"orders: {n_t:,} ship days from the first order day {_date(day0)}"
    check_grid({"paths": paths.height, "ship days": n_t}, cause=cause)
    if paths.height:
        slow = paths["path"][int(np.argmax(mu + z * sd))]
        check_grid(
            {"destinations": n_g, "delivery days": n_d},
            cause=f"lanes: path {slow} takes {fmt_count(span)} days at this confidence",
        )
    deliver_next = _next_true(_calendar_mask(calendar, dests, "delivery", day0, n_d))
    pickup = _calendar_mask(calendar, fcs, "pickup", day0, n_t)
    weekday = (day0 + np.arange(n_t) + _EPOCH_WEEKDAY) % 7
    departs = pickup[f_idx] & _weekday_flags(paths["weekdays"])[:, weekday]
    m = np.arange(n_t)[None, :] + mu[:, None]
    has_sd = sd[:, None] > 0
    d0 = np.where(has_sd, np.ceil(m + z * sd[:, None] - 1 - 1e-9), np.floor(m)).astype(np.int64)
    d0 = np.clip(np.maximum(d0, np.arange(n_t)[None, :]), 0, n_d - 1)  # not before shipping
    date = deliver_next[g_idx[:, None], d0]
    with np.errstate(divide="ignore", invalid="ignore"):
        prob = np.where(
            has_sd, normal_cdf((date + 1 - m) / np.where(has_sd, sd[:, None], 1.0)), 1.0
        )
    cost = paths["cost_per_unit"].to_numpy()
    tie = 1e-4 * cost / (cost.max() + 1.0) if paths.height else cost
    key = np.where(departs & (date < n_d), date + 0.5 * (1 - prob) + tie[:, None], np.inf)
    best_path = _best_per_pair(key, pg, n_f * n_g)
    pair_key = np.where(best_path >= 0, _gather(key, best_path), np.inf)
    return Grid(
        day0=day0,
        fcs=tuple(fcs),
        dests=tuple(dests),
        cutoff=_node_int(nodes, fcs, "cutoff_hour", _NO_CUTOFF),
        proc=_node_int(nodes, fcs, "processing_days", 0).astype(np.int64),
        capacity=_node_int(nodes, fcs, "daily_capacity", np.inf),
        key=pair_key,
        date=_gather(date, best_path).astype(np.int64),
        prob=_gather(prob, best_path),
        path=best_path,
        arg=_suffix_argmin(pair_key),
        has_path=np.bincount(pg, minlength=n_f * n_g) > 0
        if paths.height
        else np.zeros(n_f * n_g, dtype=bool),
        deliver_next=deliver_next,
        path_names=tuple(paths["path"].to_list()),
        path_modes=tuple(paths["modes"].to_list()),
        path_offset=mu,
        path_sd=sd,
    )


def _best_per_pair(key: np.ndarray, pg: np.ndarray, n_pairs: int) -> np.ndarray:
    """``out[pair, t]``: the path with the least key among the pair's paths (-1 when none)."""
    n_t = key.shape[1]
    if key.shape[0] == 0:
        return np.full((n_pairs, n_t), -1, dtype=np.int64)
    order = np.argsort(pg, kind="stable")
    sorted_pg = pg[order]
    first = np.searchsorted(sorted_pg, sorted_pg, side="left")
    slot = np.empty_like(pg)
    slot[order] = np.arange(len(pg)) - first
    n_slots = int(slot.max()) + 1
    check_grid(
        {"FC-destination pairs": n_pairs, "paths per pair": n_slots, "ship days": n_t},
        cause="lanes: the paths between each FC and destination",
    )
    dense = np.full((n_pairs, n_slots, n_t), np.inf)
    dense[pg, slot] = key
    ids = np.full((n_pairs, n_slots), -1, dtype=np.int64)
    ids[pg, slot] = np.arange(len(pg))
    best_slot = np.argmin(dense, axis=1)
    best_key = np.take_along_axis(dense, best_slot[:, None, :], axis=1)[:, 0, :]
    best = np.take_along_axis(ids, best_slot, axis=1)
    return np.where(np.isfinite(best_key), best, -1)


def _gather(values: np.ndarray, best: np.ndarray) -> np.ndarray:
    """``values[best[pair, t], t]`` (the row of path -1 is read as path 0; callers mask it)."""
    t = np.arange(best.shape[1])[None, :]
    if values.shape[0] == 0:
        return np.zeros(best.shape, dtype=values.dtype)
    return np.asarray(values[np.maximum(best, 0), t])


def _suffix_argmin(key: np.ndarray) -> np.ndarray:
    """``out[pair, r]``: the earliest ``t >= r`` with the least ``key[pair, t]`` (T when none)."""
    n_t = key.shape[1]
    suffix = np.minimum.accumulate(key[:, ::-1], axis=1)[:, ::-1]
    record = np.isfinite(key) & (key <= suffix)
    return _next_true(record) if n_t else np.zeros(key.shape, dtype=np.int64)


def class_tables(grid: Grid, *, n_days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FC preference per (order day, cut-off class, destination), for the rank search.

    Returns ``cuts`` (sorted distinct cut-off hours; the class of an order hour ``h`` is
    ``searchsorted(cuts, h, 'right')``), ``rank[cid, k]`` (the FC in ``k``-th place) and
    ``lower[cid, k]`` (its key with stock on hand: a lower bound on any key that FC can reach),
    with ``cid = (day * n_classes + class) * G + g``.
    """
    cuts = np.unique(grid.cutoff[grid.cutoff < _NO_CUTOFF])
    n_c, n_g, n_f = len(cuts) + 1, len(grid.dests), len(grid.fcs)
    check_grid(
        {"order days": n_days, "cut-off classes": n_c, "destinations": n_g, "FCs": n_f},
        cause=f"orders: column order_time spans {n_days:,} days from {_date(grid.day0)}",
    )
    hours = np.concatenate([[-1.0], cuts])
    after = (grid.cutoff[None, :] <= hours[:, None]).astype(np.int64)
    release = np.arange(n_days)[:, None, None] + after[None, :, :] + grid.proc[None, None, :]
    pg = np.arange(n_f)[None, :] * n_g + np.arange(n_g)[:, None]
    rel = np.broadcast_to(release[:, :, None, :], (n_days, n_c, n_g, n_f))
    pgb = np.broadcast_to(pg[None, None], rel.shape)
    ship = grid.best(pgb.reshape(-1), rel.reshape(-1)).reshape(rel.shape)
    key = np.full(rel.shape, np.inf)
    ok = ship < grid.horizon
    key[ok] = grid.key[pgb[ok], ship[ok]]
    rank = np.argsort(key, axis=-1, kind="stable")
    lower = np.take_along_axis(key, rank, axis=-1)
    rows = n_days * n_c * n_g
    return cuts, rank.reshape(rows, n_f), lower.reshape(rows, n_f)
