"""``scot simulate`` as a real subprocess on generated fixtures, planning on scot forecast."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from conftest import run_scot


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("simulate_e2e")
    made = run_scot(
        "fixtures", "--out", str(folder), "--skus", "10", "--days", "120", "--orders", "10"
    )
    assert made.returncode == 0, made.stderr
    return folder


def _args(world: Path) -> list[str]:
    args = ["simulate", "--sales", str(world / "sales.parquet")]
    for name in ("items", "nodes", "lanes", "inventory", "events"):
        args += [f"--{name}", str(world / f"{name}.parquet")]
    return args


@pytest.mark.slow
def test_forecast_then_simulate_scot_against_baseline(world: Path, tmp_path: Path) -> None:
    """The whole chain: scot forecast, plan-buy and place inside the day loop."""
    out = tmp_path / "sim"
    done = run_scot(*_args(world), "--days", "14", "--what-if", "lead-time=x1.5", "-o", str(out))
    assert done.returncode == 0, done.stderr
    summary = pl.read_parquet(out / "sim_summary.parquet")
    assert set(summary["policy"]) == {"scot", "baseline"}
    assert set(summary["scenario"]) == {"base", "lead-time=x1.5"}
    rate = summary.filter(pl.col("kpi") == "in_stock_rate")["mean"]
    assert ((rate >= 0) & (rate <= 1)).all()
    assert b"simulate: 10 skus x 14 days" in done.stderr


@pytest.mark.slow
def test_replayed_actuals_are_the_demand(world: Path, tmp_path: Path) -> None:
    """--actuals replays held-back sales: the simulated demand is exactly their units."""
    sales = pl.read_parquet(world / "sales.parquet")
    cutoff = sales["date"].unique().sort()[-15]
    sales.filter(pl.col("date") <= cutoff).write_parquet(tmp_path / "history.parquet")
    held = sales.filter(pl.col("date") > cutoff)
    held.write_parquet(tmp_path / "actuals.parquet")
    args = _args(world)
    args[2] = str(tmp_path / "history.parquet")
    out = tmp_path / "sim"
    done = run_scot(
        *args,
        "--actuals",
        str(tmp_path / "actuals.parquet"),
        "--days",
        "7",
        "--policy",
        "baseline",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    daily = pl.read_parquet(out / "sim_daily.parquet")
    week = held.filter(pl.col("date") <= cutoff + pl.duration(days=7))
    assert daily["demand"].sum() == week["units"].round().sum()
    assert daily["date"].min() == week["date"].min()
