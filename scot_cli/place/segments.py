"""Piecewise-linear expected sales of a region's allocation under uncertain demand.

With period demand D ~ Normal(mu, sd), the expected units sold from an allocation ``a`` is
``L(a) = E[min(D, a)] = mu - sd * G((a - mu) / sd)`` where ``G(z) = phi(z) - z (1 - Phi(z))``
is the standard normal loss function (Snyder & Shen, *Fundamentals of Supply Chain Theory*,
2nd ed., Sec. 4.3 and App. C). ``L`` is concave, so interpolating it between quantile
breakpoints gives segments of decreasing slope that an LP fills in order: segment ``k`` of
width ``w_k`` earns ``g_k`` expected sales per unit. Expected shortage is ``mu - sum_k g_k z_k``.
"""

from __future__ import annotations

import numpy as np

from scot_cli.place.options import DEFAULT_LEVELS


def expected_sales(a: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """``E[min(D, a)]`` for D ~ Normal(mu, sd) (``min(mu, a)`` where ``sd`` is ~0).

    >>> float(expected_sales(np.array([10.0]), np.array([10.0]), np.array([0.0]))[0])
    10.0
    >>> round(float(expected_sales(np.array([10.0]), np.array([10.0]), np.array([2.0]))[0]), 4)
    9.2021
    """
    from scipy.special import ndtr

    a, mu, sd = np.broadcast_arrays(
        np.asarray(a, float), np.asarray(mu, float), np.asarray(sd, float)
    )
    spread = sd > 1e-9 * np.maximum(1.0, np.abs(mu))
    z = (a - mu) / np.where(spread, sd, 1.0)
    loss = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi) - z * ndtr(-z)
    out: np.ndarray = np.where(spread, mu - sd * loss, np.minimum(mu, a))
    return out


def segments(
    mu: np.ndarray, sd: np.ndarray, *, levels: tuple[float, ...] = DEFAULT_LEVELS
) -> tuple[np.ndarray, np.ndarray]:
    """Widths and slopes of the expected-sales segments.

    Parameters
    ----------
    mu, sd
        Arrays (any shape) of expected period demand and its standard deviation.
    levels
        Increasing quantile levels of the breakpoints after 0.

    Returns
    -------
    widths, gains
        Arrays of shape ``mu.shape + (K,)``: units each segment can take and the expected
        units sold per unit allocated in it (non-increasing along K, in [0, 1]).
        Demand is taken as ``max(D, 0)`` (``L(a) - L(0)``), scaled so that the segments
        together sell ``mu``.
    """
    from scipy.special import ndtri

    z = ndtri(np.asarray(levels, float))
    breaks = np.maximum(0.0, mu[..., None] + sd[..., None] * z)
    breaks = np.maximum.accumulate(breaks, axis=-1)
    # D+ = max(D, 0): E[min(D+, a)] = L(a) - L(0), concave and 0 at a = 0; scaled so a
    # full allocation sells mu (not the slightly larger mean of D+)
    at_zero = expected_sales(np.zeros_like(mu), mu, sd)
    scale = np.divide(mu, mu - at_zero, out=np.ones_like(mu), where=mu - at_zero > 1e-12)
    sales = (expected_sales(breaks, mu[..., None], sd[..., None]) - at_zero[..., None]) * scale[
        ..., None
    ]
    sales = np.concatenate([np.zeros((*mu.shape, 1)), sales], axis=-1)
    edges = np.concatenate([np.zeros((*mu.shape, 1)), breaks], axis=-1)
    widths = np.diff(edges, axis=-1)
    gains = np.divide(
        np.diff(sales, axis=-1), widths, out=np.zeros_like(widths), where=widths > 1e-12
    )
    # empty segments must not cap the slopes after them (min-accumulate for concavity)
    empty = widths <= 1e-12
    gains = np.minimum.accumulate(np.where(empty, 1.0, np.clip(gains, 0.0, 1.0)), axis=-1)
    return widths, np.where(empty, 0.0, gains)
