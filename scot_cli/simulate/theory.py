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

At the start of a run, the stock a network holds must last until the first buy can
arrive; :func:`startup_shortfall` is the demand expected beyond it, which no policy can
serve (the warm-up loss of a run starting short).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


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


def first_arrival_days(
    lead_mean: NDArray[np.float64], inbound_days: NDArray[np.float64]
) -> NDArray[np.int64]:
    """The day a buy placed on day 0 is on hand, per sku, at its mean lead time: the lead
    time in whole days (at least 1) plus the fastest vendor-to-FC transit (the day loop's
    timing, :func:`scot_cli.simulate.engine.run`)."""
    lead = np.maximum(np.rint(lead_mean), 1.0)
    out: NDArray[np.int64] = (lead + inbound_days.min(axis=1)).astype(np.int64)
    return out


def startup_shortfall(
    stock: NDArray[np.float64], daily_mean: NDArray[np.float64], arrival: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Units of each sku expected to be demanded beyond its starting stock before any buy
    can arrive: ``max(0, sum_{t < a_k} E[D_{t,k}] - S_k)`` with ``S_k`` the stock on hand
    and in transit at the start (``stock``, per sku), ``E[D_{t,k}]`` the mean demand of
    day ``t`` (``daily_mean``, days x skus) and ``a_k`` the first day a buy can be on hand
    (``arrival``). No buying or moving of stock serves these units; with lost sales the
    expected loss is at least this much when lead times are fixed (Jensen's inequality:
    ``E[(D - S)^+] >= (E[D] - S)^+``), and near it when they vary.

    >>> startup_shortfall(np.array([5.0, 50.0]), np.full((10, 2), 2.0), np.array([4, 6]))
    array([3., 0.])
    """
    days = daily_mean.shape[0]
    cum = np.vstack([np.zeros((1, daily_mean.shape[1])), np.cumsum(daily_mean, axis=0)])
    before = cum[np.clip(arrival, 0, days), np.arange(daily_mean.shape[1])]
    out: NDArray[np.float64] = np.maximum(before - stock, 0.0)
    return out
