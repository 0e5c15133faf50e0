"""Per-command driver maps: which inputs drive which decision, and how to explain it.

:data:`COMMANDS` is the one registry: the command name recorded in an output's
provenance maps to the package whose ``decide_from_inputs`` re-runs it, its
driver groups, the metrics explained by default and the columns that name a
subject for ``--by``. Plain Python (no polars) so the command's choices and help
come from here without slowing ``scot --help``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from scot_cli.registry import Registry


@dataclass(frozen=True)
class Driver:
    """A named driver: cells (``role.column`` patterns), whole roles or parameters.

    ``cells`` entries without a dot name a whole role (its rows and all its
    columns); ``role.pattern`` entries name columns by :func:`fnmatch.fnmatch`
    pattern; ``role.+rows`` names the role's row set (rows present in one run
    only). ``params`` are parameter-name patterns. A cell or parameter belongs to
    the first driver that names it.
    """

    name: str
    cells: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Split:
    """Read the ``role`` columns matching ``pattern`` as ``base + (column - base)``.

    ``bases`` are tried in order; the first column present in the role's frame is
    the base (the median ``p50`` of a full forecast, else its ``mean``).
    """

    role: str
    bases: tuple[str, ...]
    pattern: str = "p[0-9]*"


@dataclass(frozen=True)
class Rate:
    """A metric that is a rate, aggregated over a subject's rows as a weighted mean with its
    denominator: ``sum(value * w) / sum(w)``.

    ``weight`` is the column holding each row's denominator (None: every row weighs 1),
    divided by ``per`` when given (plan-buy's demand over the protection interval, per
    day). A row whose value is null counts as ``missing`` (a line that lost its promise is
    not on time: 0); with ``missing`` None it is left out of numerator and denominator.
    """

    weight: str | None = None
    per: str | None = None
    missing: float | None = None

    def columns(self) -> tuple[str, ...]:
        """The columns the weight reads."""
        return tuple(c for c in (self.weight, self.per) if c)


#: Report formats: a table on the terminal, Markdown, JSON, CSV of the attribution table.
FORMATS: Registry[str] = Registry(
    "format",
    {
        "table": "the report as tables on the terminal",
        "md": "the report as Markdown",
        "json": "the report as one JSON document",
        "csv": "the attribution table as CSV",
    },
)

#: Subjects of an attribution; ``category`` maps the output's sku through the items table.
BY: Registry[str] = Registry(
    "by",
    {
        "sku": "each sku",
        "category": "each item category (skus mapped through the items table)",
        "node": "each node (FC, ship-from node or region)",
        "order": "each order",
    },
)

_FORECAST_LEVEL = Driver(
    "forecast level",
    ("forecast.mean", "forecast.p50", "forecast.model", "forecast.horizon"),
    description="expected demand (mean and median of the forecast)",
)
_FORECAST_SPREAD = Driver(
    "forecast spread",
    ("forecast.p[0-9]*",),
    description="width of the forecast quantiles around the median",
)
_ON_HAND = Driver(
    "on hand",
    ("inventory", "receipts", "supply"),
    description="stock on hand and in transit, and receipts and buys already ordered",
)
_PARAMETERS = Driver("parameters", params=("*",), description="command-line parameters")
_FORECAST_WINDOW = Driver(
    "forecast window",
    ("forecast.+rows",),
    description="forecast periods or series present in one run only (a rolled horizon)",
)
_ASSORTMENT = Driver("assortment", ("items.+rows",), description="skus added or dropped")

_FORECAST_SPLIT = (Split("forecast", bases=("p50", "mean")),)

_BUY_DRIVERS = (
    _FORECAST_LEVEL,
    _FORECAST_SPREAD,
    _FORECAST_WINDOW,
    _ASSORTMENT,
    Driver("lead time", ("items.lead_time_days",), description="mean vendor lead time"),
    Driver("lead-time spread", ("items.lead_time_sd",), description="lead-time standard deviation"),
    Driver(
        "costs",
        (
            "items.unit_cost",
            "items.holding_cost_rate",
            "items.order_cost",
            "items.stockout_cost",
            "items.price",
            "price_breaks",
        ),
        params=("*cost*", "*holding*"),
        description="unit, holding, ordering and stock-out costs, and quantity discounts",
    ),
    Driver(
        "service target",
        ("items.service_level",),
        params=("service_level*", "*service*"),
        description="target cycle service level",
    ),
    _ON_HAND,
    Driver("pack and MOQ", ("items.case_pack", "items.moq"), description="case pack and MOQ"),
    Driver(
        "budget and storage limits",
        ("seller_limits", "items.seller"),
        params=("budget", "storage"),
        description="limits on spend and volume (constrained buying), and sellers' storage",
    ),
    Driver(
        "network",
        ("nodes.+rows", "lanes.+rows", "nodes.*", "lanes.*"),
        description="nodes and lanes (buying per FC)",
    ),
    _PARAMETERS,
)

_CAPACITY = Driver(
    "capacity",
    ("nodes.storage_capacity", "nodes.daily_capacity", "lanes.truck_capacity"),
    params=("*capacity*",),
    description="storage, throughput and truck capacity",
)
_TRANSIT = Driver(
    "transit times",
    ("lanes.transit_days", "lanes.transit_sd"),
    description="lane transit time and its spread",
)
_NETWORK = Driver(
    "network",
    ("nodes.+rows", "lanes.+rows", "nodes.*", "lanes.*"),
    description="nodes and lanes added or dropped, and their other attributes",
)

_PLACE_DRIVERS = (
    _FORECAST_LEVEL,
    _FORECAST_SPREAD,
    _FORECAST_WINDOW,
    _ASSORTMENT,
    _ON_HAND,
    _CAPACITY,
    _TRANSIT,
    Driver(
        "costs",
        (
            "lanes.cost_per_unit",
            "lanes.cost_per_truck",
            "items.unit_cost",
            "items.holding_cost_rate",
            "items.stockout_cost",
            "items.price",
        ),
        params=("*cost*",),
        description="shipping, holding and shortage costs",
    ),
    Driver("item volume", ("items.unit_volume",), description="volume per unit"),
    _NETWORK,
    _PARAMETERS,
)

_PROMISE_DRIVERS = (
    _ON_HAND,
    _TRANSIT,
    Driver(
        "cutoffs and processing",
        ("nodes.cutoff_hour", "nodes.processing_days", "lanes.departure_hour", "lanes.weekdays"),
        description="order cut-off hours, processing days and lane departure schedules",
    ),
    Driver("calendar", ("calendar",), description="pickup and delivery days"),
    Driver("capacity", ("nodes.daily_capacity",), description="FC daily capacity"),
    Driver("orders", ("orders",), description="the order lines themselves"),
    Driver("placement", ("placement",), description="where stock is placed"),
    _NETWORK,
    _PARAMETERS,
)

_ROUTE_DRIVERS = (
    Driver("promises", ("promises", "orders"), description="order lines and promise dates"),
    _ON_HAND,
    _TRANSIT,
    Driver(
        "truck capacity and cost",
        ("lanes.truck_capacity", "lanes.cost_per_truck", "lanes.cost_per_unit"),
        description="truck capacity and cost per truck and unit",
    ),
    Driver(
        "schedules",
        ("lanes.departure_hour", "lanes.weekdays", "calendar"),
        description="lane departures and the calendar",
    ),
    Driver("item volume", ("items.unit_volume",), description="volume per unit"),
    _NETWORK,
    _PARAMETERS,
)


_SIMULATE_DRIVERS = (
    Driver(
        "lead time",
        ("items.lead_time_days", "items.lead_time_sd"),
        description="vendor lead time and its spread",
    ),
    Driver(
        "demand",
        ("sales", "forecast", "actuals", "events"),
        description="sales history, forecast, held-back actuals and events",
    ),
    Driver("stock", ("inventory",), description="starting stock on hand and in transit"),
    _NETWORK,
    Driver(
        "costs",
        ("items.unit_cost", "items.holding_cost_rate", "items.stockout_cost", "items.price"),
        params=("*cost*",),
        description="unit, holding and stock-out costs and prices",
    ),
    _PARAMETERS,
)


@dataclass(frozen=True)
class CommandSpec:
    """How to re-run and explain one command's main output."""

    command: str
    package: str
    drivers: tuple[Driver, ...]
    metrics: tuple[str, ...]
    subjects: MappingProxyType[str, tuple[str, ...]]
    splits: tuple[Split, ...] = _FORECAST_SPLIT
    agg: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    description: str = ""
    #: Column the decision is separable by (each unit depends on its own rows only), unless
    #: one of ``coupling`` parameters is set (e.g. a budget shared by all skus).
    separable: str = ""
    coupling: tuple[str, ...] = ()
    #: Input roles that couple the units when present (plan-buy's seller limits are shared
    #: by all skus of a seller).
    coupling_roles: tuple[str, ...] = ()
    #: Decision function (``module:name``) when not the package's ``decide_from_inputs``.
    decide: str = ""
    #: Roles the command reads with its own table declaration (``module:NAME``).
    tables: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: Metrics that are rates (aggregated as a weighted mean, not a sum).
    rates: MappingProxyType[str, Rate] = field(default_factory=lambda: MappingProxyType({}))
    #: Other outputs of the same command (place's coverage), explained when the files
    #: compared hold their ``marker`` column or a metric only they have is asked for.
    views: tuple[CommandSpec, ...] = ()
    #: Column that marks a view's files.
    marker: str = ""
    #: Function (``module:name``) keeping the rows of a view's output that are explained,
    #: applied to the re-run decisions and to the files alike.
    rows: str = ""

    def separable_by(self, *params: Mapping[str, Any], roles: Iterable[str] = ()) -> str | None:
        """The unit column to partition by, or None when a coupling parameter is set or a
        coupling input role (one of ``coupling_roles``) is among ``roles``."""
        coupled = any(p.get(c) is not None for p in params for c in self.coupling)
        coupled = coupled or not set(self.coupling_roles).isdisjoint(roles)
        return None if coupled or not self.separable else self.separable

    def subject_column(self, by: str, columns: list[str]) -> str | None:
        """The output column naming the subject for ``--by`` (``category`` uses the sku)."""
        wanted = self.subjects.get("sku" if by == "category" else by, ())
        return next((c for c in wanted if c in columns), None)


def _subjects(**kw: tuple[str, ...]) -> MappingProxyType[str, tuple[str, ...]]:
    return MappingProxyType(kw)


def _rates(**kw: Rate) -> MappingProxyType[str, Rate]:
    return MappingProxyType(kw)


_PLACE_COVERAGE = CommandSpec(
    "place",
    "scot_cli.place",
    _PLACE_DRIVERS,
    metrics=("share_after", "share_before"),
    subjects=_subjects(node=("region",)),
    description="share of each region's expected demand served within one day",
    decide="scot_cli.explain.adapters:place_coverage",
    tables=MappingProxyType(
        {
            "forecast": "scot_cli.place.schema:FORECAST_IN",
            "receipts": "scot_cli.place.schema:RECEIPTS_IN",
            "supply": "scot_cli.place.schema:RECEIPTS_IN",
        }
    ),
    rates=_rates(
        share_after=Rate(weight="expected_demand"), share_before=Rate(weight="expected_demand")
    ),
    marker="share_after",
    rows="scot_cli.explain.adapters:one_day_regions",
)


#: Command name (as recorded in provenance) -> how to explain its output.
COMMANDS: MappingProxyType[str, CommandSpec] = MappingProxyType(
    {
        "plan-buy": CommandSpec(
            "plan-buy",
            "scot_cli.buy",
            _BUY_DRIVERS,
            metrics=("qty", "raw_qty", "safety_stock", "reorder_point"),
            subjects=_subjects(sku=("sku",), node=("node",)),
            rates=_rates(
                in_stock_prob=Rate(), fill_rate=Rate(weight="demand_mean", per="protection_days")
            ),
            description="purchase orders and inventory policy per sku",
            decide="scot_cli.explain.adapters:buy_orders_and_policy",
            separable="sku",
            coupling=("budget", "storage"),
            coupling_roles=("seller_limits",),
            tables=MappingProxyType(
                {
                    "seller_limits": "scot_cli.buy.schema:SELLER_LIMITS",
                    "price_breaks": "scot_cli.buy.schema:PRICE_BREAKS",
                }
            ),
        ),
        "place": CommandSpec(
            "place",
            "scot_cli.place",
            _PLACE_DRIVERS,
            metrics=("target_units", "units", "qty", "cost", "total_cost"),
            subjects=_subjects(sku=("sku",), node=("node", "fc", "location")),
            description="target units per sku and FC",
            tables=_PLACE_COVERAGE.tables,
            views=(_PLACE_COVERAGE,),
        ),
        "promise": CommandSpec(
            "promise",
            "scot_cli.promise",
            _PROMISE_DRIVERS,
            metrics=("promise_days", "on_time_prob"),
            subjects=_subjects(sku=("sku",), node=("ship_node",), order=("order_id",)),
            agg=MappingProxyType({"promise_days": "mean"}),
            rates=_rates(on_time_prob=Rate(missing=0.0)),
            description="promise dates per order line",
            tables=MappingProxyType({"receipts": "scot_cli.promise.schema:RECEIPTS"}),
        ),
        "route": CommandSpec(
            "route",
            "scot_cli.route",
            _ROUTE_DRIVERS,
            metrics=("cost", "late_days"),
            subjects=_subjects(sku=("sku",), node=("ship_node",), order=("order_id",)),
            description="shipments per order line",
            tables=MappingProxyType({"promises": "scot_cli.route.schema:PROMISE_LINES"}),
        ),
        "simulate": CommandSpec(
            "simulate",
            "scot_cli.simulate",
            _SIMULATE_DRIVERS,
            metrics=("in_stock_rate", "share_1day", "promise_kept_rate", "total_cost", "lost"),
            subjects=_subjects(node=("node",)),
            description="in-stock rate, speed, promises kept and cost per node over the run",
            decide="scot_cli.simulate.explain_adapter:decide_from_inputs",
            rows="scot_cli.simulate.explain_adapter:node_totals",
            rates=_rates(
                in_stock_rate=Rate(weight="demand"),
                share_1day=Rate(weight="served"),
                share_2day=Rate(weight="served"),
                promise_kept_rate=Rate(weight="served"),
            ),
            tables=MappingProxyType({"actuals": "scot_cli.schema:SALES"}),
        ),
    }
)


def spec_for(command: str) -> CommandSpec | None:
    """The registry entry of ``command``, or None when explain does not know it."""
    return COMMANDS.get(command)


def view_for(
    spec: CommandSpec, files: Sequence[Sequence[str]], metrics: Sequence[str] = ()
) -> CommandSpec:
    """The spec of the output compared: a view when every file (its columns) holds the
    view's marker, or when a metric asked for is one only the view has."""
    for view in spec.views:
        marked = bool(files) and all(view.marker in f for f in files)
        asked = any(m in view.metrics and m not in spec.metrics for m in metrics)
        if marked or asked:
            return view
    return spec


def driver_help() -> dict[str, Any]:
    """Driver names per command, for ``--help`` and the docs."""
    return {name: [d.name for d in s.drivers] for name, s in COMMANDS.items()}
