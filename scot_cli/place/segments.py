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

#: Quantile levels of the breakpoints (the last one caps the useful allocation).
DEFAULT_LEVELS = (0.1, 0.5, 0.9, 0.99)


def expected_sales(a: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """``E[min(D, a)]`` for D ~ Normal(mu, sd) (``min(mu, a)`` where ``sd == 0``).

    >>> float(expected_sales(np.array([10.0]), np.array([10.0]), np.array([0.0]))[0])
    10.0
    >>> round(float(expected_sales(np.array([10.0]), np.array([10.0]), np.array([2.0]))[0]), 4)
    9.2021
    """
    from scipy.stats import norm

    a, mu, sd = np.broadcast_arrays(
        np.asarray(a, float), np.asarray(mu, float), np.asarray(sd, float)
    )
    safe = np.where(sd > 0, sd, 1.0)
    z = (a - mu) / safe
    loss = norm.pdf(z) - z * norm.sf(z)
    out: np.ndarray = np.where(sd > 0, mu - sd * loss, np.minimum(mu, a))
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
        ``L(0)`` is taken as 0 (demand is non-negative).
    """
    from scipy.stats import norm

    z = norm.ppf(np.asarray(levels, float))
    breaks = np.maximum(0.0, mu[..., None] + sd[..., None] * z)
    breaks = np.maximum.accumulate(breaks, axis=-1)
    sales = expected_sales(breaks, mu[..., None], sd[..., None])
    sales = np.concatenate([np.zeros((*mu.shape, 1)), np.maximum(sales, 0.0)], axis=-1)
    edges = np.concatenate([np.zeros((*mu.shape, 1)), breaks], axis=-1)
    widths = np.diff(edges, axis=-1)
    gains = np.divide(
        np.diff(sales, axis=-1), widths, out=np.zeros_like(widths), where=widths > 1e-12
    )
    gains = np.clip(gains, 0.0, 1.0)
    return widths, np.minimum.accumulate(gains, axis=-1)
