"""Interval demand past the end of the forecast: tail rates and monotonicity in lead time."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scot_cli.buy import BuyOptions, plan_buy
from scot_cli.buy.demand import TAIL_DAYS, attach, interval_sums, key_runs

Z90 = 1.2815515655446004
START = dt.date(2026, 3, 2)
AS_OF = START - dt.timedelta(days=1)
LEVELS = ["demand_mean", "demand_sd", "reorder_point", "order_up_to"]


def _frame(
    means: dict[str, list[float]], sds: dict[str, list[float]], step: int = 1
) -> pl.DataFrame:
    """One sku ``S0``: per location a list of period means and spreads (normal quantiles)."""
    rows = []
    for loc, ms in means.items():
        for i, (m, s) in enumerate(zip(ms, sds[loc], strict=True)):
            rows.append(
                {
                    "sku": "S0",
                    "location": loc,
                    "date": START + dt.timedelta(days=i * step),
                    "horizon": i + 1,
                    "mean": m,
                    "p10": m - Z90 * s,
                    "p50": m,
                    "p90": m + Z90 * s,
                    "model": "test",
                }
            )
    return pl.DataFrame(rows)


def _sums(fc: pl.DataFrame, days: float) -> tuple[float, float, float]:
    runs = key_runs(fc, ["sku"])
    fa = attach(fc, runs, pl.DataFrame({"sku": ["S0"]}), keys=["sku"], as_of=AS_OF)
    sums = interval_sums(fa, np.array([days]))
    return float(sums.mean[0]), float(sums.var[0]), float(sums.extended_days[0])


def test_extended_interval_is_forecast_sum_plus_extended_days_times_tail_rate() -> None:
    """Two locations, 10 days, interval 25 days: 15 days at the summed last-week rate."""
    means = {
        "R1": [10.0, 11, 12, 13, 14, 15, 16, 17, 18, 19],
        "R2": [4.0, 4, 5, 5, 6, 6, 7, 7, 8, 30],
    }
    sds = {loc: [5.0] * 10 for loc in means}  # the forecast's own spread stands (auto)
    mean, var, extended = _sums(_frame(means, sds), 25.0)
    total = sum(sum(ms) for ms in means.values())
    tail_rate = sum(sum(ms[-TAIL_DAYS:]) for ms in means.values()) / TAIL_DAYS
    assert extended == 15.0
    assert mean == pytest.approx(total + 15 * tail_rate, rel=1e-12)
    var_of = {loc: [s**2 for s in sds[loc]] for loc in means}
    tail_var = sum(sum(v[-TAIL_DAYS:]) for v in var_of.values()) / TAIL_DAYS
    assert var == pytest.approx(sum(sum(v) for v in var_of.values()) + 15 * tail_var, rel=1e-12)


def test_weekly_forecast_extends_at_its_last_week_summed_over_locations() -> None:
    means = {"R1": [70.0, 84.0, 98.0], "R2": [7.0, 14.0, 21.0], "R3": [0.0, 0.0, 35.0]}
    sds = {loc: [30.0] * 3 for loc in means}
    mean, _, extended = _sums(_frame(means, sds, step=7), 35.0)
    assert extended == 14.0
    assert mean == pytest.approx(sum(sum(ms) for ms in means.values()) + 14 * (98 + 21 + 35) / 7)


def _plan(fc: pl.DataFrame, lead: float, lead_sd: float, policy: str) -> dict[str, float]:
    items = pl.DataFrame(
        {
            "sku": ["S0"],
            "category": ["c"],
            "unit_cost": [10.0],
            "price": [20.0],
            "holding_cost_rate": [0.365],
            "stockout_cost": [None],
            "service_level": [0.95],
            "order_cost": [25.0],
            "lead_time_days": [lead],
            "lead_time_sd": [lead_sd],
            "moq": [0],
            "case_pack": [1],
            "vendor": ["V1"],
            "unit_volume": [1.0],
        },
        schema_overrides={"stockout_cost": pl.Float64, "service_level": pl.Float64},
    )
    inv = pl.DataFrame({"sku": ["S0"], "node": ["FC1"], "on_hand": [0.0]})
    fc = fc.with_columns(pl.col("p10").clip(0.0))  # a forecast's quantiles are never negative
    plan = plan_buy(fc, items=items, inventory=inv, options=BuyOptions(policy=policy, as_of=AS_OF))
    return plan.policy.select(LEVELS).row(0, named=True)


def _assert_not_lower(short: dict[str, float], long: dict[str, float]) -> None:
    for col in LEVELS:
        a, b = short[col], long[col]
        if a is None or b is None:
            continue
        assert b >= a - 1e-9 * max(1.0, abs(a)), (col, a, b)


POLICIES = st.sampled_from(["base_stock", "ss", "rq"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    levels=st.lists(st.floats(0.5, 50.0), min_size=1, max_size=4),
    spreads=st.lists(st.floats(0.0, 20.0), min_size=3, max_size=20),
    lead=st.integers(0, 30),
    more=st.integers(1, 40),
    lead_sd=st.floats(0.0, 5.0),
    policy=POLICIES,
)
def test_longer_lead_time_never_lowers_demand_or_levels_past_a_flat_forecast(
    levels: list[float],
    spreads: list[float],
    lead: int,
    more: int,
    lead_sd: float,
    policy: str,
) -> None:
    """Flat means per location (several locations: the tail is a sum, not an average),
    varying spreads, a forecast shorter than the protection interval, random lead time."""
    days = len(spreads)
    means = {f"R{j}": [lv] * days for j, lv in enumerate(levels)}
    fc = _frame(means, {loc: spreads for loc in means})
    lead = max(lead, days)  # protection (lead + review) reaches past the forecast
    _assert_not_lower(_plan(fc, lead, lead_sd, policy), _plan(fc, lead + more, lead_sd, policy))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    grid=st.lists(st.lists(st.floats(0.0, 60.0), min_size=10, max_size=10), min_size=1, max_size=3),
    spread=st.floats(0.0, 10.0),
    lead=st.integers(10, 30),
    more=st.integers(1, 40),
    policy=st.sampled_from(["base_stock", "ss"]),
)
def test_longer_fixed_lead_time_never_lowers_demand_or_levels_for_any_forecast(
    grid: list[list[float]], spread: float, lead: int, more: int, policy: str
) -> None:
    """Any non-negative means per location and day, a deterministic lead time."""
    means = {f"R{j}": row for j, row in enumerate(grid)}
    fc = _frame(means, {loc: [spread] * 10 for loc in means})
    _assert_not_lower(_plan(fc, lead, 0.0, policy), _plan(fc, lead + more, 0.0, policy))


def test_doubling_lead_time_past_a_multi_location_horizon_scales_demand_with_days() -> None:
    """The reported bug: 8 locations, lead time doubled past a 28-day forecast."""
    means = {f"R{j}": [2.5] * 28 for j in range(8)}
    fc = _frame(means, {loc: [1.0] * 28 for loc in means})
    short, long = _plan(fc, 32.0, 2.0, "ss"), _plan(fc, 64.0, 2.0, "ss")
    assert short["demand_mean"] == pytest.approx(20.0 * 39)
    assert long["demand_mean"] == pytest.approx(20.0 * 71)
    _assert_not_lower(short, long)
