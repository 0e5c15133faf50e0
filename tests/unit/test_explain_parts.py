"""explain's pieces: comparability checks, metric/subject choice, flags, report, sentences."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import polars as pl
import pytest

from scot_cli.errors import InputDataError, UsageError
from scot_cli.explain.compare import (
    RunData,
    check_comparable,
    choose_metrics,
    explain_runs,
    role_keys,
    subject_expr,
)
from scot_cli.explain.drivers import COMMANDS, spec_for
from scot_cli.explain.flags import quality_flags
from scot_cli.explain.mixing import Scenario
from scot_cli.explain.report import build_report, to_json, to_markdown
from scot_cli.explain.single import explain_decision, select_rows

BUY = COMMANDS["plan-buy"]


def test_check_comparable_errors() -> None:
    ok = {"command": "plan-buy"}
    assert check_comparable(ok, ok, before_name="a", after_name="b") is BUY
    with pytest.raises(InputDataError, match=r"^a: has no scot provenance"):
        check_comparable({}, ok, before_name="a", after_name="b")
    with pytest.raises(UsageError, match="a was written by plan-buy and b by place"):
        check_comparable(ok, {"command": "place"}, before_name="a", after_name="b")
    with pytest.raises(UsageError, match="cannot re-run outputs of forecast"):
        check_comparable(
            {"command": "forecast"}, {"command": "forecast"}, before_name="a", after_name="b"
        )


def test_metrics_follow_the_files() -> None:
    out = pl.DataFrame(
        {
            "sku": ["a"],
            "node": ["ALL"],
            "qty": [1.0],
            "raw_qty": [1.0],
            "safety_stock": [2.0],
            "reorder_point": [3.0],
        }
    )
    orders = pl.DataFrame({"sku": ["a"], "node": ["ALL"], "qty": [1.0]})
    policy = out.drop("qty")
    assert choose_metrics(BUY, out, None, [orders, orders]) == ("qty",)
    assert choose_metrics(BUY, out, None, [policy, policy]) == (
        "raw_qty",
        "safety_stock",
        "reorder_point",
    )
    assert choose_metrics(BUY, out, ["qty"]) == ("qty",)
    with pytest.raises(UsageError, match="metrics: sku: not a numeric column"):
        choose_metrics(BUY, out, ["sku"])


def test_subject_by_category_maps_skus() -> None:
    out = pl.DataFrame({"sku": ["a", "b", "z"], "node": ["ALL"] * 3})
    items = pl.DataFrame({"sku": ["a", "b"], "category": ["toys", "food"]})
    got = out.select(subject_expr(BUY, out, "category", items))["sku"].to_list()
    assert got == ["toys", "food", "(no category)"]
    with pytest.raises(UsageError, match="by: order: plan-buy output has no order column"):
        subject_expr(BUY, out, "order", items)


def test_role_keys_use_the_command_tables() -> None:
    keys = role_keys(["forecast", "items", "unknown"], spec_for("place"))
    assert keys == {"forecast": ("sku", "location", "date"), "items": ("sku",)}


def _items(lead: list[float], **extra: Any) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["a", "b"],
            "lead_time_days": lead,
            "service_level": [0.9, None],
            "stockout_cost": [None, None],
            **extra,
        }
    )


def test_flags_jump_cold_start_and_missing_target() -> None:
    fc = pl.DataFrame({"sku": ["a", "b"], "model": ["ets", "cold_start:category"]})
    old = Scenario({"items": _items([7.0, 5.0]), "forecast": fc})
    new = Scenario({"items": _items([70.0, 5.5]), "forecast": fc})
    flags = quality_flags(old, new, keys={"items": ("sku",)}, declared={"items", "forecast"})
    text = dict(zip(flags["column"] + ":" + flags["key"], flags["flag"], strict=False))
    assert (
        text["lead_time_days:sku=a"] == "lead time rose 10.0x (7.0 -> 70.0 days); check the input"
    )
    assert text["model:sku=b"].startswith("both runs' forecast comes from a cold-start model")
    assert text["service_level:sku=b"].endswith(
        "no service level and no stock-out cost; the default target applies"
    )
    assert "lead_time_days:sku=b" not in text


def test_flags_negative_values_in_undeclared_roles() -> None:
    odd = pl.DataFrame({"sku": ["a"], "boost": [-1.0]})
    flags = quality_flags(Scenario({"extra": odd}), Scenario({"extra": odd}), keys={})
    assert flags["flag"].to_list() == ["AFTER value is negative", "BEFORE value is negative"]


def _decide(inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]) -> pl.DataFrame:
    items = inputs["items"]
    return items.select(
        "sku",
        pl.lit("ALL").alias("node"),
        (pl.col("lead_time_days") * float(params.get("k", 1.0))).alias("qty"),
    )


def test_explain_runs_and_report() -> None:
    before = RunData("b.parquet", "plan-buy", {"k": 1.0}, {"items": _items([7.0, 5.0])})
    after = RunData("a.parquet", "plan-buy", {"k": 2.0}, {"items": _items([70.0, 5.0])})
    expl = explain_runs(before, after, decide=_decide)
    assert expl.metrics == ("qty",)
    assert [g.name for g in expl.groups] == ["lead time", "parameters"]
    total = expl.attribution.filter(pl.col("subject") == "(all)")
    assert dict(zip(total["driver"], total["contribution"], strict=True)) == pytest.approx(
        {"lead time": (75 - 12) * (1 + 2) / 2, "parameters": (2 - 1) * (12 + 75) / 2}
    )
    report = build_report(expl, top=1)
    assert report.movers["subject"].to_list() == ["a"]
    md = to_markdown(report)
    assert (
        "- qty (all skus) rose from 12 to 150 (+138, +1150.0%); drivers: lead time +94.5, "
        "parameters +43.5." in md
    )
    doc = json.loads(to_json(report))
    assert doc["flags"][0]["flag"].startswith("lead time rose 10.0x")


def test_select_rows_and_sentences() -> None:
    row = pl.DataFrame(
        {
            "sku": ["a"],
            "node": ["ALL"],
            "policy": ["ss"],
            "safety_stock": [10.0],
            "target": [0.95],
            "reorder_point": [30.0],
            "demand_mean": [20.0],
            "status": ["order"],
            "reason": ["low"],
            "extra": [1.5],
        }
    )
    with pytest.raises(UsageError, match="needs --sku"):
        select_rows(row, name="p")
    with pytest.raises(InputDataError, match="p: no row with sku='b'"):
        select_rows(row, name="p", sku="b")
    rows = select_rows(row, name="p", sku="a", node="ALL")
    meta = {
        "command": "plan-buy",
        "scot_version": "0.1.0",
        "created": "now",
        "inputs": [{"role": "items", "path": "items.parquet"}],
        "params": {"k": 1},
    }
    lines = explain_decision("plan-buy", rows, meta)
    assert lines == [
        "Sku a at ALL: policy ss.",
        "Safety stock of 10 units protects the 0.95 target, so the reorder point is 30 "
        "(expected demand 20 plus safety stock).",
        "Status order: low.",
        "Other columns: extra = 1.5.",
        "Written by scot plan-buy (version 0.1.0) at now from items=items.parquet.",
        "Parameters: k=1.",
    ]


def test_every_input_role_a_command_reads_has_a_driver() -> None:
    """A stock change between two route runs was 'other inventory columns': each role the
    command records is claimed by a named driver."""
    roles = {
        "route": ("promises", "orders", "inventory", "nodes", "lanes", "items"),
        "promise": ("orders", "inventory", "nodes", "lanes", "calendar", "receipts"),
    }
    for command, read in roles.items():
        claimed = {c.split(".")[0] for d in COMMANDS[command].drivers for c in d.cells}
        assert set(read) <= claimed, command
