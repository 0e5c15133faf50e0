"""scot promise through typer's CliRunner: output frame, provenance, error paths."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import parquet_bytes
from scot_cli.commands.main import app

runner = CliRunner()


def _args(fx: Path, *extra: str) -> list[str]:
    return [
        "promise",
        str(fx / "orders.parquet"),
        "--inventory",
        str(fx / "inventory.parquet"),
        "--nodes",
        str(fx / "nodes.parquet"),
        "--lanes",
        str(fx / "lanes.parquet"),
        "--calendar",
        str(fx / "calendar.parquet"),
        *extra,
    ]


def test_commit_writes_every_line_with_provenance(fixture_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "promises.parquet"
    result = runner.invoke(app, _args(fixture_dir, "--mode", "commit", "-o", str(out)))
    assert result.exit_code == 0, result.stderr
    df = pl.read_parquet(out)
    orders = pl.read_parquet(fixture_dir / "orders.parquet")
    assert df.height == orders.height
    assert df.select("order_id", "line").equals(
        orders.select("order_id", "line").sort("order_id", "line")
    )
    assert set(df["status"].unique()) <= {"promised", "backorder", "unavailable"}
    ok = df.filter(pl.col("status") != "unavailable")
    assert (ok["on_time_prob"] >= 0.95).all()
    prov = json.loads(pq.read_schema(out).metadata[b"scot"])
    assert prov["command"] == "promise"
    assert prov["params"] == {"confidence": 0.95, "mode": "commit", "split": "allow"}
    assert [s["role"] for s in prov["inputs"]] == [
        "orders",
        "inventory",
        "nodes",
        "lanes",
        "calendar",
    ]
    assert result.stderr.startswith(f"promised {df.height:,} lines (commit, split allow): ")


def test_orders_from_stdin_to_stdout(fixture_dir: Path) -> None:
    orders = pl.read_parquet(fixture_dir / "orders.parquet").head(50)
    args = _args(fixture_dir)
    args[1] = "-"
    result = runner.invoke(app, args, input=parquet_bytes(orders))
    assert result.exit_code == 0, result.stderr
    df = pl.read_parquet(io.BytesIO(result.stdout_bytes))
    assert df.height == 50


def test_receipts_make_a_backorder(fixture_dir: Path, tmp_path: Path) -> None:
    orders = pl.read_parquet(fixture_dir / "orders.parquet").head(1)
    day = orders["order_time"].dt.date()[0]
    sku = orders["sku"][0]
    inv = pl.DataFrame({"sku": [sku], "node": ["FC-DFW"], "on_hand": [0.0]})
    receipts = pl.DataFrame(
        {
            "sku": [sku],
            "vendor": ["V"],
            "node": ["FC-DFW"],
            "order_date": [day],
            "arrival_date": [day + dt.timedelta(days=3)],
            "qty": [10.0],
            "status": ["order"],
            "reason": [None],
        },
        schema_overrides={"reason": pl.String},
    )
    for name, df in (("orders", orders), ("inv", inv), ("receipts", receipts)):
        df.write_parquet(tmp_path / f"{name}.parquet")
    out = tmp_path / "p.parquet"
    result = runner.invoke(
        app,
        [
            "promise",
            str(tmp_path / "orders.parquet"),
            "--inventory",
            str(tmp_path / "inv.parquet"),
            "--nodes",
            str(fixture_dir / "nodes.parquet"),
            "--lanes",
            str(fixture_dir / "lanes.parquet"),
            "--receipts",
            str(tmp_path / "receipts.parquet"),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.stderr
    row = pl.read_parquet(out).row(0, named=True)
    assert (row["status"], row["reason"], row["ship_node"]) == ("backorder", "receipt", "FC-DFW")
    assert row["waits_for"] == receipts["arrival_date"][0]


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--confidence", "1.5", "--confidence: must be strictly between 0 and 1, got 1.5"),
        ("--confidence", "0", "--confidence: must be strictly between 0 and 1, got 0"),
        ("--mode", "batch", "--mode: unknown value 'batch' (choose from snapshot, commit)"),
        ("--split", "never", "--split: unknown value 'never' (choose from allow, avoid)"),
    ],
)
def test_an_option_outside_its_domain_is_a_usage_error_naming_the_flag(
    fixture_dir: Path, flag: str, value: str, message: str
) -> None:
    result = runner.invoke(app, _args(fixture_dir, flag, value))
    assert result.exit_code == 2
    assert result.stderr == f"scot: error: {message}\n"


def test_help_is_a_synopsis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    result = runner.invoke(app, ["promise", "--help"])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) <= 40
    assert "--mode snapshot|commit" in result.stdout
    assert "--split allow|avoid" in result.stdout


def test_help_models_describes_modes_and_splits() -> None:
    from scot_cli.promise import MODES, SPLITS

    result = runner.invoke(app, ["promise", "--help-models"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for registry in (MODES, SPLITS):
        assert f"--{registry.field}:" in text
        for name in registry:
            assert f"{name} {registry.help(name)}" in text


def test_orders_missing_a_column(fixture_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "orders.parquet"
    pl.read_parquet(fixture_dir / "orders.parquet").drop("destination").write_parquet(bad)
    args = _args(fixture_dir)
    args[1] = str(bad)
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert result.stderr == (
        f"scot: error: {bad}: missing required column 'destination' for the orders table "
        "(expected order_id, line, sku, qty, destination, order_time)\n"
    )


def test_inventory_at_an_unknown_node(fixture_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "inventory.parquet"
    pl.read_parquet(fixture_dir / "inventory.parquet").with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("FC-XXX"))
        .otherwise(pl.col("node"))
        .alias("node")
    ).write_parquet(bad)
    args = _args(fixture_dir)
    args[args.index("--inventory") + 1] = str(bad)
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert result.stderr.startswith(
        f"scot: error: {bad}: node 'FC-XXX' in column node is not in "
        f"{fixture_dir / 'nodes.parquet'} (known: "
    )


@pytest.mark.parametrize("split", ["allow", "avoid"])
def test_split_option_is_recorded(fixture_dir: Path, tmp_path: Path, split: str) -> None:
    out = tmp_path / "p.parquet"
    result = runner.invoke(app, _args(fixture_dir, "--split", split, "-o", str(out)))
    assert result.exit_code == 0, result.stderr
    prov = json.loads(pq.read_schema(out).metadata[b"scot"])
    assert prov["params"]["split"] == split
