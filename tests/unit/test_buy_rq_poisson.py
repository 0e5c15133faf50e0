"""The vectorised Poisson (r,Q) against a scalar enumeration of the same cost."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson

from scot_cli.buy.rq_poisson import rq_poisson


def _cost(r: int, q: int, mu: float, h: float, p: float, k: float, lam: float) -> float:
    support = np.arange(400)
    pmf = poisson.pmf(support, mu)

    def n1(y: int) -> float:
        return float(np.sum(pmf * np.maximum(support - y, 0)))

    held = sum(y - mu + n1(y) for y in range(r + 1, r + q + 1)) / q
    return k * lam / q + h * held + p * lam / q * (n1(r) - n1(r + q))


def test_many_skus_match_a_one_by_one_enumeration() -> None:
    rng = np.random.default_rng(11)
    lam = rng.uniform(0.2, 4, 8)
    mu = lam * rng.integers(0, 4, 8)
    h, p, k = rng.uniform(0.5, 2, 8), rng.uniform(5, 30, 8), rng.uniform(1, 20, 8)
    out = rq_poisson(mu, h, p, k, lam)
    assert out.exact.all()
    for i in range(8):
        grid = [
            (_cost(r, q, mu[i], h[i], p[i], k[i], lam[i]), r, q)
            for r in range(-4, 20)
            for q in range(1, 30)
        ]
        best = min(grid)
        total = out.holding[i] + out.shortage[i] + out.ordering[i]
        assert total == pytest.approx(best[0], rel=1e-9)
        assert total <= best[0] + 1e-9


def test_no_demand_orders_nothing() -> None:
    one = np.ones(1)
    out = rq_poisson(np.zeros(1), one, one, one, np.zeros(1))
    assert (out.q[0], out.holding[0], out.shortage[0]) == (0.0, 0.0, 0.0)
