"""Invariants of scot promise (hypothesis): commit mode equals the one-at-a-time loop, dates
never precede the order, promised lines meet the confidence, stock and capacity are respected."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scot_cli.promise import promise
from scot_cli.promise.commit import commit_units
from scot_cli.promise.core import prepare, sequence
from scot_cli.promise.engine import choose, choose_fast
from scot_cli.promise.reference import sequential_commit
from scot_cli.schema import INVENTORY, LANES, NODES, ORDERS
from scot_cli.validate import validate


def promises(orders: pl.DataFrame, **tables_and_options: Any) -> pl.DataFrame:
    """The promises frame of one :func:`scot_cli.promise.promise` run."""
    return promise(orders, **tables_and_options).promises


FCS = ("FC-A", "FC-B", "FC-C")
REGIONS = ("R-1", "R-2")
SKUS = ("X", "Y", "Z")
START = dt.datetime(2026, 11, 2)


@st.composite
def instances(draw: st.DrawFn) -> dict[str, pl.DataFrame]:
    caps = [draw(st.sampled_from([None, 2.0, 4.0, 8.0])) for _ in FCS]
    nodes = pl.DataFrame(
        [
            {
                "node": f,
                "kind": "fc",
                "region": "R-1",
                "storage_capacity": 1e6,
                "daily_capacity": c,
                "cutoff_hour": draw(st.sampled_from([12, 14, 24])),
                "processing_days": draw(st.integers(0, 1)),
                "lat": 0.0,
                "lon": 0.0,
            }
            for f, c in zip(FCS, caps, strict=True)
        ]
        + [
            {
                "node": r,
                "kind": "region",
                "region": r,
                "storage_capacity": None,
                "daily_capacity": None,
                "cutoff_hour": None,
                "processing_days": None,
                "lat": 0.0,
                "lon": 0.0,
            }
            for r in REGIONS
        ],
        schema_overrides={"daily_capacity": pl.Float64, "storage_capacity": pl.Float64},
    )
    legs = [
        {
            "origin": f,
            "destination": r,
            "mode": "ground",
            "transit_days": draw(st.sampled_from([0.5, 1.0, 2.0, 3.5])),
            "transit_sd": draw(st.sampled_from([0.0, 0.3])),
            "cost_per_unit": 1.0,
            "truck_capacity": 10.0,
            "cost_per_truck": 1.0,
            "departure_hour": draw(st.sampled_from([0, 18])),
            "weekdays": draw(st.sampled_from(["1111111", "1111100"])),
        }
        for f in FCS
        for r in REGIONS
        if draw(st.booleans()) or f == "FC-A"
    ]
    inv = pl.DataFrame(
        [
            {
                "sku": s,
                "node": f,
                "on_hand": float(draw(st.integers(0, 4))),
                "in_transit": float(draw(st.integers(0, 3))),
                "eta": (START + dt.timedelta(days=draw(st.integers(0, 5)))).date(),
            }
            for s in SKUS
            for f in FCS
        ]
    )
    n_orders = draw(st.integers(1, 25))
    rows = []
    for o in range(n_orders):
        t = START + dt.timedelta(hours=draw(st.integers(0, 60)))
        dest = draw(st.sampled_from(REGIONS))
        for ln, sku in enumerate(
            draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=3, unique=True)), start=1
        ):
            rows.append(
                {
                    "order_id": f"O{o:03d}",
                    "line": ln,
                    "sku": sku,
                    "qty": float(draw(st.integers(1, 3))),
                    "destination": dest,
                    "order_time": t,
                }
            )
    return {
        "nodes": validate(NODES, nodes, source="nodes"),
        "lanes": validate(LANES, pl.DataFrame(legs), source="lanes"),
        "inventory": validate(INVENTORY, inv, source="inventory"),
        "orders": validate(ORDERS, pl.DataFrame(rows), source="orders"),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.booleans())
def test_commit_equals_the_one_at_a_time_loop(
    tables: dict[str, pl.DataFrame], one_box: bool
) -> None:
    seq = sequence(tables["orders"])
    decided = []
    for decide in (commit_units, sequential_commit):
        p = prepare(
            seq,
            inventory=tables["inventory"],
            nodes=tables["nodes"],
            lanes=tables["lanes"],
            calendar=None,
            receipts=None,
            confidence=0.9,
            one_box=one_box,
        )
        decided.append(decide(p.tables, p.state, p.lines, p.starts, p.counts, one_box=one_box))
    fast, slow = decided
    has = fast.fc >= 0
    np.testing.assert_array_equal(fast.fc, slow.fc)
    np.testing.assert_array_equal(fast.ship[has], slow.ship[has])
    np.testing.assert_array_equal(fast.avail[has], slow.avail[has])
    np.testing.assert_array_equal(fast.level[~has], slow.level[~has])
    np.testing.assert_array_equal(fast.split, slow.split)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.booleans(), st.data())
def test_the_snapshot_short_cut_chooses_as_the_full_search(
    tables: dict[str, pl.DataFrame], one_box: bool, data: st.DataObject
) -> None:
    p = prepare(
        sequence(tables["orders"]),
        inventory=tables["inventory"],
        nodes=tables["nodes"],
        lanes=tables["lanes"],
        calendar=None,
        receipts=None,
        confidence=0.9,
        one_box=one_box,
    )
    grid = p.tables.grid
    # small FC capacities and stock and capacity already taken, so that every branch is met
    cap = data.draw(st.lists(st.sampled_from([np.inf, 1.0, 2.0, 4.0]), min_size=len(grid.fcs)))
    grid = dataclasses.replace(grid, capacity=np.array(cap[: len(grid.fcs)], dtype=float))
    tab = dataclasses.replace(p.tables, grid=grid)
    state = p.state
    if data.draw(st.booleans()):
        rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
        state.committed[:] = rng.integers(0, 3, state.committed.size)
        state.shipped[:] = rng.integers(0, 3, state.shipped.shape)
    fast = choose_fast(tab, state, p.lines, p.starts, p.counts)
    full = choose(tab, state, p.lines, p.starts, p.counts)
    for name in ("fc", "ship", "level", "avail", "release"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(full, name), err_msg=name)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    instances(),
    st.sampled_from(["snapshot", "commit"]),
    st.sampled_from(["allow", "avoid"]),
    st.sampled_from([0.1, 0.5, 0.9, 0.99]),
)
def test_promises_are_consistent(
    tables: dict[str, pl.DataFrame], mode: str, split: str, confidence: float
) -> None:
    out = promises(
        tables["orders"],
        inventory=tables["inventory"],
        nodes=tables["nodes"],
        lanes=tables["lanes"],
        mode=mode,
        split=split,
        confidence=confidence,
    )
    assert out.height == tables["orders"].height
    ok = out.join(
        tables["orders"].select("order_id", "line", "order_time"), on=["order_id", "line"]
    ).filter(pl.col("status") != "unavailable")
    order_day = ok["order_time"].dt.date()
    assert (ok["ship_date"] >= order_day).all()
    assert (ok["promise_date"] >= ok["ship_date"]).all()
    assert (ok["on_time_prob"] >= confidence - 1e-6).all()
    assert ok["ship_node"].null_count() == 0
    bad = out.filter(pl.col("status") == "unavailable")
    assert bad["promise_date"].null_count() == bad.height
    if mode == "commit":
        _stock_and_capacity_hold(tables, ok)


def _stock_and_capacity_hold(tables: dict[str, pl.DataFrame], ok: pl.DataFrame) -> None:
    inv = tables["inventory"].with_columns(
        (pl.col("on_hand") + pl.col("in_transit").fill_null(0)).alias("supply")
    )
    used = ok.group_by("sku", pl.col("ship_node").alias("node")).agg(pl.col("qty").sum())
    joined = used.join(inv, on=["sku", "node"], how="left")
    assert (joined["qty"] <= joined["supply"].fill_null(0) + 1e-9).all()
    caps = tables["nodes"].select(pl.col("node").alias("ship_node"), "daily_capacity")
    per_day = (
        ok.group_by("ship_node", "ship_date").agg(pl.col("qty").sum()).join(caps, on="ship_node")
    )
    assert (per_day["qty"] <= per_day["daily_capacity"].fill_null(np.inf) + 1e-9).all()
