"""``scot route`` as real subprocesses on generated fixtures, piped from ``scot promise``."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from conftest import run_scot


@pytest.fixture(scope="module")
def promised(small_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small set's orders promised by ``scot promise`` (or a simple stand-in without it)."""
    out = tmp_path_factory.mktemp("route") / "promises.parquet"
    made = run_scot(
        "promise",
        str(small_dir / "orders.parquet"),
        "--inventory",
        str(small_dir / "inventory.parquet"),
        "--nodes",
        str(small_dir / "nodes.parquet"),
        "--lanes",
        str(small_dir / "lanes.parquet"),
        "-o",
        str(out),
    )
    if made.returncode != 0:
        orders = pl.read_parquet(small_dir / "orders.parquet")
        day = pl.col("order_time").dt.date()
        orders.with_columns(
            day.alias("ship_date"), (day + pl.duration(days=3)).alias("promise_date")
        ).drop("order_time").write_parquet(out)
    return out


def _route(
    small_dir: Path, source: str, *extra: str, stdin: bytes | None = None
) -> tuple[pl.DataFrame, str]:
    done = run_scot(
        "route",
        source,
        "--inventory",
        str(small_dir / "inventory.parquet"),
        "--nodes",
        str(small_dir / "nodes.parquet"),
        "--lanes",
        str(small_dir / "lanes.parquet"),
        "--items",
        str(small_dir / "items.parquet"),
        "--time-limit",
        "5",
        *extra,
        input=stdin,
    )
    assert done.returncode == 0, done.stderr.decode()
    return pl.read_parquet(io.BytesIO(done.stdout)), done.stderr.decode()


def test_promise_piped_into_route(small_dir: Path, promised: Path, tmp_path: Path) -> None:
    trucks = tmp_path / "trucks.parquet"
    ship, err = _route(small_dir, "-", "--trucks-out", str(trucks), stdin=promised.read_bytes())
    lines = pl.read_parquet(promised)
    assert ship.height == lines.height
    t = pl.read_parquet(trucks)
    assert (t["load"] <= t["capacity"] + 1e-9).all()
    assert "lines shipped" in err
    on_time = ship.filter(pl.col("status") == "on_time")
    assert on_time.height >= 0.9 * ship.filter(pl.col("status") != "unshipped").height
    shown = run_scot("inspect", "-", input=trucks.read_bytes())
    assert shown.returncode == 0
    assert f"<stdin>: {t.height:,} rows, 12 columns" in shown.stdout.decode()


def test_optimiser_beats_the_myopic_rule(small_dir: Path, promised: Path) -> None:
    base, _ = _route(small_dir, str(promised), "--method", "myopic")
    best, _ = _route(small_dir, str(promised))
    assert float(best["cost"].sum()) <= float(base["cost"].sum()) + 1e-6
    assert (best["status"] == "on_time").sum() >= (base["status"] == "on_time").sum()


def test_last_mile_from_a_station(small_dir: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    stops = tmp_path / "stops.parquet"
    pl.DataFrame(
        {
            "stop_id": [f"S{i:02d}" for i in range(30)],
            "station": ["DS-TX"] * 30,
            "lat": 29.8 + rng.normal(0, 0.06, 30),
            "lon": -95.3 + rng.normal(0, 0.06, 30),
            "demand": rng.uniform(1, 6, 30),
            "tw_early": np.zeros(30),
            "tw_late": rng.uniform(200, 500, 30),
            "service_time": np.full(30, 4.0),
        }
    ).write_parquet(stops)
    done = run_scot(
        "route",
        "last-mile",
        str(stops),
        "--nodes",
        str(small_dir / "nodes.parquet"),
        "--vehicles",
        "5",
        "--capacity",
        "40",
        "--time-limit",
        "1",
    )
    assert done.returncode == 0, done.stderr.decode()
    routes = pl.read_parquet(io.BytesIO(done.stdout))
    assert routes.height == 30
    routed = routes.filter(pl.col("status") == "routed")
    assert (routed["arrival"] <= 500).all()
