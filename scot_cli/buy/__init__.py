"""``scot plan-buy``: what to buy, how much and when, from quantile forecasts.

The command is a thin layer over :func:`plan_buy`; the textbook models it builds on are
library functions too (:mod:`scot_cli.buy.classic` for EOQ, newsvendor, (r,Q), (s,S) and
Wagner-Whitin; :mod:`scot_cli.buy.echelon` for Clark-Scarf and the guaranteed-service model).
Exports load lazily so that importing the registry (for ``--help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scot_cli.buy.plan import (
        BuyOptions,
        BuyPlan,
        BuyResult,
        BuySummary,
        check_options,
        decide_from_inputs,
        load_inputs,
        plan_buy,
    )

__all__ = [
    "BuyOptions",
    "BuyPlan",
    "BuyResult",
    "BuySummary",
    "check_options",
    "decide_from_inputs",
    "load_inputs",
    "plan_buy",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from scot_cli.buy import plan

        return getattr(plan, name)
    raise AttributeError(name)
