"""Analytical base-stock results the simulation is validated against.

Snyder & Shen, *Fundamentals of Supply Chain Theory* (2nd ed., 2019), ch. 4: under a
base-stock policy with backorders, level ``S`` and a fixed lead time of ``L`` periods,
the inventory level at the end of a period is ``IL = S - D_L`` with ``D_L`` the demand
over the last ``L`` periods, so the expected on-hand stock is ``E[(S - D_L)^+]`` (the
complement of the loss function, ``S - E[D_L] + n(S)``). A period's demand is filled from
stock ``S - D_{L-1}`` at its start, so the fill rate (type 2) is
``beta = (E[(S - D_{L-1})^+] - E[(S - D_L)^+]) / lambda``.

The timing is the day loop's: an order placed at the end of day ``t`` is on hand at the
start of day ``t + L``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BaseStock:
    """Long-run fill rate (type 2) and mean end-of-day on-hand stock."""

    fill_rate: float
    on_hand: float


def _on_hand(level: int, mean: float) -> float:
    """``E[(S - D)^+]`` for ``D`` Poisson with ``mean`` and ``S`` = ``level``."""
    from scipy import stats

    d = np.arange(level + 1)
    return float(np.sum((level - d) * stats.poisson.pmf(d, mean)))


def base_stock_poisson(level: int, rate: float, lead_days: int) -> BaseStock:
    """Fill rate and mean on hand of base stock ``S`` = ``level`` with Poisson demand of
    ``lambda`` = ``rate`` per day and a lead time of ``L`` = ``lead_days`` (>= 1) days.

    >>> r = base_stock_poisson(1, 1.0, 1)
    >>> round(r.fill_rate, 4), round(r.on_hand, 4)
    (0.6321, 0.3679)
    """
    if lead_days < 1 or rate <= 0 or level < 0:
        raise ValueError("need lead_days >= 1, rate > 0 and level >= 0")
    at_start = _on_hand(level, rate * (lead_days - 1))
    at_end = _on_hand(level, rate * lead_days)
    return BaseStock(fill_rate=(at_start - at_end) / rate, on_hand=at_end)
