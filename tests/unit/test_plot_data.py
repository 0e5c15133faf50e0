"""scot_cli.plot's table work: roles, kinds, series picked, waterfall steps, shares."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scot_cli.errors import InputDataError
from scot_cli.options import OptionError
from scot_cli.plot.explain import waterfall_steps
from scot_cli.plot.forecast import pick_series
from scot_cli.plot.inputs import KINDS, Table, gather, kind_of, load, role_of
from scot_cli.plot.options import PlotOptions
from scot_cli.plot.placement import fc_stock, region_reach
from scot_cli.plot.promise import MAX_DAYS, days_by_region
from scot_cli.plot.route import route_paths
from scot_cli.plot.simulate import daily_kpis, trend_bands


def _forecast(volumes: dict[tuple[str, str], float], days: int = 3) -> pl.DataFrame:
    rows = [
        (sku, loc, dt.date(2026, 1, 1) + dt.timedelta(days=h), h + 1, v / days)
        for (sku, loc), v in volumes.items()
        for h in range(days)
    ]
    df = pl.DataFrame(rows, schema=["sku", "location", "date", "horizon", "p50"], orient="row")
    return df.with_columns((pl.col("p50") * 0.5).alias("p10"), (pl.col("p50") * 2).alias("p90"))


def test_role_of_each_scot_table() -> None:
    assert role_of(["sku", "location", "date", "horizon", "mean", "p10", "p50", "p90"]) == (
        "forecast"
    )
    assert role_of(["sku", "location", "date", "units"]) == "sales"
    assert role_of(["truck_id", "origin", "destination", "fill", "load"]) == "trucks"
    assert role_of(["subject", "metric", "before", "after", "delta", "driver", "contribution"]) == (
        "attribution"
    )
    assert role_of(["a", "b"]) is None


def test_kind_from_provenance_command_before_columns() -> None:
    frame = pl.DataFrame({"truck_id": ["t"], "origin": ["A"], "destination": ["B"], "fill": [0.5]})
    assert kind_of(Table(frame, "t.parquet", "trucks", {"command": "route"})) == "route"
    assert kind_of(Table(frame, "t.parquet", "trucks")) == "route"


def test_kind_of_a_table_no_kind_draws_names_the_writer() -> None:
    frame = pl.DataFrame({"x": [1]})
    with pytest.raises(InputDataError, match=r"^o\.parquet: is an output of scot plan-buy"):
        kind_of(Table(frame, "o.parquet", None, {"command": "plan-buy"}))


def test_gather_refuses_a_table_of_another_kind_and_names_it() -> None:
    promises = load(
        pl.DataFrame(
            {"order_id": ["o"], "destination": ["R"], "promise_days": [2], "on_time_prob": [0.9]}
        ),
        name="p.parquet",
    )
    with pytest.raises(InputDataError) as err:
        gather("forecast", [promises])
    assert "p.parquet" in err.value.message
    assert "scot plot promise p.parquet" in err.value.message
    assert "\n" not in err.value.message


def test_unknown_kind_is_an_option_error_naming_the_kinds() -> None:
    with pytest.raises(OptionError) as err:
        PlotOptions(kind="pie")
    assert err.value.field == "kind"
    assert all(k in err.value.reason for k in KINDS)


def test_pick_series_top_by_volume_then_key() -> None:
    fc = _forecast({("A", "R1"): 30.0, ("B", "R1"): 90.0, ("C", "R2"): 30.0, ("D", "R1"): 5.0})
    picked = pick_series(fc, skus=(), top=3)
    assert picked.select("sku", "location").rows() == [("B", "R1"), ("A", "R1"), ("C", "R2")]


def test_pick_series_by_sku_keeps_every_location_and_names_unknown_skus() -> None:
    fc = _forecast({("A", "R1"): 1.0, ("A", "R2"): 2.0, ("B", "R1"): 3.0})
    assert sorted(pick_series(fc, skus=("A",), top=1)["location"]) == ["R1", "R2"]
    with pytest.raises(InputDataError, match="no sku Z in column sku"):
        pick_series(fc, skus=("Z",), top=1)


def _attribution(contribs: list[float], before: float = 100.0) -> pl.DataFrame:
    delta = sum(contribs)
    return pl.DataFrame(
        {
            "subject": "(all)",
            "metric": "qty",
            "before": before,
            "after": before + delta,
            "delta": delta,
            "driver": [f"d{i}" for i in range(len(contribs))],
            "contribution": contribs,
        }
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=12),
    st.integers(1, 8),
)
def test_waterfall_steps_add_up_to_the_change(contribs: list[float], top: int) -> None:
    metric, before, after, steps = waterfall_steps(
        _attribution(contribs), metric=None, subject="(all)", top=top
    )
    assert metric == "qty"
    assert before + sum(s for _, s in steps) == pytest.approx(after, abs=1e-6)
    assert len(steps) <= top + 1


def test_waterfall_pools_small_drivers_and_shows_unattributed_change() -> None:
    table = _attribution([50.0, -20.0, 1.0, 2.0]).with_columns(pl.col("after") + 7.0)
    _, _, _, steps = waterfall_steps(table, metric="qty", subject="(all)", top=2)
    assert steps == [
        ("d0", 50.0),
        ("d1", -20.0),
        ("other drivers", 3.0),
        ("unattributed", pytest.approx(7.0)),
    ]
    with pytest.raises(InputDataError, match="no subject 'SKU-9'"):
        waterfall_steps(table, metric=None, subject="SKU-9", top=2)


def test_days_by_region_shares_sum_to_one_and_pool_long_promises() -> None:
    promises = pl.DataFrame(
        {
            "destination": ["R1", "R1", "R1", "R2", "R2"],
            "promise_days": [1, 1, 9, 2, None],
            "on_time_prob": [0.9, 1.0, 0.8, 0.95, None],
        }
    )
    table = days_by_region(promises)
    buckets = [c for c in table.columns if c.isdigit()]
    assert str(MAX_DAYS) in buckets
    sums = table.select(pl.sum_horizontal(buckets)).to_series().to_list()
    assert sums == pytest.approx([1.0, 1.0])
    r1 = table.row(0, named=True)
    assert (r1["lines"], r1["1"], r1[str(MAX_DAYS)]) == (
        3,
        pytest.approx(2 / 3),
        pytest.approx(1 / 3),
    )
    assert r1["on_time_mean"] == pytest.approx(0.9)


def test_fc_stock_and_region_reach() -> None:
    placement = pl.DataFrame(
        {
            "sku": ["a", "b", "a"],
            "node": ["F1", "F1", "F2"],
            "current_units": [1.0, 2.0, 5.0],
            "target_units": [4.0, 2.0, 2.0],
        }
    )
    assert fc_stock(placement).rows() == [("F1", 3.0, 6.0), ("F2", 5.0, 2.0)]
    coverage = pl.DataFrame(
        {
            "region": ["ALL", "R1", "R1", "R1"],
            "days": [1, 1, 2, 3],
            "share_before": [0.1, 0.2, 0.5, 1.0],
            "share_after": [0.3, 0.4, 0.9, 1.0],
        }
    )
    assert region_reach(coverage).rows() == [("R1", 0.2, 0.4, 0.5, 0.9)]


def test_route_paths_start_and_end_at_the_station_in_sequence_order() -> None:
    routes = pl.DataFrame(
        {
            "stop_id": ["s1", "s2", "s3", "s4"],
            "station": "DS",
            "vehicle": ["v1", "v1", "v2", None],
            "sequence": [2, 1, 1, None],
        }
    )
    stops = pl.DataFrame(
        {
            "stop_id": ["s1", "s2", "s3", "s4"],
            "lat": [1.0, 2.0, 3.0, 4.0],
            "lon": [10.0, 20, 30, 40],
        }
    )
    paths = route_paths(routes, stops, depot=(0.5, 5.0))
    assert sorted(paths) == ["v1", "v2"]
    np.testing.assert_allclose(
        paths["v1"], np.array([[5.0, 0.5], [20.0, 2.0], [10.0, 1.0], [5.0, 0.5]])
    )


def test_daily_kpis_are_ratios_of_sums_and_bands_student_t() -> None:
    day = dt.date(2026, 1, 1)
    daily = pl.DataFrame(
        {
            "scenario": "base",
            "policy": "p",
            "replication": [0, 0, 0, 1, 1],
            "date": day,
            "node": ["R1", "R2", "F1", "R1", "F1"],
            "demand": [10.0, 30.0, None, 20.0, None],
            "served": [10.0, 20.0, None, 10.0, None],
            "served_1day": [5.0, 5.0, None, 10.0, None],
            "promises_kept": [10.0, 20.0, None, 10.0, None],
            "on_hand": [None, None, 7.0, None, 9.0],
        }
    )
    per_day = daily_kpis(daily)
    assert per_day["in_stock_rate"].to_list() == pytest.approx([0.75, 0.5])
    assert per_day["share_1day"].to_list() == pytest.approx([1 / 3, 1.0])
    assert per_day["on_hand"].to_list() == [7.0, 9.0]
    band = trend_bands(per_day, "in_stock_rate").row(0, named=True)
    # two replications: t(0.975, 1) = 12.7062 (Student's t table), s = 0.17678, n = 2
    assert band["mean"] == pytest.approx(0.625)
    assert band["hi"] - band["mean"] == pytest.approx(12.7062 * 0.176777 / 2**0.5, rel=1e-4)


def test_the_plot_and_report_commands_load_neither_polars_nor_matplotlib() -> None:
    """``scot --help`` imports every command module: the pictures' cost stays out of it."""
    import subprocess
    import sys

    code = (
        "import sys, scot_cli.commands.plot, scot_cli.commands.report; "
        "print(sorted(m for m in ('polars', 'matplotlib') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
