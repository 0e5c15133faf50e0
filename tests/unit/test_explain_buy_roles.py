"""``scot explain`` knows plan-buy's seller limits and price breaks (input roles added with
seller capacity and quantity discounts)."""

from __future__ import annotations

import polars as pl
import pytest

from conftest import forecast_from_sales
from scot_cli.buy.schema import PRICE_BREAKS, SELLER_LIMITS
from scot_cli.explain import RunData, explain
from scot_cli.explain.compare import role_keys, role_tables
from scot_cli.explain.drivers import COMMANDS


def _inputs(t: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    items = t["items"].with_columns(seller=pl.lit("S1"))
    skus = items["sku"].sort().to_list()[:2]
    breaks = pl.DataFrame(
        {
            "sku": [s for s in skus for _ in range(2)],
            "min_qty": [0.0, 50.0] * len(skus),
            "unit_cost": [10.0, 9.0] * len(skus),
            "kind": ["all_units"] * 2 * len(skus),
        }
    )
    return {
        "forecast": forecast_from_sales(t["sales"], days=28),
        "items": items,
        "inventory": t["inventory"],
        "seller_limits": pl.DataFrame({"seller": ["S1"], "node": ["ALL"], "max_volume": [1e9]}),
        "price_breaks": breaks,
    }


def test_plan_buy_roles_map_to_their_tables() -> None:
    spec = COMMANDS["plan-buy"]
    tables = role_tables(spec)
    assert tables["seller_limits"] is SELLER_LIMITS
    assert tables["price_breaks"] is PRICE_BREAKS
    keys = role_keys(["seller_limits", "price_breaks"], spec)
    assert keys == {"seller_limits": ("seller", "node"), "price_breaks": ("sku", "min_qty")}
    claimed = {c.split(".")[0] for d in spec.drivers for c in d.cells}
    assert {"seller_limits", "price_breaks"} <= claimed


def test_seller_limits_couple_the_skus() -> None:
    """A seller's limit is shared by its skus: explain may not re-run them one by one."""
    spec = COMMANDS["plan-buy"]
    assert spec.separable_by({}, roles=["forecast", "price_breaks"]) == "sku"
    assert spec.separable_by({}, roles=["forecast", "seller_limits"]) is None


def test_explain_two_plan_buy_runs_with_seller_limits_and_price_breaks(
    small_tables: dict[str, pl.DataFrame],
) -> None:
    base = _inputs(small_tables)
    cheaper = base["price_breaks"].with_columns(pl.col("unit_cost") * 0.5)
    tighter = base["seller_limits"].with_columns(pl.lit(1e8).alias("max_volume"))
    result = explain(
        RunData("before", "plan-buy", {}, base),
        RunData(
            "after", "plan-buy", {}, {**base, "price_breaks": cheaper, "seller_limits": tighter}
        ),
        metrics=("qty",),
    )
    t = result.attribution
    assert set(t["driver"]) <= {"costs", "budget and storage limits"}
    sums = t.group_by("subject", "metric").agg(
        pl.col("contribution").sum(), pl.col("delta").first()
    )
    for row in sums.iter_rows(named=True):
        assert row["contribution"] == pytest.approx(row["delta"], abs=1e-9)


def test_cheaper_price_breaks_are_attributed_to_costs(
    small_tables: dict[str, pl.DataFrame],
) -> None:
    base = _inputs(small_tables)
    cheaper = base["price_breaks"].with_columns(pl.col("unit_cost") * 0.5)
    result = explain(
        RunData("before", "plan-buy", {}, base),
        RunData("after", "plan-buy", {}, {**base, "price_breaks": cheaper}),
        metrics=("qty",),
    )
    moved = result.attribution.filter(pl.col("contribution").abs() > 1e-9)
    assert moved.height > 0
    assert set(moved["driver"]) == {"costs"}


def test_a_binding_seller_limit_is_explained_on_the_whole_run(
    small_tables: dict[str, pl.DataFrame],
) -> None:
    """Tightening a shared seller limit moves every sku's order together; explained on the
    whole run (not sku by sku), the contributions still add up to each sku's change."""
    from scot_cli.buy import plan_buy

    base = _inputs(small_tables)
    plan = plan_buy(
        base["forecast"],
        items=base["items"],
        inventory=base["inventory"],
        seller_limits=base["seller_limits"],
        price_breaks=base["price_breaks"],
    )
    volume = base["items"].select("sku", "unit_volume")
    ordered = plan.orders.join(volume, on="sku")
    bought = float((ordered["qty"] * ordered["unit_volume"]).sum())
    stock = base["inventory"].join(volume, on="sku")
    units = stock["on_hand"] + stock["in_transit"].fill_null(0)
    held = float((units * stock["unit_volume"]).sum())
    assert bought > 0
    # room for the stock held (at most on hand + in transit) and half of what was bought
    limit = held + bought / 2
    tight = base["seller_limits"].with_columns(pl.lit(limit).alias("max_volume"))
    result = explain(
        RunData("before", "plan-buy", {}, base),
        RunData("after", "plan-buy", {}, {**base, "seller_limits": tight}),
        metrics=("qty",),
    )
    t = result.attribution
    moved = t.filter(pl.col("subject") == "(all)")
    assert float(moved["delta"][0]) < 0  # the limit binds
    # each sku's "after" is its order in the whole run under the limit (a sku re-run alone
    # would have the seller's whole limit to itself)
    after = plan_buy(
        base["forecast"],
        items=base["items"],
        inventory=base["inventory"],
        seller_limits=tight,
        price_breaks=base["price_breaks"],
    )
    per_sku = after.orders.group_by("sku").agg(pl.col("qty").sum())
    got = t.filter(pl.col("subject") != "(all)").group_by("subject").agg(pl.col("after").first())
    joined = got.join(per_sku, left_on="subject", right_on="sku", how="inner")
    assert joined.height > 0
    for row in joined.iter_rows(named=True):
        assert row["after"] == pytest.approx(row["qty"], abs=1e-6)
    assert set(t["driver"]) == {"budget and storage limits"}
    sums = t.group_by("subject", "metric").agg(
        pl.col("contribution").sum(), pl.col("delta").first()
    )
    for row in sums.iter_rows(named=True):
        assert row["contribution"] == pytest.approx(row["delta"], abs=1e-9)
