"""Bad input: one clear line on stderr, the documented exit code, nothing written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import scot_cli.errors
import scot_cli.io
from conftest import parquet_bytes
from scot_cli.commands.main import app

runner = CliRunner()


def _sales(**over: object) -> pl.DataFrame:
    base: dict[str, object] = {
        "sku": ["A", "A", "B"],
        "location": ["R1", "R1", "R1"],
        "date": [dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 1)],
        "units": [1.0, 2.0, 0.0],
    }
    base.update(over)
    return pl.DataFrame(base)


def _check(args: list[str], stdin: bytes | None = None) -> tuple[int, str]:
    result = runner.invoke(app, args, input=stdin)
    return result.exit_code, result.stderr


def test_missing_file(tmp_path: Path) -> None:
    code, err = _check(["check", "sales", str(tmp_path / "nope.parquet")])
    assert code == 3
    assert err == f"scot: error: {tmp_path / 'nope.parquet'}: no such file; check the path\n"


def test_not_parquet(tmp_path: Path) -> None:
    f = tmp_path / "sales.csv"
    f.write_text("sku,date,units\nA,2026-01-01,1\n")
    code, err = _check(["check", "sales", str(f)])
    assert code == 3
    assert err == (f"scot: error: {f}: not a Parquet or Arrow IPC file; convert it with scot sql\n")


def test_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "sales.parquet"
    f.write_bytes(b"")
    code, err = _check(["check", "sales", str(f)])
    assert code == 3
    assert err == f"scot: error: {f}: file is empty; expected Parquet or Arrow IPC\n"


def test_missing_required_column() -> None:
    code, err = _check(["check", "sales", "-"], parquet_bytes(_sales().drop("units")))
    assert code == 3
    assert err == (
        "scot: error: <stdin>: missing required column 'units' for the sales "
        "table (expected sku, date, units)\n"
    )


def test_wrong_dtype() -> None:
    code, err = _check(["check", "sales", "-"], parquet_bytes(_sales(units=["1", "2", "x"])))
    assert code == 3
    assert err == (
        "scot: error: <stdin>: column 'units' has dtype String, expected f64 "
        "(units sold; null when unknown)\n"
    )


def test_null_key() -> None:
    code, err = _check(["check", "sales", "-"], parquet_bytes(_sales(sku=["A", None, "B"])))
    assert code == 3
    assert err == (
        "scot: error: <stdin>: column 'sku' has 1 null value(s), first at "
        "sku=None, location='R1', date=datetime.date(2026, 1, 2); fill or drop them\n"
    )


def test_duplicate_key() -> None:
    df = _sales(date=[dt.date(2026, 1, 1)] * 3)
    code, err = _check(["check", "sales", "-"], parquet_bytes(df))
    assert code == 3
    assert err == (
        "scot: error: <stdin>: duplicate key (sku, location, date) at sku='A', "
        "location='R1', date=datetime.date(2026, 1, 1); each key must appear once\n"
    )


def test_negative_units() -> None:
    code, err = _check(["check", "sales", "-"], parquet_bytes(_sales(units=[1.0, -2.0, 0.0])))
    assert code == 3
    assert err == (
        "scot: error: <stdin>: column 'units' has value -2.0 below its minimum 0, "
        "first at sku='A', location='R1', date=datetime.date(2026, 1, 2)\n"
    )


@pytest.mark.parametrize(("table", "column"), [("lanes", "origin"), ("inventory", "node")])
def test_unknown_node(table: str, column: str, small_dir: Path, tmp_path: Path) -> None:
    df = pl.read_parquet(small_dir / f"{table}.parquet")
    df = df.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("FC9"))
        .otherwise(pl.col(column))
        .alias(column)
    )
    f = tmp_path / f"{table}.parquet"
    df.write_parquet(f)
    nodes = small_dir / "nodes.parquet"
    code, err = _check(["check", table, str(f), "--nodes", str(nodes)])
    assert code == 3
    assert err.startswith(
        f"scot: error: {f}: node 'FC9' in column {column} is not in "
        f"{nodes} (known: DS-CAN, DS-CAS, "
    )


def test_binary_to_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scot_cli.io, "stdout_is_terminal", lambda: True)
    code, err = _check(["sql", "select 1 as x", "--format", "parquet"])
    assert code == 2
    assert err == (
        "scot: error: refusing to write binary Parquet to a terminal; pass -o FILE "
        "or pipe into another command (e.g. '| scot inspect -')\n"
    )


def test_never_overwrites_an_input(small_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "sales.parquet"
    target.write_bytes((small_dir / "sales.parquet").read_bytes())
    before = target.read_bytes()
    run = scot_cli.io.Run("test")
    df = run.read(str(target), None)
    with pytest.raises(scot_cli.errors.UsageError, match="is an input of this run"):
        run.write(df, str(target), None)
    assert target.read_bytes() == before


def test_debug_shows_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--debug", "check", "sales", str(tmp_path / "x.parquet")])
    assert result.exit_code == 3
    assert "Traceback" in result.stderr


def test_bad_option_value_is_a_usage_error() -> None:
    result = runner.invoke(app, ["sql", "select 1", "--format", "xml"])
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.stderr
