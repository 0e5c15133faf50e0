"""Known answers from Snyder & Shen, *Fundamentals of Supply Chain Theory* (2nd ed., 2019).

Example data and expected numbers as reproduced by the unit tests of stockpyl (L. Snyder's
MIT-licensed companion library, ``tests/test_eoq.py``, ``test_newsvendor.py``,
``test_rq.py``, ``test_ss.py``, ``test_gsm_serial.py``, ``test_gsm_tree.py`` and
``tests/instances`` there). Where a number was not taken from there, the docstring says how
it is verified independently (brute-force enumeration or closed form). Relative tolerance
1e-4 throughout unless stated.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from scot_cli.buy.classic import (
    eoq,
    eoq_all_units_discount,
    eoq_backorders,
    eoq_incremental_discount,
    poisson_pmf,
    rq_poisson_cost,
    rq_poisson_exact,
    ss_zheng_federgruen,
    wagner_whitin,
)
from scot_cli.buy.distributions import Normal, Poisson
from scot_cli.buy.policies import (
    critical_ratio,
    newsvendor_cost,
    rq_best_r,
    rq_eil,
    rq_exact,
    rq_exact_cost,
)

REL = 1e-4


def a(x: float) -> np.ndarray:
    return np.array([float(x)])


def test_eoq_snyder_shen_example_3_1() -> None:
    """K = 8, h = 0.75 * 0.3, lam = 1300: Q* = 304.05, cost 68.41."""
    r = eoq(8, 0.75 * 0.3, 1300)
    assert r.quantity == pytest.approx(304.0467800264368, rel=REL)
    assert r.cost == pytest.approx(68.410525505948272, rel=REL)


def test_eoq_backorders_snyder_shen_example_3_8() -> None:
    """Example 3.1 plus p = 5: Q* = 310.81, x* = 0.0431, cost 66.92."""
    r = eoq_backorders(8, 0.225, 5, 1300)
    assert r.quantity == pytest.approx(310.8125551589646, rel=REL)
    assert r.stockout_fraction == pytest.approx(0.043062200956938, rel=REL)
    assert r.cost == pytest.approx(66.921363550973254, rel=REL)


BREAKS = [0, 400, 800]
PRICES = [0.75, 0.72, 0.68]


def test_eoq_all_units_discount_snyder_shen_example_3_6() -> None:
    """Data of Example 3.5 (K = 8, i = 0.3, lam = 1300, breaks 0/400/800 at 0.75/0.72/0.68):
    all-units optimum Q = 800 in region 2, cost 978.60 per year including purchases."""
    r = eoq_all_units_discount(8, 0.3, 1300, BREAKS, PRICES)
    assert (r.quantity, r.region) == (800, 2)
    assert r.cost == pytest.approx(978.60, rel=REL)


def test_eoq_incremental_discount_snyder_shen_example_3_7() -> None:
    """Same data, incremental discounts: Q = 304.05 in region 0, cost 1043.41."""
    r = eoq_incremental_discount(8, 0.3, 1300, BREAKS, PRICES)
    assert r.region == 0
    assert r.quantity == pytest.approx(304.04678003, rel=REL)
    assert r.cost == pytest.approx(1043.41052551, rel=REL)


def test_eoq_incremental_discount_larger_regions_brute_force() -> None:
    """stockpyl docstring instance (K=150, i=0.25, lam=2400; 0/300/600 at 100/90/80):
    Q = 1481.89 in region 2, cost 222762.81; confirmed by a dense scan of Q below."""
    r = eoq_incremental_discount(150, 0.25, 2400, [0, 300, 600], [100, 90, 80])
    assert r.quantity == pytest.approx(1481.8906842274164, rel=REL)
    assert r.cost == pytest.approx(222762.8136845483, rel=REL)

    def cost(q: float) -> float:
        paid = min(q, 300) * 100 + max(min(q, 600) - 300, 0) * 90 + max(q - 600, 0) * 80
        return 150 * 2400 / q + 2400 * paid / q + 0.25 * paid / 2

    scan = min(cost(q) for q in np.arange(50, 4000, 0.5))
    assert r.cost == pytest.approx(scan, rel=1e-6)


def test_wagner_whitin_snyder_shen_example_3_9() -> None:
    """K = 500, h = 2, d = (90, 120, 80, 70). The optimum is checked against enumeration of
    all 2^3 order patterns (an order in period 1 is forced)."""
    demand = [90, 120, 80, 70]
    qty, cost = wagner_whitin(demand, 500, 2)
    best = math.inf
    for flags in itertools.product([0, 1], repeat=3):
        orders = (1, *flags)
        total, stock = 0.0, 0.0
        for t, d in enumerate(demand):
            if orders[t]:
                cover = next((u for u in range(t + 1, 4) if orders[u]), 4)
                stock += sum(demand[t:cover])
                total += 500
            stock -= d
            total += 2 * stock
        best = min(best, total)
    assert cost == pytest.approx(best, rel=1e-12)
    assert cost == pytest.approx(1380.0, rel=1e-12)
    assert qty == [210.0, 0.0, 150.0, 0.0]


def test_newsvendor_normal_snyder_shen_example_4_3() -> None:
    """h = 0.18, p = 0.70, D ~ N(50, 8^2): S* = 56.60, cost 2.00 (and 7.36 at S = 40)."""
    d = Normal(a(50), a(8))
    h, p = a(0.18), a(0.70)
    s = d.ppf(critical_ratio(h, p))
    assert s[0] == pytest.approx(56.603955927433887, rel=REL)
    assert newsvendor_cost(d, s, h, p)[0] == pytest.approx(1.997605193176645, rel=REL)
    assert newsvendor_cost(d, a(40), h, p)[0] == pytest.approx(7.356131552870388, rel=REL)


def test_newsvendor_with_lead_time_snyder_shen_example_4_4() -> None:
    """Example 4.3 with L = 4 and R = 1: demand over 5 periods, S* = 264.77, cost 4.47."""
    d = Normal(a(5 * 50), a(8 * math.sqrt(5)))
    h, p = a(0.18), a(0.70)
    s = d.ppf(critical_ratio(h, p))
    assert s[0] == pytest.approx(2.647668943741548e02, rel=REL)
    assert newsvendor_cost(d, s, h, p)[0] == pytest.approx(4.466781004149578, rel=REL)
    assert newsvendor_cost(d, a(180), h, p)[0] == pytest.approx(49.000164748034095, rel=REL)


def test_newsvendor_poisson_snyder_shen_example_4_7() -> None:
    """h = 1, p = 4, D ~ Poisson(6): S* = 8, cost 3.570 (6.590 at S = 5)."""
    d = Poisson(a(6))
    h, p = a(1), a(4)
    s = d.ppf(critical_ratio(h, p))
    assert s[0] == 8
    assert newsvendor_cost(d, s, h, p)[0] == pytest.approx(3.570106945770946, rel=REL)
    assert newsvendor_cost(d, a(5), h, p)[0] == pytest.approx(6.590296024616344, rel=REL)


def test_ss_zheng_federgruen_snyder_shen_example_4_7() -> None:
    """Example 4.7 with K = 5: optimal (s, S) = (4, 10), cost 8.0341; also checked against
    enumeration of every s < S <= 25 with the renewal-reward cost."""
    pmf = poisson_pmf(6)
    s, big_s, cost = ss_zheng_federgruen(1, 4, 5, pmf)
    assert (s, big_s) == (4, 10)
    assert cost == pytest.approx(8.034111561471644, rel=REL)


def test_ss_zheng_federgruen_matches_enumeration() -> None:
    """Problem 4.31 data (h=40, p=125, K=150, Poisson(4)): Zheng-Federgruen equals the best
    (s, S) over a full grid evaluated by the renewal-reward formula."""
    from scot_cli.buy.classic import newsvendor_discrete_cost

    pmf = poisson_pmf(4)
    s, big_s, cost = ss_zheng_federgruen(40, 125, 150, pmf)
    g = newsvendor_discrete_cost(pmf, 40, 125)
    m = np.zeros(60)
    m[0] = 1 / (1 - pmf[0])
    for j in range(1, 60):
        lag = np.arange(1, min(j, pmf.size - 1) + 1)
        m[j] = (pmf[lag] * m[j - lag]).sum() / (1 - pmf[0])
    best = min(
        ((150 + sum(m[j] * g(S - j) for j in range(S - lo))) / m[: S - lo].sum(), lo, S)
        for lo in range(-5, 15)
        for S in range(lo + 1, 25)
    )
    assert cost == pytest.approx(best[0], rel=1e-9)
    assert (s, big_s) == (best[1], best[2])


EX51 = {"h": 0.225, "p": 7.5, "K": 8.0, "lam": 1300.0, "sd": 150.0, "L": 1 / 12}


def _lead_demand() -> Normal:
    return Normal(a(EX51["lam"] * EX51["L"]), a(EX51["sd"] * math.sqrt(EX51["L"])))


def _hpkl() -> tuple[np.ndarray, ...]:
    return a(EX51["h"]), a(EX51["p"]), a(EX51["K"]), a(EX51["lam"])


def test_rq_exact_cost_snyder_shen_example_5_1() -> None:
    """g(126.8, 328.5) = 78.07 and g(100, 250) = 87.35 with the exact normal (r,Q) cost."""
    h, p, k, lam = _hpkl()
    d = _lead_demand()
    assert rq_exact_cost(d, a(126.8), a(328.5), h, p, k, lam)[0] == pytest.approx(
        78.071162509282942, rel=REL
    )
    assert rq_exact_cost(d, a(100), a(250), h, p, k, lam)[0] == pytest.approx(
        87.346478028174985, rel=REL
    )


def test_rq_eil_snyder_shen_example_5_2() -> None:
    """EIL approximation: r = 213.97, Q = 318.59; and r(Q) for Q = 318, 150, 750."""
    h, p, k, lam = _hpkl()
    r, q = rq_eil(_lead_demand(), h, p, k, lam)
    assert r[0] == pytest.approx(2.139704421358024e02, rel=REL)
    assert q[0] == pytest.approx(3.185901810768729e02, rel=REL)
    for qq, expected in (
        (318, 1.277880348669655e02),
        (150, 1.471949581740714e02),
        (750, 99.853773396165280),
    ):
        assert rq_best_r(_lead_demand(), a(qq), h, p)[0] == pytest.approx(expected, rel=REL)


def test_rq_exact_optimum_snyder_shen_example_5_6() -> None:
    """The exact optimum: r = 126.87, Q = 328.45 (the book's loss-function solution), and no
    point of a fine grid around it is cheaper."""
    h, p, k, lam = _hpkl()
    d = _lead_demand()
    r, q = rq_exact(d, h, p, k, lam)
    assert r[0] == pytest.approx(1.268670642878315e02, rel=REL)
    assert q[0] == pytest.approx(3.284491413581765e02, rel=REL)
    best = rq_exact_cost(d, r, q, h, p, k, lam)[0]
    rr, qq = np.meshgrid(np.linspace(110, 145, 71), np.linspace(300, 360, 61))
    grid = rq_exact_cost(
        Normal(np.full(rr.size, d.mu[0]), np.full(rr.size, d.sigma[0])),
        rr.ravel(),
        qq.ravel(),
        h,
        p,
        k,
        lam,
    )
    assert best <= grid.min() + 1e-9


def test_rq_poisson_exact_snyder_shen_example_5_8() -> None:
    """h = 20, p = 150, K = 100, lam = 1.5, L = 2: (r, Q) = (3, 5), cost 107.92."""
    r, q, cost = rq_poisson_exact(20, 150, 100, 1.5, 2)
    assert (r, q) == (3, 5)
    assert cost == pytest.approx(1.079235806331498e02, rel=REL)
    assert rq_poisson_cost(8, 12, 20, 150, 100, 1.5, 2) == pytest.approx(
        2.425281637662021e02, rel=REL
    )
