"""Shared test fixtures: the committed fixture folder, a small generated set, helpers."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

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
