"""The real ``scot forecast`` as subprocesses on generated fixtures, piped where sensible."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from conftest import run_scot
from scot_cli.forecast.schema import FORECAST, METRICS
from scot_cli.validate import validate


def test_forecast_fixtures_with_items_and_events(small_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "forecast.parquet"
    done = run_scot(
        "forecast",
        str(small_dir / "sales.parquet"),
        "--items",
        str(small_dir / "items.parquet"),
        "--events",
        str(small_dir / "events.parquet"),
        "--horizon",
        "14",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr.decode()
    df = validate(FORECAST, pl.read_parquet(out), source="out")
    items = pl.read_parquet(small_dir / "items.parquet")
    new = items.filter(pl.col("launch_date").is_not_null())["sku"]
    assert set(new) <= set(df["sku"])
    cold = df.filter(pl.col("sku").is_in(new.implode()))
    assert cold["model"].str.starts_with("cold_start").all()
    assert (df["p10"] <= df["p50"]).all() and (df["p50"] <= df["p90"]).all()
    assert df.group_by("sku", "location").len()["len"].unique().to_list() == [14]


def test_forecast_pipes_into_inspect(small_dir: Path) -> None:
    sales = (small_dir / "sales.parquet").read_bytes()
    fc = run_scot("forecast", "-", "-H", "7", "--model", "tsb", input=sales)
    assert fc.returncode == 0, fc.stderr.decode()
    df = pl.read_parquet(io.BytesIO(fc.stdout))
    assert df["model"].unique().to_list() == ["tsb"]
    shown = run_scot("inspect", "-", input=fc.stdout)
    assert shown.returncode == 0, shown.stderr.decode()
    assert f"{df.height:,} rows" in shown.stdout.decode()


def test_evaluate_fixtures(small_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "metrics.parquet"
    done = run_scot(
        "forecast",
        "evaluate",
        str(small_dir / "sales.parquet"),
        "-H",
        "14",
        "--folds",
        "2",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr.decode()
    df = validate(METRICS, pl.read_parquet(out), source="out")
    overall = df.filter((pl.col("level") == "overall") & (pl.col("metric") == "rmsse"))
    assert set(overall["model"]) == {"auto", "zero", "seasonal_naive"}
    assert "RMSSE" in done.stderr.decode()


def test_bad_horizon_is_one_line_and_exit_2(small_dir: Path) -> None:
    done = run_scot("forecast", str(small_dir / "sales.parquet"), "-H", "-1", "-o", "x.parquet")
    assert done.returncode == 2
    assert done.stderr.decode() == ("scot: error: --horizon: must be >= 1, got -1\n")
