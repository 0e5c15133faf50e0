"""The day loop: receive, fulfil, hold, review, over arrays of skus x FCs x regions.

Each simulated day ``t``:

1. buys due on ``t`` and yesterday's transfers arrive at their FC;
2. the day's demand per sku and region is fulfilled, region by region (rotating which
   region goes first), each from its FCs fastest first, among those whose promise (the
   path's transit at 90% confidence, in whole days) is within ``max_promise_days``; a
   customer offered no such FC does not buy (lost sale) or, with ``backorder``, waits;
3. stock left at the end of the day is held (holding cost);
4. on a review day the policy decides buys per FC (arriving after a sampled lead time plus
   the vendor-to-FC transit) and transfers between FCs (arriving the next day).

Everything is vectorised across skus: the Python loops run over days, regions and FCs.
Conservation is checked exactly at the end of every run: units bought = received + in
transit; demand = served + lost + backordered; stock = start + received - shipped.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from scot_cli.errors import ScotError

from .world import World

Array = NDArray[np.float64]

#: Standard normal quantile of the promise confidence (90%).
PROMISE_Z = 1.2815515655446004

#: Per-region daily measures, in the trace's last axis.
REGION_MEASURES = (
    "demand",
    "served",
    "lost",
    "backordered",
    "served_1day",
    "served_2day",
    "promises_kept",
    "lines",
    "split_lines",
    "shipping_cost",
    "lost_sales_cost",
)
#: Per-FC daily measures.
FC_MEASURES = (
    "on_hand",
    "received",
    "shipped",
    "bought",
    "transfer_in",
    "holding_cost",
    "trucks",
    "truck_volume",
    "truck_capacity",
)


@dataclass(frozen=True)
class View:
    """What a policy sees at a review (arrays are read-only snapshots).

    ``recent`` is the demand per sku and region over the last ``window`` days (history
    before the first day included); ``pipeline`` the units bought or moving, not yet
    received, per sku and FC.
    """

    day: int
    date: dt.date
    on_hand: Array
    pipeline: Array
    backlog: Array
    recent: Array
    window: int
    past: Callable[[], Array]


@dataclass(frozen=True)
class Decision:
    """A review's decision: units to buy per sku and FC, and net transfers per sku and FC
    (positive in, negative out; each sku's row sums to zero)."""

    buy: Array
    transfer: Array | None = None


class Policy(Protocol):
    """Anything that decides at reviews."""

    name: str

    def review(self, view: View) -> Decision:
        """The buys and transfers of one review."""
        ...


@dataclass
class Trace:
    """Daily measures of one run: ``region[t, g, m]`` over :data:`REGION_MEASURES`,
    ``fc[t, f, m]`` over :data:`FC_MEASURES`, and the conservation totals."""

    region: Array
    fc: Array
    totals: dict[str, float] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Settings:
    """Run settings of the day loop (see the module docstring)."""

    review_days: int = 7
    max_promise_days: int = 5
    lead_scale: float = 1.0
    backorder: bool = False
    open_fc: NDArray[np.bool_] | None = None


def promise_days(world: World) -> Array:
    """Promised delivery days per (FC, region): the path's transit at 90% confidence,
    rounded up to whole days (at least 1); ``inf`` without a path."""
    days = np.ceil(world.path_days + PROMISE_Z * world.path_sd - 1e-9)
    return np.where(np.isfinite(world.path_days), np.maximum(days, 1.0), np.inf)


def _fulfil(req: Array, stock: Array, order: list[tuple[int, list[int]]]) -> tuple[Array, Array]:
    """Units taken per (sku, region, FC) and stock left: each region in ``order`` takes
    from its eligible FCs in turn, as much as they hold (vectorised across skus)."""
    take = np.zeros((req.shape[0], req.shape[1], stock.shape[1]))
    left = stock.copy()
    for g, fcs in order:
        rem = req[:, g].copy()
        for f in fcs:
            t = np.minimum(rem, left[:, f])
            take[:, g, f] = t
            left[:, f] -= t
            rem -= t
    return take, left


def _trucks(world: World, take: Array, out: Array) -> None:
    """Each FC's trucks on its first legs today: the volume shipped per leg packed into
    whole trucks (``trucks``, ``truck_volume``, ``truck_capacity`` in ``out[f, 6:9]``)."""
    if world.unit_volume is None or world.first_leg is None or world.leg_capacity is None:
        return
    legs = world.first_leg
    volume_fg = np.einsum("kgf,k->fg", take, world.unit_volume)
    ok = legs >= 0
    per_leg = np.zeros(len(world.leg_capacity))
    np.add.at(per_leg, legs[ok], volume_fg[ok])
    cap = world.leg_capacity
    trucks = np.where(cap > 0, np.ceil(per_leg / np.where(cap > 0, cap, 1.0) - 1e-9), 0.0)
    fc_of_leg = np.zeros(len(cap), dtype=np.int64)
    f_idx, _ = np.nonzero(ok)
    fc_of_leg[legs[ok]] = f_idx
    for col, values in ((6, trucks), (7, np.where(cap > 0, per_leg, 0.0)), (8, trucks * cap)):
        out[:, col] = np.bincount(fc_of_leg, weights=values, minlength=out.shape[0])


def _balanced(transfer: Array, on_hand: Array) -> tuple[Array, Array]:
    """(out, in) per sku and FC: outs capped at stock, ins cut to the units sent."""
    out = np.minimum(np.maximum(-transfer, 0.0), on_hand)
    want = np.maximum(transfer, 0.0)
    sent = out.sum(axis=1)
    asked = want.sum(axis=1)
    ratio = np.divide(sent, asked, out=np.zeros_like(sent), where=asked > 0)
    inn = np.floor(want * ratio[:, None] + 1e-9)
    short = sent - inn.sum(axis=1)
    top = np.argmax(want, axis=1)
    inn[np.arange(len(top)), top] += short
    return out, inn


def _past(demand: Array, days: int) -> Array:
    return demand[:days]


def run(
    world: World,
    demand: Array,
    lead_z: Array,
    transit_z: Array,
    policy: Policy,
    *,
    history: Array,
    settings: Settings | None = None,
) -> Trace:
    """Simulate ``policy`` over ``demand`` (days, skus, regions) and return its trace.

    Parameters
    ----------
    world
        The network arrays.
    demand
        Whole-unit demand per day, sku and region (the replication's draw).
    lead_z, transit_z
        Standard normals of lead times (reviews, skus) and transits (days, FCs, regions).
    history
        Demand per day, sku and region before the first day (oldest first): the
        policy's moving window starts from it.
    settings
        Review period, promise limit, lead-time scale, backorders, open FCs.
    """
    s = settings or Settings()
    days, n_sku, n_reg = demand.shape
    n_fc = len(world.fcs)
    open_fc = np.ones(n_fc, dtype=bool) if s.open_fc is None else s.open_fc
    promised = promise_days(world)
    eligible = (promised <= s.max_promise_days) & open_fc[:, None]
    fast = [(g, [int(f) for f in world.rank[g] if eligible[f, g]]) for g in range(n_reg)]
    arrivals = np.zeros((days + 1, n_sku, n_fc))
    due = np.minimum(world.transit_day, days)
    np.add.at(
        arrivals,
        (due.ravel(), np.repeat(np.arange(n_sku), n_fc), np.tile(np.arange(n_fc), n_sku)),
        world.in_transit.ravel(),
    )
    on_hand = world.on_hand.copy()
    pipeline = world.in_transit.copy()
    moving = np.zeros_like(on_hand)
    backlog = np.zeros((n_sku, n_reg))
    window = history.shape[0]
    ring = history.copy()
    recent = ring.sum(axis=0)
    region = np.zeros((days, n_reg, len(REGION_MEASURES)))
    fcm = np.zeros((days, n_fc, len(FC_MEASURES)))
    cost = world.path_cost
    start_stock = on_hand.sum()
    bought_total = world.in_transit.sum()
    received_total = 0.0
    shipped_total = 0.0
    violations: list[str] = []
    review = 0
    for t in range(days):
        got = arrivals[t]
        on_hand += got + moving
        pipeline -= got
        fcm[t, :, 1] = got.sum(axis=0)
        fcm[t, :, 4] = moving.sum(axis=0)
        received_total += float(got.sum())
        moving = np.zeros_like(moving)
        new = demand[t]
        req = new + backlog
        shift = t % n_reg
        order = fast[shift:] + fast[:shift]
        take, on_hand = _fulfil(req, on_hand, order)
        served_all = take.sum(axis=2)
        from_backlog = np.minimum(served_all, backlog)
        served_new = served_all - from_backlog
        unmet = new - served_new
        if s.backorder:
            backlog = backlog - from_backlog + unmet
            lost = np.zeros_like(unmet)
        else:
            lost = unmet
        actual = world.path_days + transit_z[t] * world.path_sd
        by_fg = take.sum(axis=0)  # (region, FC)
        units_fg = by_fg.T  # (FC, region)
        region[t, :, 0] = new.sum(axis=0)
        region[t, :, 1] = served_new.sum(axis=0)
        region[t, :, 2] = lost.sum(axis=0)
        region[t, :, 3] = (unmet.sum(axis=0)) if s.backorder else 0.0
        region[t, :, 4] = np.where(actual <= 1.0, units_fg, 0.0).sum(axis=0)
        region[t, :, 5] = np.where(actual <= 2.0, units_fg, 0.0).sum(axis=0)
        region[t, :, 6] = np.where(actual <= promised, units_fg, 0.0).sum(axis=0)
        region[t, :, 7] = (req > 0).sum(axis=0)
        region[t, :, 8] = ((take > 0).sum(axis=2) > 1).sum(axis=0)
        region[t, :, 9] = np.where(np.isfinite(cost), units_fg * cost, 0.0).sum(axis=0)
        region[t, :, 10] = lost.T @ world.lost_unit_cost
        shipped = take.sum(axis=1)
        shipped_total += float(shipped.sum())
        fcm[t, :, 2] = shipped.sum(axis=0)
        fcm[t, :, 0] = on_hand.sum(axis=0)
        fcm[t, :, 5] = world.holding_per_day @ on_hand
        _trucks(world, take, fcm[t])
        oldest = t % window
        recent += new - ring[oldest]
        ring[oldest] = new
        if t % s.review_days == 0:
            pipe = pipeline + moving
            view = View(
                day=t,
                date=world.start + dt.timedelta(days=t),
                on_hand=on_hand.copy(),
                pipeline=pipe,
                backlog=backlog.copy(),
                recent=recent.copy(),
                window=window,
                past=functools.partial(_past, demand, t + 1),
            )
            decision = policy.review(view)
            buy = np.maximum(np.round(decision.buy), 0.0)
            closed_buy = buy[:, ~open_fc].sum()
            if closed_buy > 0:
                violations.append(
                    f"day {t}: {closed_buy:,.0f} units bought for a closed FC, not placed"
                )
                buy[:, ~open_fc] = 0.0
            z = lead_z[min(review, lead_z.shape[0] - 1)]
            lead = np.maximum(np.rint((world.lead_mean + z * world.lead_sd) * s.lead_scale), 1.0)
            when = np.minimum(t + lead[:, None] + world.inbound_days, days).astype(np.int64)
            kk, ff = np.nonzero(buy)
            np.add.at(arrivals, (when[kk, ff], kk, ff), buy[kk, ff])
            pipeline += buy
            fcm[t, :, 3] = buy.sum(axis=0)
            bought_total += float(buy.sum())
            if decision.transfer is not None:
                out, inn = _balanced(np.round(decision.transfer), on_hand)
                on_hand -= out
                moving = inn
            review += 1
    in_transit = float(arrivals[days:].sum())
    totals = {
        "bought": bought_total,
        "received": received_total,
        "in_transit": in_transit,
        "demand": float(region[:, :, 0].sum()),
        "served": float(region[:, :, 1].sum()),
        "lost": float(region[:, :, 2].sum()),
        "backordered": float(region[:, :, 3].sum()),
        "backlog_end": float(backlog.sum()),
        "start_stock": float(start_stock),
        "end_stock": float(on_hand.sum() + moving.sum()),
        "shipped": shipped_total,
    }
    check_conservation(totals)
    return Trace(region=region, fc=fcm, totals=totals, violations=violations)


def check_conservation(totals: dict[str, float]) -> None:
    """Raise :class:`ScotError` unless the run's units balance exactly.

    Units bought (including those in transit at the start) = received + in transit at the
    end; demand = served + lost + backordered; stock on hand at the start + received -
    shipped = stock at the end (on hand or moving between FCs). All quantities are whole
    units held in doubles, so the sums are exact (below 2**53 units).
    """
    rules = {
        "bought = received + in transit": (
            totals["bought"],
            totals["received"] + totals["in_transit"],
        ),
        "demand = served + lost + backordered": (
            totals["demand"],
            totals["served"] + totals["lost"] + totals["backordered"],
        ),
        "stock at start + received - shipped = stock at end": (
            totals["start_stock"] + totals["received"] - totals["shipped"],
            totals["end_stock"],
        ),
    }
    for rule, (left, right) in rules.items():
        if left != right:
            raise ScotError(f"simulation: units do not balance: {rule}: {left} != {right}")
