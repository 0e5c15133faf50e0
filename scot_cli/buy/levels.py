"""Policy levels for a batch of SKU rows: pick the policy and demand model, set the levels.

Rows are grouped by (policy, demand model) and each group is computed with the vectorised
functions of :mod:`scot_cli.buy.policies`; there are at most a dozen groups, never a loop per
SKU.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from numpy.typing import NDArray

from .disruptions import disrupted_level, eoqd_quantity
from .distributions import Array, Distribution, Normal, Poisson, QuantileShaped, shaped_mean
from .lot_size import wagner_whitin_batch
from .policies import (
    BATCHING_RATIO,
    Levels,
    eoq_quantity,
    fill_rate_level,
    periodic_levels,
    rq_eil,
    rq_levels,
    rq_unit_short,
)
from .registry import DISTRIBUTIONS, POLICIES
from .rq_poisson import rq_poisson
from .ss_exact import EXACT_WIDTH, ss_levels, windows

#: Below this mean, a flat forecast is modelled as Poisson by the auto demand model.
POISSON_BELOW = 30.0
#: The auto policy prices (s,S) exactly where Zheng & Federgruen's window is at most this
#: many units wide (the work per sku grows with the square of the width), and by the power
#: approximation elsewhere.
AUTO_EXACT_WIDTH = 60

Index = NDArray[np.int64]


@dataclass(frozen=True)
class Interval:
    """Demand over one interval for every row: mean, spread and quantile knots."""

    mean: Array
    sd: Array
    knots: Array | None = None
    z: Array | None = None
    #: Periods whose spread the Poisson floor raised, per row (None: not counted).
    floored: Array | None = None

    @property
    def shaped_mean(self) -> Array:
        """Mean of the quantile-shaped demand of every row (needs ``knots``)."""
        return self.shaped_means(np.arange(self.mean.size))

    @functools.cached_property
    def _shaped(self) -> tuple[Array, NDArray[np.bool_]]:
        """The quantile-shaped means found so far, and which rows they are known for."""
        return np.full(self.mean.size, np.nan), np.zeros(self.mean.size, dtype=bool)

    def shaped_means(self, idx: Index) -> Array:
        """Mean of the quantile-shaped demand of rows ``idx``, each row's found once and
        only when asked for (a pass over the row's knots; the mean of a row depends on
        its own knots alone, so it is the same found alone or with all rows)."""
        assert self.knots is not None and self.z is not None
        values, known = self._shaped
        todo = idx[~known[idx]]
        if todo.size == self.mean.size:
            values[:] = shaped_mean(self.z, self.knots)
            known[:] = True
        elif todo.size:
            values[todo] = shaped_mean(self.z, self.knots, todo)
            known[todo] = True
        return values[idx]

    def dist(self, kind: str, idx: Index) -> Distribution:
        if kind == "poisson":
            return Poisson(self.mean[idx])
        if kind == "empirical" and self.knots is not None and self.z is not None:
            return QuantileShaped(self.z, self.knots[idx], known_mean=self.shaped_means(idx))
        return Normal(self.mean[idx], self.sd[idx])


@dataclass
class Rows:
    """Per-row economics and targets of the SKUs being planned (arrays of equal length).

    ``p`` is the shortage cost per unit (NaN when a service target is used instead) and
    ``target`` the service target (NaN when ``p`` is given).
    """

    h: Array
    p: Array
    target: Array
    K: Array
    review: Array
    protection: Interval
    lead: Interval
    #: Demand over one review period (the exact (s,S) policy's period demand).
    period: Interval | None = None
    #: Order quantity under quantity discounts (NaN where the sku has none).
    discount_batch: Array | None = None
    #: Mean demand per forecast period, shape ``(n, T)`` (lot sizing), and its days.
    schedule: Array | None = None
    step: int = 1
    horizon: Interval | None = None
    horizon_days: Array | None = None
    overage: Array | None = None
    underage: Array | None = None
    service_type: str = "cycle"
    extras: dict[str, Array] = field(default_factory=dict)
    #: Supplier disruptions and recoveries per day (:mod:`scot_cli.buy.disruptions`; 0 and
    #: inf where the item has none), or None when no item has any.
    disruption: tuple[Array, Array] | None = None
    #: Zheng & Federgruen's windows ``(a, y*, b)`` of Poisson rows the auto policy searched
    #: (NaN elsewhere; :func:`choose_policy`), found again by no one.
    poisson_windows: tuple[Array, Array, Array] | None = None

    @property
    def n(self) -> int:
        return int(self.h.size)

    @functools.cached_property
    def lam(self) -> Array:
        """Mean demand per day over the protection interval."""
        days = self.extras["protection_days"]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(days > 0, self.protection.mean / days, 0.0)


class Labels:
    """One name per row, held as small integer codes into a vocabulary.

    A million numpy strings are slow to build, compare and hand to polars; codes are not.
    """

    def __init__(self, codes: NDArray[np.uint8], vocab: Sequence[str]) -> None:
        self.codes = codes
        self.vocab = tuple(vocab)

    @classmethod
    def full(cls, n: int, name: str, vocab: Sequence[str]) -> Labels:
        """Every row ``name``."""
        return cls(np.full(n, list(vocab).index(name), dtype=np.uint8), vocab)

    def code(self, name: str) -> int:
        return self.vocab.index(name)

    def is_(self, name: str) -> NDArray[np.bool_]:
        """Rows labelled ``name``."""
        return np.asarray(self.codes == self.code(name))

    def any_of(self, names: Sequence[str]) -> NDArray[np.bool_]:
        """Rows labelled with any of ``names``."""
        return np.isin(self.codes, [self.code(n) for n in names])

    def column(self, name: str) -> pl.Series:
        """A polars string column of the labels (a gather on a tiny series)."""
        return pl.Series(name, list(self.vocab), dtype=pl.String).gather(self.codes)


#: Vocabularies of the policy and demand-model labels.
POLICY_NAMES = tuple(POLICIES)
KIND_NAMES = tuple(DISTRIBUTIONS)


def choose_kind(rows: Rows, requested: str) -> Labels:
    """Demand model per row: the requested one, or the auto rule.

    auto: empirical when the quantile shape has spread and its own mean agrees with the
    forecast mean (within 10% of a standard deviation; lumpy forecasts whose mean lies above
    their upper quantile fail this), else Poisson below a mean of 30, else normal.
    """
    if requested != "auto":
        return Labels.full(rows.n, requested, KIND_NAMES)
    iv = rows.protection
    consistent = np.zeros(rows.n, dtype=bool)
    if iv.knots is not None and iv.z is not None and iv.knots.shape[1] >= 2:
        has_spread = iv.knots[:, -1] > iv.knots[:, 0]
        consistent = has_spread & (np.abs(iv.shaped_mean - iv.mean) <= 0.1 * iv.sd + 1e-9)
    code = KIND_NAMES.index
    codes = np.where(
        consistent,
        code("empirical"),
        np.where(iv.mean < POISSON_BELOW, code("poisson"), code("normal")),
    )
    return Labels(codes.astype(np.uint8), KIND_NAMES)


def choose_policy(rows: Rows, requested: str, kind: Labels | None = None) -> Labels:
    """Policy per row: the requested one, or the auto rule.

    auto: ``ss``, the exact Zheng-Federgruen search, for integer (Poisson) demand with a
    fixed order cost where the search window is at most :data:`AUTO_EXACT_WIDTH` units (it
    finds base stock, ``S = s + 1``, when that is optimal); otherwise ``base_stock`` when
    batching does not pay (the EOQ is at most 1.5 review periods of demand) and
    ``ss_power`` (the revised power approximation) when it does; ``ss_heuristic`` for
    skus with quantity discounts (its batch is the discount EOQ).
    """
    if requested != "auto":
        return Labels.full(rows.n, requested, POLICY_NAMES)
    eoq = eoq_quantity(rows.K, rows.h, rows.lam)
    batching = eoq > BATCHING_RATIO * rows.lam * rows.review
    code = POLICY_NAMES.index
    codes = np.where(batching, code("ss_power"), code("base_stock"))
    if kind is not None and rows.period is not None:
        # integer demand: the exact search where its window is narrow enough to price fast
        cand = np.flatnonzero((rows.K > 0) & kind.is_("poisson") & (rows.period.mean > 0))
        if cand.size:
            h, p, K = _ss_costs(rows, cand)
            a, y_star, b = windows(rows.protection.dist("poisson", cand), h, p, K)
            _keep_windows(rows, cand, (a, y_star, b))
            narrow = np.isfinite(b - a) & (b - a + 2 <= AUTO_EXACT_WIDTH)
            codes[cand[narrow]] = code("ss")
    if rows.discount_batch is not None:
        # quantity discounts set the batch of the EOQ + safety stock policy only
        priced = batching & np.isfinite(rows.discount_batch)
        codes = np.where(priced, code("ss_heuristic"), codes)
    return Labels(codes.astype(np.uint8), POLICY_NAMES)


def _keep_windows(rows: Rows, idx: Index, found: tuple[Array, Array, Array]) -> None:
    """Remember the Poisson windows of rows ``idx`` for :func:`_ss_exact`."""
    kept = tuple(np.full(rows.n, np.nan) for _ in found)
    for full, part in zip(kept, found, strict=True):
        full[idx] = part
    rows.poisson_windows = (kept[0], kept[1], kept[2])


def _ss_costs(rows: Rows, idx: Index) -> tuple[Array, Array, Array]:
    """Holding cost per review period, cost per unit short (given, or the one whose
    critical ratio is the service target) and fixed cost of the (s,S) rows ``idx``."""
    h = rows.h[idx] * rows.review[idx]
    target = np.clip(rows.target[idx], 1e-6, 1 - 1e-6)
    p = np.where(np.isfinite(rows.p[idx]), rows.p[idx], h * target / (1 - target))
    return h, p, rows.K[idx]


def _target_level(dist: Distribution, target: Array, cycle_demand: Array, fill: bool) -> Array:
    return fill_rate_level(dist, target, cycle_demand) if fill else dist.ppf(target)


def _periodic(rows: Rows, kind: str, idx: Index, *, batching: bool) -> tuple[Levels, Array]:
    dist = rows.protection.dist(kind, idx)
    h, p, review, lam = rows.h[idx], rows.p[idx], rows.review[idx], rows.lam[idx]
    batch = eoq_quantity(rows.K[idx], h, lam) if batching else np.zeros(idx.size)
    if batching and rows.discount_batch is not None:
        batch = np.where(np.isfinite(rows.discount_batch[idx]), rows.discount_batch[idx], batch)
    target = rows.target[idx]
    by_cost = np.isfinite(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(by_cost, p / (p + h * review), target)
    cycle = lam * np.maximum(review, np.where(lam > 0, batch / np.where(lam > 0, lam, 1), 0))
    fill = rows.service_type == "fill"
    s = dist.ppf(ratio)
    if fill and not by_cost.all():
        s = np.where(by_cost, s, fill_rate_level(dist, ratio, cycle))
    in_stock = np.clip(dist.cdf(s), 0.0, 1.0)
    if rows.disruption is not None:
        s, in_stock, batch = _disrupted(rows, idx, ratio, s, in_stock, batch, batching=batching)
    f = np.clip(in_stock, 1e-9, 1 - 1e-9)
    p_used = np.where(by_cost, p, h * review * f / (1 - f))
    levels = periodic_levels(
        dist,
        s,
        batch,
        h=h,
        p=p_used,
        K=rows.K[idx],
        lam=lam,
        review=review,
        in_stock=in_stock,
    )
    return levels, p_used


def _disrupted(
    rows: Rows,
    idx: Index,
    ratio: Array,
    s: Array,
    in_stock: Array,
    batch: Array,
    *,
    batching: bool,
) -> tuple[Array, Array, Array]:
    """Levels of the rows whose supplier can be disrupted (Snyder & Shen ch. 9): the
    base-stock level mixed over disruption lengths, and the EOQD batch."""
    assert rows.disruption is not None
    lam, mu = rows.disruption[0][idx], rows.disruption[1][idx]
    hit = np.flatnonzero((lam > 0) & np.isfinite(mu))
    if hit.size == 0:
        return s, in_stock, batch
    s, in_stock, batch = s.copy(), in_stock.copy(), batch.copy()
    at = idx[hit]
    review = rows.review[at]
    level, prob = disrupted_level(
        ratio[hit],
        rows.protection.mean[at],
        rows.protection.sd[at],
        lead=rows.extras["lead_days"][at],
        review=review,
        lam=lam[hit],
        mu=mu[hit],
    )
    s[hit], in_stock[hit] = level, prob
    if batching:
        h, target = rows.h[at], np.clip(rows.target[at], 1e-6, 1 - 1e-6)
        p = np.where(np.isfinite(rows.p[at]), rows.p[at], h * review * target / (1 - target))
        batch[hit] = eoqd_quantity(rows.K[at], h, p, rows.lam[at], lam[hit], mu[hit])
    return s, in_stock, batch


def _ss_exact(rows: Rows, kind: str, idx: Index, *, exact: bool = True) -> tuple[Levels, Array]:
    """Optimal (s,S) (:mod:`scot_cli.buy.ss_exact`): costs per review period, a service
    target turned into the shortage cost whose critical ratio it is; ``exact=False``: the
    power approximation for every row."""
    if rows.period is None:
        raise ValueError("the exact (s,S) policy needs the review-period demand")
    period = rows.period
    review = rows.review[idx]
    h, p, K = _ss_costs(rows, idx)

    every = np.arange(idx.size, dtype=np.int64)
    found: list[Distribution] = []

    def dists(sub: Index) -> tuple[Distribution, Distribution]:
        pair = period.dist(kind, idx[sub]), rows.protection.dist(kind, idx[sub])
        if not found and np.array_equal(sub, every):
            found.append(pair[1])  # the protection demand of every row, used again below
        return pair

    window = None
    if exact and kind == "poisson" and rows.poisson_windows is not None:
        a, y_star, b = (w[idx] for w in rows.poisson_windows)
        if np.isfinite(a).all() and np.isfinite(y_star).all() and np.isfinite(b).all():
            window = (a, y_star, b)  # found by choose_policy for the same h, p, K and demand
    lv = ss_levels(dists, idx.size, h, p, K, max_width=EXACT_WIDTH if exact else 0, window=window)
    prot = found[0] if found else rows.protection.dist(kind, idx)
    approx = periodic_levels(
        prot,
        lv.s,
        lv.S - lv.s,
        h=rows.h[idx],
        p=p,
        K=K,
        lam=rows.lam[idx],
        review=review,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        priced = lv.exact & (review > 0)
        levels = Levels(
            reorder_point=lv.s,
            order_up_to=lv.S,
            batch=lv.S - lv.s,
            fill_rate=approx.fill_rate,
            in_stock=approx.in_stock,
            holding=np.where(priced, lv.holding / review, approx.holding),
            shortage=np.where(priced, lv.shortage / review, approx.shortage),
            ordering=np.where(priced, lv.ordering / review, approx.ordering),
        )
    return levels, p


def _lot_size(rows: Rows, kind: str, idx: Index) -> tuple[Levels, Array]:
    """Wagner-Whitin on the forecast means net of the position (:mod:`scot_cli.buy.lot_size`):
    order now the plan's first lot when it is needed before an order placed at the next
    review could arrive."""
    if rows.schedule is None:
        raise ValueError("lot sizing needs the demand per forecast period")
    d = rows.schedule[idx]
    step = float(rows.step)
    lead, review = rows.extras["lead_days"][idx], rows.review[idx]
    position = rows.extras["position"][idx]
    ends = np.arange(1, d.shape[1] + 1)[None, :] * step  # last day of each period
    before = ends <= lead[:, None]  # periods over before an order placed now arrives
    during = d.sum(axis=1, where=before)
    left = np.maximum(position - during, 0.0)
    short = np.maximum(during - position, 0.0)
    after = np.where(before, 0.0, d)
    need = np.maximum(np.cumsum(after, axis=1) - left[:, None], 0.0)
    net = np.diff(need, axis=1, prepend=0.0)
    h, K = rows.h[idx] * step, rows.K[idx]
    plan = wagner_whitin_batch(net, K, h)
    window = (ends - step) < (lead + review)[:, None]  # needs before the next chance
    first = np.argmax(plan.qty > 0, axis=1)
    has = plan.qty[np.arange(idx.size), first] > 0
    now = np.where(
        has & window[np.arange(idx.size), first], plan.qty[np.arange(idx.size), first], 0
    )
    days = d.shape[1] * step
    p = np.nan_to_num(rows.p[idx], nan=0.0)
    total = d.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = np.where(total > 0, 1 - short / total, 1.0)
    levels = Levels(
        reorder_point=d.sum(axis=1, where=window),
        order_up_to=position + now,
        batch=now,
        fill_rate=np.clip(fill, 0, 1),
        in_stock=(short <= 0).astype(float),
        holding=(plan.cost - K * plan.orders) / days,
        shortage=p * short / days,
        ordering=K * plan.orders / days,
    )
    return levels, rows.p[idx]


def _implied(dist: Distribution, level: Array, over: Array) -> Array:
    """Shortage cost per unit for which ``level`` is the critical fractile."""
    f = np.clip(dist.cdf(level), 1e-9, 1 - 1e-9)
    return np.asarray(over * f / (1 - f), dtype=np.float64)


def _rq(rows: Rows, kind: str, idx: Index) -> tuple[Levels, Array]:
    """``rq``: exact for Poisson lead-time demand (:mod:`scot_cli.buy.rq_poisson`) where the
    demand model is Poisson and a stock-out cost is given, else the normal exact cost."""
    if kind != "poisson":
        return _continuous(rows, idx, exact=True)
    h, p, K, lam = rows.h[idx], rows.p[idx], rows.K[idx], rows.lam[idx]
    mu = rows.lead.mean[idx]
    best = rq_poisson(mu, h, p, K, lam)
    dist = Poisson(mu)
    levels = Levels(
        reorder_point=best.r,
        order_up_to=best.r + best.q,
        batch=best.q,
        fill_rate=np.clip(
            np.where(
                best.q > 0,
                1 - (dist.loss(best.r) - dist.loss(best.r + best.q)) / np.maximum(best.q, 1e-12),
                1.0,
            ),
            0,
            1,
        ),
        in_stock=np.clip(dist.cdf(best.r), 0, 1),
        holding=best.holding,
        shortage=best.shortage,
        ordering=best.ordering,
    )
    return levels, p


def _continuous(rows: Rows, idx: Index, *, exact: bool) -> tuple[Levels, Array]:
    dist = Normal(rows.lead.mean[idx], rows.lead.sd[idx])
    h, p, K, lam = rows.h[idx], rows.p[idx], rows.K[idx], rows.lam[idx]
    by_cost = np.isfinite(p)
    r, q = np.zeros(idx.size), eoq_quantity(K, h, lam)
    if by_cost.any():
        c = np.flatnonzero(by_cost)
        solve = rq_unit_short if exact else rq_eil
        rc, qc = solve(Normal(dist.mu[c], dist.sigma[c]), h[c], p[c], K[c], lam[c])
        r[c], q[c] = rc, qc
    if (~by_cost).any():
        t = np.flatnonzero(~by_cost)
        sub = Normal(dist.mu[t], dist.sigma[t])
        r[t] = _target_level(sub, rows.target[idx][t], q[t], rows.service_type == "fill")
    q = np.where(rows.lam[idx] > 0, np.maximum(q, 1e-9), 0.0)  # no demand, no batch
    with np.errstate(divide="ignore", invalid="ignore"):
        p_used = np.where(by_cost, p, _implied(dist, r, h * q / np.maximum(lam, 1e-12)))
    return rq_levels(dist, r, q, h=h, p=p_used, K=K, lam=lam), p_used


def _newsvendor(rows: Rows, kind: str, idx: Index) -> tuple[Levels, Array]:
    if rows.horizon is None or rows.overage is None or rows.underage is None:
        raise ValueError("newsvendor needs the horizon interval and over/underage costs")
    assert rows.horizon_days is not None
    dist = rows.horizon.dist(kind, idx)
    co, cu, days = rows.overage[idx], rows.underage[idx], rows.horizon_days[idx]
    target = rows.target[idx]
    by_cost = np.isfinite(rows.p[idx]) | np.isnan(target)
    ratio = np.where(by_cost, cu / (cu + co), target)
    s = dist.ppf(ratio)
    loss = dist.loss(s)
    mean = dist.mean
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = np.where(mean > 0, 1 - loss / mean, 1.0)
    levels = Levels(
        reorder_point=s,
        order_up_to=s,
        batch=np.zeros(idx.size),
        fill_rate=np.clip(fill, 0, 1),
        in_stock=np.clip(dist.cdf(s), 0, 1),
        holding=co * np.maximum(s - mean + loss, 0) / days,
        shortage=cu * loss / days,
        ordering=rows.K[idx] / days,
    )
    return levels, np.where(by_cost, cu, _implied(dist, s, co))


Solver = Callable[[Rows, str, Index], tuple[Levels, Array]]

_SOLVERS: dict[str, Solver] = {
    "base_stock": lambda rows, kind, idx: _periodic(rows, kind, idx, batching=False),
    "ss": _ss_exact,
    "ss_power": lambda rows, kind, idx: _ss_exact(rows, kind, idx, exact=False),
    "ss_heuristic": lambda rows, kind, idx: _periodic(rows, kind, idx, batching=True),
    "lot_size": _lot_size,
    "rq": _rq,
    "rq_eil": lambda rows, kind, idx: _continuous(rows, idx, exact=False),
    "newsvendor": _newsvendor,
}

#: Policies whose levels always use a normal lead-time demand (rq: unless Poisson).
NORMAL_ONLY = ("rq_eil",)


@dataclass(frozen=True)
class LevelTable:
    """Levels for every row plus the shortage cost used and the demand model of each row."""

    levels: Levels
    p_used: Array
    kind: Labels


def compute_levels(
    rows: Rows,
    policy: Labels,
    kind: Labels,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> LevelTable:
    """Levels for all rows, one vectorised call per (policy, demand model) group."""
    normal = kind.code("normal")
    # rq is exact for Poisson demand with a stock-out cost; otherwise its demand is normal
    rq = policy.is_("rq") & ((kind.codes != kind.code("poisson")) | ~np.isfinite(rows.p))
    to_normal = policy.any_of(NORMAL_ONLY) | rq
    kind = Labels(np.where(to_normal, normal, kind.codes).astype(np.uint8), kind.vocab)
    out = {name: np.full(rows.n, np.nan) for name in Levels.__dataclass_fields__}
    p_used = np.full(rows.n, np.nan)
    by_policy = {name: policy.is_(name) for name in _SOLVERS}
    by_kind = {name: kind.is_(name) for name in ("normal", "poisson", "empirical")}
    masks = {(pol, knd): pm & km for pol, pm in by_policy.items() for knd, km in by_kind.items()}
    groups = [key for key, mask in masks.items() if mask.any()]
    done = 0
    for pol, knd in groups:
        idx = np.flatnonzero(masks[(pol, knd)])
        levels, p = _SOLVERS[pol](rows, knd, idx)
        for name, values in out.items():
            values[idx] = getattr(levels, name)
        p_used[idx] = p
        done += idx.size
        if progress is not None:
            progress(done, rows.n)
    return LevelTable(Levels(**out), p_used, kind)
