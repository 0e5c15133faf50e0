"""The forecast's one call shape: options that check themselves, frames or paths in, a
typed result out."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from scot_cli.errors import InputDataError
from scot_cli.forecast import (
    ALIGNS,
    MODELS,
    PERIODS,
    EvaluateOptions,
    EvaluateResult,
    ForecastOptions,
    ForecastResult,
    ModelScore,
    evaluate_forecast,
    forecast,
)
from scot_cli.forecast.api import EvaluateSummary, ForecastSummary
from scot_cli.forecast.panel import FREQS
from scot_cli.io import Source
from scot_cli.options import OptionError

START = dt.date(2026, 1, 1)


def _sales(days: int = 60) -> pl.DataFrame:
    dates = [START + dt.timedelta(days=i) for i in range(days)]
    return pl.DataFrame(
        {
            "sku": ["A"] * days + ["B"] * days,
            "location": "R1",
            "date": dates * 2,
            "units": [3.0] * days + [float(i % 2) for i in range(days)],
        }
    )


def _frame(result: ForecastResult) -> pl.DataFrame:
    assert result.forecast is not None
    return result.forecast


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"horizon": 0}, "horizon"),
        ({"horizon": 7, "freq": "H"}, "freq"),
        ({"horizon": 7, "model": "prophet"}, "model"),
        ({"horizon": 7, "align": "late"}, "align"),
        ({"horizon": 7, "quantiles": (0.5, 1.5)}, "quantiles"),
        ({"horizon": 7, "quantiles": (0.101, 0.104)}, "quantiles"),
        ({"horizon": 7, "seed": -1}, "seed"),
        ({"horizon": 7, "windows": 0}, "windows"),
    ],
)
def test_options_name_the_field_they_refuse(fields: dict[str, object], field: str) -> None:
    with pytest.raises(OptionError) as err:
        ForecastOptions(**fields)  # type: ignore[arg-type]
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")


def test_evaluate_options_check_folds_too() -> None:
    with pytest.raises(OptionError) as err:
        EvaluateOptions(horizon=7, folds=0)
    assert (err.value.field, err.value.reason) == ("folds", "must be >= 1, got 0")


@pytest.mark.parametrize(
    "options",
    [
        ForecastOptions(horizon=7),
        ForecastOptions(horizon=3, freq="W", quantiles=[0.05, 0.5], model="ets", seed=9),  # type: ignore[arg-type]
        EvaluateOptions(horizon=2, folds=5, align="own-end", windows=2),
    ],
)
def test_params_survive_json_and_rebuild_the_same_options(options: ForecastOptions) -> None:
    params = json.loads(json.dumps(options.params()))
    assert type(options).from_params(params) == options


def test_quantiles_asked_for_are_merged_with_the_defaults() -> None:
    options = ForecastOptions(horizon=1, quantiles=(0.05, 0.5, 0.95))
    assert options.quantiles == (0.05, 0.5, 0.95)
    assert options.levels == [0.05, 0.1, 0.5, 0.9, 0.95]
    assert options.params()["quantiles"] == [0.05, 0.5, 0.95]


def test_registries_name_the_fields_and_match_the_panel() -> None:
    assert (MODELS.field, PERIODS.field, ALIGNS.field) == ("model", "freq", "align")
    assert list(PERIODS) == list(FREQS)
    assert "auto" in MODELS and MODELS.help("naive") == "last observed value"


def test_the_notebook_call_without_location_forecasts_one_location() -> None:
    """Issue 13: ``forecast(sales.drop("location"), horizon=7)`` fails no more; the
    location is 'ALL', as ``scot forecast`` fills it (a quick model: the point is the call)."""
    result = forecast(_sales().drop("location"), horizon=7, model="naive")
    out = _frame(result)
    assert out["location"].unique().to_list() == ["ALL"]
    assert out.height == 14 and out["horizon"].max() == 7
    assert result.summary == ForecastSummary(series=2, horizon=7, freq="D", model="naive")
    assert str(result.summary) == "forecast: 2 series x 7 periods"
    assert result.options == ForecastOptions(horizon=7, model="naive") and result.inputs == ()


def test_options_object_and_fields_combine() -> None:
    base = ForecastOptions(horizon=3, model="naive")
    a = forecast(_sales(), options=base)
    b = forecast(_sales(), options=ForecastOptions(horizon=9), horizon=3, model="naive")
    assert a.options == b.options == base
    assert _frame(a).equals(_frame(b))


def test_unknown_or_missing_option_fields_are_type_errors() -> None:
    with pytest.raises(TypeError, match=r"unknown option 'horizn' \(options: horizon, freq"):
        forecast(_sales(), horizn=7)
    with pytest.raises(TypeError, match="needs a horizon"):
        forecast(_sales())


def test_paths_and_frames_give_the_same_forecast(tmp_path: Path) -> None:
    sales = _sales().drop("location")
    items = pl.DataFrame({"sku": ["A", "B", "NEW"], "category": ["c", "c", "c"]})
    paths = {"sales": tmp_path / "sales.parquet", "items": tmp_path / "items.parquet"}
    sales.write_parquet(paths["sales"])
    items.write_parquet(paths["items"])
    by_frame = forecast(sales, items=items, horizon=4, model="naive")
    by_path = forecast(paths["sales"], items=str(paths["items"]), horizon=4, model="naive")
    assert _frame(by_path).equals(_frame(by_frame))
    assert [(s.role, s.path) for s in by_path.inputs] == [
        ("sales", str(paths["sales"])),
        ("items", str(paths["items"])),
    ]
    assert _frame(by_frame).filter(pl.col("sku") == "NEW").height == 4


def test_a_sink_receives_the_frames_and_the_files_read(tmp_path: Path) -> None:
    path = tmp_path / "sales.parquet"
    _sales().write_parquet(path)
    got: list[pl.DataFrame] = []
    seen: list[str] = []

    def sink(frames: Iterator[pl.DataFrame], inputs: tuple[Source, ...]) -> None:
        got.extend(frames)
        seen.extend(s.role for s in inputs)

    result = forecast(path, horizon=2, model="naive", batch_size=1, sink=sink)
    assert result.forecast is None and result.summary.series == 2
    assert len(got) == 2 and seen == ["sales"]
    assert pl.concat(got).equals(_frame(forecast(_sales(), horizon=2, model="naive")))


@pytest.mark.parametrize(
    ("table", "frame", "message"),
    [
        (
            "sales",
            _sales().drop("units"),
            "sales: missing required column 'units' for the sales table",
        ),
        (
            "items",
            pl.DataFrame({"sku": ["A"]}),
            "items: missing required column 'category' for the items table",
        ),
        (
            "events",
            pl.DataFrame({"event": ["e"], "start": [START]}),
            "events: missing required column 'end' for the events table",
        ),
    ],
)
def test_bad_tables_are_named_with_their_column(
    table: str, frame: pl.DataFrame, message: str
) -> None:
    tables = {"sales": _sales(), table: frame}
    with pytest.raises(InputDataError, match=f"^{message}"):
        forecast(tables.pop("sales"), horizon=2, **tables)  # type: ignore[arg-type]


def test_a_bad_file_is_named_by_its_path(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    _sales().with_columns(pl.lit(-1.0).alias("units")).write_parquet(path)
    with pytest.raises(InputDataError, match=f"^{path}: column 'units' has value -1.0 below"):
        forecast(path, horizon=2)


def test_evaluate_returns_metrics_and_scores_per_model() -> None:
    result = evaluate_forecast(_sales(), horizon=7, folds=2, model="naive")
    assert isinstance(result, EvaluateResult)
    assert [s.model for s in result.summary.scores] == ["naive", "zero", "seasonal_naive"]
    # A sells the same every day: no one-step change to scale its error by, no RMSSE
    assert [s.series for s in result.summary.scores] == [1, 1, 1]
    assert result.metrics.filter(pl.col("level") == "overall").height > 0
    assert result.options == EvaluateOptions(horizon=7, folds=2, model="naive")


def test_evaluate_reads_a_path_as_it_takes_a_frame(tmp_path: Path) -> None:
    path = tmp_path / "sales.parquet"
    _sales().drop("location").write_parquet(path)
    by_path = evaluate_forecast(str(path), horizon=7, folds=2, model="naive")
    by_frame = evaluate_forecast(_sales().drop("location"), horizon=7, folds=2, model="naive")
    assert by_path.metrics.equals(by_frame.metrics)
    assert [s.role for s in by_path.inputs] == ["sales"] and by_frame.inputs == ()


def test_evaluate_backtests_the_options_of_a_forecast() -> None:
    result = evaluate_forecast(_sales(), options=ForecastOptions(horizon=7, model="naive"))
    assert result.options == EvaluateOptions(horizon=7, model="naive", folds=3)


def test_summaries_never_print_none() -> None:
    summary = EvaluateSummary((ModelScore("zero", None, 0), ModelScore("auto", 0.51234, 12)))
    assert summary.lines() == ["zero: RMSSE none over 0 series", "auto: RMSSE 0.512 over 12 series"]
    assert "None" not in str(summary)
