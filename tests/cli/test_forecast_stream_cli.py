"""``scot forecast`` on a Parquet file: read by partitions of skus, written as it goes."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
from typer.testing import CliRunner

from conftest import parquet_bytes
from scot_cli.commands.main import app
from scot_cli.forecast.schema import FORECAST
from scot_cli.io import read_metadata
from scot_cli.validate import validate

runner = CliRunner()
START = dt.date(2026, 3, 1)


def _sales(skus: int = 5, days: int = 70) -> pl.DataFrame:
    dates = [START + dt.timedelta(days=i) for i in range(days)]
    return pl.DataFrame(
        {
            "sku": [f"S{k}" for k in range(skus) for _ in dates],
            "location": "R1",
            "date": dates * skus,
            "units": [float((i * (k + 1)) % 7) for k in range(skus) for i in range(days)],
        }
    )


def test_streamed_output_is_one_valid_file_with_provenance(tmp_path: Path) -> None:
    sales = tmp_path / "sales.parquet"
    _sales().write_parquet(sales)
    out = tmp_path / "fc.parquet"
    result = runner.invoke(
        app, ["forecast", str(sales), "-H", "7", "--batch-size", "2", "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert "forecast: 5 series x 7 periods" in result.stderr
    df = validate(FORECAST, pl.read_parquet(out), source="out")
    assert df.height == 35 and df.equals(df.sort("sku", "location", "date"))
    assert pq.ParquetFile(out).num_row_groups == 3  # one per partition of 2 skus
    prov = read_metadata(str(out))
    assert prov["command"] == "forecast" and prov["batch_size"] == 2
    assert prov["params"]["horizon"] == 7 and prov["seed"] == 0
    assert prov["inputs"] == [
        {
            "role": "sales",
            "path": str(sales),
            "sha256": hashlib.sha256(sales.read_bytes()).hexdigest(),
        }
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fc.parquet", "sales.parquet"]


def test_streamed_file_matches_stdin_and_any_batch_size(tmp_path: Path) -> None:
    sales = tmp_path / "sales.parquet"
    _sales().write_parquet(sales)
    piped = runner.invoke(app, ["forecast", "-", "-H", "5"], input=parquet_bytes(_sales()))
    assert piped.exit_code == 0, piped.stderr
    expected = pl.read_parquet(io.BytesIO(piped.stdout_bytes))
    for size in ("1", "3", "100"):
        result = runner.invoke(app, ["forecast", str(sales), "-H", "5", "--batch-size", size])
        assert result.exit_code == 0, result.stderr
        got = pl.read_parquet(io.BytesIO(result.stdout_bytes))
        assert got.drop("mean", "p10", "p50", "p90").equals(
            expected.drop("mean", "p10", "p50", "p90")
        )
        for c in ("mean", "p10", "p50", "p90"):
            np.testing.assert_allclose(got[c].to_numpy(), expected[c].to_numpy(), rtol=1e-9)


def test_bad_row_in_a_later_partition_leaves_no_output(tmp_path: Path) -> None:
    bad = _sales().with_columns(
        pl.when((pl.col("sku") == "S4") & (pl.col("date") == START))
        .then(-1.0)
        .otherwise("units")
        .alias("units")
    )
    sales = tmp_path / "bad.parquet"
    bad.write_parquet(sales)
    out = tmp_path / "fc.parquet"
    result = runner.invoke(
        app, ["forecast", str(sales), "-H", "3", "--batch-size", "2", "-o", str(out)]
    )
    assert result.exit_code == 3
    assert result.stderr == (
        f"scot: error: {sales}: column 'units' has value -1.0 below its minimum 0, first at "
        "sku='S4', location='R1', date=datetime.date(2026, 3, 1)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.parquet"]


def test_null_sku_is_refused_before_any_partition(tmp_path: Path) -> None:
    sales = tmp_path / "s.parquet"
    pl.concat(
        [_sales(2), _sales(1).head(1).with_columns(pl.lit(None, pl.String).alias("sku"))]
    ).write_parquet(sales)
    result = runner.invoke(app, ["forecast", str(sales), "-H", "3", "-o", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert "column 'sku' has 1 null value(s)" in result.stderr
