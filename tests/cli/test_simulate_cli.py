"""``scot simulate`` through typer's CliRunner on a small generated network."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from conftest import forecast_from_sales
from scot_cli.commands.main import app
from scot_cli.io import read_metadata

runner = CliRunner()


@pytest.fixture(scope="module")
def inputs(small_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("sim")
    sales = pl.read_parquet(small_dir / "sales.parquet")
    forecast_from_sales(sales, days=120).write_parquet(folder / "forecast.parquet")
    args = ["simulate", "--sales", str(small_dir / "sales.parquet")]
    for name in ("items", "nodes", "lanes", "inventory"):
        args += [f"--{name}", str(small_dir / f"{name}.parquet")]
    return [*args, "--forecast", str(folder / "forecast.parquet")]


def test_simulate_writes_daily_summary_and_provenance(inputs: list[str], tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = runner.invoke(
        app,
        [
            *inputs,
            "--days",
            "5",
            "--replications",
            "2",
            "--policy",
            "baseline",
            "--what-if",
            "demand=+20%",
            "--seed",
            "3",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.stderr
    daily = pl.read_parquet(out / "sim_daily.parquet")
    summary = pl.read_parquet(out / "sim_summary.parquet")
    assert set(daily["scenario"]) == {"base", "demand=+20%"}
    assert daily["replication"].unique().sort().to_list() == [0, 1]
    assert daily.filter(pl.col("demand").is_not_null())["date"].n_unique() == 5
    assert {"in_stock_rate", "total_cost"} <= set(summary["kpi"])
    prov = read_metadata(str(out / "sim_summary.parquet"))
    assert prov["command"] == "simulate" and prov["seed"] == 3
    assert prov["params"]["what_ifs"] == ["demand=+20%"]
    assert [s["role"] for s in prov["inputs"]][:2] == ["sales", "items"]
    assert "simulate: 12 skus x 5 days x 2 replication(s)" in result.stderr


def test_a_toml_policy_is_a_named_set_of_options(inputs: list[str], tmp_path: Path) -> None:
    spec = tmp_path / "lean.toml"
    spec.write_text('name = "lean"\npolicy = "baseline"\n')
    out = tmp_path / "sim"
    result = runner.invoke(
        app, [*inputs, "--days", "7", "--policy", "baseline", "--policy", str(spec), "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert set(pl.read_parquet(out / "sim_summary.parquet")["policy"]) == {"baseline", "lean"}


def test_unknown_policy_exits_2_naming_the_valid_ones(inputs: list[str], tmp_path: Path) -> None:
    result = runner.invoke(app, [*inputs, "--policy", "magic", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "scot: error: --policy: unknown value 'magic' (choose from scot, baseline)"
    )


def test_unknown_what_if_key_exits_2_naming_the_valid_ones(
    inputs: list[str], tmp_path: Path
) -> None:
    result = runner.invoke(app, [*inputs, "--what-if", "weather=rain", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "scot: error: --what-if: unknown value 'weather' "
        "(choose from speed-target, lead-time, demand, close, storage)"
    )


def test_max_cells_exits_3_before_any_work(inputs: list[str], tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = runner.invoke(app, [*inputs, "--days", "3000", "--max-cells", "1000", "-o", str(out)])
    assert result.exit_code == 3
    assert "exceed max_cells 1,000" in result.stderr
    assert not (out / "sim_daily.parquet").exists()


def test_help_models_lists_policies_and_what_ifs() -> None:
    result = runner.invoke(app, ["simulate", "--help-models"])
    assert result.exit_code == 0
    assert "baseline" in result.stdout and "lead-time" in result.stdout


def test_an_infeasible_what_if_runs_on_with_the_violation_recorded(
    inputs: list[str], tmp_path: Path
) -> None:
    """Without FC-DFW no FC promises Texas within 3 days on any day (the base network does):
    the run goes on (exit 0), the warning is on stderr and in the outputs' provenance, and
    the scenario's Texas demand is all lost."""
    out = tmp_path / "sim"
    args = ["--days", "3", "--policy", "baseline", "--max-promise-days", "3"]
    result = runner.invoke(app, [*inputs, *args, "--what-if", "close=FC-DFW", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    warning = "close=FC-DFW: no open FC promises R-TX within 3 day(s); their demand is lost"
    assert f"scot: warning: {warning}" in result.stderr
    assert warning in read_metadata(str(out / "sim_summary.parquet"))["warnings"]
    tx = pl.read_parquet(out / "sim_daily.parquet").filter(pl.col("node") == "R-TX")
    closed = tx.filter(pl.col("scenario") == "close=FC-DFW")
    base = tx.filter(pl.col("scenario") == "base")
    assert closed["demand"].sum() > 0 and closed["lost"].sum() == closed["demand"].sum()
    assert base["lost"].sum() < base["demand"].sum()


def test_a_bad_forecast_is_refused_by_the_command_as_by_the_library(
    small_dir: Path, inputs: list[str], tmp_path: Path
) -> None:
    """The forecast file the command reads and the frame the library is given are checked
    against the same schema: both refuse a text ``mean`` column, naming it (exit 3)."""
    from scot_cli.errors import InputDataError
    from scot_cli.simulate import simulate

    bad = pl.read_parquet(inputs[-1]).with_columns(pl.col("mean").cast(pl.String))
    path = tmp_path / "forecast.parquet"
    bad.write_parquet(path)
    result = runner.invoke(app, [*inputs[:-1], str(path), "-o", str(tmp_path / "o")])
    assert result.exit_code == 3
    with pytest.raises(InputDataError) as err:
        simulate(
            pl.read_parquet(small_dir / "sales.parquet"),
            items=pl.read_parquet(small_dir / "items.parquet"),
            nodes=pl.read_parquet(small_dir / "nodes.parquet"),
            lanes=pl.read_parquet(small_dir / "lanes.parquet"),
            inventory=pl.read_parquet(small_dir / "inventory.parquet"),
            forecast=bad,
            days=2,
        )
    for message in (result.stderr, str(err.value)):
        assert "forecast" in message and "mean" in message
    assert not (tmp_path / "o" / "sim_daily.parquet").exists()
