"""``scot inspect``: the distribution lines under the column summary."""

from __future__ import annotations

import polars as pl
from typer.testing import CliRunner

from conftest import parquet_bytes
from scot_cli.commands.main import app


def test_inspect_shows_a_sparkline_per_numeric_column() -> None:
    df = pl.DataFrame({"sku": ["A", "B", "C", "D"], "units": [1.0, 2.0, 2.0, 9.5]})
    result = CliRunner().invoke(app, ["inspect", "-", "--head", "0"], input=parquet_bytes(df))
    assert result.exit_code == 0, result.output
    after = result.stdout.split("distribution\n", 1)[1].splitlines()
    assert after[0].split()[0] == "units"
    assert after[0].split()[1] == "1" and after[0].split()[-1] == "9.5"
    assert not any(line.split()[0] == "sku" for line in after if line.startswith("  "))
