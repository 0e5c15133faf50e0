"""The notebook front end: every decision with one call shape.

Each call takes its main table first and the other tables by keyword; a table is a polars
DataFrame or a path to a Parquet file, validated on entry with the checks the command line
uses. Options are one frozen options object per decision, or its fields as keywords::

    from scot_cli import api as scot

    fc = scot.forecast(sales, items=items, horizon=28)          # ForecastResult
    buy = scot.plan_buy(fc.forecast, items=items, inventory=inventory)
    print(buy.summary)                                          # what the command prints
    buy.orders, buy.policy                                      # the output frames

Every result is a frozen dataclass holding the output frames and a typed ``summary``; every
options object validates itself (:class:`scot_cli.options.OptionError` names the field) and
records itself with ``params()`` (re-runs use ``from_params``).

=====================  =============================  ===========================
call                   options                        result
=====================  =============================  ===========================
``forecast``           :class:`ForecastOptions`       :class:`ForecastResult`
``evaluate_forecast``  :class:`EvaluateOptions`       :class:`EvaluateResult`
``plan_buy``           :class:`BuyOptions`            :class:`BuyResult`
``place``              :class:`PlaceOptions`          :class:`PlaceResult`
``promise``            :class:`PromiseOptions`        :class:`PromiseResult`
``route``              :class:`RouteOptions`          :class:`RouteResult`
``last_mile``          :class:`LastMileOptions`       :class:`LastMileResult`
``simulate``           :class:`SimulateOptions`       :class:`SimulateResult`
``explain``            :class:`ExplainOptions`        :class:`ExplainResult`
``plot``               :class:`PlotOptions`           :class:`PlotResult`
``report``             (a folder of outputs)          :class:`ReportResult`
=====================  =============================  ===========================
"""

from __future__ import annotations

from scot_cli.buy import BuyOptions, BuyResult, plan_buy
from scot_cli.errors import InfeasibleError, InputDataError, ScotError, UsageError
from scot_cli.explain import ExplainOptions, ExplainResult, explain
from scot_cli.fixtures import FixtureSpec, generate
from scot_cli.forecast import (
    EvaluateOptions,
    EvaluateResult,
    ForecastOptions,
    ForecastResult,
    evaluate_forecast,
    forecast,
)
from scot_cli.options import OptionError
from scot_cli.place import PlaceOptions, PlaceResult, place
from scot_cli.plot import PlotOptions, PlotResult, ReportResult, plot, report
from scot_cli.promise import PromiseOptions, PromiseResult, promise
from scot_cli.route import (
    LastMileOptions,
    LastMileResult,
    RouteOptions,
    RouteResult,
    last_mile,
    route,
)
from scot_cli.simulate import SimulateOptions, SimulateResult, simulate

__all__ = [
    "BuyOptions",
    "BuyResult",
    "EvaluateOptions",
    "EvaluateResult",
    "ExplainOptions",
    "ExplainResult",
    "FixtureSpec",
    "ForecastOptions",
    "ForecastResult",
    "InfeasibleError",
    "InputDataError",
    "LastMileOptions",
    "LastMileResult",
    "OptionError",
    "PlaceOptions",
    "PlaceResult",
    "PlotOptions",
    "PlotResult",
    "PromiseOptions",
    "PromiseResult",
    "ReportResult",
    "RouteOptions",
    "RouteResult",
    "ScotError",
    "SimulateOptions",
    "SimulateResult",
    "UsageError",
    "evaluate_forecast",
    "explain",
    "forecast",
    "generate",
    "last_mile",
    "place",
    "plan_buy",
    "plot",
    "promise",
    "report",
    "route",
    "simulate",
]
