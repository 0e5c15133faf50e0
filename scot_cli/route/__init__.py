"""``scot route``: fulfilment plans that keep promises and fill trucks, and last-mile routes.

Public API: :func:`route` (assignment, consolidation, shipments and trucks; options
:class:`RouteOptions`, result :class:`RouteResult`), :func:`last_mile` (vehicle routes from
delivery stations; :class:`LastMileOptions`, :class:`LastMileResult`), :data:`METHODS` and
:func:`decide_from_inputs` (the decision from inputs by role, for ``scot explain``).
:func:`route_lines` and :func:`plan_last_mile` are the same on validated frames;
:func:`solve_vrp` takes integer matrices. Exports resolve lazily so that the command line
starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from scot_cli.route.registry import METHODS

_EXPORTS: dict[str, str] = {
    "LastMileOptions": "scot_cli.route.lastmile",
    "LastMileResult": "scot_cli.route.lastmile",
    "LastMileSummary": "scot_cli.route.lastmile",
    "RouteOptions": "scot_cli.route.assign",
    "RouteResult": "scot_cli.route.assign",
    "RouteSummary": "scot_cli.route.assign",
    "attach_orders": "scot_cli.route.api",
    "check_inputs": "scot_cli.route.api",
    "decide_from_inputs": "scot_cli.route.api",
    "last_mile": "scot_cli.route.api",
    "plan_last_mile": "scot_cli.route.lastmile",
    "route": "scot_cli.route.api",
    "route_lines": "scot_cli.route.assign",
    "solve_vrp": "scot_cli.route.lastmile",
}

__all__ = [
    "METHODS",
    "LastMileOptions",
    "LastMileResult",
    "LastMileSummary",
    "RouteOptions",
    "RouteResult",
    "RouteSummary",
    "attach_orders",
    "check_inputs",
    "decide_from_inputs",
    "last_mile",
    "plan_last_mile",
    "route",
    "route_lines",
    "solve_vrp",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scot_cli.route' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
