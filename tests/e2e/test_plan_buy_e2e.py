"""Real ``scot`` subprocesses: forecast piped into plan-buy on generated fixtures."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import polars as pl
import pytest

from conftest import run_scot, scot_exe
from scot_cli.buy.schema import BUY_ORDERS, BUY_POLICY
from scot_cli.validate import validate


@pytest.fixture(scope="module")
def forecast_file(small_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("buy") / "forecast.parquet"
    done = run_scot(
        "forecast",
        str(small_dir / "sales.parquet"),
        "--items",
        str(small_dir / "items.parquet"),
        "--horizon",
        "28",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr.decode()
    return out


def test_forecast_piped_into_plan_buy(small_dir: Path, tmp_path: Path) -> None:
    env_cmd = scot_exe()
    forecast = subprocess.Popen(
        [
            *env_cmd,
            "forecast",
            str(small_dir / "sales.parquet"),
            "--items",
            str(small_dir / "items.parquet"),
            "--horizon",
            "21",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    orders = tmp_path / "orders.parquet"
    policy = tmp_path / "policy.parquet"
    buy = subprocess.run(
        [
            *env_cmd,
            "plan-buy",
            "-",
            "--items",
            str(small_dir / "items.parquet"),
            "--inventory",
            str(small_dir / "inventory.parquet"),
            "-o",
            str(orders),
            "--policy-out",
            str(policy),
        ],
        stdin=forecast.stdout,
        capture_output=True,
        check=False,
        timeout=600,
    )
    assert forecast.stdout is not None
    forecast.stdout.close()
    assert forecast.wait(timeout=600) == 0
    assert buy.returncode == 0, buy.stderr.decode()
    o = validate(BUY_ORDERS, pl.read_parquet(orders), source="orders")
    p = validate(BUY_POLICY, pl.read_parquet(policy), source="policy")
    items = pl.read_parquet(small_dir / "items.parquet")
    assert set(o["sku"]) == set(items["sku"])
    planned = p.filter(pl.col("status") != "unplanned")
    assert planned.height >= items.height - 3  # cold-start items may lack a forecast
    merged = o.join(items.select("sku", "case_pack", "moq"), on="sku")
    assert (merged["qty"] % merged["case_pack"] == 0).all()
    assert ((merged["qty"] == 0) | (merged["qty"] >= merged["moq"])).all()


def test_network_budget_and_stdout_pipe_to_inspect(small_dir: Path, forecast_file: Path) -> None:
    buy = subprocess.Popen(
        [
            *scot_exe(),
            "plan-buy",
            str(forecast_file),
            "--items",
            str(small_dir / "items.parquet"),
            "--inventory",
            str(small_dir / "inventory.parquet"),
            "--nodes",
            str(small_dir / "nodes.parquet"),
            "--lanes",
            str(small_dir / "lanes.parquet"),
            "--budget",
            "5000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = buy.communicate(timeout=600)
    assert buy.returncode == 0, err.decode()
    inspect = run_scot("inspect", "-", input=out)
    assert inspect.returncode == 0, inspect.stderr.decode()
    text = inspect.stdout.decode()
    assert '"command": "plan-buy"' in text
    assert '"budget": 5000.0' in text
    nodes = pl.read_parquet(small_dir / "nodes.parquet")
    fcs = set(nodes.filter(pl.col("kind") == "fc")["node"])
    orders = pl.read_parquet(io.BytesIO(out))
    assert set(orders.filter(pl.col("status") != "unplanned")["node"]) <= fcs


def test_demo_step_plans_the_central_tier(
    small_dir: Path, forecast_file: Path, tmp_path: Path
) -> None:
    """The fixtures' central DCs: a tree (guaranteed service) and a chain (Clark-Scarf); the
    DCs buy from vendors, the FCs they feed are replenished from them, and the orders the
    later demo steps read stay the single-tier ones."""
    from scot_cli.commands import demo

    out = tmp_path / "demo"
    out.mkdir()
    (out / "forecast.parquet").write_bytes(forecast_file.read_bytes())
    lines = demo.plan_buy_step(small_dir, out, demo.invoke)
    assert any(line.startswith("central tier (2 DCs") for line in lines)
    single = pl.read_parquet(out / "policy.parquet")
    assert single["echelon_level"].null_count() == single.height
    policy = pl.read_parquet(out / "central" / "policy.parquet")
    orders = pl.read_parquet(out / "central" / "orders.parquet")
    assert {"gsm", "clark_scarf"} <= set(policy["policy"])
    supplier = dict(zip(orders["node"], orders["vendor"], strict=False))
    assert supplier["FC-DFW"] == supplier["FC-EWR"] == "DC-KCY"
    assert supplier["FC-SEA"] == "DC-RNO"
    assert supplier["DC-KCY"].startswith("V-") and supplier["DC-RNO"].startswith("V-")
    planned = policy.filter(pl.col("status") != "unplanned", pl.col("echelon_level").is_not_null())
    # every stage orders what lifts its echelon position to its echelon level
    gap = (planned["echelon_level"] - planned["echelon_position"]).clip(0.0)
    assert float((planned["raw_qty"] - gap).abs().max()) < 1e-9  # type: ignore[arg-type]
