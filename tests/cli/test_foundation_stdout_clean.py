"""stdout carries Parquet only: native solver banners (HiGHS prints one from C++ on first
use) must not reach it when a solver-backed command writes to a pipe."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_scot


@pytest.fixture(scope="module")
def forecast_file(tmp_path_factory: pytest.TempPathFactory, fixture_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("fc") / "fc.parquet"
    res = run_scot(
        "--quiet", "forecast", str(fixture_dir / "sales.parquet"),
        "--items", str(fixture_dir / "items.parquet"),
        "--horizon", "14", "--model", "seasonal_naive", "-o", str(out),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    return out


def test_plan_buy_with_binding_budget_pipes_clean_parquet(
    forecast_file: Path, fixture_dir: Path
) -> None:
    res = run_scot(
        "--quiet", "plan-buy", str(forecast_file),
        "--items", str(fixture_dir / "items.parquet"),
        "--inventory", str(fixture_dir / "inventory.parquet"),
        "--budget", "100",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout[:4] == b"PAR1" and res.stdout[-4:] == b"PAR1"


def test_place_pipes_clean_parquet(forecast_file: Path, fixture_dir: Path) -> None:
    res = run_scot(
        "--quiet", "place", str(forecast_file),
        "--items", str(fixture_dir / "items.parquet"),
        "--inventory", str(fixture_dir / "inventory.parquet"),
        "--nodes", str(fixture_dir / "nodes.parquet"),
        "--lanes", str(fixture_dir / "lanes.parquet"),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout[:4] == b"PAR1" and res.stdout[-4:] == b"PAR1"
