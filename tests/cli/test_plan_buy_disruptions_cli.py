"""Supply disruptions through ``scot plan-buy`` (Snyder & Shen, *Fundamentals of Supply Chain
Theory*, 2nd ed., ch. 9): every table is built here and the levels read back from the
policy table."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
from test_plan_buy_known_cli import forecast, items, run


def test_eoqd_snyder_shen_example_9_1(tmp_path: Path) -> None:
    """Example 9.1: K = 8, h = 0.225, p = 5, d = 1300 a year, disruptions at rate 1.5 a year
    lasting 1/14 of a year on average: the EOQD optimum is Q* = 772.81 (the EOQ without
    disruptions is 304.05). Here per day: d = 1300/365 with no spread, h = 0.225/365."""
    fc = forecast(1300 / 365, 0.0, periods=60)
    it = items(
        unit_cost=0.225,
        holding_cost_rate=1.0,
        order_cost=8.0,
        stockout_cost=5.0,
        disruption_rate=1.5,
        recovery_days=365 / 14,
    )
    args = ("--policy", "ss_heuristic", "--spread-floor", "none", "--review-days", "1")
    _, policy = run(tmp_path, fc, it, *args)
    batch = policy["order_up_to"][0] - policy["reorder_point"][0]
    assert batch == pytest.approx(772.81, abs=0.01)
    plain = items(unit_cost=0.225, holding_cost_rate=1.0, order_cost=8.0, stockout_cost=5.0)
    _, without = run(tmp_path, fc, plain, *args)
    eoq = without["order_up_to"][0] - without["reorder_point"][0]
    assert eoq == pytest.approx(math.sqrt(2 * 8 * 1300 / 0.225), rel=1e-9)


def test_base_stock_with_disruptions_snyder_shen_example_9_3(tmp_path: Path) -> None:
    """Example 9.3: h = 0.25, p = 3, deterministic demand 2000 a period, disruption
    probability 0.04 and recovery probability 0.25 per period: S* = 8000 (= d (1 + 3), F(2)
    = 0.9224 < p / (p + h) = 0.9231 <= F(3)). A period is a day here (review 1, no lead
    time); the per-day probabilities come from rates lambda = -ln(0.96) per day and a mean
    recovery of -1 / ln(0.75) days."""
    fc = forecast(2000.0, 0.0, periods=30)
    it = items(
        unit_cost=0.25,
        holding_cost_rate=365.0,
        stockout_cost=3.0,
        disruption_rate=-365 * math.log(0.96),
        recovery_days=-1 / math.log(0.75),
    )
    args = ("--policy", "base_stock", "--spread-floor", "none", "--review-days", "1")
    orders, policy = run(tmp_path, fc, it, *args)
    assert policy["order_up_to"][0] == pytest.approx(8000.0, rel=1e-9)
    # F(3) = 1 - 0.04 / 0.29 * 0.75^3 is the in-stock probability at S*
    assert policy["in_stock_prob"][0] == pytest.approx(1 - 0.04 / 0.29 * 0.75**3, rel=1e-9)
    assert orders["qty"][0] == 8000.0
    _, plain = run(
        tmp_path, fc, items(unit_cost=0.25, holding_cost_rate=365.0, stockout_cost=3.0), *args
    )
    assert plain["order_up_to"][0] == pytest.approx(2000.0, rel=1e-9)


def test_a_disruption_rate_without_recovery_days_is_unplanned(tmp_path: Path) -> None:
    it = items(stockout_cost=3.0, disruption_rate=2.0, recovery_days=None)
    it = it.with_columns(pl.col("recovery_days").cast(pl.Float64))
    orders, _ = run(tmp_path, forecast(10.0, 2.0, periods=30), it)
    assert orders["status"][0] == "unplanned"
    assert "recovery_days" in orders["reason"][0]
