"""Frames in, frames out: events, cold start, censoring, gaps, frequencies, bad options."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from scot_cli.errors import InputDataError
from scot_cli.forecast import decide_from_inputs, evaluate_forecast, forecast
from scot_cli.forecast.api import unknown_event_skus
from scot_cli.forecast.panel import build_panel
from scot_cli.forecast.schema import FORECAST, METRICS
from scot_cli.options import OptionError
from scot_cli.validate import validate

START = dt.date(2026, 1, 1)
DAYS = 140


def _sales(skus: dict[str, float], *, days: int = DAYS, location: str = "R1") -> pl.DataFrame:
    dates = [START + dt.timedelta(days=i) for i in range(days)]
    return pl.DataFrame(
        {
            "sku": [s for s in skus for _ in dates],
            "location": location,
            "date": dates * len(skus),
            "units": [v for v in skus.values() for _ in dates],
        }
    )


def _fc(sales: pl.DataFrame, **kw: object) -> pl.DataFrame:
    """The forecast frame of :func:`forecast`."""
    out = forecast(sales, **kw).forecast  # type: ignore[arg-type]
    assert out is not None
    return out


def _day(i: int) -> dt.date:
    return START + dt.timedelta(days=i)


def test_output_matches_the_declared_schema_and_horizons() -> None:
    out = _fc(_sales({"A": 4.0, "B": 2.0}), horizon=5, quantiles=[0.05, 0.5, 0.95])
    validate(FORECAST, out, source="test")
    assert out.height == 10
    assert {"p5", "p10", "p50", "p90", "p95"} <= set(out.columns)
    assert out["horizon"].to_list() == [1, 2, 3, 4, 5] * 2
    assert out["date"].min() == _day(DAYS)
    a = out.filter(pl.col("sku") == "A")
    np.testing.assert_allclose(a["mean"], 4.0, rtol=1e-6)


def test_event_lift_is_learned_from_past_events_of_the_same_name() -> None:
    """Units triple on past 'promo' days; the planned promo ahead gets the same lift."""
    sales = _sales({"A": 10.0, "B": 20.0}).with_columns(
        pl.when(pl.col("date").is_in([_day(30), _day(31), _day(80), _day(81)]))
        .then(pl.col("units") * 3)
        .otherwise("units")
        .alias("units")
    )
    events = pl.DataFrame(
        {
            "event": ["promo"] * 3,
            "start": [_day(30), _day(80), _day(DAYS + 2)],
            "end": [_day(31), _day(81), _day(DAYS + 3)],
        }
    )
    out = _fc(sales, horizon=7, events=events, model="ses")
    a = out.filter(pl.col("sku") == "A").sort("date")["mean"].to_numpy()
    np.testing.assert_allclose(a[[2, 3]], 30.0, rtol=0.02)
    np.testing.assert_allclose(a[[0, 1, 4, 5, 6]], 10.0, rtol=0.02)


def test_event_tagged_in_the_sales_column_is_learned_too() -> None:
    sales = _sales({"A": 10.0}).with_columns(
        pl.when(pl.col("date") == _day(50)).then(pl.lit("sale")).alias("event"),
        pl.when(pl.col("date") == _day(50)).then(25.0).otherwise("units").alias("units"),
    )
    events = pl.DataFrame({"event": ["sale"], "start": [_day(DAYS)], "end": [_day(DAYS)]})
    out = _fc(sales, horizon=2, events=events, model="naive").sort("date")
    np.testing.assert_allclose(out["mean"].to_numpy(), [25.0, 10.0], rtol=0.02)


def test_planned_lift_overrides_the_learned_one() -> None:
    events = pl.DataFrame(
        {"event": ["new"], "start": [_day(DAYS)], "end": [_day(DAYS)], "lift": [1.5]}
    )
    out = _fc(_sales({"A": 10.0}), horizon=2, events=events, model="naive").sort("date")
    np.testing.assert_allclose(out["mean"].to_numpy(), [15.0, 10.0])


def test_cold_start_uses_the_category_and_respects_launch() -> None:
    sales = _sales({"A": 4.0, "B": 6.0, "C": 8.0, "D": 100.0})
    items = pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D", "NEW", "LATE"],
            "category": ["toys", "toys", "toys", "food", "toys", "toys"],
            "launch_date": [None, None, None, None, None, _day(DAYS + 2)],
        }
    )
    out = _fc(sales, horizon=4, items=items, model="naive")
    new = out.filter(pl.col("sku") == "NEW")
    assert new["model"].unique().to_list() == ["cold_start:category"]
    np.testing.assert_allclose(new["mean"], 6.0)
    late = out.filter(pl.col("sku") == "LATE").sort("date")["mean"].to_list()
    assert late == pytest.approx([0.0, 0.0, 6.0, 6.0])


def test_series_with_too_little_history_is_a_cold_start() -> None:
    sales = pl.concat(
        [
            _sales({"A": 4.0, "B": 6.0, "C": 8.0}),
            _sales({"S": 50.0}, days=3).with_columns(pl.col("date") + pl.duration(days=DAYS - 3)),
        ]
    )
    items = pl.DataFrame({"sku": ["A", "B", "C", "S"], "category": ["x"] * 4})
    out = _fc(sales, horizon=2, items=items, model="naive")
    short = out.filter(pl.col("sku") == "S")
    assert short["model"].unique().to_list() == ["cold_start:category"]
    np.testing.assert_allclose(short["mean"], 6.0)


def test_stock_outs_are_not_read_as_zero_demand() -> None:
    sales = _sales({"A": 10.0}).with_columns((pl.col("date").dt.day() % 3 != 0).alias("in_stock"))
    sales = sales.with_columns(
        pl.when(pl.col("in_stock")).then("units").otherwise(0.0).alias("units")
    )
    censored = _fc(sales, horizon=3, model="window_mean")
    naive_reading = _fc(sales.drop("in_stock"), horizon=3, model="window_mean")
    np.testing.assert_allclose(censored["mean"], 10.0)
    assert float(naive_reading["mean"].to_numpy().max()) < 8.0


def test_missing_days_are_zero_and_null_units_are_unobserved() -> None:
    sales = _sales({"A": 10.0}).filter(pl.col("date").dt.day() % 2 == 0)
    gone = sales["date"].sort()[-3]
    sales = sales.with_columns(
        pl.when(pl.col("date") == gone).then(None).otherwise("units").alias("units")
    )
    panel = build_panel(sales, freq="D")
    assert np.isnan(panel.y[0, (gone - panel.start).days])
    assert (panel.y[0] == 0).sum() > 60 and (panel.y[0] == 10).sum() > 60
    out = _fc(sales, horizon=2, model="window_mean")
    np.testing.assert_allclose(out["mean"], 5.0, atol=0.6)


def test_weekly_and_monthly_frequencies_sum_days() -> None:
    sales = _sales({"A": 2.0}, days=364)
    weekly = build_panel(sales, freq="W")
    assert weekly.start.weekday() == 0
    np.testing.assert_allclose(weekly.y[0], 14.0)  # partial first and last weeks scaled
    monthly = build_panel(sales, freq="M")
    assert monthly.y[0, 0] == 62.0 and monthly.start == dt.date(2026, 1, 1)
    assert monthly.y[0, -1] == pytest.approx(62.0)  # 30 of December's 31 days, scaled
    out = _fc(sales, horizon=2, freq="W", model="naive")
    assert out["date"].to_list() == [dt.date(2027, 1, 4), dt.date(2027, 1, 11)]


def test_all_zero_series_is_forecast_as_zero() -> None:
    out = _fc(_sales({"Z": 0.0, "A": 3.0}), horizon=3)
    z = out.filter(pl.col("sku") == "Z")
    assert z.select(pl.col("mean", "p10", "p50", "p90").max()).row(0) == (0.0, 0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("kw", "field", "reason"),
    [
        ({"horizon": 0}, "horizon", "must be >= 1, got 0"),
        ({"horizon": 5000}, "horizon", "at most 3,660 periods, got 5,000"),
        ({"quantiles": [0.5, 1.0]}, "quantiles", "each must lie strictly between 0 and 1, got 1"),
        (
            {"quantiles": [0.9, 0.1]},
            "quantiles",
            "list them in increasing order without repeats, e.g. 0.1,0.5,0.9",
        ),
        ({"quantiles": []}, "quantiles", "give at least one quantile, e.g. 0.1,0.5,0.9"),
        (
            {"model": "prophet"},
            "model",
            "unknown value 'prophet' (choose from auto, ets, theta, ets_damped, ets_bounded, "
            "ets_theta, global, naive, seasonal_naive, window_mean, seasonal_mean, ses, "
            "holt_winters, croston, sba, tsb, adida, imapa, zero)",
        ),
        ({"freq": "H"}, "freq", "unknown value 'H' (choose from D, W, M, Q, Y)"),
        ({"align": "left"}, "align", "unknown value 'left' (choose from grid, own-end)"),
    ],
)
def test_bad_options_are_option_errors_naming_the_field(
    kw: dict[str, object], field: str, reason: str
) -> None:
    args: dict[str, object] = {"horizon": 3, **kw}
    with pytest.raises(OptionError) as err:
        forecast(_sales({"A": 1.0}), **args)  # type: ignore[arg-type]
    assert (err.value.field, err.value.reason) == (field, reason)
    assert err.value.message == f"{field}: {reason}"


def test_empty_sales_is_an_input_error() -> None:
    with pytest.raises(InputDataError, match="sales: no rows"):
        forecast(_sales({"A": 1.0}).clear(), horizon=3)


def test_unknown_event_skus_are_listed() -> None:
    events = pl.DataFrame(
        {"event": ["e", "e"], "start": [START] * 2, "end": [START] * 2, "sku": ["A", "GHOST"]}
    )
    assert unknown_event_skus(events, pl.Series(["A", "B"])) == ["GHOST"]


def test_evaluate_lists_zero_and_seasonal_naive_beside_the_model() -> None:
    rng = np.random.default_rng(3)
    sales = _sales({"A": 1.0, "B": 1.0}).with_columns(
        pl.Series("units", rng.poisson([[5.0], [0.3]], (2, DAYS)).ravel().astype(float))
    )
    out = evaluate_forecast(sales, horizon=7, folds=2, model="ses").metrics
    validate(METRICS, out, source="test")
    assert set(out["model"]) == {"ses", "zero", "seasonal_naive"}
    classes = dict(
        out.filter(pl.col("level") == "series").select("sku", "demand_class").unique().iter_rows()
    )
    assert classes == {"A": "smooth", "B": "intermittent"}
    mase = out.filter((pl.col("metric") == "mase") & (pl.col("level") == "series"))
    assert mase.filter(pl.col("sku") == "B")["value"].null_count() == 3
    cov = out.filter((pl.col("level") == "overall") & (pl.col("metric") == "coverage"))
    assert cov["value"].is_between(0, 1).all()


def test_evaluate_needs_enough_history() -> None:
    with pytest.raises(InputDataError, match="cannot hold 3 fold"):
        evaluate_forecast(_sales({"A": 1.0}, days=10), horizon=7, folds=3)


def test_decide_from_inputs_reproduces_forecast() -> None:
    sales = _sales({"A": 3.0, "B": 1.0})
    params = {
        "horizon": 4,
        "freq": "D",
        "quantiles": [0.1, 0.5, 0.9],
        "model": "auto",
        "windows": 4,
    }
    direct = _fc(sales, horizon=4)
    again = decide_from_inputs({"sales": sales}, params)
    assert direct.equals(again)


def test_progress_counts_fitted_models_to_the_total() -> None:
    calls: list[tuple[int, int]] = []
    _fc(_sales({"A": 1.0}), horizon=2, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1][0] == calls[-1][1] and [d for d, _ in calls] == list(range(1, len(calls) + 1))


def test_monthly_input_at_month_starts_is_not_scaled_as_partial() -> None:
    dates = [dt.date(2025, m, 1) for m in range(1, 13)]
    sales = pl.DataFrame({"sku": "A", "location": "ALL", "date": dates, "units": 5.0})
    panel = build_panel(sales, freq="M")
    np.testing.assert_allclose(panel.y[0], 5.0)


def test_coverage_below_counts_ties_apart() -> None:
    """Whole units tie with their quantiles: a zero p10 covers every zero sale. A quantile
    of level tau of a forecast of counts satisfies P(Y < q) <= tau <= P(Y <= q) (Czado,
    Gneiting & Held 2009), so evaluate reports the share strictly below beside coverage."""
    from scot_cli.forecast.metrics import fold_terms

    train = np.array([[0.0, 1.0, 0.0, 2.0, 0.0, 1.0]])
    actual = np.array([[0.0, 0.0, 1.0, 3.0]])
    mean = np.full((1, 4), 1.0)
    quant = np.stack([np.zeros((1, 4)), np.ones((1, 4)), np.full((1, 4), 2.0)], axis=2)
    terms = fold_terms(train, actual, mean, quant, (0.1, 0.5, 0.9), season=1)
    # p10 = 0: two zero sales at it, none below; p50 = 1: two below, one at it;
    # p90 = 2: three below, none at it, the 3 above
    assert [terms[f"cov{i}"][0] for i in range(3)] == [2, 3, 3]
    assert [terms[f"below{i}"][0] for i in range(3)] == [0, 2, 3]


def test_evaluate_reports_coverage_below_within_coverage() -> None:
    rng = np.random.default_rng(5)
    sales = _sales({"A": 1.0, "B": 1.0}).with_columns(
        pl.Series("units", rng.poisson([[4.0], [0.2]], (2, DAYS)).ravel().astype(float))
    )
    out = evaluate_forecast(sales, horizon=7, folds=2, model="ses").metrics
    validate(METRICS, out, source="test")
    rows = out.filter(pl.col("level") == "series").pivot(
        on="metric", index=["sku", "model", "quantile"], values="value"
    )
    both = rows.drop_nulls(["coverage", "coverage_below"])
    assert both.height > 0
    assert (both["coverage_below"] <= both["coverage"]).all()
    # the intermittent series' zero p10 covers its zero sales but has nothing below it
    zero_p10 = both.filter((pl.col("sku") == "B") & (pl.col("model") == "zero"))
    assert (zero_p10["coverage_below"] == 0).all() and (zero_p10["coverage"] > 0.5).all()
