"""Shared test fixtures: the committed fixture folder, a small generated set, helpers."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from scot_cli.fixtures import FixtureSpec, generate

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def fixture_dir() -> Path:
    """The committed fixtures (the demo's inputs)."""
    return REPO / "fixtures"


@pytest.fixture(scope="session")
def small_tables() -> dict[str, pl.DataFrame]:
    """A small generated data set: 12 SKUs, 120 days, 80 orders."""
    return generate(FixtureSpec(skus=12, days=120, orders=80, seed=3))


@pytest.fixture(scope="session")
def small_dir(
    tmp_path_factory: pytest.TempPathFactory, small_tables: dict[str, pl.DataFrame]
) -> Path:
    """``small_tables`` written as Parquet files into a folder."""
    folder = tmp_path_factory.mktemp("small")
    for name, df in small_tables.items():
        df.write_parquet(folder / f"{name}.parquet")
    return folder


def parquet_bytes(df: pl.DataFrame) -> bytes:
    """A frame as Parquet bytes, for CliRunner's input."""
    buf = io.BytesIO()
    df.write_parquet(buf)
    return buf.getvalue()


def scot_exe() -> list[str]:
    """The scot console script of this environment (falls back to ``python -m scot_cli``)."""
    exe = Path(sys.executable).with_name("scot")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "scot_cli"]


def run_scot(
    *args: str, input: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run the real ``scot`` as a subprocess."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [*scot_exe(), *args],
        input=input,
        capture_output=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=600,
    )


def forecast_from_sales(sales: pl.DataFrame, *, days: int = 14) -> pl.DataFrame:
    """A plain forecast: the last 28 days' mean per sku and region, flat over ``days``."""
    last = sales["date"].max()
    assert isinstance(last, dt.date)
    level = (
        sales.filter(pl.col("date") > last - dt.timedelta(days=28))
        .group_by("sku", "location")
        .agg(pl.col("units").mean().fill_null(0.0).alias("mean"))
    )
    steps = pl.DataFrame({"horizon": list(range(1, days + 1))})
    return (
        level.join(steps, how="cross")
        .with_columns(
            (pl.lit(last) + pl.duration(days=pl.col("horizon"))).cast(pl.Date).alias("date"),
            (pl.col("mean") * 0.4).alias("p10"),
            pl.col("mean").alias("p50"),
            (pl.col("mean") * 1.8 + 1.0).alias("p90"),
            pl.lit("test").alias("model"),
        )
        .sort("sku", "location", "date")
    )


_Z90 = 1.2815515655446004  # standard normal quantile of 0.9


def buy_tables(n: int, days: int = 21, seed: int = 7) -> tuple[pl.DataFrame, ...]:
    """``n`` skus (sorted) with skewed daily quantile forecasts from 2026-01-05, items and
    stock at one FC: plan-buy inputs for the fast and compiled paths' tests."""
    rng = np.random.default_rng(seed)
    skus = [f"S{i:04d}" for i in range(n)]
    level = rng.gamma(1.5, 4.0, n)
    cv = rng.uniform(0.3, 1.2, n)
    day = np.tile(np.arange(days), n)
    mean = np.repeat(level, days) * (1 + 0.2 * np.sin(day * 2 * np.pi / 7))
    sd = mean * np.repeat(cv, days)
    fc = pl.DataFrame(
        {
            "sku": np.repeat(skus, days),
            "location": ["ALL"] * (n * days),
            "date": (np.datetime64("2026-01-05", "D") + day).astype("datetime64[D]"),
            "horizon": day + 1,
            "mean": mean,
            "p10": np.maximum(mean - _Z90 * sd, 0),
            "p50": mean,
            "p90": mean + _Z90 * sd * 1.15,
            "model": ["m"] * (n * days),
        }
    )
    items = pl.DataFrame(
        {
            "sku": skus,
            "category": ["c"] * n,
            "unit_cost": rng.uniform(2, 80, n),
            "price": rng.uniform(90, 160, n),
            "holding_cost_rate": np.full(n, 0.25),
            "stockout_cost": np.where(rng.random(n) < 0.5, rng.uniform(1, 20, n), np.nan),
            "service_level": np.where(rng.random(n) < 0.5, 0.95, np.nan),
            "order_cost": rng.uniform(0, 60, n),
            "lead_time_days": rng.integers(2, 15, n).astype(float),
            "lead_time_sd": rng.uniform(0, 2, n),
            "moq": rng.integers(0, 3, n) * 12,
            "case_pack": rng.choice([1, 6, 12, 24], n),
            "vendor": ["V1"] * n,
            "unit_volume": rng.uniform(0.1, 2, n),
        }
    ).with_columns(pl.col("stockout_cost", "service_level").fill_nan(None))
    inv = pl.DataFrame(
        {"sku": skus, "node": ["FC1"] * n, "on_hand": rng.poisson(level * 12).astype(float)}
    )
    return fc, items, inv
