"""scot plan-buy through typer's CliRunner: outputs, provenance and exact error lines."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from scot_cli.buy.schema import BUY_ORDERS, BUY_POLICY
from scot_cli.commands.main import app
from scot_cli.validate import validate

runner = CliRunner()
START = dt.date(2026, 5, 4)


def _forecast(skus: list[str], days: int = 35) -> pl.DataFrame:
    rows = [
        {
            "sku": sku,
            "location": loc,
            "date": START + dt.timedelta(days=i),
            "horizon": i + 1,
            "mean": 4.0 + k,
            "p10": 1.0 + k,
            "p50": 4.0 + k,
            "p90": 8.0 + k,
            "model": "test",
        }
        for k, sku in enumerate(skus)
        for loc in ("R1", "R2")
        for i in range(days)
    ]
    return pl.DataFrame(rows)


def _items(skus: list[str], **over: list[object]) -> pl.DataFrame:
    n = len(skus)
    base: dict[str, list[object]] = {
        "sku": list[object](skus),
        "category": ["c"] * n,
        "unit_cost": [10.0] * n,
        "price": [18.0] * n,
        "holding_cost_rate": [0.25] * n,
        "stockout_cost": [6.0] * n,
        "service_level": [None] * n,
        "order_cost": [20.0] * n,
        "lead_time_days": [6.0] * n,
        "lead_time_sd": [1.0] * n,
        "moq": [24] * n,
        "case_pack": [12] * n,
        "vendor": ["V1"] * n,
        "unit_volume": [0.5] * n,
    }
    base.update(over)
    return pl.DataFrame(base, schema_overrides={"service_level": pl.Float64})


@pytest.fixture()
def inputs(tmp_path: Path) -> dict[str, Path]:
    skus = ["A", "B", "C"]
    paths = {name: tmp_path / f"{name}.parquet" for name in ("forecast", "items", "inventory")}
    _forecast(skus).write_parquet(paths["forecast"])
    _items(skus).write_parquet(paths["items"])
    pl.DataFrame(
        {
            "sku": skus * 2,
            "node": ["FC1"] * 3 + ["FC2"] * 3,
            "on_hand": [10.0, 200.0, 0.0, 5.0, 100.0, 0.0],
        }
    ).write_parquet(paths["inventory"])
    return paths


def _args(p: dict[str, Path], *extra: str) -> list[str]:
    return [
        "plan-buy",
        str(p["forecast"]),
        "--items",
        str(p["items"]),
        "--inventory",
        str(p["inventory"]),
        *extra,
    ]


def test_writes_orders_and_policy_with_provenance(inputs: dict[str, Path], tmp_path: Path) -> None:
    out, pol = tmp_path / "orders.parquet", tmp_path / "policy.parquet"
    result = runner.invoke(
        app, _args(inputs, "-o", str(out), "--policy-out", str(pol), "--policy", "base_stock")
    )
    assert result.exit_code == 0, result.stderr
    orders = validate(BUY_ORDERS, pl.read_parquet(out), source="orders")
    policy = validate(BUY_POLICY, pl.read_parquet(pol), source="policy")
    assert orders["sku"].to_list() == ["A", "B", "C"]
    assert dict(zip(orders["sku"], orders["status"], strict=True)) == {
        "A": "order",
        "B": "no_order",
        "C": "order",
    }
    assert (orders["qty"] % 12 == 0).all()
    assert policy["policy"].to_list() == ["base_stock"] * 3
    assert policy["inventory_position"].to_list() == [15.0, 300.0, 0.0]
    meta = json.loads(pq.read_schema(out).metadata[b"scot"])
    assert meta["command"] == "plan-buy"
    assert meta["params"]["policy"] == "base_stock"
    assert [i["role"] for i in meta["inputs"]] == ["forecast", "items", "inventory"]
    assert result.stderr.startswith("plan-buy: 3 sku rows: 2 orders")


def test_orders_go_to_stdout_as_parquet(inputs: dict[str, Path]) -> None:
    result = runner.invoke(app, _args(inputs))
    assert result.exit_code == 0, result.stderr
    orders = pl.read_parquet(io.BytesIO(result.stdout_bytes))
    assert orders.columns == [c.name for c in BUY_ORDERS.columns]


def test_budget_reports_the_binding_limit(inputs: dict[str, Path], tmp_path: Path) -> None:
    pol = tmp_path / "policy.parquet"
    result = runner.invoke(
        app,
        _args(
            inputs, "--budget", "300", "-o", str(tmp_path / "o.parquet"), "--policy-out", str(pol)
        ),
    )
    assert result.exit_code == 0, result.stderr
    policy = pl.read_parquet(pol)
    assert set(policy["binding_constraint"]) == {"budget"}
    assert "budget binds (shadow price" in " ".join(result.stderr.split())


def test_service_level_outside_the_open_interval_is_a_usage_error(inputs: dict[str, Path]) -> None:
    result = runner.invoke(app, _args(inputs, "--service-level", "1.5"))
    assert result.exit_code == 2
    assert result.stderr == (
        "scot: error: --service-level: must be strictly between 0 and 1, got 1.5\n"
    )


def test_unknown_policy_is_a_usage_error(inputs: dict[str, Path]) -> None:
    result = runner.invoke(app, _args(inputs, "--policy", "minmax"))
    assert result.exit_code == 2
    assert result.stderr == (
        "scot: error: --policy: unknown value 'minmax' (choose from auto, base_stock, ss, "
        "ss_power, ss_heuristic, rq, rq_eil, lot_size, newsvendor)\n"
    )


def test_bad_as_of_is_a_usage_error(inputs: dict[str, Path]) -> None:
    result = runner.invoke(app, _args(inputs, "--as-of", "tomorrow"))
    assert result.exit_code == 2
    assert result.stderr == "scot: error: --as-of: expected a date YYYY-MM-DD, got 'tomorrow'\n"


def test_negative_lead_time_is_an_input_error(inputs: dict[str, Path]) -> None:
    _items(["A", "B", "C"], lead_time_days=[6.0, -2.0, 6.0]).write_parquet(inputs["items"])
    result = runner.invoke(app, _args(inputs))
    assert result.exit_code == 3
    assert result.stderr.startswith(f"scot: error: {inputs['items']}: column 'lead_time_days'")
    assert "below its minimum 0" in result.stderr


def test_storage_below_stock_on_hand_is_a_usage_error(inputs: dict[str, Path]) -> None:
    result = runner.invoke(app, _args(inputs, "--storage", "100"))
    assert result.exit_code == 2
    assert result.stderr == (
        "scot: error: --storage: 100 is below the 157.5 volume units already held; raise the "
        "limit or plan without one\n"
    )


def test_zero_cost_item_is_a_status_row_not_a_crash(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    _items(["A", "B", "C"], unit_cost=[10.0, 0.0, 10.0]).write_parquet(inputs["items"])
    out = tmp_path / "o.parquet"
    result = runner.invoke(app, _args(inputs, "-o", str(out)))
    assert result.exit_code == 0
    row = pl.read_parquet(out).filter(pl.col("sku") == "B").row(0, named=True)
    assert (row["status"], row["qty"]) == ("unplanned", 0.0)
    assert row["reason"] == "unit_cost must be > 0 (it sets the holding cost)"


def test_help_fits_forty_lines_and_models_are_described_apart() -> None:
    result = runner.invoke(app, ["plan-buy", "--help"], terminal_width=100)
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) <= 40
    assert "rq_eil" in result.stdout
    assert "--nodes" in result.stdout and "--network" not in result.stdout
    assert "scot plan-buy forecast.parquet --items fixtures/items.parquet" in result.stdout
    models = runner.invoke(app, ["plan-buy", "--help-models"])
    assert models.exit_code == 0
    assert "Snyder & Shen 5.2.3" in models.stdout
    assert "--distribution:" in models.stdout


def test_network_is_an_alias_of_nodes_with_a_warning(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    nodes = tmp_path / "nodes.parquet"
    result = runner.invoke(app, _args(inputs, "--network", str(nodes), "-o", "-"))
    assert result.exit_code != 0
    assert "--network is deprecated and will be removed; use --nodes" in result.stderr
    assert "--nodes" in result.stderr
