"""``scot forecast``'s flags map onto ForecastOptions: errors name the flag, old names warn,
help fits a screen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from scot_cli.commands.main import app
from scot_cli.forecast import MODELS
from scot_cli.io import read_metadata

runner = CliRunner()


@pytest.fixture
def sales_file(tmp_path: Path) -> Path:
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(40)]
    path = tmp_path / "sales.parquet"
    pl.DataFrame({"sku": "A", "date": days, "units": 2.0}).write_parquet(path)
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-H", "0"], "--horizon: must be >= 1, got 0"),
        (["-H", "9999"], "--horizon: at most 3,660 periods, got 9,999"),
        (
            ["-H", "2", "--quantiles", ""],
            "--quantiles: give at least one quantile, e.g. 0.1,0.5,0.9",
        ),
        (["-H", "2", "--model", "arima"], "--model: unknown value 'arima' (choose from auto,"),
    ],
)
def test_option_errors_name_the_flag(sales_file: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["forecast", str(sales_file), *args, "-o", "x.parquet"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"scot: error: {message}")


@pytest.mark.parametrize("flag", ["--folds", "-k"])
def test_evaluate_option_errors_name_the_flag(sales_file: Path, flag: str) -> None:
    args = ["forecast", "evaluate", str(sales_file), "-H", "2", flag, "0", "-o", "m.parquet"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == "scot: error: --folds: must be >= 1, got 0\n"


@pytest.mark.parametrize("command", [[], ["run"], ["evaluate"]])
def test_m_is_a_deprecated_alias_of_model(
    sales_file: Path, tmp_path: Path, command: list[str]
) -> None:
    out = tmp_path / "o.parquet"
    args = ["forecast", *command, str(sales_file), "-H", "2", "-m", "naive", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "-m is deprecated and will be removed; use --model" in result.stderr
    assert read_metadata(str(out))["params"]["model"] == "naive"


def test_provenance_records_the_options_params(sales_file: Path, tmp_path: Path) -> None:
    from scot_cli.forecast import ForecastOptions

    out = tmp_path / "o.parquet"
    args = ["forecast", str(sales_file), "-H", "2", "--quantiles", "0.05,0.5", "-o", str(out)]
    result = runner.invoke(app, [*args, "--model", "naive", "--seed", "4"])
    assert result.exit_code == 0, result.stderr
    params = read_metadata(str(out))["params"]
    assert ForecastOptions.from_params(params) == ForecastOptions(
        horizon=2, quantiles=(0.05, 0.5), model="naive", seed=4
    )
    assert result.stderr.endswith(f"forecast: 1 series x 2 periods -> {out}\n")


@pytest.mark.parametrize("command", [[], ["evaluate"]])
def test_help_fits_forty_lines(command: list[str]) -> None:
    result = runner.invoke(app, ["forecast", *command, "--help"], terminal_width=100)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) <= 40, result.stdout
    assert "--model" in result.stdout and "-m," not in result.stdout


def test_help_models_describes_every_choice() -> None:
    result = runner.invoke(app, ["forecast", "--help-models"])
    assert result.exit_code == 0
    for name in MODELS:
        assert f"  {name} " in result.stdout
    assert "--freq:" in result.stdout and "own-end" in result.stdout
