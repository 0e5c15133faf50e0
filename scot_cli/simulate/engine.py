"""The day loop: receive, fulfil, hold, review, over arrays of skus x FCs x regions.

Each simulated day ``t``:

1. buys due on ``t`` and yesterday's transfers arrive at their FC;
2. the day's demand per sku and region is fulfilled by a :class:`Fulfiller`: in a
   simulation, scot's promise and route decisions (:mod:`scot_cli.simulate.fulfil`); a
   customer not served does not buy (lost sale) or, with ``backorder``, waits;
3. stock left at the end of the day is held (holding cost);
4. on a review day the policy decides buys per FC (arriving after a sampled lead time plus
   the vendor-to-FC transit) and transfers between FCs (arriving the next day).

Everything is vectorised across skus: the Python loop runs over days.
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

from .fulfil import FILL_MEASURES, TRUCK_MEASURES, Fill, empty_fill
from .world import World

Array = NDArray[np.float64]

#: Standard normal quantile of the promise confidence (90%).
PROMISE_Z = 1.2815515655446004

#: Per-region daily measures, in the trace's last axis (the fill's measures in the middle).
REGION_MEASURES = (
    "demand",
    "served",
    "lost",
    "backordered",
    *FILL_MEASURES,
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
    *TRUCK_MEASURES,
)
_FILL = slice(4, 4 + len(FILL_MEASURES))
_TRUCKS = slice(6, 6 + len(TRUCK_MEASURES))


class Fulfiller(Protocol):
    """Anything that fulfils a day's demand from the stock on hand."""

    def fulfil(self, day: int, asked: list[Array], on_hand: Array, z: Array) -> Fill:
        """Serve ``asked`` (tranches in priority order, (skus, regions) units) from
        ``on_hand`` (skus, FCs); ``z`` (FCs, regions) are the day's transit deviations."""
        ...


@dataclass
class StockOnly:
    """Fulfilment of a network with one FC and one region, where there is no choice to
    make: the FC ships ``min(stock, asked)``, tranches in order, delivered in the path's
    mean transit (the textbook setting :mod:`scot_cli.simulate.theory` validates)."""

    world: World

    def __post_init__(self) -> None:
        if self.world.path_days.shape != (1, 1):
            raise ScotError("StockOnly fulfils a network of one FC and one region only")

    def fulfil(self, day: int, asked: list[Array], on_hand: Array, z: Array) -> Fill:
        fill = empty_fill(self.world, len(asked))
        left = on_hand[:, 0].copy()
        for p, want in enumerate(asked):
            got = np.minimum(want[:, 0], left)
            left -= got
            fill.served[p][:, 0] = got
        fill.shipped[:, 0] = on_hand[:, 0] - left
        units = float(fill.shipped.sum())
        days = float(self.world.path_days[0, 0])
        fill.region[0, :5] = [units * (days <= 1), units * (days <= 2), units, units, 0.0]
        return fill


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
    lead_scale: float = 1.0
    backorder: bool = False
    open_fc: NDArray[np.bool_] | None = None


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
    fulfiller: Fulfiller | None = None,
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
    fulfiller
        Who serves each day's demand (default :class:`StockOnly`, for one FC and one
        region; a simulation passes scot's promise and route,
        :class:`scot_cli.simulate.fulfil.DecisionFill`).
    settings
        Review period, lead-time scale, backorders, open FCs.
    """
    s = settings or Settings()
    days, n_sku, n_reg = demand.shape
    n_fc = len(world.fcs)
    open_fc = np.ones(n_fc, dtype=bool) if s.open_fc is None else s.open_fc
    serve = fulfiller if fulfiller is not None else StockOnly(world)
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
        asked = [backlog, new] if s.backorder else [new]
        fill = serve.fulfil(t, asked, on_hand, transit_z[t])
        violations.extend(fill.violations)
        if (fill.shipped > on_hand).any() or (fill.shipped < 0).any():
            raise ScotError(f"simulation: day {t}: fulfilment shipped more than the stock held")
        on_hand = on_hand - fill.shipped
        served_new = fill.served[-1]
        unmet = new - served_new
        if s.backorder:
            backlog = backlog - fill.served[0] + unmet
            lost = np.zeros_like(unmet)
        else:
            lost = unmet
        region[t, :, 0] = new.sum(axis=0)
        region[t, :, 1] = served_new.sum(axis=0)
        region[t, :, 2] = lost.sum(axis=0)
        region[t, :, 3] = unmet.sum(axis=0) if s.backorder else 0.0
        region[t, :, _FILL] = fill.region
        region[t, :, -1] = lost.T @ world.lost_unit_cost
        shipped = fill.shipped
        shipped_total += float(shipped.sum())
        fcm[t, :, 2] = shipped.sum(axis=0)
        fcm[t, :, 0] = on_hand.sum(axis=0)
        fcm[t, :, 5] = world.holding_per_day @ on_hand
        fcm[t, :, _TRUCKS] = fill.fc
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
