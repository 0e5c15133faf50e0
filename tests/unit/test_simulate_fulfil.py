"""Each simulated day through scot promise and scot route (scot_cli.simulate.fulfil)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scot_cli.promise import PromiseOptions
from scot_cli.route import RouteOptions
from scot_cli.simulate.engine import Decision, Settings, StockOnly, View, run
from scot_cli.simulate.fulfil import DecisionFill, binary_split, substitutes
from scot_cli.simulate.policies import BaseStockPolicy
from scot_cli.simulate.world import World, build_world

START = dt.date(2026, 3, 2)  # a Monday


def network(
    *, skus: int = 1, fcs: int = 2, regions: int = 1, on_hand: float = 10.0, capacity: float = 1e6
) -> dict[str, pl.DataFrame]:
    """``fcs`` FCs, FC ``f`` at 0.5 (f + 1) days' ground transit from every region (FC 0
    nearest), trucks of ``capacity`` (volume; units have volume 1) leaving daily at 18:00."""
    fc = [f"F{f}" for f in range(fcs)]
    reg = [f"R{g}" for g in range(regions)]
    nodes = pl.DataFrame(
        {
            "node": fc + reg,
            "kind": ["fc"] * fcs + ["region"] * regions,
            "region": reg[:1] * (fcs + regions),
            "storage_capacity": [None] * (fcs + regions),
            "daily_capacity": [None] * (fcs + regions),
            "cutoff_hour": [14] * (fcs + regions),
            "processing_days": [0] * (fcs + regions),
            "lat": [40.0 + f for f in range(fcs)] + [40.0] * regions,
            "lon": [-100.0] * (fcs + regions),
        },
        schema_overrides={"storage_capacity": pl.Float64, "daily_capacity": pl.Float64},
    )
    lanes = pl.DataFrame(
        {
            "origin": [f for f in fc for _ in reg],
            "destination": [g for _ in fc for g in reg],
            "mode": ["ground"] * (fcs * regions),
            "transit_days": [0.5 * (f + 1) for f in range(fcs) for _ in reg],
            "transit_sd": [0.0] * (fcs * regions),
            "cost_per_unit": [1.0] * (fcs * regions),
            "truck_capacity": [capacity] * (fcs * regions),
            "cost_per_truck": [10.0] * (fcs * regions),
            "departure_hour": [18] * (fcs * regions),
            "weekdays": ["1111111"] * (fcs * regions),
        }
    )
    sku = [f"S{k}" for k in range(skus)]
    items = pl.DataFrame(
        {
            "sku": sku,
            "category": ["c"] * skus,
            "unit_cost": [1.0] * skus,
            "price": [2.0] * skus,
            "holding_cost_rate": [0.25] * skus,
            "stockout_cost": [5.0] * skus,
            "order_cost": [0.0] * skus,
            "lead_time_days": [3.0] * skus,
            "lead_time_sd": [0.0] * skus,
            "moq": [0] * skus,
            "case_pack": [1] * skus,
            "vendor": ["V"] * skus,
            "unit_volume": [1.0] * skus,
        }
    )
    inventory = pl.DataFrame(
        {
            "sku": [k for k in sku for _ in fc],
            "node": fc * skus,
            "on_hand": [on_hand] * (skus * fcs),
        }
    )
    return {"nodes": nodes, "lanes": lanes, "items": items, "inventory": inventory}


def setup(tb: dict[str, pl.DataFrame], **fields: Any) -> tuple[World, DecisionFill]:
    nodes = tb["nodes"]
    regions = sorted(nodes.filter(pl.col("kind") == "region")["node"].to_list())
    world = build_world(
        items=tb["items"],
        nodes=nodes,
        lanes=tb["lanes"],
        inventory=tb["inventory"],
        regions=regions,
        start=START,
    )
    sub, share = substitutes(tb["items"], world.skus, fields.pop("share", 0.0))
    fill = DecisionFill(
        world=world,
        items=tb["items"],
        nodes=nodes,
        lanes=tb["lanes"],
        open_fc=np.ones(len(world.fcs), dtype=bool),
        promise=PromiseOptions(mode="snapshot"),
        route=RouteOptions(**{"method": "myopic", **fields.pop("route", {})}),
        max_promise_days=fields.pop("max_promise_days", 5),
        substitute=sub,
        share=share,
        uniforms=fields.pop("uniforms", None),
    )
    return world, fill


class Fixed:
    name = "fixed"

    def __init__(self, qty: np.ndarray, transfer: np.ndarray | None = None) -> None:
        self.qty, self.transfer = qty, transfer

    def review(self, view: View) -> Decision:
        return Decision(buy=self.qty, transfer=self.transfer)


def one_day(world: World, fill: DecisionFill, demand: np.ndarray) -> Any:
    k, f, g = world.shape
    return run(
        world,
        demand[None],
        np.zeros((2, k)),
        np.zeros((1, f, g)),
        Fixed(np.zeros((k, f))),
        history=np.zeros((7, k, g)),
        fulfiller=fill,
    )


def test_binary_parts_serve_any_amount_in_line_order() -> None:
    """Taking the parts largest first while they fit reaches every amount 0..n exactly."""
    for n in range(1, 130):
        _, parts = binary_split(np.array([n]))
        assert parts.sum() == n
        for stock in range(n + 1):
            left = stock
            for p in parts.tolist():
                left -= p if p <= left else 0
            assert left == 0


def test_route_ships_from_the_nearest_fc_then_the_next() -> None:
    """12 units, 10 at each FC: route's myopic rule ships 10 from the nearest FC and the
    rest from the other, in one order split across two boxes."""
    world, fill = setup(network(fcs=2, on_hand=10.0))
    trace = one_day(world, fill, np.full((1, 1), 12.0))
    shipped = trace.fc[0, :, 2]
    assert shipped.sum() == 12.0 and shipped[0] >= 7.0 and shipped[1] > 0
    assert trace.region[0, 0, 1] == 12.0  # served
    names = dict(
        zip(("demand", "served", "lost", "backordered"), trace.region[0, 0, :4], strict=True)
    )
    assert names["lost"] == 0.0
    assert trace.totals["shipped"] == 12.0


def test_a_date_beyond_the_limit_loses_the_sale() -> None:
    world, fill = setup(network(fcs=1, on_hand=10.0), max_promise_days=0)
    trace = one_day(world, fill, np.full((1, 1), 3.0))
    assert trace.totals["lost"] == 3.0
    assert trace.totals["served"] == 0.0


def test_lost_customers_take_the_substitute() -> None:
    """S0 has no stock, S1 (its substitute) has: with share 1 every S0 customer buys S1;
    the demand stays S0's (in-stock rate 0, fill rate 1)."""
    tb = network(skus=2, fcs=1, on_hand=10.0)
    tb["inventory"] = tb["inventory"].with_columns(
        pl.when(pl.col("sku") == "S0").then(0.0).otherwise(pl.col("on_hand")).alias("on_hand")
    )
    tb["items"] = tb["items"].with_columns(
        pl.Series("substitute_sku", ["S1", None], dtype=pl.String)
    )
    uniforms = np.full((1, 2, 1), 0.5)
    world, fill = setup(tb, share=1.0, uniforms=uniforms)
    trace = one_day(world, fill, np.array([[4.0], [2.0]]))
    served, lost = trace.region[0, 0, 1], trace.region[0, 0, 2]
    substituted = trace.region[0, 0, 4 + 4]
    assert (served, lost, substituted) == (6.0, 0.0, 4.0)
    assert trace.fc[0, 0, 2] == 6.0  # all of it from S1's stock
    world, fill = setup(tb, share=0.0, uniforms=uniforms)
    trace = one_day(world, fill, np.array([[4.0], [2.0]]))
    assert trace.region[0, 0, 2] == 4.0


def test_trucks_are_routes_lane_departures() -> None:
    """12 units of volume 1 on one lane departure of trucks of 10: route packs 2 trucks."""
    world, fill = setup(network(fcs=1, regions=1, on_hand=20.0, capacity=10.0))
    trace = one_day(world, fill, np.full((1, 1), 12.0))
    trucks, volume, capacity = trace.fc[0, 0, 6:9]
    assert (trucks, volume, capacity) == (2.0, 12.0, 20.0)


@pytest.mark.parametrize("backorder", [False, True])
def test_one_fc_fill_is_what_promise_and_route_do(backorder: bool) -> None:
    """On one FC and one region the theory's StockOnly fill and promise + route serve
    exactly the same units every day (so the validation against theory holds for both)."""
    tb = network(fcs=1, regions=1, on_hand=6.0)
    world, fill = setup(tb)
    days = 8
    dem = np.random.default_rng(4).poisson(3.0, (days, 1, 1)).astype(float)
    traces = [
        run(
            world,
            dem,
            np.zeros((days + 1, 1)),
            np.zeros((days, 1, 1)),
            BaseStockPolicy(levels=np.array([[8.0]])),
            history=np.zeros((7, 1, 1)),
            fulfiller=serve,
            settings=Settings(review_days=1, backorder=backorder),
        )
        for serve in (StockOnly(world), fill)
    ]
    a, b = traces
    assert np.array_equal(a.region[:, :, :4], b.region[:, :, :4])
    assert np.array_equal(a.fc[:, :, :6], b.fc[:, :, :6])


@settings(max_examples=4, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    skus=st.integers(1, 3),
    fcs=st.integers(1, 3),
    regions=st.integers(1, 2),
    backorder=st.booleans(),
)
def test_units_balance_through_promise_and_route(
    seed: int, skus: int, fcs: int, regions: int, backorder: bool
) -> None:
    """Whatever a policy buys or moves (even more than an FC holds), units balance exactly
    and no quantity goes negative when promise and route fulfil."""
    rng = np.random.default_rng(seed)
    days = 5
    world, fill = setup(network(skus=skus, fcs=fcs, regions=regions, on_hand=2.0))
    dem = rng.poisson(2.0, (days, skus, regions)).astype(float)
    buy = rng.integers(0, 6, (skus, fcs)).astype(float)
    transfer = rng.integers(-8, 8, (skus, fcs)).astype(float)
    trace = run(
        world,
        dem,
        rng.standard_normal((days + 1, skus)),
        rng.standard_normal((days, fcs, regions)),
        Fixed(buy, transfer),
        history=np.zeros((7, skus, regions)),
        fulfiller=fill,
        settings=Settings(review_days=2, backorder=backorder),
    )
    t = trace.totals
    assert t["bought"] == t["received"] + t["in_transit"]
    assert t["demand"] == t["served"] + t["lost"] + t["backordered"] == dem.sum()
    assert t["start_stock"] + t["received"] - t["shipped"] == t["end_stock"]
    assert (trace.fc >= 0).all() and (trace.region >= 0).all()
