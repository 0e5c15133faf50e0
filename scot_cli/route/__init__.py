"""``scot route``: fulfilment plans that keep promises and fill trucks, and last-mile routes.

Public API: :func:`route_lines` (assignment, consolidation, shipments and trucks),
:func:`decide_from_inputs` (the same from inputs by role, for ``scot explain``),
:func:`plan_last_mile` (vehicle routes from delivery stations) and :data:`METHODS`.
Exports resolve lazily so that the command line starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from scot_cli.route.registry import METHODS

_EXPORTS: dict[str, str] = {
    "RouteOptions": "scot_cli.route.assign",
    "RoutePlan": "scot_cli.route.assign",
    "route_lines": "scot_cli.route.assign",
    "attach_orders": "scot_cli.route.api",
    "decide_from_inputs": "scot_cli.route.api",
    "plan_last_mile": "scot_cli.route.lastmile",
    "solve_vrp": "scot_cli.route.lastmile",
}

__all__ = [
    "METHODS",
    "RouteOptions",
    "RoutePlan",
    "attach_orders",
    "decide_from_inputs",
    "plan_last_mile",
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
