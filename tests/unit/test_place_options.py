"""PlaceOptions checks itself by field and round-trips through the recorded params;
``place`` takes frames or paths, validated on entry as the command validates its files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from conftest import forecast_from_sales
from scot_cli.errors import InputDataError
from scot_cli.options import OptionError
from scot_cli.place import PlaceOptions, PlaceResult, PlaceSummary, place


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"period_days": 0}, "period_days"),
        ({"speed_target": (0, 0.5)}, "speed_target"),
        ({"speed_target": (1, 1.5)}, "speed_target"),
        ({"speed_target": "fast"}, "speed_target"),
        ({"solver": "gurobi"}, "solver"),
        ({"transfer_cost": -1.0}, "transfer_cost"),
        ({"late_cost": float("nan")}, "late_cost"),
        ({"speed_penalty": -0.1}, "speed_penalty"),
        ({"overflow_penalty": 0.0}, "overflow_penalty"),
        ({"batch_size": -1}, "batch_size"),
        ({"levels": (0.5, 1.0)}, "levels"),
    ],
)
def test_an_option_outside_its_domain_names_its_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(OptionError) as info:
        PlaceOptions(**changes)  # type: ignore[arg-type]
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert "--" not in str(info.value)


def test_speed_target_text_is_parsed() -> None:
    assert PlaceOptions(speed_target="2:80%").speed_target == (2, 0.8)  # type: ignore[arg-type]
    opts = PlaceOptions(speed_target=(1, 0.9))
    assert (opts.speed_days, opts.speed_share) == (1, 0.9)
    assert (PlaceOptions().speed_days, PlaceOptions().speed_share) == (None, 0.0)


@pytest.mark.parametrize(
    "options",
    [
        PlaceOptions(),
        PlaceOptions(
            period_days=14,
            speed_target=(2, 0.75),
            fair_share=True,
            solver="clarabel",
            transfer_cost=0.3,
            late_cost=0.0,
            speed_penalty=7.5,
            batch_size=50,
            levels=(0.2, 0.5, 0.95),
        ),
    ],
)
def test_params_round_trip_through_json(options: PlaceOptions) -> None:
    params = json.loads(json.dumps(options.params()))
    assert PlaceOptions.from_params(params) == options


def test_params_of_a_run_recorded_before_the_options_object() -> None:
    """Runs recorded ``late_penalty`` and the speed target as typed on the command line."""
    old = {"period_days": 7, "speed_target": "2:0.8", "late_penalty": 0.2, "solver": "highs"}
    opts = PlaceOptions.from_params(old)
    assert opts == PlaceOptions(speed_target=(2, 0.8), late_cost=0.2)


def test_replace_checks_again() -> None:
    with pytest.raises(OptionError, match=r"^period_days: "):
        PlaceOptions().replace(period_days=-3)


@pytest.fixture(scope="module")
def forecast(small_tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return forecast_from_sales(small_tables["sales"])


def _tables(small_tables: dict[str, pl.DataFrame]) -> dict[str, Any]:
    return {k: small_tables[k] for k in ("items", "inventory", "nodes", "lanes")}


def test_frames_and_paths_give_the_same_placement(
    small_tables: dict[str, pl.DataFrame], small_dir: Path, forecast: pl.DataFrame, tmp_path: Path
) -> None:
    forecast.write_parquet(tmp_path / "forecast.parquet")
    from_frames = place(forecast, **_tables(small_tables), speed_target="2:0.8")
    from_paths = place(
        tmp_path / "forecast.parquet",
        **{k: small_dir / f"{k}.parquet" for k in ("items", "inventory", "nodes", "lanes")},  # type: ignore[arg-type]
        options=PlaceOptions(speed_target=(2, 0.8)),
    )
    assert isinstance(from_frames, PlaceResult)
    assert from_frames.options == from_paths.options
    assert from_frames.placement.equals(from_paths.placement)
    assert from_frames.summary == from_paths.summary


def test_option_fields_apply_over_the_options_object(
    small_tables: dict[str, pl.DataFrame], forecast: pl.DataFrame
) -> None:
    result = place(
        forecast, **_tables(small_tables), options=PlaceOptions(period_days=3), late_cost=0.0
    )
    assert result.options == PlaceOptions(period_days=3, late_cost=0.0)
    with pytest.raises(TypeError):
        place(forecast, **_tables(small_tables), no_such_option=1)


def test_a_frame_is_validated_on_entry(
    small_tables: dict[str, pl.DataFrame], forecast: pl.DataFrame
) -> None:
    with pytest.raises(InputDataError, match=r"^forecast: missing required column 'mean'"):
        place(forecast.drop("mean"), **_tables(small_tables))
    lanes = small_tables["lanes"].with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("FC-XXX"))
        .otherwise("origin")
        .alias("origin")
    )
    with pytest.raises(InputDataError, match=r"^lanes: node 'FC-XXX' in column origin"):
        place(forecast, **{**_tables(small_tables), "lanes": lanes})


def test_a_missing_file_names_the_path(
    small_tables: dict[str, pl.DataFrame], forecast: pl.DataFrame, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.parquet"
    with pytest.raises(InputDataError, match=r"nope\.parquet: no such file"):
        place(forecast, **{**_tables(small_tables), "receipts": missing})


def test_summary_reads_without_none() -> None:
    summary = PlaceSummary(
        skus=3,
        fcs=2,
        transferred=0.0,
        coverage_before=None,
        coverage_after=None,
        cost_before={"holding": 1.0},
        cost_after={"holding": 0.5},
        unmet=(),
    )
    assert str(summary) == "place: 3 skus x 2 FCs; 0 units transferred; expected cost 1.00 -> 0.50"
    assert "None" not in str(dataclasses.replace(summary, unmet=(("speed", "R-1"),)))
    assert (
        dataclasses.replace(summary, unmet=(("speed", "R-1"),))
        .lines()[1]
        .startswith("1 constraint(s) cannot be met")
    )


def test_the_batched_solve_reports_a_lower_bound_and_its_gap(
    small_tables: dict[str, pl.DataFrame], forecast: pl.DataFrame
) -> None:
    """Weak duality (Fisher 1981): the priced batch optima plus the priced limits never
    exceed the single LP's optimum, so the batched plan's cost is at least the bound."""
    single = place(forecast, **_tables(small_tables), speed_target="2:0.8")
    batched = place(forecast, **_tables(small_tables), speed_target="2:0.8", batch_size=5)
    assert single.summary.bound is None and single.summary.gap is None
    bound = batched.summary.bound
    assert bound is not None and batched.summary.gap is not None
    optimum = sum(single.summary.cost_after.values())
    assert bound <= optimum * (1 + 1e-6)
    assert batched.summary.gap >= -1e-6
    assert batched.summary.as_dict()["bound"] == pytest.approx(bound, abs=1e-4)
    assert "of a lower bound" in batched.summary.headline()
    assert "lower bound" not in single.summary.headline()
