"""What scot explain reads from simulate runs: node totals with rates as rates."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from scot_cli.simulate.explain_adapter import RATE_WEIGHTS, node_totals


def test_in_stock_rate_is_served_over_demand_of_the_sums() -> None:
    day = [dt.date(2026, 1, 1), dt.date(2026, 1, 2)]
    daily = pl.DataFrame(
        {
            "scenario": ["base"] * 3,
            "policy": ["scot"] * 3,
            "replication": [0, 0, 0],
            "date": [day[0], day[1], day[0]],
            "node": ["R1", "R1", "F1"],
            "demand": [10.0, 30.0, None],
            "served": [10.0, 15.0, None],
            "served_1day": [5.0, 5.0, None],
            "served_2day": [10.0, 15.0, None],
            "promises_kept": [10.0, 14.0, None],
            "on_hand": [None, None, 7.0],
            "lost": [0.0, 15.0, None],
            "shipping_cost": [1.0, 2.0, None],
            "lost_sales_cost": [0.0, 30.0, None],
            "holding_cost": [None, None, 4.0],
        }
    )
    t = node_totals(daily)
    region = t.filter(pl.col("node") == "R1").row(0, named=True)
    assert region["in_stock_rate"] == pytest.approx(25 / 40)  # not the mean of 1.0 and 0.5
    assert region["share_1day"] == pytest.approx(10 / 25)
    assert region["total_cost"] == pytest.approx(33.0)
    fc = t.filter(pl.col("node") == "F1").row(0, named=True)
    assert fc["in_stock_rate"] is None and fc["total_cost"] == pytest.approx(4.0)
    assert RATE_WEIGHTS["in_stock_rate"] == "demand"
