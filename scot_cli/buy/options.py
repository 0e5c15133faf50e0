"""The options and result of :func:`scot_cli.buy.plan_buy`: what a run is asked, what it
returns, and the summary a person reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from scot_cli.options import Options, between, positive, probability

from .registry import DISTRIBUTIONS, POLICIES, SERVICE_TYPES, SOLVERS, SPREAD_FLOORS

#: Longest review period (ten years).
MAX_REVIEW_DAYS = 3_660.0


@dataclass(frozen=True, kw_only=True)
class BuyOptions(Options):
    """Options of :func:`plan_buy` (the command's options, recorded as run parameters).

    Fields follow the command's flags (``review_days`` is ``--review-days``); each is
    checked on construction and an error names the field.
    """

    policy: str = "auto"
    distribution: str = "auto"
    service_level: float | None = None
    service_type: str = "cycle"
    default_service_level: float = 0.95
    review_days: float = 7.0
    as_of: dt.date | None = None
    budget: float | None = None
    storage: float | None = None
    solver: str = "highs"
    spread_floor: str = "auto"

    def check(self) -> None:
        POLICIES.check(self.policy)
        DISTRIBUTIONS.check(self.distribution)
        SERVICE_TYPES.check(self.service_type)
        SOLVERS.check(self.solver)
        SPREAD_FLOORS.check(self.spread_floor)
        probability("service_level", self.service_level)
        probability("default_service_level", self.default_service_level)
        positive("review_days", self.review_days)
        between("review_days", self.review_days, 0, MAX_REVIEW_DAYS)
        positive("budget", self.budget)
        positive("storage", self.storage)


def check_options(o: BuyOptions) -> None:
    """Deprecated: :class:`BuyOptions` checks itself when built (kept for one release)."""
    o.check()


@dataclass(frozen=True)
class BuySummary:
    """What a person reads after a run: counts, units and the binding limit, if any."""

    rows: int
    orders: int
    units: float
    unplanned: int
    as_of: dt.date
    binding: str | None = None
    shadow_price: float | None = None

    def lines(self) -> list[str]:
        """The summary as text lines (nothing unknown is printed as None)."""
        line = (
            f"plan-buy: {self.rows:,} sku rows: {self.orders:,} orders "
            f"({self.units:,.0f} units), {self.unplanned:,} unplanned; as of {self.as_of}"
        )
        if self.binding is not None:
            line += f"; {self.binding} binds"
            if self.shadow_price is not None:
                line += f" (shadow price {self.shadow_price:.4g} per unit)"
        return [line]

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True)
class BuyResult:
    """The outputs of :func:`plan_buy`: purchase orders, the policy table and a summary."""

    orders: pl.DataFrame
    policy: pl.DataFrame
    summary: BuySummary


#: The earlier name of :class:`BuyResult`.
BuyPlan = BuyResult


def summarise(orders: pl.DataFrame, policy: pl.DataFrame, as_of: dt.date) -> BuySummary:
    status = orders.get_column("status")
    placed = status == "order"
    bound = policy.get_column("binding_constraint").drop_nulls()
    price = policy.get_column("shadow_price").drop_nulls()
    return BuySummary(
        rows=orders.height,
        orders=int(placed.sum()),
        units=float(orders.get_column("qty").filter(placed).sum() or 0.0),
        unplanned=int((status == "unplanned").sum()),
        as_of=as_of,
        binding=str(bound[0]) if bound.len() else None,
        shadow_price=float(price[0]) if price.len() else None,
    )
