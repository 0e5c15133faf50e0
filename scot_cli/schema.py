"""The data contract: every table scot reads or writes, declared once.

Each :class:`Table` lists its columns with dtype, whether they are required,
bounds and a description. Validation happens at the I/O boundary (on read and
before write); library functions may then assume valid frames.
``python -m scot_cli.schema`` renders ``docs/schemas.md`` from these declarations.
Declarations are plain Python (no polars import) so that ``scot --help`` stays fast;
``scot_cli.validate`` checks frames against them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scot_cli.registry import optional_module

#: Output-table modules of the command packages; each defines ``TABLES``.
OUTPUT_SCHEMA_MODULES = (
    "scot_cli.forecast.schema",
    "scot_cli.buy.schema",
    "scot_cli.place.schema",
    "scot_cli.promise.schema",
    "scot_cli.route.schema",
    "scot_cli.explain.schema",
)

NODE_KINDS = ("vendor", "dc", "fc", "sort_center", "station", "region")
LANE_MODES = ("ground", "air")


@dataclass(frozen=True)
class Column:
    """One column of a table: name, dtype, and the rules it must satisfy."""

    name: str
    dtype: str
    description: str
    required: bool = True
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    #: A regular expression every value must match whole, and its rule in words.
    pattern: str | None = None
    pattern_rule: str = ""

    def dtype_name(self) -> str:
        return self.dtype


@dataclass(frozen=True)
class Table:
    """A declared table: its name, key columns and columns."""

    name: str
    description: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...] = ()
    notes: str = ""
    defaults: dict[str, object] = field(default_factory=dict)
    #: Date columns whose values may spread over at most ``MAX_SPAN_DAYS`` (100 years).
    spans: tuple[str, ...] = ()
    #: ``(start, end)`` date columns: ``end`` on or after ``start``, within ``MAX_EVENT_DAYS``.
    intervals: tuple[tuple[str, str], ...] = ()

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def optional(self) -> list[str]:
        return [c.name for c in self.columns if not c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def help_columns(self) -> str:
        """One line for ``--help``: required columns, then optional ones in brackets."""
        opt = " ".join(f"[{c}]" for c in self.optional)
        return f"{self.name}: {', '.join(self.required)}" + (f" {opt}" if opt else "")


_QUANTILE_NAME = re.compile(r"^p(\d{1,2})$")


def quantile_columns(columns: Iterable[str]) -> list[tuple[float, str]]:
    """The quantile columns among ``columns`` as ``(level, name)``, sorted by level.

    The contract: ``p`` and the level in whole percent, one or two digits (``p10``, ``p5``
    and ``p05`` are 0.1, 0.05, 0.05); ``p0`` is not a quantile. Every command that reads
    quantile columns parses them here.

    >>> quantile_columns(["mean", "p05", "p50", "p95", "p100", "price"])
    [(0.05, 'p05'), (0.5, 'p50'), (0.95, 'p95')]
    """
    found = []
    for name in columns:
        m = _QUANTILE_NAME.match(name)
        if m and int(m.group(1)) > 0:
            found.append((int(m.group(1)) / 100, name))
    return sorted(found)


#: Deprecated spelling of :class:`Column`, kept while the command packages' ``schema.py``
#: move to ``Column``; remove it once none imports it.


#: dtype names used in declarations; scot_cli.validate maps them to polars dtypes.
S, F, I, B, D, DT = "str", "f64", "i64", "bool", "date", "datetime"

SALES = Table(
    "sales",
    "Observed demand history: units sold per sku, location and period.",
    (
        Column("sku", S, "stock-keeping unit id"),
        Column("location", S, "demand region or node; 'ALL' when absent", required=False),
        Column("date", D, "period start (day, week start or month start)"),
        Column("units", F, "units sold; null when unknown", nullable=True, min=0),
        Column("price", F, "selling price in the period", required=False, nullable=True, min=0),
        Column("in_stock", B, "false when stock-out censored sales", required=False, nullable=True),
        Column(
            "event", S, "name of a planned event active that period", required=False, nullable=True
        ),
    ),
    keys=("sku", "location", "date"),
    defaults={"location": "ALL"},
    spans=("date",),
)

ITEMS = Table(
    "items",
    "Item master: costs, lead times, pack sizes and attributes per sku.",
    (
        Column("sku", S, "stock-keeping unit id"),
        Column("category", S, "product category"),
        Column("unit_cost", F, "purchase cost per unit", min=0),
        Column("price", F, "selling price per unit", min=0),
        Column("holding_cost_rate", F, "annual holding cost as a fraction of unit_cost", min=0),
        Column(
            "stockout_cost",
            F,
            "cost per unit short; null to use service_level",
            required=False,
            nullable=True,
            min=0,
        ),
        Column(
            "service_level",
            F,
            "target cycle service level in (0,1); null to use stockout_cost",
            required=False,
            nullable=True,
            min=0,
            max=1,
        ),
        Column("order_cost", F, "fixed cost per purchase order", min=0),
        Column("lead_time_days", F, "mean vendor lead time in days", min=0, max=3650),
        Column("lead_time_sd", F, "standard deviation of the lead time in days", min=0, max=3650),
        Column("moq", I, "minimum order quantity in units (0 for none)", min=0),
        Column("case_pack", I, "units per case; orders are multiples of it", min=1),
        Column("vendor", S, "vendor node id"),
        Column(
            "unit_volume", F, "volume per unit (same unit as storage and truck capacity)", min=0
        ),
        Column("launch_date", D, "first sale date for new items", required=False, nullable=True),
        Column(
            "disruption_rate",
            F,
            "supplier disruptions per year while it supplies (plan-buy; null or 0 for none)",
            required=False,
            nullable=True,
            min=0,
        ),
        Column(
            "recovery_days",
            F,
            "mean days a supplier disruption lasts (needed with disruption_rate)",
            required=False,
            nullable=True,
            min=0,
            max=3650,
        ),
        Column(
            "brand",
            S,
            "brand, an attribute for cold-start forecasts",
            required=False,
            nullable=True,
        ),
    ),
    keys=("sku",),
)

EVENTS = Table(
    "events",
    "Planned events (promotions, holidays) that lift demand on their dates.",
    (
        Column("event", S, "event name; the lift is learned from past events of the same name"),
        Column("start", D, "first day of the event"),
        Column("end", D, "last day of the event (inclusive)"),
        Column("sku", S, "sku the event applies to; null for all", required=False, nullable=True),
        Column(
            "category",
            S,
            "category the event applies to; null for all",
            required=False,
            nullable=True,
        ),
        Column(
            "lift",
            F,
            "planned multiplicative lift; null to learn it",
            required=False,
            nullable=True,
            min=0,
        ),
    ),
    spans=("start",),
    intervals=(("start", "end"),),
)

NODES = Table(
    "nodes",
    "Network nodes: vendors, fulfillment centers, sort centers, delivery stations, regions.",
    (
        Column("node", S, "node id"),
        Column("kind", S, "node kind (dc: a central node feeding FCs)", choices=NODE_KINDS),
        Column("region", S, "region the node sits in"),
        Column(
            "storage_capacity", F, "storage volume (same unit as unit_volume)", nullable=True, min=0
        ),
        Column("daily_capacity", F, "units the node can process per day", nullable=True, min=0),
        Column(
            "cutoff_hour",
            I,
            "orders after this hour ship the next working day",
            nullable=True,
            min=0,
            max=24,
        ),
        Column("processing_days", I, "days from order release to ship", nullable=True, min=0),
        Column("lat", F, "latitude in degrees", min=-90, max=90),
        Column("lon", F, "longitude in degrees", min=-180, max=180),
    ),
    keys=("node",),
)

LANES = Table(
    "lanes",
    "Transport legs between nodes with transit-time spread, costs, trucks and schedule.",
    (
        Column("origin", S, "node the leg leaves from"),
        Column("destination", S, "node the leg arrives at"),
        Column("mode", S, "transport mode", choices=LANE_MODES),
        Column("transit_days", F, "mean transit time in days", min=0, max=365),
        Column("transit_sd", F, "standard deviation of the transit time in days", min=0, max=365),
        Column("cost_per_unit", F, "variable cost per unit shipped", min=0),
        Column("truck_capacity", F, "volume one truck (or air container) carries", min=0),
        Column("cost_per_truck", F, "fixed cost per truck dispatched", min=0),
        Column(
            "departure_hour", I, "hour of the day the scheduled departure leaves", min=0, max=23
        ),
        Column(
            "weekdays",
            S,
            "seven 0/1 flags, Monday first: days the lane departs",
            required=False,
            pattern="|".join(f"[01]{{{i}}}1[01]{{{6 - i}}}" for i in range(7)),
            pattern_rule="seven 0/1 flags with at least one 1",
        ),
    ),
    keys=("origin", "destination", "mode"),
    defaults={"weekdays": "1111111"},
)

INVENTORY = Table(
    "inventory",
    "Stock position per sku and node.",
    (
        Column("sku", S, "stock-keeping unit id"),
        Column("node", S, "node holding the stock"),
        Column("on_hand", F, "units physically on hand", min=0),
        Column(
            "in_transit", F, "units on the way to the node", required=False, nullable=True, min=0
        ),
        Column("eta", D, "expected arrival of the in-transit units", required=False, nullable=True),
    ),
    keys=("sku", "node"),
    spans=("eta",),
)

ORDERS = Table(
    "orders",
    "Customer order lines to promise and route.",
    (
        Column("order_id", S, "order id"),
        Column("line", I, "line number within the order", min=1),
        Column("sku", S, "stock-keeping unit id"),
        Column("qty", F, "units ordered", min=0),
        Column("destination", S, "region (or station) the order is delivered to"),
        Column("order_time", DT, "when the order was placed"),
    ),
    keys=("order_id", "line"),
    spans=("order_time",),
)

CALENDAR = Table(
    "calendar",
    "Carrier and node calendar: days without pickup or delivery (holidays, weekends).",
    (
        Column("node", S, "node (FC for pickups, region or station for deliveries)"),
        Column("date", D, "calendar day"),
        Column("pickup", B, "false when nothing leaves the node that day"),
        Column("delivery", B, "false when nothing is delivered at the node that day"),
    ),
    keys=("node", "date"),
    spans=("date",),
)

INPUT_TABLES = (SALES, ITEMS, EVENTS, NODES, LANES, INVENTORY, ORDERS, CALENDAR)


def all_tables() -> list[Table]:
    """Input tables, then the output tables each command package declares."""
    tables = list(INPUT_TABLES)
    for mod_name in OUTPUT_SCHEMA_MODULES:
        mod = optional_module(mod_name)
        if mod is not None:
            tables.extend(getattr(mod, "TABLES", ()))
    return tables


def render_markdown(tables: Sequence[Table] | None = None) -> str:
    """Render the schema reference (``docs/schemas.md``)."""
    lines = [
        "# Table schemas",
        "",
        "Generated from `scot_cli/schema.py` and the command packages' `schema.py` by",
        "`python -m scot_cli.schema > docs/schemas.md`; a test fails when this file drifts.",
        "",
    ]
    for t in tables if tables is not None else all_tables():
        lines += [f"## {t.name}", "", t.description, ""]
        if t.keys:
            lines += [f"Key: {', '.join(f'`{k}`' for k in t.keys)}", ""]
        lines += [
            "| column | dtype | required | nullable | rule | description |",
            "|---|---|---|---|---|---|",
        ]
        for c in t.columns:
            lines.append(
                f"| `{c.name}` | {c.dtype_name()} | {'yes' if c.required else 'no'} | "
                f"{'yes' if c.nullable else 'no'} | {_rule(c)} | {c.description} |"
            )
        if t.notes:
            lines += ["", t.notes]
        lines.append("")
    return "\n".join(lines)


def _rule(c: Column) -> str:
    parts = []
    if c.min is not None:
        parts.append(f">= {c.min:g}")
    if c.max is not None:
        parts.append(f"<= {c.max:g}")
    if c.choices:
        parts.append(" / ".join(c.choices))
    if c.pattern_rule:
        parts.append(c.pattern_rule)
    return ", ".join(parts)


if __name__ == "__main__":
    print(render_markdown(), end="")
