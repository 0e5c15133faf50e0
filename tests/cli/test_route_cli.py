"""``scot route`` and ``scot route last-mile`` through typer's CliRunner."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from conftest import parquet_bytes
from scot_cli.commands.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def promises(small_dir: Path) -> pl.DataFrame:
    """The small set's orders, released on the order day and promised three days later."""
    orders = pl.read_parquet(small_dir / "orders.parquet")
    day = pl.col("order_time").dt.date()
    return orders.with_columns(
        day.alias("ship_date"),
        (day + pl.duration(days=3)).alias("promise_date"),
        pl.lit("promised").alias("status"),
    ).drop("order_time")


def _args(small_dir: Path, *extra: str) -> list[str]:
    return [
        "route",
        "-",
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
    ]


def test_route_writes_shipments_and_trucks(
    small_dir: Path, promises: pl.DataFrame, tmp_path: Path
) -> None:
    trucks = tmp_path / "trucks.parquet"
    result = runner.invoke(
        app, _args(small_dir, "--trucks-out", str(trucks), "--hold"), input=parquet_bytes(promises)
    )
    assert result.exit_code == 0, result.stderr
    ship = pl.read_parquet(io.BytesIO(result.stdout_bytes))
    assert ship.height == promises.height
    assert ship.select("order_id", "line").equals(
        promises.select("order_id", "line").sort("order_id", "line")
    )
    t = pl.read_parquet(trucks)
    assert (t["load"] <= t["capacity"]).all()
    assert set(ship["truck_id"].drop_nulls()) <= set(t["truck_id"])
    assert result.stderr.startswith(
        f"route: {ship['ship_node'].is_not_null().sum()}/{ship.height} lines shipped"
    )


def test_route_records_params_and_summary(
    small_dir: Path, promises: pl.DataFrame, tmp_path: Path
) -> None:
    from scot_cli.io import read_metadata

    out = tmp_path / "ship.parquet"
    result = runner.invoke(
        app,
        [*_args(small_dir, "--seed", "3", "--method", "lp-round"), "-o", str(out)],
        input=parquet_bytes(promises),
    )
    assert result.exit_code == 0, result.stderr
    prov = read_metadata(str(out))
    assert prov["params"]["method"] == "lp-round" and prov["seed"] == 3
    assert {s["role"] for s in prov["inputs"]} == {
        "promises",
        "inventory",
        "nodes",
        "lanes",
        "items",
    }
    assert prov["summary"]["bound"] <= prov["summary"]["objective"]


def test_route_same_seed_same_output(small_dir: Path, promises: pl.DataFrame) -> None:
    """Same seed, same plan, when the search ends before the time limit (a generous limit:
    on a loaded machine a search cut by a short one can end elsewhere)."""
    args = _args(small_dir, "--method", "lp-round", "--time-limit", "120")
    runs = [runner.invoke(app, ["-q", *args], input=parquet_bytes(promises)) for _ in range(2)]
    frames = [pl.read_parquet(io.BytesIO(r.stdout_bytes)) for r in runs]
    assert frames[0].equals(frames[1])


def test_route_joins_qty_and_destination_from_orders(
    small_dir: Path, promises: pl.DataFrame
) -> None:
    bare = promises.drop("qty", "destination")
    result = runner.invoke(
        app,
        _args(small_dir, "--orders", str(small_dir / "orders.parquet"), "--method", "myopic"),
        input=parquet_bytes(bare),
    )
    assert result.exit_code == 0, result.stderr
    assert pl.read_parquet(io.BytesIO(result.stdout_bytes))["qty"].sum() == promises["qty"].sum()


def test_route_without_qty_says_to_pass_orders(small_dir: Path, promises: pl.DataFrame) -> None:
    result = runner.invoke(app, _args(small_dir), input=parquet_bytes(promises.drop("qty")))
    assert result.exit_code == 3
    assert result.stderr == (
        "scot: error: -: missing column 'qty'; pass the orders table (--orders) to join it\n"
    )


def test_route_unknown_destination(small_dir: Path, promises: pl.DataFrame) -> None:
    bad = promises.with_columns(pl.lit("R-MARS").alias("destination"))
    result = runner.invoke(app, _args(small_dir), input=parquet_bytes(bad))
    assert result.exit_code == 3
    assert result.stderr.startswith(
        "scot: error: -: node 'R-MARS' in column destination is "
        f"not in {small_dir / 'nodes.parquet'} (known: "
    )


def test_route_unknown_method(small_dir: Path, promises: pl.DataFrame) -> None:
    result = runner.invoke(
        app, _args(small_dir, "--method", "magic"), input=parquet_bytes(promises)
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "scot: error: --method: unknown value 'magic' (choose from auto, mip, lp-round, myopic)\n"
    )


def test_route_bad_min_fill(small_dir: Path, promises: pl.DataFrame) -> None:
    result = runner.invoke(
        app, _args(small_dir, "--min-fill", "1.5"), input=parquet_bytes(promises)
    )
    assert result.exit_code == 2
    assert result.stderr == "scot: error: --min-fill: must be from 0 to 1, got 1.5\n"


def test_route_help_lists_methods_and_columns() -> None:
    result = runner.invoke(app, ["route", "--help"])
    assert result.exit_code == 0
    for text in ("lp-round", "myopic", "promises: order_id, line, sku", "--hold", "--trucks-out"):
        assert text in result.stdout
    models = runner.invoke(app, ["route", "--help-models"])
    assert models.exit_code == 0
    assert "myopic    baseline rule: nearest FC with stock" in models.stdout


def _stops(n: int) -> pl.DataFrame:
    rng = np.random.default_rng(5)
    return pl.DataFrame(
        {
            "stop_id": [f"S{i:02d}" for i in range(n)],
            "station": ["DS-NE"] * n,
            "lat": 40.76 + rng.normal(0, 0.05, n),
            "lon": -73.96 + rng.normal(0, 0.05, n),
            "demand": rng.uniform(1, 8, n).round(1),
        }
    )


def test_last_mile_routes_every_stop(small_dir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "route",
            "last-mile",
            "-",
            "--nodes",
            str(small_dir / "nodes.parquet"),
            "--vehicles",
            "4",
            "--capacity",
            "40",
            "--time-limit",
            "0.5",
        ],
        input=parquet_bytes(_stops(20)),
    )
    assert result.exit_code == 0, result.stderr
    routes = pl.read_parquet(io.BytesIO(result.stdout_bytes))
    assert routes.height == 20 and (routes["status"] == "routed").all()
    first = routes.filter(pl.col("sequence") == 1)
    assert (first["load"] <= 40).all()
    assert result.stderr.startswith("route last-mile: 20/20 stops on ")


def test_last_mile_unknown_station(small_dir: Path) -> None:
    stops = _stops(3).with_columns(pl.lit("DS-MOON").alias("station"))
    result = runner.invoke(
        app,
        ["route", "last-mile", "-", "--nodes", str(small_dir / "nodes.parquet")],
        input=parquet_bytes(stops),
    )
    assert result.exit_code == 3
    assert result.stderr.startswith(
        "scot: error: -: station 'DS-MOON' in column station is not in "
    )


def test_last_mile_bad_vehicles(small_dir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "route",
            "last-mile",
            "-",
            "--nodes",
            str(small_dir / "nodes.parquet"),
            "--vehicles",
            "0",
        ],
        input=parquet_bytes(_stops(3)),
    )
    assert result.exit_code == 2
    assert result.stderr == "scot: error: --vehicles: must be >= 1, got 0\n"


def test_decide_from_inputs_reproduces_the_command(
    small_dir: Path, promises: pl.DataFrame, tmp_path: Path
) -> None:
    """The explain contract: recorded params + inputs by role give the written shipments."""
    from scot_cli.io import read_metadata
    from scot_cli.route import decide_from_inputs

    src, out = tmp_path / "promises.parquet", tmp_path / "ship.parquet"
    promises.write_parquet(src)
    args = _args(small_dir, "--method", "lp-round", "--split-cost", "3", "--time-limit", "120")
    args = [*args, "-o", str(out)]
    args[1] = str(src)
    assert runner.invoke(app, args).exit_code == 0
    prov = read_metadata(str(out))
    inputs = {s["role"]: pl.read_parquet(s["path"]) for s in prov["inputs"]}
    again = decide_from_inputs(inputs, prov["params"])
    written = pl.read_parquet(out)
    assert again.select(written.columns).equals(written)


def test_old_option_names_still_work_with_a_warning(
    small_dir: Path, promises: pl.DataFrame
) -> None:
    """``-m`` (now --method) and last-mile's ``--stations`` (now --nodes) are kept one release."""
    result = runner.invoke(app, _args(small_dir, "-m", "myopic"), input=parquet_bytes(promises))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(
        "scot: warning: -m is deprecated and will be removed; use --method\n"
    )
    assert "(myopic)" in result.stderr
    stations = [
        "route",
        "last-mile",
        "-",
        "--stations",
        str(small_dir / "nodes.parquet"),
        "--time-limit",
        "0.2",
    ]
    done = runner.invoke(app, stations, input=parquet_bytes(_stops(4)))
    assert done.exit_code == 0, done.stderr
    assert done.stderr.startswith(
        "scot: warning: --stations is deprecated and will be removed; use --nodes\n"
    )


def test_last_mile_option_errors_name_the_flag(small_dir: Path) -> None:
    """``speed_kmh`` is the field, ``--speed`` the flag the user typed."""
    args = ["route", "last-mile", "-", "--nodes", str(small_dir / "nodes.parquet")]
    result = runner.invoke(app, [*args, "--speed", "0.05"], input=parquet_bytes(_stops(3)))
    assert result.exit_code == 2
    assert result.stderr == "scot: error: --speed: must be >= 0.1, got 0.05\n"


def test_summary_without_a_bound_says_so(small_dir: Path, promises: pl.DataFrame) -> None:
    result = runner.invoke(
        app, _args(small_dir, "--method", "myopic"), input=parquet_bytes(promises)
    )
    assert result.exit_code == 0, result.stderr
    line = result.stderr.splitlines()[0]
    assert line.endswith(", no bound (myopic)") and "None" not in line


@pytest.mark.parametrize("command", [["route"], ["route", "last-mile"]])
def test_help_fits_in_40_lines(command: list[str]) -> None:
    """The synopsis a person reads in a 100-column terminal (methods: --help-models)."""
    import os
    import subprocess

    from conftest import scot_exe

    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    done = subprocess.run(
        [*scot_exe(), *command, "--help"], capture_output=True, env=env, check=False
    )
    assert done.returncode == 0
    assert len(done.stdout.decode().splitlines()) <= 40
