"""Supply disruptions (Snyder & Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., ch. 9).

An item's supplier fails at ``disruption_rate`` times a year while up (exponential up
times) and stays down ``recovery_days`` on average (exponential down times); nothing
arrives while it is down. Two models, vectorised over skus:

- :func:`eoqd_quantity`: the EOQ with disruptions (EOQD; Parlar & Berkin 1991, Berk &
  Arreola-Risa 1994; Snyder & Shen 9.2.2, eq. (9.5)): ``g(Q) = (K + h Q^2 / 2d + p d psi /
  mu) / (Q/d + psi/mu)`` with ``psi = lambda / (lambda + mu) (1 - exp(-(lambda + mu) Q /
  d))``, minimised by golden-section search started from Snyder's (2014) closed form;
- :func:`disrupted_level`: the base-stock level with disruptions (Snyder & Shen 9.2.3,
  eq. (9.18) and Lemma 9.2): with per-period disruption and recovery probabilities
  ``alpha``, ``beta``, a replenishment waits ``n`` extra periods with probability ``pi_0 =
  beta / (alpha + beta)``, ``pi_n = alpha beta / (alpha + beta) (1 - beta)^(n-1)``; the level
  is the ``p / (p + h)`` quantile of demand over the protection interval stretched by ``n``
  periods, mixed over ``n`` (for deterministic demand exactly the book's ``S* = d (1 + n*)``
  with ``n*`` the smallest ``n`` where ``F(n) >= p / (p + h)``).
"""

from __future__ import annotations

import math

import numpy as np

from .distributions import Array, norm_cdf

#: Golden-section iterations of the EOQD search (the bracket shrinks by 0.618 each).
GOLDEN_STEPS = 90
#: Disruption lengths are summed until the probability left is below this.
TAIL = 1e-10
#: At most this many disruption lengths are summed (a recovery probability below ~1%).
MAX_TERMS = 2000


def rates(disruption_rate: Array, recovery_days: Array) -> tuple[Array, Array]:
    """Disruptions and recoveries per day from the items' columns (per year, days)."""
    lam = np.asarray(disruption_rate, dtype=np.float64) / 365.0
    with np.errstate(divide="ignore"):
        mu = np.where(recovery_days > 0, 1.0 / np.asarray(recovery_days, dtype=np.float64), np.inf)
    return lam, mu


def eoqd_cost(q: Array, K: Array, h: Array, p: Array, d: Array, lam: Array, mu: Array) -> Array:
    """Expected cost per unit time of order quantity ``q`` under disruptions (eq. (9.5))."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        psi = lam / (lam + mu) * -np.expm1(-(lam + mu) * q / d)
        num = K + h * q * q / (2 * d) + p * d * psi / mu
        return np.asarray(num / (q / d + psi / mu), dtype=np.float64)


def eoqd_approx(K: Array, h: Array, p: Array, d: Array, lam: Array, mu: Array) -> Array:
    """Snyder's (2014) closed-form approximation of the EOQD quantity."""
    psi = lam / (lam + mu)
    root = np.sqrt((psi * d * h) ** 2 + 2 * h * mu * (K * d * mu + d * d * p * psi))
    return np.asarray((root - psi * d * h) / (h * mu), dtype=np.float64)


def eoqd_quantity(K: Array, h: Array, p: Array, d: Array, lam: Array, mu: Array) -> Array:
    """The EOQD order quantity of every sku (0 without demand)."""
    live = d > 0
    q = np.zeros(d.shape)
    if not live.any():
        return q
    K, h, p, d, lam, mu = (np.asarray(a, dtype=np.float64)[live] for a in (K, h, p, d, lam, mu))
    guess = eoqd_approx(K, h, p, d, lam, mu)
    lo, hi = guess / 10, guess * 10
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = eoqd_cost(a, K, h, p, d, lam, mu), eoqd_cost(b, K, h, p, d, lam, mu)
    for _ in range(GOLDEN_STEPS):
        left = fa < fb  # the minimum lies in [lo, b]
        hi = np.where(left, b, hi)
        lo = np.where(left, lo, a)
        a_new = hi - ratio * (hi - lo)
        b_new = lo + ratio * (hi - lo)
        a, b = a_new, b_new
        fa, fb = eoqd_cost(a, K, h, p, d, lam, mu), eoqd_cost(b, K, h, p, d, lam, mu)
    q[live] = (lo + hi) / 2
    return q


def period_probabilities(lam: Array, mu: Array, period: Array) -> tuple[Array, Array]:
    """Per-period probabilities of a disruption starting (``alpha``) and ending (``beta``)
    for exponential up and down times with rates ``lam`` and ``mu`` per day."""
    alpha = -np.expm1(-lam * period)
    beta = np.where(np.isfinite(mu), -np.expm1(-mu * period), 1.0)
    return alpha, beta


def _terms(alpha: Array, beta: Array) -> tuple[Array, int]:
    """``pi_n`` for n = 0..N-1 per row (shape (rows, N)) and N."""
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where(
            (alpha > 0) & (beta < 1),
            np.log(TAIL * (alpha + beta) / np.maximum(alpha, 1e-300)) / np.log1p(-beta),
            1.0,
        )
    n = int(min(max(float(np.nanmax(need, initial=1.0)), 1.0) + 2, MAX_TERMS))
    k = np.arange(n, dtype=np.float64)[None, :]
    a, b = alpha[:, None], beta[:, None]
    with np.errstate(invalid="ignore"):
        pi = np.where(k == 0, b / (a + b), a * b / (a + b) * (1 - b) ** np.maximum(k - 1, 0))
    pi = np.where(np.isfinite(pi), pi, 0.0)
    pi /= pi.sum(axis=1, keepdims=True)  # the truncated tail goes to the terms kept
    return pi, n


def disrupted_cdf(level: Array, mean: Array, sd: Array, stretch: Array, pi: Array) -> Array:
    """``P(D <= level)`` for demand over the protection interval stretched by ``n`` periods,
    normal with mean ``mean * (1 + n stretch)`` and variance ``sd^2 (1 + n stretch)``, mixed
    over ``n`` with weights ``pi``."""
    k = 1 + np.arange(pi.shape[1], dtype=np.float64)[None, :] * stretch[:, None]
    mu = mean[:, None] * k
    sigma = sd[:, None] * np.sqrt(k)
    x = level[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sigma > 0, (x - mu) / np.where(sigma > 0, sigma, 1.0), np.inf)
    step = np.where(x >= mu * (1 - 1e-12), 1.0, 0.0)
    cdf = np.where(sigma > 0, norm_cdf(z), step)
    return np.asarray((pi * cdf).sum(axis=1), dtype=np.float64)


def disrupted_level(
    ratio: Array,
    mean: Array,
    sd: Array,
    *,
    lead: Array,
    review: Array,
    lam: Array,
    mu: Array,
) -> tuple[Array, Array]:
    """Base-stock level and in-stock probability of every row under disruptions.

    ``mean``, ``sd``: demand over the protection interval (``lead + review`` days); a
    disruption period is one review period, so ``n`` disrupted periods stretch the interval
    by ``n review`` days.
    """
    alpha, beta = period_probabilities(lam, mu, review)
    pi, _ = _terms(alpha, beta)
    days = lead + review
    stretch = np.where(days > 0, review / np.where(days > 0, days, 1.0), 0.0)
    top = mean * (1 + (pi.shape[1] - 1) * stretch) + 12 * sd * np.sqrt(1 + pi.shape[1] * stretch)
    lo, hi = np.zeros(mean.shape), np.maximum(top, 1e-9)
    target = np.clip(ratio, 0.0, 1.0 - 1e-12)
    for _ in range(80):  # bisection: hi always has cdf >= target
        mid = (lo + hi) / 2
        ok = disrupted_cdf(mid, mean, sd, stretch, pi) >= target
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return hi, disrupted_cdf(hi, mean, sd, stretch, pi)
