"""plan_buy's fast paths give the very same plan as the general ones, bit for bit.

Sorted inputs skip the joins (binary search instead) and a forecast sorted like the rows is
summed in cache-sized blocks; shuffled inputs, several locations per sku, gaps, extra items
and stock at several nodes take the general paths. Every variant must plan identically.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from conftest import buy_tables
from scot_cli.buy import BuyOptions, demand, plan_buy
from scot_cli.buy.plan import lookup


def _plan(
    fc: pl.DataFrame, items: pl.DataFrame, inv: pl.DataFrame, **options: object
) -> tuple[pl.DataFrame, pl.DataFrame]:
    plan = plan_buy(fc, items=items, inventory=inv, options=BuyOptions(**options))  # type: ignore[arg-type]
    return plan.orders, plan.policy


def _same(a: tuple[pl.DataFrame, ...], b: tuple[pl.DataFrame, ...]) -> None:
    for x, y in zip(a, b, strict=True):
        assert x.equals(y), (x, y)


OPTIONS = [
    {},
    {"policy": "newsvendor"},
    {"review_days": 30.0},  # past the 21-day forecast: the tail rates
    {"service_type": "fill", "distribution": "empirical"},
]


def _skus_permuted(fc: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The forecast with its skus in a random order, each sku's days still in order (so every
    sum adds the same numbers in the same order)."""
    skus = fc.get_column("sku").unique().sample(fraction=1.0, shuffle=True, seed=seed)
    order = pl.DataFrame({"sku": skus}).with_row_index("_order")
    return fc.join(order, on="sku").sort("_order", "date").drop("_order")


@pytest.mark.parametrize("options", OPTIONS)
def test_unsorted_inputs_plan_exactly_like_sorted_ones(options: dict[str, object]) -> None:
    """Joins instead of binary searches, one block instead of many: the same bits."""
    fc, items, inv = buy_tables(300)
    sorted_plan = _plan(fc, items, inv, **options)
    unsorted = _plan(
        _skus_permuted(fc, seed=1),
        items.sample(fraction=1.0, shuffle=True, seed=2),
        inv.sample(fraction=1.0, shuffle=True, seed=3),
        **options,
    )
    _same(sorted_plan, unsorted)


def test_a_shuffled_forecast_plans_the_same_up_to_summation_order() -> None:
    fc, items, inv = buy_tables(300)
    orders, policy = _plan(fc, items, inv)
    shuffled_orders, shuffled_policy = _plan(
        fc.sample(fraction=1.0, shuffle=True, seed=4), items, inv
    )
    assert orders.select("sku", "qty", "status").equals(
        shuffled_orders.select("sku", "qty", "status")
    )
    for name, dtype in policy.schema.items():
        if dtype == pl.Float64:
            np.testing.assert_allclose(
                policy[name].to_numpy(), shuffled_policy[name].to_numpy(), rtol=1e-9
            )


@pytest.mark.parametrize("options", OPTIONS)
def test_small_blocks_sum_exactly_like_one_block(
    monkeypatch: pytest.MonkeyPatch, options: dict[str, object]
) -> None:
    """Blocks cut at every few runs (and a gap-ridden, partly unforecast input) change no bit."""
    fc, items, inv = buy_tables(300)
    fc = fc.filter((pl.col("horizon") % 5 != 0) & (pl.col("sku") != "S0007"))
    items = items.with_columns(
        pl.when(pl.col("sku") == "S0011").then(0.0).otherwise("unit_cost").alias("unit_cost")
    )
    one_block = _plan(fc, items, inv, **options)
    monkeypatch.setattr(demand, "BLOCK_ROWS", 50)
    _same(one_block, _plan(fc, items, inv, **options))


def test_extra_items_stock_at_two_nodes_and_unknown_skus_match_the_join_path() -> None:
    """Items beyond the forecast, a forecast sku not in items, stock split over nodes."""
    fc, items, inv = buy_tables(200)
    fc = fc.filter(pl.col("sku") < "S0150")
    unknown = fc.filter(pl.col("sku") == "S0001").with_columns(pl.lit("T1").alias("sku"))
    fc = pl.concat([fc, unknown])
    split = pl.concat(
        [inv, inv.head(50).with_columns(pl.lit("FC2").alias("node"), pl.col("on_hand") / 3)]
    )
    fast = _plan(fc, items, split.sort("sku"))
    general = _plan(fc.sort("sku", descending=True), items.reverse(), split.reverse())
    _same(fast, general)
    orders, policy = fast
    held = inv.filter(pl.col("sku") == "S0001")["on_hand"][0]
    assert policy.filter(pl.col("sku") == "S0001")["inventory_position"][0] == pytest.approx(
        held + held / 3, rel=1e-15
    )
    assert orders.filter(pl.col("sku") == "T1")["status"].to_list() == ["unplanned"]
    assert orders.filter(pl.col("sku") == "S0199")["reason"].str.contains("no forecast").all()


def test_lookup_finds_each_value_or_minus_one() -> None:
    keys = pl.Series(["a", "b", "d"])
    found = lookup(keys, pl.Series(["b", None, "c", "z", "a", "d"]))
    assert found.tolist() == [1, -1, -1, -1, 0, 2]
    assert lookup(keys, keys).tolist() == [0, 1, 2]
    assert lookup(pl.Series([], dtype=pl.String), pl.Series(["x"])).tolist() == [-1]


@pytest.mark.parametrize("options", [*OPTIONS, {"spread_floor": "poisson"}])
@pytest.mark.parametrize("block_rows", [50, 1 << 17])
def test_the_compiled_interval_sums_plan_exactly_like_numpy(
    monkeypatch: pytest.MonkeyPatch, options: dict[str, object], block_rows: int
) -> None:
    """The compiled pass over the forecast (large forecasts) changes no bit of the plan, for a
    forecast sorted like the rows (local blocks) or not (one block), in chunks."""
    fc, items, inv = buy_tables(300)
    fc = fc.filter((pl.col("horizon") % 5 != 0) & (pl.col("sku") != "S0007"))
    if block_rows > 50:
        fc = _skus_permuted(fc, seed=3)
    # chunks of the columns (as a Parquet file's row groups) cut through skus' runs
    fc = pl.concat([fc.slice(0, 1000), fc.slice(1000, 777), fc.slice(1777)], rechunk=False)
    assert fc.n_chunks() == 3
    monkeypatch.setattr(demand, "BLOCK_ROWS", block_rows)
    monkeypatch.setattr(demand, "COMPILED_FROM", 1 << 40)
    numpy_plan = _plan(fc, items, inv, **options)
    monkeypatch.setattr(demand, "COMPILED_FROM", 0)
    _same(numpy_plan, _plan(fc, items, inv, **options))
