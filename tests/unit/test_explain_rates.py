"""Rates explained as rates (issue 15): in-stock probability, fill rate, on-time probability
and coverage shares are weighted means with their denominator, and their Shapley split
still adds up to the change exactly."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import forecast_from_sales
from scot_cli.explain import RunData, explain
from scot_cli.explain.drivers import Driver, Rate
from scot_cli.explain.engine import ALL, attribute, summarise
from scot_cli.explain.mixing import Scenario


def _total(frame: pl.DataFrame, metric: str) -> float:
    return float(frame.filter(pl.col("subject") == ALL)[metric][0])


def test_rate_is_the_weighted_mean_with_its_denominator() -> None:
    """fill rate of two skus: (0.9*10/2 + 0.5*30/3) / (10/2 + 30/3) = (4.5 + 5) / 15."""
    frame = pl.DataFrame(
        {
            "sku": ["a", "b", "c"],
            "fill_rate": [0.9, 0.5, None],
            "demand_mean": [10.0, 30.0, 50.0],
            "protection_days": [2.0, 3.0, 5.0],
        }
    )
    rate = Rate(weight="demand_mean", per="protection_days")
    out = summarise(
        frame,
        subject=lambda _f: pl.col("sku"),
        metrics=["fill_rate"],
        agg={},
        rates={"fill_rate": rate},
    )
    assert _total(out, "fill_rate") == pytest.approx(9.5 / 15)
    per = dict(zip(out["subject"], out["fill_rate"], strict=True))
    assert per["a"] == pytest.approx(0.9) and per["c"] == 0.0  # no weighed row: 0


def test_a_line_without_a_promise_counts_as_not_on_time() -> None:
    frame = pl.DataFrame({"node": ["F", "F", None], "on_time_prob": [0.9, 0.7, None]})
    out = summarise(
        frame,
        subject=lambda _f: pl.col("node"),
        metrics=["on_time_prob"],
        agg={},
        rates={"on_time_prob": Rate(missing=0.0)},
    )
    assert _total(out, "on_time_prob") == pytest.approx(1.6 / 3)


def _rate_decide(inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]) -> pl.DataFrame:
    """A toy decision whose rate is a ratio of its inputs: served / demand per sku."""
    d = inputs["demand"].join(inputs["stock"], on="sku")
    served = pl.min_horizontal(pl.col("qty"), pl.col("on_hand"))
    return d.select(
        "sku",
        pl.when(pl.col("qty") > 0).then(served / pl.col("qty")).alias("fill_rate"),
        pl.col("qty").alias("demand"),
    )


@settings(max_examples=25, deadline=None)
@given(data=st.lists(st.tuples(*(st.floats(0.0, 50.0) for _ in range(4))), min_size=1, max_size=8))
def test_rate_contributions_add_up_to_the_change(
    data: list[tuple[float, float, float, float]],
) -> None:
    skus = [f"s{i}" for i in range(len(data))]

    def scenario(qty: list[float], stock: list[float]) -> Scenario:
        return Scenario(
            {
                "demand": pl.DataFrame({"sku": skus, "qty": qty}),
                "stock": pl.DataFrame({"sku": skus, "on_hand": stock}),
            }
        )

    old = scenario([r[0] for r in data], [r[1] for r in data])
    new = scenario([r[2] for r in data], [r[3] for r in data])
    result = attribute(
        old=old,
        new=new,
        decide=_rate_decide,
        drivers=[Driver("demand", ("demand",)), Driver("stock", ("stock",))],
        keys={"demand": ("sku",), "stock": ("sku",)},
        subject=lambda _f: pl.col("sku"),
        metrics=["fill_rate"],
        rates={"fill_rate": Rate(weight="demand")},
    )
    t = result.table
    sums = t.group_by("subject").agg(
        pl.col("contribution").sum(), pl.col("delta").first(), pl.col("after").first()
    )
    for row in sums.iter_rows(named=True):
        assert abs(row["contribution"] - row["delta"]) <= 1e-9 * max(1.0, abs(row["after"]))
    total = t.filter(pl.col("subject") == ALL)
    assert ((total["before"] >= 0) & (total["before"] <= 1 + 1e-12)).all()
    assert ((total["after"] >= 0) & (total["after"] <= 1 + 1e-12)).all()


def _buy_inputs(t: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return {
        "forecast": forecast_from_sales(t["sales"], days=28),
        "items": t["items"],
        "inventory": t["inventory"],
    }


def test_in_stock_prob_of_two_plan_buy_runs_is_a_rate(
    small_tables: dict[str, pl.DataFrame],
) -> None:
    """Issue 15: the in-stock probability was reported as a sum over skus."""
    base = _buy_inputs(small_tables)
    slower = base["items"].with_columns(pl.col("lead_time_days") * 2)
    result = explain(
        RunData("before", "plan-buy", {}, base),
        RunData("after", "plan-buy", {}, {**base, "items": slower}),
        metrics=("in_stock_prob", "fill_rate"),
    )
    t = result.attribution
    total = t.filter(pl.col("subject") == ALL)
    assert ((total["before"] >= 0) & (total["before"] <= 1)).all()
    assert ((total["after"] >= 0) & (total["after"] <= 1)).all()
    from scot_cli.explain.adapters import buy_orders_and_policy

    policy = buy_orders_and_policy(base, {})
    isp = _total_row(t, "in_stock_prob")
    assert isp["before"] == pytest.approx(policy["in_stock_prob"].drop_nulls().mean())
    sums = t.group_by("subject", "metric").agg(
        pl.col("contribution").sum(), pl.col("delta").first()
    )
    for row in sums.iter_rows(named=True):
        assert row["contribution"] == pytest.approx(row["delta"], abs=1e-12)
    sentence = result.summary.sentences[0]
    assert sentence.startswith("in_stock_prob (all skus)")
    points = 100 * isp["delta"]
    assert f"{points:+.2f} points)" in sentence


def _total_row(t: pl.DataFrame, metric: str) -> dict[str, Any]:
    rows = t.filter((pl.col("subject") == ALL) & (pl.col("metric") == metric))
    return rows.row(0, named=True)


def test_lost_promises_lower_the_on_time_rate(small_tables: dict[str, pl.DataFrame]) -> None:
    """Issue 15: with stock cut, lines lost their date yet the mean on-time probability
    rose; lines without a promise now count as not on time."""
    base = {r: small_tables[r] for r in ("orders", "inventory", "nodes", "lanes")}
    gone = pl.col("sku").is_in(base["inventory"]["sku"].unique().sort().head(6).implode())
    cut = base["inventory"].with_columns(
        pl.when(gone).then(0.0).otherwise(pl.col(c)).alias(c) for c in ("on_hand", "in_transit")
    )
    before = RunData("before", "promise", {}, base)
    after = RunData("after", "promise", {}, {**base, "inventory": cut})
    result = explain(before, after, by="node", metrics=("on_time_prob",))
    from scot_cli.promise import decide_from_inputs

    lines = decide_from_inputs(after.inputs, {})
    lost = lines["on_time_prob"].null_count()
    assert lost > 0
    row = _total_row(result.attribution, "on_time_prob")
    assert row["after"] == pytest.approx(lines["on_time_prob"].fill_null(0.0).sum() / lines.height)
    assert row["after"] < row["before"]
    assert math.isclose(
        result.attribution.filter(pl.col("subject") == ALL)["contribution"].sum(),
        row["delta"],
        abs_tol=1e-12,
    )
