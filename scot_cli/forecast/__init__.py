"""``scot forecast``: multi-horizon quantile demand forecasts and their backtest.

Exports are loaded lazily so that importing the model registry (for ``--help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scot_cli.forecast.api import decide_from_inputs, evaluate, forecast

__all__ = ["decide_from_inputs", "evaluate", "forecast"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from scot_cli.forecast import api

        return getattr(api, name)
    raise AttributeError(name)
