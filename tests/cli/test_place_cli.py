"""``scot place`` through typer's CliRunner: outputs, stdin, provenance and error lines."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import forecast_from_sales, parquet_bytes, run_scot
from scot_cli.commands.main import app
from scot_cli.validate import validate

runner = CliRunner()


@pytest.fixture(scope="module")
def forecast_file(small_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("place_cli") / "forecast.parquet"
    forecast_from_sales(pl.read_parquet(small_dir / "sales.parquet")).write_parquet(path)
    return path


def _args(small_dir: Path, forecast: str) -> list[str]:
    return [
        "place",
        forecast,
        "--items",
        str(small_dir / "items.parquet"),
        "--inventory",
        str(small_dir / "inventory.parquet"),
        "--nodes",
        str(small_dir / "nodes.parquet"),
        "--lanes",
        str(small_dir / "lanes.parquet"),
    ]


def test_writes_placement_coverage_and_constraints(
    small_dir: Path, forecast_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "placement.parquet"
    args = [
        *_args(small_dir, str(forecast_file)),
        "--speed-target",
        "2:0.8",
        "-o",
        str(out),
        "--coverage-out",
        str(tmp_path / "coverage.parquet"),
        "--constraints-out",
        str(tmp_path / "constraints.parquet"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("place: ")
    placement = pl.read_parquet(out)
    fcs = pl.read_parquet(small_dir / "nodes.parquet").filter(kind="fc").height
    assert placement.height == placement["sku"].n_unique() * fcs
    per_sku = placement.group_by("sku").agg(
        pl.col("target_units").sum(), pl.col("current_units").sum()
    )
    assert (per_sku["target_units"] - per_sku["current_units"]).abs().max() == pytest.approx(0)
    coverage = pl.read_parquet(tmp_path / "coverage.parquet")
    assert coverage.filter(region="ALL")["days"].to_list() == [1, 2, 3]
    assert coverage["share_after"].is_between(0, 1).all()
    constraints = pl.read_parquet(tmp_path / "constraints.parquet")
    assert set(constraints["constraint"]) == {"storage", "throughput", "speed"}
    prov = json.loads(pq.read_schema(out).metadata[b"scot"])
    assert prov["command"] == "place"
    assert prov["params"]["speed_target"] == "2:0.8"
    assert [s["role"] for s in prov["inputs"]] == [
        "forecast",
        "items",
        "inventory",
        "nodes",
        "lanes",
    ]


def test_reads_the_forecast_from_stdin_and_writes_stdout(
    small_dir: Path, forecast_file: Path
) -> None:
    result = runner.invoke(
        app, [*_args(small_dir, "-"), "--fair-share"], input=forecast_file.read_bytes()
    )
    assert result.exit_code == 0, result.stderr
    placement = pl.read_parquet(io.BytesIO(result.stdout_bytes))
    assert placement.columns[:6] == [
        "sku",
        "node",
        "target_units",
        "current_units",
        "inbound_units",
        "transfer_in",
    ]
    assert placement.equals(placement.sort("sku", "node"))


def _receipts_file(forecast_file: Path, tmp_path: Path) -> tuple[Path, str]:
    """plan-buy-like orders: 24 units of the first sku inside the period, 500 after it."""
    first = pl.read_parquet(forecast_file)["date"].min()
    assert isinstance(first, dt.date)
    sku = str(pl.read_parquet(forecast_file)["sku"].min())
    supply = pl.DataFrame(
        {
            "sku": [sku, sku],
            "vendor": ["V", "V"],
            "node": ["FC", "FC"],
            "arrival_date": [first, first + dt.timedelta(days=30)],
            "qty": [24.0, 500.0],
            "status": ["order", "order"],
        }
    )
    path = tmp_path / "orders.parquet"
    supply.write_parquet(path)
    return path, sku


def test_receipts_add_arriving_buys(small_dir: Path, forecast_file: Path, tmp_path: Path) -> None:
    path, sku = _receipts_file(forecast_file, tmp_path)
    result = runner.invoke(app, [*_args(small_dir, str(forecast_file)), "--receipts", str(path)])
    assert result.exit_code == 0, result.stderr
    prov = json.loads(pq.read_schema(io.BytesIO(result.stdout_bytes)).metadata[b"scot"])
    assert [s["role"] for s in prov["inputs"]][-1] == "receipts"
    placement = pl.read_parquet(io.BytesIO(result.stdout_bytes))
    mine = placement.filter(sku=sku)
    assert mine["inbound_units"].sum() == pytest.approx(24.0)
    assert mine["target_units"].sum() == pytest.approx(float(mine["current_units"].sum()) + 24.0)


def test_bad_speed_target_is_a_usage_error(small_dir: Path, forecast_file: Path) -> None:
    result = runner.invoke(app, [*_args(small_dir, str(forecast_file)), "--speed-target", "fast"])
    assert result.exit_code == 2
    assert result.stderr == (
        "scot: error: --speed-target: expected DAYS:SHARE such as 1:0.8, got 'fast'\n"
    )


def test_unknown_solver_is_a_usage_error(small_dir: Path, forecast_file: Path) -> None:
    result = runner.invoke(app, [*_args(small_dir, str(forecast_file)), "--solver", "gurobi"])
    assert result.exit_code == 2
    assert result.stderr == (
        "scot: error: --solver: unknown value 'gurobi' (choose from highs, clarabel, scs)\n"
    )


def test_forecast_without_regions_is_an_input_error(small_dir: Path) -> None:
    forecast = pl.DataFrame(
        {
            "sku": ["SKU-00000"],
            "location": ["ALL"],
            "date": [dt.date(2026, 1, 1)],
            "mean": [1.0],
        }
    )
    result = runner.invoke(app, _args(small_dir, "-"), input=parquet_bytes(forecast))
    assert result.exit_code == 3
    regions = pl.read_parquet(small_dir / "nodes.parquet").filter(kind="region")["node"].sort()
    known = ", ".join(regions.to_list()[:6]) + (", ..." if regions.len() > 6 else "")
    assert result.stderr == (
        "scot: error: forecast: location 'ALL' in column location is not a region node of "
        f"nodes.parquet (known: {known}); forecast sales by region for placement\n"
    )


def test_forecast_missing_mean_names_the_column(small_dir: Path) -> None:
    forecast = pl.DataFrame(
        {"sku": ["A"], "location": ["R-NE"], "date": [dt.date(2026, 1, 1)], "units": [1.0]}
    )
    result = runner.invoke(app, _args(small_dir, "-"), input=parquet_bytes(forecast))
    assert result.exit_code == 3
    assert result.stderr.startswith("scot: error: <stdin>: missing required column")
    assert "mean" in result.stderr


def test_help_is_a_synopsis_with_the_forecast_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    result = runner.invoke(app, ["place", "--help"])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) <= 40
    assert "forecast: sku, location, date, mean [p10] [p90]" in result.stdout
    for flag in ("--receipts", "--late-cost", "--speed-target", "--solver"):
        assert flag in result.stdout
    assert "--supply" not in result.stdout and "--late-penalty" not in result.stdout


def test_help_models_describes_the_solvers() -> None:
    from scot_cli.place import SOLVERS

    result = runner.invoke(app, ["place", "--help-models"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "--solver:"
    assert [line.split(maxsplit=1) for line in lines[1:]] == [
        [name, SOLVERS.help(name)] for name in SOLVERS
    ]


@pytest.mark.parametrize(
    ("old", "new", "value"),
    [("--supply", "--receipts", None), ("--late-penalty", "--late-cost", "0.3")],
)
def test_renamed_options_still_work_with_a_warning(
    small_dir: Path, forecast_file: Path, tmp_path: Path, old: str, new: str, value: str | None
) -> None:
    if value is None:
        value = str(_receipts_file(forecast_file, tmp_path)[0])
    base = _args(small_dir, str(forecast_file))
    with_old = runner.invoke(app, [*base, old, value])
    with_new = runner.invoke(app, [*base, new, value])
    assert with_old.exit_code == 0, with_old.stderr
    assert f"scot: warning: {old} is deprecated and will be removed; use {new}" in with_old.stderr
    assert "deprecated" not in with_new.stderr
    old_frame = pl.read_parquet(io.BytesIO(with_old.stdout_bytes))
    assert old_frame.equals(pl.read_parquet(io.BytesIO(with_new.stdout_bytes)))
    prov = json.loads(pq.read_schema(io.BytesIO(with_old.stdout_bytes)).metadata[b"scot"])
    if new == "--late-cost":
        assert prov["params"]["late_cost"] == 0.3


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--days", "0", "--days: must be from 1 to 3660, got 0"),
        ("--transfer-cost", "-1", "--transfer-cost: must be >= 0, got -1"),
        ("--late-cost", "-0.5", "--late-cost: must be >= 0, got -0.5"),
        ("--batch-size", "-2", "--batch-size: must be >= 0, got -2"),
        (
            "--speed-target",
            "0:0.5",
            "--speed-target: days must be >= 1 and share in [0, 1], got 0:0.5",
        ),
    ],
)
def test_option_errors_name_the_flag(
    small_dir: Path, forecast_file: Path, flag: str, value: str, message: str
) -> None:
    result = runner.invoke(app, [*_args(small_dir, str(forecast_file)), flag, value])
    assert result.exit_code == 2
    assert result.stderr == f"scot: error: {message}\n"


def test_decide_from_inputs_reproduces_the_command(
    small_dir: Path, forecast_file: Path, tmp_path: Path
) -> None:
    from scot_cli.place import decide_from_inputs
    from scot_cli.schema import INVENTORY, ITEMS, LANES, NODES

    out = tmp_path / "placement.parquet"
    args = [*_args(small_dir, str(forecast_file)), "--speed-target", "2:0.7", "--fair-share"]
    result = runner.invoke(app, [*args, "--transfer-cost", "0.3", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    params = json.loads(pq.read_schema(out).metadata[b"scot"])["params"]
    tables = {"items": ITEMS, "inventory": INVENTORY, "nodes": NODES, "lanes": LANES}
    inputs = {
        role: validate(table, pl.read_parquet(small_dir / f"{role}.parquet"), source=role)
        for role, table in tables.items()
    }
    inputs["forecast"] = pl.read_parquet(forecast_file)
    again = decide_from_inputs(inputs, params)
    written = pl.read_parquet(out)
    assert again.columns == written.columns
    for col in ("target_units", "transfer_in", "transfer_out", "inbound_units"):
        assert again.sort("sku", "node")[col].to_list() == written[col].to_list()


def test_batched_solve_through_the_command(small_dir: Path, forecast_file: Path) -> None:
    single = runner.invoke(app, _args(small_dir, str(forecast_file)))
    batched = runner.invoke(app, [*_args(small_dir, str(forecast_file)), "--batch-size", "5"])
    assert batched.exit_code == 0, batched.stderr
    one = pl.read_parquet(io.BytesIO(single.stdout_bytes))
    many = pl.read_parquet(io.BytesIO(batched.stdout_bytes))
    assert many.select("sku", "node").equals(one.select("sku", "node"))
    assert float(many["target_units"].sum()) == pytest.approx(float(one["target_units"].sum()))

    def cost(err: str) -> float:
        after = err.partition("expected cost")[2].partition("->")[2].partition(";")[0]
        return float(after.strip().replace(",", ""))

    assert cost(batched.stderr) == pytest.approx(cost(single.stderr), rel=0.02)
    assert "of a lower bound" in batched.stderr
    # the proven bound and the gap to it are in the output's provenance
    prov = json.loads(pq.read_schema(io.BytesIO(batched.stdout_bytes)).metadata[b"scot"])
    summary = prov["summary"]
    total = sum(summary["cost_after"].values())
    assert summary["bound"] <= total + 1e-6
    assert summary["gap"] == pytest.approx((total - summary["bound"]) / summary["bound"], abs=1e-6)


def test_batched_solve_keeps_the_solver_banner_off_stdout(
    small_dir: Path, forecast_file: Path
) -> None:
    # a real process: HiGHS prints its banner to file descriptor 1 when its first solver
    # object is made, which CliRunner does not capture but a pipe would carry
    done = run_scot(*_args(small_dir, str(forecast_file)), "--batch-size", "5", "-o", "-")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"PAR1")
    assert pl.read_parquet(io.BytesIO(done.stdout)).height > 0
