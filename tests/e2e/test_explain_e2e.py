"""scot explain as real subprocesses: forecast -> plan-buy twice -> explain, and a pipe."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from conftest import run_scot


def _ok(*args: str, input: bytes | None = None) -> bytes:
    done = run_scot(*args, input=input)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.fixture(scope="module")
def scenario(small_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BEFORE: plan-buy on a forecast; AFTER: one vendor's lead time x3 and forecast -30%."""
    root = tmp_path_factory.mktemp("explain_e2e")
    for name in ("items", "inventory", "sales"):
        shutil.copy(small_dir / f"{name}.parquet", root / f"{name}.parquet")
    _ok(
        "forecast",
        str(root / "sales.parquet"),
        "--items",
        str(root / "items.parquet"),
        "--horizon",
        "14",
        "--model",
        "seasonal_naive",
        "-o",
        str(root / "forecast.parquet"),
    )
    _ok(
        "plan-buy",
        str(root / "forecast.parquet"),
        "--items",
        str(root / "items.parquet"),
        "--inventory",
        str(root / "inventory.parquet"),
        "-o",
        str(root / "orders.parquet"),
        "--policy-out",
        str(root / "policy.parquet"),
    )
    after = root / "after"
    after.mkdir()
    items = pl.read_parquet(root / "items.parquet")
    vendor = items["vendor"].sort()[0]
    slow = pl.when(pl.col("vendor") == vendor).then(pl.col("lead_time_days") * 3)
    items.with_columns(
        slow.otherwise(pl.col("lead_time_days")).alias("lead_time_days")
    ).write_parquet(after / "items.parquet")
    fc = pl.read_parquet(root / "forecast.parquet")
    fc.with_columns(pl.col("mean", "p10", "p50", "p90") * 0.7).write_parquet(
        after / "forecast.parquet"
    )
    _ok(
        "plan-buy",
        str(after / "forecast.parquet"),
        "--items",
        str(after / "items.parquet"),
        "--inventory",
        str(root / "inventory.parquet"),
        "-o",
        str(after / "orders.parquet"),
        "--policy-out",
        str(after / "policy.parquet"),
    )
    return root


def test_orders_change_adds_up_by_category(scenario: Path) -> None:
    out = scenario / "attr.parquet"
    report = _ok(
        "explain",
        str(scenario / "orders.parquet"),
        str(scenario / "after" / "orders.parquet"),
        "--by",
        "category",
        "-o",
        str(out),
        "--format",
        "json",
    )
    doc = json.loads(report)
    assert [h["metric"] for h in doc["headline"]] == ["qty"]
    drivers = {d["driver"] for d in doc["drivers"]}
    assert {"lead time", "forecast level"} <= drivers
    t = pl.read_parquet(out)
    sums = t.group_by("subject").agg(
        pl.col("contribution").sum(),
        pl.col("delta").first(),
        pl.col("before").first(),
        pl.col("after").first(),
    )
    scale = pl.max_horizontal(pl.col("before").abs(), pl.col("after").abs(), pl.lit(1.0))
    assert (
        sums.select(((pl.col("contribution") - pl.col("delta")).abs() / scale).max()).item() <= 1e-9
    )
    # The files' own quantities are reproduced by re-running plan-buy on their inputs.
    gap = t.filter(pl.col("driver") == "not reproduced by re-run")["contribution"].abs().max()
    assert gap == pytest.approx(0.0, abs=1e-9)
    categories = set(pl.read_parquet(scenario / "items.parquet")["category"])
    assert set(t["subject"]) - {"(all)"} <= categories


def test_policy_report_as_markdown_and_pipe_to_inspect(scenario: Path) -> None:
    md = _ok(
        "explain",
        str(scenario / "policy.parquet"),
        str(scenario / "after" / "policy.parquet"),
        "--format",
        "md",
    ).decode()
    assert md.startswith("# scot explain: plan-buy, by sku")
    assert "safety_stock (all skus)" in md
    done = run_scot(
        "explain",
        str(scenario / "policy.parquet"),
        str(scenario / "after" / "policy.parquet"),
        "-o",
        "-",
        "--format",
        "csv",
    )
    assert done.returncode == 0, done.stderr.decode()
    table = pl.read_parquet(io.BytesIO(done.stdout))
    assert set(table.columns) >= {"subject", "driver", "contribution", "share"}
    assert b"subject,metric,before,after" in done.stderr  # the report went to stderr
    shown = _ok("inspect", "-", input=done.stdout).decode()
    assert "provenance" in shown and '"command": "explain"' in shown


def test_one_decision_from_policy(scenario: Path) -> None:
    sku = pl.read_parquet(scenario / "policy.parquet")["sku"][0]
    text = _ok("explain", str(scenario / "policy.parquet"), "--sku", sku).decode()
    assert f"Sku {sku}" in text
    assert "Safety stock" in text
    assert "Written by scot plan-buy" in text


def test_demo_step_explains_a_changed_scenario(scenario: Path, small_dir: Path) -> None:
    from scot_cli.commands.demo import explain_step as demo_step
    from scot_cli.commands.demo import invoke

    lines = demo_step(small_dir, scenario, invoke)
    assert lines[0].startswith("scenario: vendor ")
    assert lines[-1] == f"report: {scenario / 'scenario' / 'explain.md'}"
    report = (scenario / "scenario" / "explain.md").read_text()
    assert report.startswith("# scot explain: plan-buy, by sku")
    table = pl.read_parquet(scenario / "scenario" / "explain.parquet")
    assert {"lead time", "forecast level"} <= set(table["driver"])


def test_one_decision_under_a_binding_budget(scenario: Path) -> None:
    """A shared budget couples the skus: the re-run behind the sentences covers all of them."""
    orders, policy = scenario / "budget_orders.parquet", scenario / "budget_policy.parquet"
    _ok(
        "plan-buy",
        str(scenario / "forecast.parquet"),
        "--items",
        str(scenario / "items.parquet"),
        "--inventory",
        str(scenario / "inventory.parquet"),
        "--budget",
        "100",
        "-o",
        str(orders),
        "--policy-out",
        str(policy),
    )
    cut = pl.read_parquet(policy).filter(pl.col("constrained"))
    if cut.height == 0:
        pytest.skip("the budget did not bind on these fixtures")
    sku = cut["sku"][0]
    text = _ok("explain", str(orders), "--sku", sku).decode()
    assert "The budget limit binds" in text


def test_in_stock_probability_is_explained_as_a_rate(scenario: Path) -> None:
    """Issue 15: ``--metric in_stock_prob`` on two plan-buy runs reported a sum over skus
    (77.90 -> 78.81); it is the mean over planned skus, a probability."""
    report = _ok(
        "explain",
        str(scenario / "policy.parquet"),
        str(scenario / "after" / "policy.parquet"),
        "--metric",
        "in_stock_prob",
        "--format",
        "json",
    )
    (head,) = json.loads(report)["headline"]
    for name, path in (("before", scenario), ("after", scenario / "after")):
        policy = pl.read_parquet(path / "policy.parquet")
        assert 0 <= head[name] <= 1
        assert head[name] == pytest.approx(policy["in_stock_prob"].drop_nulls().mean(), abs=1e-12)
    doc = json.loads(report)
    assert f"{100 * head['delta']:+.2f} points)" in doc["summary"][0]
    total = sum(d["contribution"] for d in doc["drivers"])
    assert total == pytest.approx(head["delta"], abs=1e-12)
