"""The options of one simulation, and the named choices they draw from.

Plain data (no numpy, no polars) so ``scot simulate --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from scot_cli.options import OptionError, Options, at_least, between, positive, require
from scot_cli.registry import Registry

__all__ = [
    "DEMAND_SOURCES",
    "POLICIES",
    "REFORECAST",
    "ROUTE_DEFAULTS",
    "WHAT_IFS",
    "PolicySpec",
    "SimulateOptions",
]

#: Built-in policies; a policy may also be a named set of scot options (a TOML file).
POLICIES: Registry[str] = Registry(
    "policy",
    {
        "scot": "scot's chain: forecast, plan-buy per FC and place (transfers) at each review",
        "baseline": "order up to a fixed number of weeks of the moving-average demand, "
        "split by regional sales; nearest FC with stock fulfils",
    },
)

#: Route options each policy kind fulfils with by default: the baseline ships from the
#: nearest FC with stock (route's myopic rule); scot's policy uses a method fast enough to
#: run every simulated day.
ROUTE_DEFAULTS: dict[str, dict[str, Any]] = {
    "scot": {"method": "myopic", "time_limit": 1.0},
    "baseline": {"method": "myopic"},
}

#: What-if changes: key -> (value syntax, help).
WHAT_IFS: Registry[str] = Registry(
    "what_if",
    {
        "speed-target": "DAYS:SHARE: place's speed target (e.g. 1:0.8)",
        "lead-time": "xF: every item's lead time (and its spread) times F (e.g. x1.5)",
        "demand": "+P% or -P%, optionally :category=C or :sku=S (e.g. +20%:category=toys)",
        "close": "NODE: an FC closed for the whole horizon (its stock is out of reach)",
        "storage": "xF: every FC's storage capacity times F (e.g. x0.8)",
    },
)

#: When scot's policy forecasts again.
REFORECAST: Registry[str] = Registry(
    "reforecast",
    {
        "never": "one forecast from the history before the first day (fast)",
        "review": "a new forecast from history plus simulated demand at every review",
    },
)

#: Where daily demand comes from.
DEMAND_SOURCES: Registry[str] = Registry(
    "demand",
    {
        "forecast": "sampled from the forecast's quantiles (negative binomial per day)",
        "actuals": "replayed from held-back actual sales",
    },
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PolicySpec:
    """A policy to simulate: a built-in kind and, for ``scot``, option overrides.

    Attributes
    ----------
    name
        Label in the outputs (``scot``, ``baseline``, or a TOML file's ``name``).
    kind
        A name of :data:`POLICIES`.
    buy
        :class:`scot_cli.buy.BuyOptions` fields for scot's plan-buy.
    place
        Place option fields for scot's placement (``speed_target``, ``transfer_cost``...).
    promise
        :class:`scot_cli.promise.PromiseOptions` fields of the daily promise (``mode`` is
        always ``snapshot``: what a customer is shown).
    route
        :class:`scot_cli.route.RouteOptions` fields of the daily fulfilment (default
        :data:`ROUTE_DEFAULTS` of the policy's kind).
    transfers
        Whether scot's policy runs place at each review (False: plan-buy only, no
        transfers between FCs; for catalogues too large to place every review).
    """

    name: str
    kind: str
    buy: dict[str, Any] = dataclasses.field(default_factory=dict)
    place: dict[str, Any] = dataclasses.field(default_factory=dict)
    promise: dict[str, Any] = dataclasses.field(default_factory=dict)
    route: dict[str, Any] = dataclasses.field(default_factory=dict)
    transfers: bool = True

    def __post_init__(self) -> None:
        POLICIES.check(self.kind)
        require(bool(self.name), "policy", "a policy needs a non-empty name")
        require(
            self.promise.get("mode", "snapshot") == "snapshot",
            "policy",
            "the daily promise is a snapshot (what a customer is shown); drop promise.mode",
        )

    def route_fields(self) -> dict[str, Any]:
        """The route options of this policy: its kind's defaults, then its own."""
        return {**ROUTE_DEFAULTS[self.kind], **self.route}

    @classmethod
    def parse(cls, value: str | PolicySpec | dict[str, Any]) -> PolicySpec:
        """A spec from a built-in name, a spec, or a mapping (a parsed TOML file:
        ``name``, ``policy`` (default ``scot``), ``[buy]``, ``[place]``, ``[promise]`` and
        ``[route]`` tables)."""
        if isinstance(value, PolicySpec):
            return value
        if isinstance(value, str):
            POLICIES.check(value)
            return cls(name=value, kind=value)
        kind = str(value.get("policy", value.get("kind", "scot")))
        known = ("name", "policy", "kind", "buy", "place", "promise", "route", "transfers")
        unknown = set(value) - set(known)
        require(
            not unknown,
            "policy",
            f"unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(known)})",
        )
        return cls(
            name=str(value.get("name", kind)),
            kind=kind,
            buy=dict(value.get("buy", {})),
            place=dict(value.get("place", {})),
            promise=dict(value.get("promise", {})),
            route=dict(value.get("route", {})),
            transfers=bool(value.get("transfers", True)),
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SimulateOptions(Options):
    """Options of :func:`scot_cli.simulate.simulate`.

    Attributes
    ----------
    days
        Simulated days (the horizon, from the day after the history ends).
    replications
        Independent replications; every policy and scenario sees the same random streams
        in a replication (common random numbers).
    seed
        Seed of the random streams.
    policies
        Policy names (:data:`POLICIES`) or specs; the first is the reference of differences.
    what_ifs
        ``KEY=VALUE`` changes (:data:`WHAT_IFS`); each is one scenario run besides the base.
    review_days
        Days between reviews (buying and placing).
    reforecast
        A name of :data:`REFORECAST`.
    max_promise_days
        A customer shown a delivery later than this many days does not buy (lost sale).
    substitution_share
        Share of the customers who do not buy a sku that buy its ``substitute_sku``
        (items column) instead; an items column ``substitute_share`` overrides it per sku.
    baseline_weeks
        Weeks of moving-average demand the baseline orders up to.
    moving_average_days
        Days of demand the baseline's moving average spans.
    max_cells
        Most simulated state cells (replications x days x skus x nodes) allowed, checked
        before any array is allocated.
    """

    days: int = 28
    replications: int = 1
    seed: int = 0
    policies: tuple[str | PolicySpec, ...] = ("scot", "baseline")
    what_ifs: tuple[str, ...] = ()
    review_days: int = 7
    reforecast: str = "never"
    max_promise_days: int = 5
    substitution_share: float = 0.0
    baseline_weeks: float = 6.0
    moving_average_days: int = 28
    max_cells: int = 200_000_000

    def check(self) -> None:
        at_least("days", self.days, 1)
        require(self.days <= 3_660, "days", f"must be <= 3660, got {self.days}")
        at_least("replications", self.replications, 1)
        at_least("seed", self.seed, 0)
        at_least("review_days", self.review_days, 1)
        REFORECAST.check(self.reforecast)
        at_least("max_promise_days", self.max_promise_days, 0)
        between("substitution_share", self.substitution_share, 0.0, 1.0)
        positive("baseline_weeks", self.baseline_weeks)
        at_least("moving_average_days", self.moving_average_days, 1)
        at_least("max_cells", self.max_cells, 1)
        require(bool(self.policies), "policies", "name at least one policy")
        names = [self.spec(p).name for p in self.policies]
        require(
            len(set(names)) == len(names),
            "policies",
            f"policy names must differ, got {', '.join(names)}",
        )
        for w in self.what_ifs:
            key = w.split("=", 1)[0]
            if "=" not in w:
                raise OptionError("what_if", f"expected KEY=VALUE, got {w!r}")
            WHAT_IFS.check(key)

    @staticmethod
    def spec(policy: str | PolicySpec) -> PolicySpec:
        """The spec of one entry of ``policies``."""
        return PolicySpec.parse(policy)

    def specs(self) -> list[PolicySpec]:
        """Every policy as a spec, in order."""
        return [self.spec(p) for p in self.policies]
