"""``auto``'s demand groups, quantiles that widen with the horizon, quarterly and yearly
periods, series forecast from their own end, and evaluate's family rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from scot_cli.forecast import evaluate_forecast, forecast
from scot_cli.forecast.engine import (
    Pooled,
    candidates,
    combine,
    forecast_arrays,
    groups,
    level_ratios,
    parts,
    quantile_forecast,
    short_origins,
    stepwise_conformal,
)
from scot_cli.forecast.panel import build_panel, own_end
from scot_cli.forecast.partition import forecast_partitions
from scot_cli.forecast.registry import MODELS, family

INTERMITTENT_METHODS = {"croston", "sba", "tsb", "adida", "imapa", "zero"}


def test_intermittent_methods_are_candidates_only_for_intermittent_demand() -> None:
    assert not INTERMITTENT_METHODS & set(candidates("smooth"))
    assert {"croston", "tsb", "adida", "imapa", "zero"} <= set(candidates("intermittent"))
    assert set(candidates("smooth")) == {"ets", "theta", "ets_theta"}
    assert "global" not in candidates("smooth")


def test_groups_split_by_demand_class() -> None:
    """Smooth rows (seasonal or not) form one group, intermittent rows another; both keep
    the frequency's season (ETS and Theta test seasonality per series themselves)."""
    t = np.arange(96)
    seasonal = 50 + 20 * np.sin(2 * np.pi * t / 12)
    flat = 50 + np.random.default_rng(0).normal(0, 1, 96)
    sparse = np.where(t % 5 == 0, 4.0, 0.0)
    got = groups(np.stack([seasonal, flat, sparse]), season=12, model="auto")
    rows = {(g.name, g.season): g.rows.tolist() for g in got}
    assert rows == {("smooth", 12): [0, 1], ("intermittent", 12): [2]}
    one = groups(np.stack([seasonal, sparse]), season=12, model="naive")
    assert [(g.models, g.rows.tolist()) for g in one] == [(["naive"], [0, 1])]


def test_ets_theta_is_the_mean_of_its_parts() -> None:
    rng = np.random.default_rng(3)
    y = 20 + np.cumsum(rng.normal(0, 1, (4, 60)), axis=1)
    fits = {
        m: forecast_arrays(y, horizon=6, season=12, quantiles=[0.5], model=m).mean
        for m in parts("ets_theta")
    }
    both = forecast_arrays(y, horizon=6, season=12, quantiles=[0.5], model="ets_theta").mean
    np.testing.assert_allclose(both, np.mean(list(fits.values()), axis=0))


def test_stepwise_quantiles_widen_with_the_horizon() -> None:
    """Random walks: backtest errors grow with the step, and so must the interval."""
    rng = np.random.default_rng(5)
    y = 100 + np.cumsum(rng.normal(0, 1, (300, 80)), axis=1)
    fit = forecast_arrays(y, horizon=12, season=1, quantiles=[0.1, 0.5, 0.9], model="naive")
    width = (fit.quantiles[:, :, 2] - fit.quantiles[:, :, 0]).mean(axis=0)
    assert (np.diff(width) >= -1e-9).all()
    assert width[-1] > 2 * width[0]  # sqrt(12) ~ 3.5 for a random walk


def test_stepwise_quantiles_are_calibrated_on_random_walks() -> None:
    """Held-out coverage of p10 and p90 within 5 points of nominal (exchangeable errors)."""
    rng = np.random.default_rng(6)
    y = 100 + np.cumsum(rng.normal(0, 1, (2000, 72)), axis=1)
    fit = forecast_arrays(y[:, :60], horizon=12, season=1, quantiles=[0.1, 0.9], model="naive")
    below = y[:, 60:, None] <= fit.quantiles
    cov = below.mean(axis=(0, 1))
    assert abs(cov[0] - 0.1) < 0.05 and abs(cov[1] - 0.9) < 0.05


def test_stepwise_conformal_standardises_by_the_series_scale() -> None:
    """Two series alike but for a factor 1000 get quantiles alike but for that factor."""
    rng = np.random.default_rng(7)
    base = 50 + np.cumsum(rng.normal(0, 1, (1, 40)), axis=1)
    y = np.vstack([base, 1000 * base])
    mean = np.repeat(y[:, -1:], 4, 1)
    back = np.stack([np.repeat(y[:, c - 1 : c], 4, 1) for c in (30, 34)])
    act = np.stack([y[:, c : c + 4] for c in (30, 34)])
    q, used = stepwise_conformal(y, mean, back, act, [0.1, 0.5, 0.9])
    np.testing.assert_allclose(q[1], 1000 * q[0], rtol=1e-9)
    assert used is not None and used.spread is not None and used.spread.shape == (4,)


def test_pooled_parts_a_sample_lacked_are_fixed_not_learned_here() -> None:
    """A pooled quantile from a sample without smooth series must not be re-learned on a
    partition's rows (the row would depend on its partition)."""
    y = np.tile(np.arange(1.0, 31.0), (3, 1))
    mean = np.full((3, 2), 31.0)
    back = np.zeros((1, 3, 2)) + 25.0
    act = y[None, :, 25:27]
    a, _ = quantile_forecast(y, mean, back, act, [0.1, 0.9], Pooled(ratio=np.ones(2)))
    b, _ = quantile_forecast(y[:1], mean[:1], back[:, :1], act[:, :1], [0.1, 0.9], Pooled())
    np.testing.assert_allclose(a[:1], b)


def test_combine_is_the_median_and_labels_the_least_backtest_error() -> None:
    """Three candidates, one far off: the median ignores it; the label is the candidate
    whose backtest forecasts were closest."""
    y = np.tile(np.r_[np.full(20, 10.0), np.full(6, 12.0)], (2, 1))
    cuts = [20]
    stacked = np.stack([np.full((2, 2, 3), v) for v in (11.0, 12.0, 100.0)])
    comb, best = combine(y, stacked, cuts, ["a", "b", "c"])
    np.testing.assert_allclose(comb, 12.0)
    assert best.tolist() == ["b", "b"]


def test_short_origins_need_two_seasons_of_history() -> None:
    y = np.full((3, 40), 5.0)
    y[1, :25] = np.nan  # launched at period 25
    y[2, :5] = np.nan
    y[2, 10:14] = np.nan  # a gap does not count as history
    short = short_origins(y, [20, 30, 36], season=12)  # (origins, series); needs 24 seen
    assert short.tolist() == [[True, True, True], [False, True, True], [False, True, False]]
    assert short_origins(y, [20], season=1)[0].tolist() == [False, True, False]


def test_quantiles_without_usable_backtest_are_the_models_normal_ones() -> None:
    """Every origin too short: the interval is the model's own, ``mean + sd z_q``."""
    y = 50 + np.cumsum(np.random.default_rng(8).normal(0, 1, (2, 30)), axis=1)
    mean = np.full((2, 3), 50.0)
    sd = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]])
    back = np.full((2, 2, 3), 49.0)
    act = np.stack([y[:, c : c + 3] for c in (24, 27)])
    short = np.ones((2, 2), dtype=bool)
    q, _ = quantile_forecast(y, mean, back, act, [0.1, 0.5, 0.9], sd=sd, short=short)
    np.testing.assert_allclose(q[:, :, 1], mean)
    np.testing.assert_allclose(q[:, :, 2] - mean, 1.2815515655446004 * sd, rtol=1e-9)
    np.testing.assert_allclose(mean - q[:, :, 0], 1.2815515655446004 * sd, rtol=1e-9)


def test_level_ratios_rescale_only_relative_rows() -> None:
    """A series that doubles has, at the origin where its last four periods averaged 10
    against 20 at the end, ratio 1/2; a row not marked relative (additive error) and flat on
    both sides of the step has no one-step variability there and keeps 1, a move beyond 5x
    is bounded, and a non-positive level gives 1."""
    y = np.vstack(
        [
            np.r_[np.full(8, 10.0), np.full(8, 20.0)],
            np.r_[np.full(8, 10.0), np.full(8, 20.0)],
            np.r_[np.full(8, 1.0), np.full(8, 100.0)],
            np.r_[np.full(8, 0.0), np.full(8, 3.0)],
        ]
    )
    got = level_ratios(y, [8, 16], 4, np.array([True, False, True, True]))
    np.testing.assert_allclose(got[0], [0.5, 1.0, 0.2, 1.0])
    np.testing.assert_allclose(got[1], 1.0)


def test_level_ratios_of_additive_rows_follow_their_variability() -> None:
    """Rows not marked relative: the mean absolute one-step change over the two seasons
    before the origin over that of the last two seasons. A series alternating +-1 around
    50 then +-3 around 50 has ratio 2/6 at the origin between the halves (its changes are
    2 and 6 in size); a series calm at the origin but flat at the end keeps 1 (no scale
    at the end), and a wilder start than end is bounded at 5."""
    calm, wild = 50 + np.tile([1.0, -1.0], 8), 50 + np.tile([3.0, -3.0], 8)
    quiet = 50 + np.tile([0.1, -0.1], 8)
    y = np.vstack([np.r_[calm, wild], np.r_[calm, np.full(16, 7.0)], np.r_[wild * 3, quiet]])
    got = level_ratios(y, [16, 32], 4, np.zeros(3, dtype=bool))
    np.testing.assert_allclose(got[0], [2.0 / 6.0, 1.0, 5.0])
    np.testing.assert_allclose(got[1], 1.0)


def test_level_ratio_widens_quantiles_of_a_grown_series() -> None:
    """The same backtest errors made when the series stood at half its final level mean
    twice the spread at the end: the interval doubles (a multiplicative model's deviation
    is proportional to the level)."""
    rng = np.random.default_rng(3)
    y = 100 + rng.normal(0, 1, (40, 30))
    mean = np.full((40, 2), 100.0)
    sd = np.ones((40, 2))
    back = np.full((2, 40, 2), 100.0)
    act = back + rng.normal(0, 1, back.shape)
    plain, _ = stepwise_conformal(y, mean, back, act, [0.1, 0.5, 0.9], sd=sd)
    half = np.full((2, 40), 0.5)
    wide, _ = stepwise_conformal(y, mean, back, act, [0.1, 0.5, 0.9], sd=sd, level=half)
    np.testing.assert_allclose(wide - mean[:, :, None], 2 * (plain - mean[:, :, None]))


def test_quarterly_and_yearly_periods_sum_months() -> None:
    months = [dt.date(2020 + m // 12, m % 12 + 1, 1) for m in range(36)]
    sales = pl.DataFrame({"sku": "A", "location": "ALL", "date": months, "units": 1.0})
    q = build_panel(sales, freq="Q")
    assert q.season == 4 and q.y.shape == (1, 12) and (q.y == 3.0).all()
    assert q.dates(11, 2) == [dt.date(2022, 10, 1), dt.date(2023, 1, 1)]
    y = build_panel(sales, freq="Y")
    assert y.season == 1 and (y.y == 12.0).all()
    out = forecast(sales, horizon=2, freq="Q", model="naive").forecast
    assert out is not None
    assert out["date"].to_list() == [dt.date(2023, 1, 1), dt.date(2023, 4, 1)]
    assert out["mean"].to_list() == [3.0, 3.0]


def _two_ends() -> pl.DataFrame:
    """A ends in December 2024, B's records stop in June 2024."""
    a = [dt.date(2022 + m // 12, m % 12 + 1, 1) for m in range(36)]
    return pl.DataFrame(
        {
            "sku": ["A"] * 36 + ["B"] * 30,
            "location": "ALL",
            "date": a + a[:30],
            "units": [5.0] * 36 + [8.0] * 30,
        }
    )


def test_own_end_forecasts_each_series_from_its_last_period() -> None:
    sales = _two_ends()
    grid = forecast(sales, horizon=2, freq="M", model="naive").forecast
    own = forecast(sales, horizon=2, freq="M", model="naive", align="own-end").forecast
    assert grid is not None and own is not None
    b_grid = grid.filter(pl.col("sku") == "B")
    b_own = own.filter(pl.col("sku") == "B")
    assert b_grid["mean"].to_list() == [0.0, 0.0]  # the missing tail read as zero sales
    assert b_own["mean"].to_list() == [8.0, 8.0]
    assert b_own["date"].to_list() == [dt.date(2024, 7, 1), dt.date(2024, 8, 1)]
    assert own.filter(pl.col("sku") == "A")["date"].to_list() == [
        dt.date(2025, 1, 1),
        dt.date(2025, 2, 1),
    ]


def test_own_end_moves_rows_and_keeps_their_values() -> None:
    panel = own_end(build_panel(_two_ends(), freq="M"))
    assert panel.offset is not None and panel.offset.tolist() == [0, 6]
    assert np.isnan(panel.y[1, :6]).all() and (panel.y[1, 6:] == 8.0).all()


def test_many_series_ending_early_are_warned_about_with_the_count() -> None:
    sales = _two_ends()
    said: list[str] = []
    list(
        forecast_partitions(
            sales.lazy(),
            lambda skus: sales,
            horizon=1,
            quantiles=[0.1, 0.5, 0.9],
            freq="M",
            model="naive",
            windows=1,
            warn=said.append,
        )
    )
    assert len(said) == 1 and "1 of 2 series" in said[0] and "--align own-end" in said[0]


def test_families_of_output_labels() -> None:
    assert family("auto:ets") == "ets"
    assert family("auto:ets_theta") == "combination"
    assert family("auto:tsb") == "intermittent"
    assert family("cold_start:category") == "cold_start"


def test_evaluate_reports_by_family_with_coverage_per_quantile() -> None:
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(120)]
    rng = np.random.default_rng(8)
    sales = pl.DataFrame(
        {
            "sku": ["S"] * 120 + ["I"] * 120,
            "location": "ALL",
            "date": days * 2,
            "units": np.r_[rng.poisson(20, 120), np.where(np.arange(120) % 6 == 0, 2, 0)],
        }
    ).with_columns(pl.col("units").cast(pl.Float64))
    out = evaluate_forecast(sales, horizon=7, folds=2).metrics
    fam = out.filter((pl.col("level") == "family") & (pl.col("model") == "auto"))
    assert set(fam["family"]) <= {m.family for m in MODELS.values()}
    assert fam.filter(pl.col("metric") == "coverage")["quantile"].sort().to_list() == [
        pytest.approx(q) for q in sorted(0.1 * k for k in (1, 5, 9) for _ in fam["family"].unique())
    ]
    series = out.filter((pl.col("level") == "series") & (pl.col("model") == "auto"))
    assert set(series["family"]) == set(fam["family"])
