"""Wagner-Whitin for many skus at once against the one-sku dynamic program."""

from __future__ import annotations

import numpy as np
import pytest

from scot_cli.buy.classic import wagner_whitin
from scot_cli.buy.lot_size import wagner_whitin_batch


def test_snyder_shen_example_3_9() -> None:
    """K = 500, h = 2, d = (90, 120, 80, 70): order 210 and 150, cost 1,380."""
    plan = wagner_whitin_batch(np.array([[90.0, 120, 80, 70]]), np.array([500.0]), np.array([2.0]))
    assert plan.qty[0].tolist() == [210.0, 0.0, 150.0, 0.0]
    assert plan.cost[0] == pytest.approx(1380.0, rel=1e-12)
    assert plan.orders[0] == 2


def test_matches_the_one_sku_program_with_zero_demand_periods() -> None:
    rng = np.random.default_rng(5)
    demand = rng.integers(0, 40, (50, 12)).astype(float) * (rng.random((50, 12)) > 0.3)
    k, h = rng.uniform(5, 200, 50), rng.uniform(0.1, 3, 50)
    plan = wagner_whitin_batch(demand, k, h)
    for i in range(50):
        _, cost = wagner_whitin(demand[i].tolist(), float(k[i]), float(h[i]))
        assert plan.cost[i] == pytest.approx(cost, rel=1e-9)
        assert plan.qty[i].sum() == pytest.approx(demand[i].sum())
        plan_cost = sum(k[i] for q in plan.qty[i] if q > 0) + h[i] * float(
            np.sum(np.cumsum(plan.qty[i]) - np.cumsum(demand[i]))
        )
        assert plan_cost == pytest.approx(cost, rel=1e-9)  # the plan costs what it says
