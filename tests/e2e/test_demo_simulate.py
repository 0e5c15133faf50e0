"""The demo's simulate step on the committed fixtures: two runs, explained."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from conftest import forecast_from_sales


def test_demo_step_simulates_a_scenario_and_explains_the_in_stock_rate(
    fixture_dir: Path, tmp_path: Path
) -> None:
    """Less stock and more demand lower the in-stock rate; explain's attribution by node
    names both drivers and its contributions add up to the change of the rate."""
    from scot_cli.commands.demo import SIM_DAYS, invoke, simulate_step

    sales = pl.read_parquet(fixture_dir / "sales.parquet")
    forecast_from_sales(sales, days=120).write_parquet(tmp_path / "forecast.parquet")
    lines = simulate_step(fixture_dir, tmp_path, invoke)
    assert lines[0] == f"scenario: stock -25%, demand +20%; {SIM_DAYS} days"
    assert lines[-1] == f"report: {tmp_path / 'sim-scenario' / 'explain.md'}"
    rate = {
        name: pl.read_parquet(tmp_path / name / "sim_summary.parquet")
        .filter(pl.col("kpi") == "in_stock_rate")["mean"]
        .item()
        for name in ("sim", "sim-scenario")
    }
    assert rate["sim-scenario"] < rate["sim"]
    table = pl.read_parquet(tmp_path / "sim-scenario" / "explain.parquet")
    total = table.filter((pl.col("subject") == "(all)") & (pl.col("metric") == "in_stock_rate"))
    assert set(total["driver"]) >= {"stock", "demand"}
    assert abs(total["contribution"].sum() - (rate["sim-scenario"] - rate["sim"])) < 1e-9
    assert any(line.startswith("why: ") and "stock" in line for line in lines)
