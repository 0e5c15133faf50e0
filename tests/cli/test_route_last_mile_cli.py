"""``scot route last-mile``: seeds, prizes, the summary line and exit codes (CliRunner)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import polars as pl
from typer.testing import CliRunner

from conftest import parquet_bytes
from scot_cli.commands.main import app

runner = CliRunner()


def stops(n: int, **cols: object) -> pl.DataFrame:
    rng = np.random.default_rng(11)
    frame = pl.DataFrame(
        {
            "stop_id": [f"S{i}" for i in range(n)],
            "station": ["DS-NE"] * n,
            "lat": 40.76 + rng.normal(0, 0.05, n),
            "lon": -73.96 + rng.normal(0, 0.05, n),
            "demand": rng.uniform(1, 8, n).round(1),
        }
    )
    return frame.with_columns(**{k: pl.lit(v) for k, v in cols.items()})


def args(small_dir: Path, *extra: str) -> list[str]:
    return ["route", "last-mile", "-", "--nodes", str(small_dir / "nodes.parquet"), *extra]


def test_two_seeds_route_every_stop_and_report_routes_and_gap(small_dir: Path) -> None:
    result = runner.invoke(
        app,
        args(small_dir, "--vehicles", "4", "--capacity", "40", "--time-limit", "1", "--seeds", "2"),
        input=parquet_bytes(stops(15)),
    )
    assert result.exit_code == 0, result.stderr
    routes = pl.read_parquet(io.BytesIO(result.stdout_bytes))
    assert (routes["status"] == "routed").all()
    line = result.stderr.splitlines()[0]
    n_routes = routes["vehicle"].n_unique()
    assert line.startswith(f"route last-mile: 15/15 stops on {n_routes} routes, ")
    assert "% above the lower bound " in line


def test_prize_column_is_accepted_and_null_means_required(small_dir: Path) -> None:
    frame = stops(6).with_columns(pl.Series("prize", [None, None, None, None, None, 50.0]))
    result = runner.invoke(
        app, args(small_dir, "--time-limit", "0.5", "--seeds", "1"), input=parquet_bytes(frame)
    )
    assert result.exit_code == 0, result.stderr
    routes = pl.read_parquet(io.BytesIO(result.stdout_bytes))
    assert (routes["status"] == "routed").all()


def test_negative_prize_is_an_input_error(small_dir: Path) -> None:
    result = runner.invoke(
        app, args(small_dir, "--time-limit", "0.2"), input=parquet_bytes(stops(3, prize=-1.0))
    )
    assert result.exit_code == 3
    assert "prize" in result.stderr


def test_seeds_out_of_range_is_a_usage_error(small_dir: Path) -> None:
    result = runner.invoke(app, args(small_dir, "--seeds", "0"), input=parquet_bytes(stops(3)))
    assert result.exit_code == 2
    assert "--seeds" in result.stderr


def test_no_stop_routable_exits_4(small_dir: Path) -> None:
    result = runner.invoke(
        app,
        args(small_dir, "--capacity", "0.5", "--time-limit", "0.2"),
        input=parquet_bytes(stops(4)),
    )
    assert result.exit_code == 4
    assert "none of the 4 stops can be served" in result.stderr
    assert result.stdout_bytes == b""
