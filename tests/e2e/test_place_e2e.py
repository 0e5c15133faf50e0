"""``scot place`` as a real subprocess on generated fixtures, fed by ``scot forecast``."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import polars as pl
import pytest

from conftest import run_scot, scot_exe
from scot_cli.commands.demo import invoke
from scot_cli.commands.demo import place_step as demo_step


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("place_e2e")
    made = run_scot(
        "fixtures", "--out", str(folder), "--skus", "16", "--days", "120", "--orders", "20"
    )
    assert made.returncode == 0, made.stderr
    return folder


def _place_args(world: Path) -> list[str]:
    return [
        "--items",
        str(world / "items.parquet"),
        "--inventory",
        str(world / "inventory.parquet"),
        "--nodes",
        str(world / "nodes.parquet"),
        "--lanes",
        str(world / "lanes.parquet"),
    ]


def test_forecast_piped_into_place(world: Path) -> None:
    forecast = subprocess.Popen(
        [*scot_exe(), "forecast", str(world / "sales.parquet"), "-H", "14", "-m", "window_mean"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    placed = subprocess.run(
        [*scot_exe(), "place", "-", *_place_args(world), "--speed-target", "2:0.8"],
        stdin=forecast.stdout,
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert forecast.wait(timeout=300) == 0
    assert placed.returncode == 0, placed.stderr
    assert placed.stderr.decode().startswith("place: ")
    placement = pl.read_parquet(io.BytesIO(placed.stdout))
    inventory = pl.read_parquet(world / "inventory.parquet")
    on_hand = float(inventory["on_hand"].sum())
    current = float(placement["current_units"].sum())
    assert on_hand <= current <= on_hand + float(inventory["in_transit"].fill_null(0).sum())
    assert float(placement["target_units"].sum()) == pytest.approx(current)
    assert (placement["target_units"] >= 0).all()


def test_demo_step_writes_the_three_tables(world: Path, tmp_path: Path) -> None:
    made = run_scot(
        "forecast",
        str(world / "sales.parquet"),
        "-H",
        "14",
        "-m",
        "window_mean",
        "-o",
        str(tmp_path / "forecast.parquet"),
    )
    assert made.returncode == 0, made.stderr
    lines = demo_step(world, tmp_path, invoke)
    assert 1 <= len(lines) <= 4
    for name in ("placement", "coverage", "constraints"):
        assert pl.read_parquet(tmp_path / f"{name}.parquet").height > 0
    assert "1-day coverage" in lines[1]
