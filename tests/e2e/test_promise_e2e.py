"""``scot promise`` as a real subprocess on generated fixtures, piped into inspect and sql."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import polars as pl
import pytest

from conftest import run_scot, scot_exe
from scot_cli.commands.demo import invoke
from scot_cli.commands.demo import promise_step as demo_step


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("promise_e2e")
    made = run_scot(
        "fixtures", "--out", str(folder), "--skus", "16", "--days", "120", "--orders", "200"
    )
    assert made.returncode == 0, made.stderr
    return folder


def _args(world: Path) -> list[str]:
    return [
        "--inventory",
        str(world / "inventory.parquet"),
        "--nodes",
        str(world / "nodes.parquet"),
        "--lanes",
        str(world / "lanes.parquet"),
        "--calendar",
        str(world / "calendar.parquet"),
    ]


def test_orders_piped_through_promise_into_inspect(world: Path) -> None:
    """cat orders | scot promise - ... | scot inspect -"""
    promise = subprocess.Popen(
        [*scot_exe(), "promise", "-", *_args(world), "--mode", "commit"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = promise.communicate((world / "orders.parquet").read_bytes(), timeout=300)
    assert promise.returncode == 0, err.decode()
    df = pl.read_parquet(io.BytesIO(out))
    assert df.height == pl.read_parquet(world / "orders.parquet").height
    assert (df.filter(pl.col("status") != "unavailable")["on_time_prob"] >= 0.95).all()
    shown = run_scot("inspect", "-", input=out)
    assert shown.returncode == 0, shown.stderr
    assert f"{df.height:,} rows" in shown.stdout.decode()


def test_commit_never_promises_a_single_line_earlier_than_snapshot(
    world: Path, tmp_path: Path
) -> None:
    """Commitments only take stock and capacity away, so a one-line order can only get later."""
    outs = {}
    for mode in ("snapshot", "commit"):
        path = tmp_path / f"{mode}.parquet"
        done = run_scot(
            "promise", str(world / "orders.parquet"), *_args(world), "--mode", mode, "-o", str(path)
        )
        assert done.returncode == 0, done.stderr
        outs[mode] = pl.read_parquet(path)
    both = (
        outs["snapshot"]
        .join(outs["commit"], on=["order_id", "line"], suffix="_c")
        .filter(
            pl.col("promise_date").is_not_null()
            & pl.col("promise_date_c").is_not_null()
            & (pl.col("line").max().over("order_id") == 1)
        )
    )
    assert both.height > 0
    assert (both["promise_date_c"] >= both["promise_date"]).all()


def test_demo_step_writes_promises(world: Path, tmp_path: Path) -> None:
    lines = demo_step(world, tmp_path, invoke)
    assert len(lines) == 2
    assert lines[0].startswith("snapshot: ") and lines[1].startswith("commit: ")
    assert (
        pl.read_parquet(tmp_path / "promises.parquet").height
        == pl.read_parquet(world / "orders.parquet").height
    )
