"""Cases the long fuzz profile found in scot simulate."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from scot_cli.commands.main import app

runner = CliRunner()


def _args(small_dir: Path, items: Path, out: Path) -> list[str]:
    args = ["simulate", "--items", str(items), "--days", "3", "-o", str(out)]
    for role in ("sales", "nodes", "lanes", "inventory"):
        args += [f"--{role}", str(small_dir / f"{role}.parquet")]
    return args


def test_an_empty_items_table_is_an_input_error(small_dir: Path, tmp_path: Path) -> None:
    items = tmp_path / "items.parquet"
    pl.read_parquet(small_dir / "items.parquet").clear().write_parquet(items)
    result = runner.invoke(app, _args(small_dir, items, tmp_path / "sim"))
    assert result.exit_code == 3
    assert result.stderr == "scot: error: items: no rows; a simulation needs at least one sku\n"


def test_no_promise_window_reports_rates_without_a_denominator(
    small_dir: Path, tmp_path: Path
) -> None:
    args = [*_args(small_dir, small_dir / "items.parquet", tmp_path / "sim")]
    result = runner.invoke(app, [*args, "--max-promise-days", "0"])
    assert result.exit_code == 0, result.stderr
    assert "None" not in result.stderr
    assert "promises_kept none" in result.stderr
