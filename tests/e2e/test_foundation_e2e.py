"""The real command line as subprocesses: fixtures, pipes, sql, quiet broken pipes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import polars as pl

from conftest import run_scot, scot_exe


def test_fixtures_then_inspect_from_stdin(tmp_path: Path) -> None:
    out = tmp_path / "f"
    made = run_scot("fixtures", "--out", str(out), "--skus", "10", "--days", "60", "--orders", "20")
    assert made.returncode == 0, made.stderr
    assert made.stdout == b""
    shown = run_scot("inspect", "-", input=(out / "sales.parquet").read_bytes())
    assert shown.returncode == 0, shown.stderr
    rows = pl.read_parquet(out / "sales.parquet").height
    assert f"<stdin>: {rows:,} rows, 7 columns" in shown.stdout.decode()


def test_sql_prints_the_count(small_dir: Path) -> None:
    path = small_dir / "sales.parquet"
    result = run_scot("sql", f"select count(*) as n from '{path}'")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().split() == ["n", str(pl.read_parquet(path).height)]


def test_fixtures_are_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert (
            run_scot(
                "fixtures",
                "--out",
                str(tmp_path / name),
                "--skus",
                "6",
                "--days",
                "40",
                "--orders",
                "10",
                "--seed",
                "5",
            ).returncode
            == 0
        )
    for table in ("sales", "orders", "inventory"):
        a = pl.read_parquet(tmp_path / "a" / f"{table}.parquet")
        b = pl.read_parquet(tmp_path / "b" / f"{table}.parquet")
        assert a.equals(b), table


def test_broken_pipe_is_quiet(small_dir: Path) -> None:
    path = small_dir / "sales.parquet"
    scot = subprocess.Popen(
        [*scot_exe(), "sql", f"select * from '{path}'", "-f", "csv"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    head = subprocess.run(["head", "-n", "2"], stdin=scot.stdout, capture_output=True, check=True)
    assert scot.stdout is not None and scot.stderr is not None
    scot.stdout.close()
    err = scot.stderr.read()
    scot.wait(timeout=60)
    assert len(head.stdout.decode().splitlines()) == 2
    assert b"Traceback" not in err
    assert b"BrokenPipe" not in err


def test_stdout_parquet_pipes_into_inspect(small_dir: Path) -> None:
    path = small_dir / "items.parquet"
    produced = run_scot("sql", f"select sku, unit_cost from '{path}'", "-f", "parquet")
    assert produced.returncode == 0, produced.stderr
    shown = run_scot("inspect", "-", input=produced.stdout)
    assert shown.returncode == 0
    assert "2 columns" in shown.stdout.decode()
