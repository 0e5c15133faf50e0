"""scot: composable supply-chain decision tools over Parquet.

The command line is a thin layer over these functions; an analyst can call the
same library from a notebook::

    import scot_cli
    tables = scot_cli.generate(scot_cli.FixtureSpec(skus=20))

Exports are resolved lazily so that importing the package (and ``scot --help``)
stays fast.
"""

from __future__ import annotations

import importlib
import sys
import types
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:  # one source of truth: the installed distribution's metadata (pyproject.toml)
    __version__ = version("scot")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0+unknown"

#: Public name -> "module:attribute" that defines it.
_EXPORTS: dict[str, str] = {
    "FixtureSpec": "scot_cli.fixtures:FixtureSpec",
    "generate": "scot_cli.fixtures:generate",
    "fc_paths": "scot_cli.network:fc_paths",
    "fastest_paths": "scot_cli.network:fastest_paths",
    "cheapest_paths": "scot_cli.network:cheapest_paths",
    "ScotError": "scot_cli.errors:ScotError",
    "InputDataError": "scot_cli.errors:InputDataError",
    "UsageError": "scot_cli.errors:UsageError",
    "InfeasibleError": "scot_cli.errors:InfeasibleError",
    "OptionError": "scot_cli.options:OptionError",
    "Options": "scot_cli.options:Options",
    "Registry": "scot_cli.registry:Registry",
    "Run": "scot_cli.io:Run",
    "read_metadata": "scot_cli.io:read_metadata",
    "sql_query": "scot_cli.io:sql_query",
    "column_summary": "scot_cli.inspection:column_summary",
    "validate": "scot_cli.validate:validate",
    "check_nodes": "scot_cli.validate:check_nodes",
    "all_tables": "scot_cli.schema:all_tables",
    "evaluate_forecast": "scot_cli.forecast:evaluate_forecast",
    "ForecastOptions": "scot_cli.forecast:ForecastOptions",
    "ForecastResult": "scot_cli.forecast:ForecastResult",
    "EvaluateOptions": "scot_cli.forecast:EvaluateOptions",
    "EvaluateResult": "scot_cli.forecast:EvaluateResult",
    "plan_buy": "scot_cli.buy:plan_buy",
    "BuyOptions": "scot_cli.buy:BuyOptions",
    "BuyPlan": "scot_cli.buy:BuyPlan",
    "BuyResult": "scot_cli.buy:BuyResult",
    "BuySummary": "scot_cli.buy:BuySummary",
    "eoq": "scot_cli.buy.classic:eoq",
    "wagner_whitin": "scot_cli.buy.classic:wagner_whitin",
    "ss_zheng_federgruen": "scot_cli.buy.classic:ss_zheng_federgruen",
    "clark_scarf_serial": "scot_cli.buy.echelon:clark_scarf_serial",
    "gsm_tree": "scot_cli.buy.echelon:gsm_tree",
    "PlaceOptions": "scot_cli.place:PlaceOptions",
    "PlaceResult": "scot_cli.place:PlaceResult",
    "PromiseOptions": "scot_cli.promise:PromiseOptions",
    "PromiseResult": "scot_cli.promise:PromiseResult",
    "last_mile": "scot_cli.route:last_mile",
    "route_lines": "scot_cli.route:route_lines",
    "RouteOptions": "scot_cli.route:RouteOptions",
    "RouteResult": "scot_cli.route:RouteResult",
    "LastMileOptions": "scot_cli.route:LastMileOptions",
    "LastMileResult": "scot_cli.route:LastMileResult",
    "plan_last_mile": "scot_cli.route:plan_last_mile",
    "solve_vrp": "scot_cli.route:solve_vrp",
    "SimulateOptions": "scot_cli.simulate:SimulateOptions",
    "SimulateResult": "scot_cli.simulate:SimulateResult",
    "PlotOptions": "scot_cli.plot:PlotOptions",
    "report": "scot_cli.plot:report",
    "ExplainOptions": "scot_cli.explain:ExplainOptions",
    "ExplainResult": "scot_cli.explain:ExplainResult",
    "explain_runs": "scot_cli.explain:explain_runs",
    "explain_decision": "scot_cli.explain:explain_decision",
    "shapley": "scot_cli.explain:shapley",
    "attribute": "scot_cli.explain:attribute",
    "build_report": "scot_cli.explain:build_report",
    "quality_flags": "scot_cli.explain:quality_flags",
}

#: Decisions whose package has the name of its call: ``scot_cli.place`` is the package
#: (``scot_cli.place.PlaceOptions``) and can be called as the decision
#: (``scot_cli.place(forecast, ...)``), however it was first imported.
_CALLABLE_PACKAGES = ("forecast", "place", "promise", "route", "explain", "simulate", "plot")


class _CallablePackage(types.ModuleType):
    """A decision's package, callable as its decision function of the same name."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, self.__name__.rpartition(".")[2])(*args, **kwargs)


class _Root(types.ModuleType):
    """``scot_cli`` itself: a decision subpackage bound to it (by any import) is made
    callable."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _CALLABLE_PACKAGES and type(value) is types.ModuleType:
            value.__class__ = _CallablePackage
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Root

__all__ = ["__version__"]
__all__ += list(_EXPORTS)
__all__ += list(_CALLABLE_PACKAGES)


def __getattr__(name: str) -> Any:
    if name in _CALLABLE_PACKAGES:
        return importlib.import_module(f"{__name__}.{name}")  # bound (callable) on import
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'scot_cli' has no attribute {name!r}")
    module, attr = target.split(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
