"""Demand distributions and interval sums: closed forms checked by numerical integration."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scot_cli.buy.demand import IntervalSums, attach, interval_sums, key_runs, shape_knots
from scot_cli.buy.distributions import Normal, Poisson, QuantileShaped, norm_ppf
from scot_cli.buy.policies import fill_rate_level

Z3 = norm_ppf(np.array([0.1, 0.5, 0.9]))


def _numeric_loss(knots: np.ndarray, y: float) -> float:
    """E[(max(g(Z), 0) - y)^+] by a fine quadrature over the quantile level."""
    u = (np.arange(400_000) + 0.5) / 400_000
    values = np.maximum(np.interp(norm_ppf(u), Z3, knots, left=np.nan, right=np.nan), 0)
    lo, hi = np.isnan(values) & (u < 0.5), np.isnan(values) & (u >= 0.5)
    s_lo = (knots[1] - knots[0]) / (Z3[1] - Z3[0])
    s_hi = (knots[2] - knots[1]) / (Z3[2] - Z3[1])
    values[lo] = np.maximum(knots[0] + s_lo * (norm_ppf(u[lo]) - Z3[0]), 0)
    values[hi] = knots[2] + s_hi * (norm_ppf(u[hi]) - Z3[2])
    return float(np.maximum(values - y, 0).mean())


def test_quantile_shaped_is_exact_for_normal_knots() -> None:
    mu, sd = 40.0, 9.0
    qs = QuantileShaped(Z3, np.array([mu + sd * Z3]))
    n = Normal(np.array([mu]), np.array([sd]))
    for y in (20.0, 40.0, 55.0):
        assert qs.loss(np.array([y]))[0] == pytest.approx(n.loss(np.array([y]))[0], rel=1e-9)
        assert qs.cdf(np.array([y]))[0] == pytest.approx(n.cdf(np.array([y]))[0], rel=1e-9)
    assert qs.ppf(np.array([0.8]))[0] == pytest.approx(n.ppf(np.array([0.8]))[0], rel=1e-9)


@pytest.mark.parametrize("y", [0.0, 2.0, 5.0, 9.0, 20.0])
def test_quantile_shaped_loss_matches_quadrature_for_skewed_knots(y: float) -> None:
    knots = np.array([0.5, 3.0, 11.0])  # right-skewed, like intermittent demand
    qs = QuantileShaped(Z3, knots[None, :])
    assert qs.loss(np.array([y]))[0] == pytest.approx(_numeric_loss(knots, y), abs=2e-4)


def test_quantile_shaped_cdf_inverts_ppf() -> None:
    qs = QuantileShaped(Z3, np.array([[1.0, 4.0, 12.0], [0.0, 0.0, 3.0]]))
    u = np.array([0.73, 0.95])
    assert qs.cdf(qs.ppf(u)) == pytest.approx(u, rel=1e-9)


def test_poisson_loss_matches_direct_sum() -> None:
    from scipy.stats import poisson

    lam = np.array([0.7, 6.0, 31.5])
    d = Poisson(lam)
    for y in (0.0, 3.0, 7.5):
        k = np.arange(400)
        direct = [(poisson.pmf(k, m) * np.maximum(k - y, 0)).sum() for m in lam]
        assert d.loss(np.full(3, y)) == pytest.approx(direct, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(beta=st.floats(0.5, 0.995), mu=st.floats(5, 500), cv=st.floats(0.05, 1.0))
def test_fill_rate_level_reaches_the_target(beta: float, mu: float, cv: float) -> None:
    d = Normal(np.array([mu]), np.array([mu * cv]))
    cycle = np.array([mu / 3])
    s = fill_rate_level(d, np.array([beta]), cycle)
    fill = 1 - d.loss(s) / cycle
    assert fill[0] >= beta - 1e-6
    slightly_less = 1 - d.loss(s - 1e-3 * mu) / cycle
    assert slightly_less[0] < beta + 1e-3


def _forecast(days: int, locations: list[str], sd: float) -> pl.DataFrame:
    start = dt.date(2026, 1, 1)
    rows = [
        {
            "sku": "A",
            "location": loc,
            "date": start + dt.timedelta(days=i),
            "horizon": i + 1,
            "mean": 10.0,
            "p10": 10 - 1.2815515655 * sd,
            "p50": 10.0,
            "p90": 10 + 1.2815515655 * sd,
            "model": "m",
        }
        for loc in locations
        for i in range(days)
    ]
    return pl.DataFrame(rows)


def _sums(fc: pl.DataFrame, days: float, floor: str = "auto") -> IntervalSums:
    rows = pl.DataFrame({"sku": ["A"], "node": ["ALL"]})
    fa = attach(
        fc,
        key_runs(fc, ["sku"]),
        rows,
        keys=["sku"],
        as_of=dt.date(2025, 12, 31),
        spread_floor=floor,
    )
    return interval_sums(fa, np.array([days]))


def test_interval_sums_means_and_variances_not_quantiles() -> None:
    """4 locations x 5.5 days of N(10, 4^2): mean 220, var 4 * (5 * 16 + 0.5 * 16).

    Half a day is half of a day's independent demand: its variance counts with w = 0.5,
    not w^2 = 0.25 (which understated the spread of every partial period)."""
    out = _sums(_forecast(14, ["R1", "R2", "R3", "R4"], 4.0), 5.5)
    assert out.mean[0] == pytest.approx(220.0)
    assert out.var[0] == pytest.approx(4 * (5 * 16 + 0.5 * 16), rel=1e-6)
    sd = np.sqrt(out.var)
    knots = shape_knots(out, sd)
    assert knots[0] == pytest.approx(220 + sd[0] * Z3, rel=1e-6)


def test_interval_extends_a_short_forecast_at_the_tail_rate() -> None:
    out = _sums(_forecast(7, ["R1"], 4.0), 10.0)
    assert out.extended_days[0] == pytest.approx(3.0)
    assert out.mean[0] == pytest.approx(100.0)
    assert out.var[0] == pytest.approx(10 * 16.0, rel=1e-6)


def test_lumpy_quantiles_are_floored_at_poisson_spread() -> None:
    """A forecast with mean 10 but p10 = p90 = 1 (lumpy) gets var >= mean per day."""
    fc = _forecast(7, ["R1"], 0.0).with_columns(
        pl.lit(1.0).alias("p10"), pl.lit(1.0).alias("p50"), pl.lit(1.0).alias("p90")
    )
    out = _sums(fc, 7.0)
    assert out.var[0] == pytest.approx(7 * 10.0, rel=1e-6)
    assert out.floored is not None and out.floored[0] == 7


@pytest.mark.parametrize(("floor", "var", "floored"), [("auto", 4.0, 0), ("poisson", 10.0, 7)])
def test_a_forecasts_own_spread_stands_unless_the_poisson_floor_is_asked_for(
    floor: str, var: float, floored: int
) -> None:
    """Mean 10 with sd 2 per day: the floor sqrt(10) would raise it; only 'poisson' does."""
    out = _sums(_forecast(7, ["R1"], 2.0), 7.0, floor)
    assert out.var[0] == pytest.approx(7 * var, rel=1e-6)
    assert out.floored is not None and out.floored[0] == floored
