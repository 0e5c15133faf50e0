"""explain on two ``scot simulate`` runs (issue 15): why did the in-stock rate change?"""

from __future__ import annotations

import polars as pl
import pytest

from conftest import forecast_from_sales
from scot_cli.explain import RunData, explain
from scot_cli.explain.engine import ALL


@pytest.mark.slow
def test_in_stock_rate_change_between_two_simulations(
    small_tables: dict[str, pl.DataFrame],
) -> None:
    """Stock cut to a quarter: the in-stock rate (served / demand over the run) falls, all
    of it from 'stock', and the rate explained is the simulation's own rate."""
    from scot_cli.simulate.explain_adapter import decide_from_inputs, node_totals

    t = small_tables
    base = {r: t[r] for r in ("sales", "items", "nodes", "lanes", "inventory")}
    base["forecast"] = forecast_from_sales(t["sales"], days=14)
    cut = {**base, "inventory": t["inventory"].with_columns(pl.col("on_hand") * 0.25)}
    params = {"days": 7, "policies": ["baseline"], "seed": 3}
    result = explain(
        RunData("before", "simulate", params, base),
        RunData("after", "simulate", params, cut),
        by="node",
        metrics=("in_stock_rate",),
    )
    table = result.attribution
    total = table.filter(pl.col("subject") == ALL).row(0, named=True)
    daily = decide_from_inputs(cut, params)
    served, demand = float(daily["served"].sum()), float(daily["demand"].sum())
    assert total["after"] == pytest.approx(served / demand)
    assert 0 <= total["after"] < total["before"] <= 1
    assert set(table["driver"]) == {"stock"}
    sums = table.group_by("subject").agg(pl.col("contribution").sum(), pl.col("delta").first())
    for row in sums.iter_rows(named=True):
        assert row["contribution"] == pytest.approx(row["delta"], abs=1e-12)
    regions = node_totals(daily).filter(pl.col("in_stock_rate").is_not_null())["node"]
    assert set(table["subject"]) - {ALL} <= set(regions) | set(t["nodes"]["node"])
