"""``scot forecast``: multi-horizon quantile demand forecasts and their backtest.

One call shape (:mod:`scot_cli.forecast.api`)::

    from scot_cli.forecast import forecast
    result = forecast(sales, items=items, horizon=28)   # frames or Parquet paths
    result.forecast                                     # the forecast table
    print(result.summary)

Exports are loaded lazily so that importing the model registry (for ``--help``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scot_cli.forecast.api import (
        EvaluateResult,
        EvaluateSummary,
        ForecastResult,
        ForecastSummary,
        ModelScore,
        decide_from_inputs,
        evaluate_forecast,
        forecast,
    )
    from scot_cli.forecast.options import EvaluateOptions, ForecastOptions
    from scot_cli.forecast.registry import ALIGNS, MODELS, PERIODS

#: Public name -> module defining it.
_EXPORTS = {
    "ALIGNS": "scot_cli.forecast.registry",
    "MODELS": "scot_cli.forecast.registry",
    "PERIODS": "scot_cli.forecast.registry",
    "EvaluateOptions": "scot_cli.forecast.options",
    "ForecastOptions": "scot_cli.forecast.options",
    "EvaluateResult": "scot_cli.forecast.api",
    "EvaluateSummary": "scot_cli.forecast.api",
    "ForecastResult": "scot_cli.forecast.api",
    "ForecastSummary": "scot_cli.forecast.api",
    "ModelScore": "scot_cli.forecast.api",
    "decide_from_inputs": "scot_cli.forecast.api",
    "evaluate_forecast": "scot_cli.forecast.api",
    "forecast": "scot_cli.forecast.api",
}
#: Old names kept for one release: old name -> new name.
_RENAMED = {"evaluate": "evaluate_forecast"}

__all__ = [
    "ALIGNS",
    "MODELS",
    "PERIODS",
    "EvaluateOptions",
    "EvaluateResult",
    "EvaluateSummary",
    "ForecastOptions",
    "ForecastResult",
    "ForecastSummary",
    "ModelScore",
    "decide_from_inputs",
    "evaluate_forecast",
    "forecast",
]


def __getattr__(name: str) -> Any:
    target = _RENAMED.get(name, name)
    if target in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[target]), target)
    raise AttributeError(name)
