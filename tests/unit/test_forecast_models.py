"""Each forecasting model on series with known behaviour, plus the quantile invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scot_cli.forecast.engine import forecast_arrays, origins, run_model
from scot_cli.forecast.metrics import demand_class
from scot_cli.forecast.registry import MODELS

T = 210
H = 14
LOCAL = [m for m in MODELS if m not in {"auto", "zero"}]


def _fc(name: str, y: np.ndarray, season: int = 7) -> np.ndarray:
    out: np.ndarray = run_model(name, y, horizon=H, season=season, cutoffs=[y.shape[1]])[0]
    return out


@pytest.mark.parametrize("name", LOCAL)
def test_constant_series_is_forecast_as_the_constant(name: str) -> None:
    y = np.full((2, T), 6.0)
    expected = 6.0 * (1 - 0.1 / 2) if name == "sba" else 6.0
    np.testing.assert_allclose(_fc(name, y), expected, rtol=1e-6)


def test_zero_model_is_zero() -> None:
    assert not _fc("zero", np.full((1, T), 6.0)).any()


@pytest.mark.parametrize("name", ["seasonal_naive", "holt_winters"])
def test_pure_weekly_season_is_reproduced(name: str) -> None:
    t = np.arange(T + H)
    truth = 10 + 5 * np.sin(2 * np.pi * t / 7)
    np.testing.assert_allclose(_fc(name, truth[None, :T])[0], truth[T:], atol=0.05)


def test_global_model_learns_weekly_seasons_across_series() -> None:
    """Forty series of different levels and phases share one set of coefficients."""
    rng = np.random.default_rng(0)
    t = np.arange(T + H)
    level = rng.uniform(5, 50, (40, 1))
    truth = level * (1 + 0.4 * np.sin(2 * np.pi * (t + rng.integers(0, 7, (40, 1))) / 7))
    fc = _fc("global", truth[:, :T])
    np.testing.assert_allclose(fc, truth[:, T:], rtol=0.03)


def test_global_model_with_too_few_examples_falls_back_to_the_recent_mean() -> None:
    y = np.tile([4.0, 8.0], (1, 50))
    np.testing.assert_allclose(_fc("global", y), 6.0)


def test_seasonal_mean_shrinks_the_profile_by_its_sample_size() -> None:
    """Eight seasons per phase: deviations from the level are kept at 8 / (8 + 2)."""
    t = np.arange(T + H)
    truth = 10 + 5 * np.sin(2 * np.pi * t / 7)
    fc = _fc("seasonal_mean", truth[None, :T])[0]
    np.testing.assert_allclose(fc - 10, 0.8 * (truth[T:] - 10), atol=1e-6)


@pytest.mark.parametrize("name", ["croston", "tsb", "adida", "imapa", "ses", "window_mean"])
def test_regular_intermittent_series_gives_the_demand_rate(name: str) -> None:
    """3 units every 4th period: the per-period rate is 0.75."""
    y = np.zeros((1, T))
    y[0, ::4] = 3.0
    np.testing.assert_allclose(_fc(name, y), 0.75, atol=0.05)


def test_sba_is_croston_deflated_syntetos_boylan_2005() -> None:
    y = np.zeros((1, T))
    y[0, ::4] = 3.0
    np.testing.assert_allclose(_fc("sba", y), _fc("croston", y) * 0.95)


@pytest.mark.parametrize("name", LOCAL)
def test_unobserved_periods_are_skipped_not_zero(name: str) -> None:
    """Censored (NaN) periods must not drag a constant series down."""
    y = np.full((1, T), 8.0)
    y[0, 5::9] = np.nan
    y[0, :30] = np.nan  # not launched yet
    expected = 8.0 * 0.95 if name == "sba" else 8.0
    np.testing.assert_allclose(_fc(name, y), expected, rtol=1e-6)


def test_short_series_falls_back_without_error() -> None:
    y = np.array([[1.0, 2.0, 3.0]])
    for name in LOCAL:
        fc = _fc(name, y)
        assert fc.shape == (1, H) and np.isfinite(fc).all() and (fc >= 0).all()


def test_backtest_origins_leave_a_season_of_history() -> None:
    assert origins(100, horizon=10, season=7, windows=4) == [75, 80, 85, 90]
    assert origins(20, horizon=12, season=12, windows=4) == []


def test_recursive_model_snapshots_match_refits() -> None:
    """One pass with snapshots equals fitting on the truncated history."""
    rng = np.random.default_rng(1)
    y = rng.poisson(4, (5, T)).astype(float)
    for name in ["ses", "holt_winters", "croston", "tsb"]:
        once = run_model(name, y, horizon=H, season=7, cutoffs=[150, T])
        np.testing.assert_allclose(once[0], _fc(name, y[:, :150]))


def test_auto_labels_and_combines() -> None:
    rng = np.random.default_rng(2)
    y = rng.poisson(3, (6, T)).astype(float)
    fit = forecast_arrays(y, horizon=H, season=7, quantiles=[0.1, 0.5, 0.9])
    assert all(m.startswith("auto:") for m in fit.model)
    np.testing.assert_allclose(fit.mean.mean(), 3.0, atol=0.5)


@settings(max_examples=8, deadline=None)
@given(arrays(np.float64, (4, 60), elements=st.floats(0, 50) | st.just(np.nan)))
def test_quantiles_are_non_negative_and_non_crossing(y: np.ndarray) -> None:
    fit = forecast_arrays(y, horizon=7, season=7, quantiles=[0.05, 0.1, 0.5, 0.9, 0.95])
    assert np.isfinite(fit.quantiles).all() and (fit.quantiles >= 0).all()
    assert (np.diff(fit.quantiles, axis=2) >= 0).all()
    assert (fit.mean >= 0).all()


def test_demand_classes_syntetos_boylan_croston_2005() -> None:
    smooth = np.full(40, 5.0)
    erratic = np.tile([1.0, 20.0], 20)
    intermittent = np.where(np.arange(40) % 4 == 0, 3.0, 0.0)
    lumpy = np.zeros(40)
    lumpy[::4] = np.tile([1.0, 30.0], 5)
    got = demand_class(np.stack([smooth, erratic, intermittent, lumpy, np.zeros(40)]))
    assert got.tolist() == ["smooth", "erratic", "intermittent", "lumpy", "intermittent"]
