"""``scot forecast`` and ``scot forecast evaluate`` through typer's CliRunner."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from conftest import parquet_bytes
from scot_cli.commands.main import app
from scot_cli.forecast.schema import FORECAST, METRICS
from scot_cli.io import read_metadata
from scot_cli.validate import validate

runner = CliRunner()
START = dt.date(2026, 3, 1)


def _sales(days: int = 70) -> pl.DataFrame:
    dates = [START + dt.timedelta(days=i) for i in range(days)]
    return pl.DataFrame(
        {
            "sku": ["A"] * days + ["B"] * days,
            "location": "R1",
            "date": dates * 2,
            "units": [float(i % 7) for i in range(days)]
            + [0.0, 0.0, 2.0] * (days // 3)
            + [0.0] * (days % 3),
        }
    )


@pytest.fixture
def sales_file(tmp_path: Path) -> Path:
    path = tmp_path / "sales.parquet"
    _sales().write_parquet(path)
    return path


def test_forecast_writes_the_declared_table_with_provenance(
    sales_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "fc.parquet"
    result = runner.invoke(
        app,
        ["forecast", str(sales_file), "-H", "7", "--quantiles", "0.1,0.5,0.9,0.95", "-o", str(out)],
    )
    assert result.exit_code == 0, result.stderr
    df = pl.read_parquet(out)
    validate(FORECAST, df, source="out")
    assert df.height == 14 and "p95" in df.columns
    assert df.sort("sku", "date").equals(df)
    prov = read_metadata(str(out))
    assert prov["command"] == "forecast"
    assert prov["params"]["horizon"] == 7 and prov["params"]["model"] == "auto"
    assert [s["role"] for s in prov["inputs"]] == ["sales"]
    assert "forecast: 2 series x 7 periods" in result.stderr


def test_forecast_reads_stdin_and_writes_stdout() -> None:
    result = runner.invoke(
        app, ["forecast", "-", "-H", "3", "--model", "naive"], input=parquet_bytes(_sales())
    )
    assert result.exit_code == 0, result.stderr
    df = pl.read_parquet(io.BytesIO(result.stdout_bytes))
    assert df["model"].unique().to_list() == ["naive"]
    assert df.filter(pl.col("sku") == "A")["mean"].to_list() == [6.0, 6.0, 6.0]


def test_evaluate_writes_metrics(sales_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.parquet"
    result = runner.invoke(
        app, ["forecast", "evaluate", str(sales_file), "-H", "7", "--folds", "2", "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    df = pl.read_parquet(out)
    validate(METRICS, df, source="out")
    assert set(df["model"]) == {"auto", "zero", "seasonal_naive"}
    assert "zero: RMSSE" in result.stderr


def test_weekly_forecast_with_items_and_events(tmp_path: Path) -> None:
    paths = {name: tmp_path / f"{name}.parquet" for name in ("sales", "items", "events")}
    _sales(140).write_parquet(paths["sales"])
    pl.DataFrame(
        {
            "sku": ["A", "B", "NEW"],
            "category": ["c", "c", "c"],
            "unit_cost": 1.0,
            "price": 2.0,
            "holding_cost_rate": 0.2,
            "order_cost": 10.0,
            "lead_time_days": 5.0,
            "lead_time_sd": 1.0,
            "moq": 0,
            "case_pack": 1,
            "vendor": "V",
            "unit_volume": 1.0,
        }
    ).write_parquet(paths["items"])
    pl.DataFrame(
        {
            "event": ["e"],
            "start": [dt.date(2026, 7, 20)],
            "end": [dt.date(2026, 7, 21)],
            "sku": ["GHOST"],
        }
    ).write_parquet(paths["events"])
    out = tmp_path / "fc.parquet"
    result = runner.invoke(
        app,
        [
            "forecast",
            str(paths["sales"]),
            "-H",
            "4",
            "--freq",
            "W",
            "--items",
            str(paths["items"]),
            "--events",
            str(paths["events"]),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert (
        f"scot: warning: {paths['events']}: 1 sku(s) in column sku are in neither the "
        "sales nor the items (first: 'GHOST'); their events are ignored"
    ) in " ".join(result.stderr.split())  # the console wraps long warnings
    df = pl.read_parquet(out)
    assert df.filter(pl.col("sku") == "NEW")["model"].unique().to_list() == ["cold_start:all"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-H", "0"], "scot: error: --horizon: must be >= 1, got 0\n"),
        (
            ["-H", "3", "--quantiles", "0.9,0.1"],
            "scot: error: --quantiles: list them in increasing order without repeats, e.g. "
            "0.1,0.5,0.9\n",
        ),
        (
            ["-H", "3", "--quantiles", "0,0.5"],
            "scot: error: --quantiles: each must lie strictly between 0 and 1, got 0\n",
        ),
        (
            ["-H", "3", "--quantiles", "a,b"],
            "scot: error: --quantiles: expected comma-separated numbers, got 'a,b'\n",
        ),
        (
            ["-H", "3", "--freq", "H"],
            "scot: error: --freq: unknown value 'H' (choose from D, W, M, Q, Y)\n",
        ),
        (
            ["-H", "3", "--align", "left"],
            "scot: error: --align: unknown value 'left' (choose from grid, own-end)\n",
        ),
    ],
)
def test_bad_options_exit_2_with_one_line(sales_file: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["forecast", str(sales_file), *args, "-o", "x.parquet"])
    assert result.exit_code == 2
    assert result.stderr == message


def test_bad_sales_exit_3(tmp_path: Path) -> None:
    bad = _sales().with_columns(
        pl.when(pl.col("date") == START).then(-1.0).otherwise("units").alias("units")
    )
    path = tmp_path / "bad.parquet"
    bad.write_parquet(path)
    result = runner.invoke(
        app, ["forecast", str(path), "-H", "3", "-o", str(tmp_path / "o.parquet")]
    )
    assert result.exit_code == 3
    assert result.stderr == (
        f"scot: error: {path}: column 'units' has value -1.0 below its "
        "minimum 0, first at sku='A', location='R1', "
        "date=datetime.date(2026, 3, 1)\n"
    )


def test_duplicate_dates_exit_3(tmp_path: Path) -> None:
    path = tmp_path / "dup.parquet"
    pl.concat([_sales(), _sales().head(1)]).write_parquet(path)
    result = runner.invoke(
        app, ["forecast", str(path), "-H", "3", "-o", str(tmp_path / "o.parquet")]
    )
    assert result.exit_code == 3
    assert "duplicate key (sku, location, date)" in result.stderr


def test_evaluate_with_too_short_history_exit_3(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    _sales(10).write_parquet(path)
    result = runner.invoke(
        app,
        [
            "forecast",
            "evaluate",
            str(path),
            "-H",
            "7",
            "--folds",
            "3",
            "-o",
            str(tmp_path / "m.parquet"),
        ],
    )
    assert result.exit_code == 3
    assert result.stderr == (
        "scot: error: sales: 10 periods of history cannot hold 3 fold(s) "
        "of 7 periods; use fewer folds or a shorter horizon\n"
    )


def test_quarterly_forecast_and_series_ending_early(tmp_path: Path) -> None:
    """Monthly rows summed into quarters; B's records stop two quarters early: a warning
    with the count on the grid, B forecast from its own end with --align own-end."""
    months = [dt.date(2022 + m // 12, m % 12 + 1, 1) for m in range(36)]
    sales = pl.DataFrame(
        {
            "sku": ["A"] * 36 + ["B"] * 30,
            "location": "ALL",
            "date": months + months[:30],
            "units": [10.0] * 36 + [4.0] * 30,
        }
    )
    path, out = tmp_path / "sales.parquet", tmp_path / "fc.parquet"
    sales.write_parquet(path)
    grid = runner.invoke(
        app, ["forecast", str(path), "-H", "2", "--freq", "Q", "--model", "naive", "-o", str(out)]
    )
    assert grid.exit_code == 0, grid.stderr
    assert "1 of 2 series have no row in the last period" in grid.stderr
    df = pl.read_parquet(out).filter(pl.col("sku") == "A")
    assert df["date"].to_list() == [dt.date(2025, 1, 1), dt.date(2025, 4, 1)]
    assert df["mean"].to_list() == [30.0, 30.0]
    args = ["forecast", str(path), "-H", "1", "--freq", "Q", "--model", "naive"]
    own = runner.invoke(app, [*args, "--align", "own-end", "-o", str(out)])
    assert own.exit_code == 0, own.stderr
    assert "no row in the last period" not in own.stderr
    b = pl.read_parquet(out).filter(pl.col("sku") == "B")
    assert b["date"].to_list() == [dt.date(2024, 7, 1)] and b["mean"].to_list() == [12.0]
    assert read_metadata(str(out))["params"]["align"] == "own-end"


def test_rejected_sales_leave_one_error_line_and_no_earlier_warning(tmp_path: Path) -> None:
    """Issue 11 (fuzz F9): an event before the history used to print its warning before the
    duplicate-key error of a later partition, so stderr had two lines on failure."""
    sales, events = tmp_path / "dup.parquet", tmp_path / "events.parquet"
    pl.concat([_sales(), _sales().tail(1)]).write_parquet(sales)
    old = dt.date(2025, 12, 24)  # before the sales start: ignored for learning, with a warning
    pl.DataFrame({"event": ["xmas"], "start": [old], "end": [old]}).write_parquet(events)
    args = ["forecast", str(sales), "-H", "3", "--events", str(events)]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "o.parquet")])
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scot: error:"), result.stderr
    assert "duplicate key" in lines[0]
    good = tmp_path / "good.parquet"
    _sales().write_parquet(good)
    ok = runner.invoke(app, ["forecast", str(good), "-H", "3", "--events", str(events)])
    assert ok.exit_code == 0
    assert "end before the sales history starts" in ok.stderr
