"""The vectorised exact (s,S) against Zheng & Federgruen's search, one sku at a time."""

from __future__ import annotations

import numpy as np
import pytest

from scot_cli.buy.classic import poisson_pmf, ss_zheng_federgruen
from scot_cli.buy.distributions import Normal, Poisson
from scot_cli.buy.ss_exact import EXACT_WIDTH, power_approximation, ss_levels, windows


def test_matches_zheng_federgruen_on_many_skus_at_once() -> None:
    """Sixty Poisson skus (means 0.5 to 20, K 0 to 30, p/h 2 to 20) priced in one call give
    the (s, S) and cost of the one-sku search (Zheng & Federgruen 1991; Snyder & Shen 4.6)."""
    rng = np.random.default_rng(7)
    lam = rng.uniform(0.5, 20, 60)
    h = rng.uniform(0.5, 2, 60)
    p = h * rng.uniform(2, 20, 60)
    k = rng.uniform(0, 30, 60)
    lv = ss_levels(lambda idx: (Poisson(lam[idx]), Poisson(lam[idx])), 60, h, p, k)
    assert lv.exact.all()
    for i in range(60):
        s, big_s, cost = ss_zheng_federgruen(h[i], p[i], k[i], poisson_pmf(lam[i]))
        assert (lv.s[i], lv.S[i]) == (s, big_s)
        assert lv.cost[i] == pytest.approx(cost, rel=1e-9)
        assert lv.holding[i] + lv.shortage[i] + lv.ordering[i] == pytest.approx(cost, rel=1e-9)


def test_snyder_shen_example_4_7() -> None:
    """Poisson(6), h = 1, p = 4, K = 5: (s, S) = (4, 10), cost 8.0341."""
    one = np.array([1.0])
    lv = ss_levels(
        lambda idx: (Poisson(np.full(idx.size, 6.0)), Poisson(np.full(idx.size, 6.0))),
        1,
        one,
        4 * one,
        5 * one,
    )
    assert (lv.s[0], lv.S[0]) == (4, 10)
    assert lv.cost[0] == pytest.approx(8.034111561463058, rel=1e-9)


def test_the_window_holds_the_bounds_of_the_optimum() -> None:
    """a - 1 <= s < y* <= S <= b for every sku (Zheng & Federgruen's bounds)."""
    lam = np.array([3.0, 9.0, 14.0])
    h, p, k = np.array([1.0, 0.5, 2.0]), np.array([9.0, 5.0, 30.0]), np.array([10.0, 40.0, 5.0])
    a, y_star, b = windows(Poisson(lam), h, p, k)
    lv = ss_levels(lambda idx: (Poisson(lam[idx]), Poisson(lam[idx])), 3, h, p, k)
    assert (a - 1 <= lv.s).all() and (lv.s < y_star).all()
    assert (y_star <= lv.S).all() and (b >= lv.S).all()


def test_wide_windows_use_the_power_approximation() -> None:
    """Mean 500 a period with K/h = 20,000 is past the exact window: the levels are the
    revised power approximation's (Ehrhardt & Mosier 1984), S - s =
    1.30 mu^0.494 (K/h)^0.506 (1 + sigma^2/mu^2)^0.116 (above 1.5 mu, so uncapped)."""
    mu, sd = np.array([500.0]), np.array([100.0])
    h, p, k = np.array([1.0]), np.array([9.0]), np.array([20000.0])
    lv = ss_levels(lambda idx: (Normal(mu, sd), Normal(mu, sd)), 1, h, p, k)
    assert not lv.exact[0]
    s, big_s = power_approximation(Normal(mu, sd), Normal(mu, sd), h, p, k)
    assert (lv.s[0], lv.S[0]) == (s[0], big_s[0])
    q = 1.30 * 500**0.494 * 20000**0.506 * (1 + (100 / 500) ** 2) ** 0.116
    assert big_s[0] - s[0] == pytest.approx(q, rel=1e-12)
    assert q > EXACT_WIDTH


@pytest.mark.parametrize("kind", ["poisson", "normal", "empirical"])
def test_compiled_pricing_is_the_numpy_pricing_bit_for_bit(kind: str) -> None:
    """The compiled window pricing (scot_cli.buy.ss_kernel) gives the levels and costs of
    the numpy pricing exactly, on 400 skus of each demand model (K = 0 included)."""
    from scot_cli.buy.distributions import QuantileShaped
    from scot_cli.buy.ss_exact import exact_levels

    rng = np.random.default_rng(11)
    n = 400
    lam = rng.uniform(0.2, 25, n)
    h = rng.uniform(0.2, 2, n)
    p = h * rng.uniform(1.5, 30, n)
    k = np.where(rng.random(n) < 0.1, 0.0, rng.uniform(0, 40, n))

    def dist(scale: float) -> Poisson | Normal | QuantileShaped:
        mu = lam * scale
        if kind == "poisson":
            return Poisson(mu)
        if kind == "normal":
            return Normal(mu, np.sqrt(mu) * 1.3)
        z = np.array([-1.2815515655446004, 0.0, 1.2815515655446004])
        x = mu[:, None] + np.sqrt(mu)[:, None] * np.array([-1.1, -0.1, 1.6])[None, :]
        return QuantileShaped(z, np.maximum(x, 0.0))

    a, _, b = windows(dist(3.0), h, p, k)
    keep = np.flatnonzero(np.isfinite(b - a) & (b - a + 2 <= EXACT_WIDTH))
    assert keep.size > n // 2
    lam, h, p, k = lam[keep], h[keep], p[keep], k[keep]
    per, prot = dist(1.0), dist(3.0)
    numpy_lv = exact_levels(per, prot, h, p, k)
    compiled_lv = exact_levels(per, prot, h, p, k, compiled=True)
    for name in ("s", "S", "cost", "holding", "shortage", "ordering"):
        assert np.array_equal(
            getattr(numpy_lv, name).view(np.int64), getattr(compiled_lv, name).view(np.int64)
        ), name
