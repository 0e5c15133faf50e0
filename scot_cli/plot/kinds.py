"""The kinds of picture and the tables they draw, recognised by their columns.

Plain data: importing this module costs nothing (no polars, no matplotlib), so that
``scot --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from scot_cli.registry import Registry

__all__ = ["KINDS", "ROLES", "ROLE_WORDS", "Kind"]

#: Table role -> columns that identify it, most specific first (a sales table's columns
#: are a subset of no other role's; a forecast has ``horizon`` and ``p50``).
ROLES: dict[str, frozenset[str]] = {
    "attribution": frozenset({"subject", "metric", "driver", "contribution", "delta"}),
    "evaluate": frozenset({"level", "metric", "value", "model"}),
    "forecast": frozenset({"sku", "date", "horizon", "p50"}),
    "placement": frozenset({"sku", "node", "target_units", "current_units"}),
    "coverage": frozenset({"region", "days", "share_before", "share_after"}),
    "constraints": frozenset({"constraint", "node", "limit", "used"}),
    "promises": frozenset({"order_id", "destination", "promise_days", "on_time_prob"}),
    "shipments": frozenset({"order_id", "truck_id", "path", "on_time"}),
    "trucks": frozenset({"truck_id", "origin", "destination", "fill"}),
    "routes": frozenset({"stop_id", "station", "vehicle", "sequence"}),
    "stops": frozenset({"stop_id", "station", "lat", "lon"}),
    "nodes": frozenset({"node", "kind", "lat", "lon"}),
    "events": frozenset({"event", "start", "end"}),
    "sales": frozenset({"sku", "date", "units"}),
    "sim_daily": frozenset({"scenario", "policy", "replication", "date", "node", "in_stock_rate"}),
    "sim_summary": frozenset({"scenario", "policy", "kpi", "mean", "ci_low", "ci_high"}),
    "sim_kpis": frozenset({"scenario", "policy", "replication", "kpi", "value"}),
    "policy": frozenset({"sku", "policy", "reorder_point", "safety_stock"}),
    "orders": frozenset({"order_id", "sku", "qty", "order_time"}),
}

#: What a table is called in messages (role -> words).
ROLE_WORDS: dict[str, str] = {
    "attribution": "scot explain's attribution table",
    "evaluate": "scot forecast evaluate's metrics",
    "forecast": "scot forecast's quantiles",
    "placement": "scot place's placement",
    "coverage": "scot place's coverage table (--coverage-out)",
    "constraints": "scot place's constraints table (--constraints-out)",
    "promises": "scot promise's promises",
    "shipments": "scot route's shipments",
    "trucks": "scot route's trucks table (--trucks-out)",
    "routes": "scot route last-mile's routes",
    "stops": "a stops table",
    "nodes": "a nodes table",
    "events": "an events table",
    "sales": "a sales table",
    "sim_daily": "scot simulate's sim_daily table",
    "sim_summary": "scot simulate's sim_summary table",
    "sim_kpis": "scot simulate's sim_kpis table",
    "policy": "scot plan-buy's policy table",
    "orders": "an orders table",
}


@dataclass(frozen=True)
class Kind:
    """One kind of picture: the tables it draws (one of ``main`` is needed), the tables it
    adds when given (``extra``), and the commands whose outputs it draws."""

    description: str
    main: tuple[str, ...]
    extra: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()

    def uses(self, role: str) -> bool:
        return role in self.main or role in self.extra


KINDS: Registry[Kind] = Registry(
    "kind",
    {
        "forecast": Kind(
            "history, p10-p90 fan and p50 per series, event days marked; actuals and "
            "backtest metrics overlaid when given",
            main=("forecast",),
            extra=("sales", "events", "evaluate"),
            commands=("forecast",),
        ),
        "placement": Kind(
            "FCs and regions on lat/lon: stock and 1-/2-day reach before and after",
            main=("placement", "coverage"),
            extra=("placement", "coverage", "nodes"),
            commands=("place",),
        ),
        "promise": Kind(
            "promised days by region and the on-time probability",
            main=("promises",),
            commands=("promise",),
        ),
        "route": Kind(
            "truck fill per lane; last-mile routes on lat/lon per vehicle",
            main=("trucks", "routes"),
            extra=("trucks", "routes", "stops", "nodes"),
            commands=("route", "route last-mile"),
        ),
        "explain": Kind(
            "waterfall of driver contributions to a metric (total or one subject)",
            main=("attribution",),
            commands=("explain",),
        ),
        "simulate": Kind(
            "KPI trends per policy over the simulated days with their 95% bands, and each "
            "KPI's mean with its 95% interval",
            main=("sim_daily", "sim_summary"),
            extra=("sim_daily", "sim_summary"),
            commands=("simulate",),
        ),
    },
)
