"""Known-answer tests of scot promise: each expected date follows by construction.

The network is built inline: FCs with direct lanes to regions, transit in whole days with no
spread unless a test says otherwise, departure at 00:00, so a line shipped on day ``s`` over a
lane of ``k`` days is delivered on ``s + k``.
"""

from __future__ import annotations

import datetime as dt
from statistics import NormalDist
from typing import Any

import polars as pl
import pytest

from scot_cli.promise import promise
from scot_cli.schema import CALENDAR, INVENTORY, LANES, NODES, ORDERS
from scot_cli.validate import validate


def promises(orders: pl.DataFrame, **tables_and_options: Any) -> pl.DataFrame:
    """The promises frame of one :func:`scot_cli.promise.promise` run."""
    return promise(orders, **tables_and_options).promises


MON = dt.date(2026, 11, 2)


def day(n: int) -> dt.date:
    return MON + dt.timedelta(days=n)


def nodes(
    fcs: dict[str, tuple[int, int, float | None]], regions: tuple[str, ...] = ("R-1",)
) -> pl.DataFrame:
    """FCs as name -> (cutoff_hour, processing_days, daily_capacity), plus regions."""
    rows = [
        {
            "node": n,
            "kind": "fc",
            "region": "R-1",
            "storage_capacity": 1e6,
            "daily_capacity": cap,
            "cutoff_hour": cut,
            "processing_days": proc,
            "lat": 0.0,
            "lon": 0.0,
        }
        for n, (cut, proc, cap) in fcs.items()
    ] + [
        {
            "node": r,
            "kind": "region",
            "region": r,
            "storage_capacity": None,
            "daily_capacity": None,
            "cutoff_hour": None,
            "processing_days": None,
            "lat": 1.0,
            "lon": 1.0,
        }
        for r in regions
    ]
    return validate(
        NODES,
        pl.DataFrame(
            rows, schema_overrides={"daily_capacity": pl.Float64, "storage_capacity": pl.Float64}
        ),
        source="nodes",
    )


def lanes(legs: list[tuple[str, str, float, float]], weekdays: str = "1111111") -> pl.DataFrame:
    """Direct legs (origin, destination, transit_days, transit_sd) departing at 00:00."""
    return validate(
        LANES,
        pl.DataFrame(
            [
                {
                    "origin": o,
                    "destination": d,
                    "mode": "ground",
                    "transit_days": t,
                    "transit_sd": sd,
                    "cost_per_unit": 1.0,
                    "truck_capacity": 100.0,
                    "cost_per_truck": 10.0,
                    "departure_hour": 0,
                    "weekdays": weekdays,
                }
                for o, d, t, sd in legs
            ]
        ),
        source="lanes",
    )


def stock(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return validate(
        INVENTORY,
        pl.DataFrame(rows, schema=["sku", "node", "on_hand"], orient="row"),
        source="inventory",
    )


def orders(rows: list[tuple[str, int, str, float, dt.datetime]], dest: str = "R-1") -> pl.DataFrame:
    return validate(
        ORDERS,
        pl.DataFrame(
            [
                {
                    "order_id": o,
                    "line": ln,
                    "sku": s,
                    "qty": q,
                    "destination": dest,
                    "order_time": t,
                }
                for o, ln, s, q, t in rows
            ]
        ),
        source="orders",
    )


def at(n: int, hour: int) -> dt.datetime:
    return dt.datetime.combine(day(n), dt.time(hour))


ONE_FC = nodes({"FC-A": (14, 0, None)})
ONE_DAY = lanes([("FC-A", "R-1", 1.0, 0.0)])


def test_cutoff_before_ships_today_after_ships_tomorrow() -> None:
    out = promises(
        orders([("A", 1, "X", 1, at(0, 13)), ("B", 1, "X", 1, at(0, 15))]),
        inventory=stock([("X", "FC-A", 10)]),
        nodes=ONE_FC,
        lanes=ONE_DAY,
    )
    assert out["ship_date"].to_list() == [day(0), day(1)]
    assert out["promise_date"].to_list() == [day(1), day(2)]
    assert out["promise_days"].to_list() == [1, 2]
    assert out["status"].to_list() == ["promised", "promised"]


def test_processing_days_delay_the_ship_day() -> None:
    out = promises(
        orders([("A", 1, "X", 1, at(0, 9))]),
        inventory=stock([("X", "FC-A", 1)]),
        nodes=nodes({"FC-A": (14, 2, None)}),
        lanes=ONE_DAY,
    )
    assert out.row(0, named=True)["ship_date"] == day(2)


def test_weekend_without_delivery_moves_the_promise_to_monday() -> None:
    weekend = validate(
        CALENDAR,
        pl.DataFrame(
            {
                "node": ["R-1", "R-1"],
                "date": [day(5), day(6)],
                "pickup": [True, True],
                "delivery": [False, False],
            }
        ),
        source="calendar",
    )
    out = promises(
        orders([("A", 1, "X", 1, at(3, 9)), ("B", 1, "X", 1, at(4, 9))]),
        inventory=stock([("X", "FC-A", 5)]),
        nodes=ONE_FC,
        lanes=ONE_DAY,
        calendar=weekend,
    )
    # Thursday ships, Friday delivers; Friday ships, Saturday arrives, Monday delivers.
    assert out["promise_date"].to_list() == [day(4), day(7)]


def test_holiday_without_pickup_ships_the_next_day() -> None:
    holiday = validate(
        CALENDAR,
        pl.DataFrame({"node": ["FC-A"], "date": [day(2)], "pickup": [False], "delivery": [False]}),
        source="calendar",
    )
    out = promises(
        orders([("A", 1, "X", 1, at(2, 9))]),
        inventory=stock([("X", "FC-A", 5)]),
        nodes=ONE_FC,
        lanes=ONE_DAY,
        calendar=holiday,
    )
    assert out.row(0, named=True)["ship_date"] == day(3)


def test_lane_weekdays_limit_the_departure() -> None:
    out = promises(
        orders([("A", 1, "X", 1, at(5, 9))]),
        inventory=stock([("X", "FC-A", 5)]),
        nodes=ONE_FC,
        lanes=lanes([("FC-A", "R-1", 1.0, 0.0)], weekdays="1111100"),
    )
    assert out.row(0, named=True)["ship_date"] == day(7)


def test_stock_only_from_a_receipt_on_day_three_is_a_backorder() -> None:
    receipts = pl.DataFrame(
        {"sku": ["X"], "node": ["FC-A"], "arrival_date": [day(3)], "qty": [5.0]}
    )
    out = promises(
        orders([("A", 1, "X", 2, at(0, 9))]),
        inventory=stock([("X", "FC-A", 0)]),
        nodes=ONE_FC,
        lanes=ONE_DAY,
        receipts=receipts,
    )
    row = out.row(0, named=True)
    assert (row["status"], row["reason"], row["waits_for"]) == ("backorder", "receipt", day(3))
    assert (row["ship_date"], row["promise_date"]) == (day(3), day(4))


def test_in_transit_with_eta_counts_from_its_eta() -> None:
    inv = validate(
        INVENTORY,
        pl.DataFrame(
            {"sku": ["X"], "node": ["FC-A"], "on_hand": [0.0], "in_transit": [3.0], "eta": [day(1)]}
        ),
        source="inventory",
    )
    out = promises(orders([("A", 1, "X", 3, at(0, 9))]), inventory=inv, nodes=ONE_FC, lanes=ONE_DAY)
    assert out.row(0, named=True)["ship_date"] == day(1)


def test_capacity_used_up_moves_the_next_line_to_the_next_day() -> None:
    cap2 = nodes({"FC-A": (14, 0, 2.0)})
    lines = orders(
        [("A", 1, "X", 1, at(0, 8)), ("B", 1, "X", 1, at(0, 9)), ("C", 1, "X", 1, at(0, 10))]
    )
    commit = promises(
        lines, inventory=stock([("X", "FC-A", 10)]), nodes=cap2, lanes=ONE_DAY, mode="commit"
    )
    assert commit["ship_date"].to_list() == [day(0), day(0), day(1)]
    snap = promises(lines, inventory=stock([("X", "FC-A", 10)]), nodes=cap2, lanes=ONE_DAY)
    assert snap["ship_date"].to_list() == [day(0)] * 3


def test_commit_consumes_stock_snapshot_does_not() -> None:
    two = nodes({"FC-A": (14, 0, None), "FC-B": (14, 0, None)})
    legs = lanes([("FC-A", "R-1", 1.0, 0.0), ("FC-B", "R-1", 3.0, 0.0)])
    inv = stock([("X", "FC-A", 1), ("X", "FC-B", 1)])
    lines = orders(
        [("A", 1, "X", 1, at(0, 8)), ("B", 1, "X", 1, at(0, 9)), ("C", 1, "X", 1, at(0, 10))]
    )
    commit = promises(lines, inventory=inv, nodes=two, lanes=legs, mode="commit")
    assert commit["ship_node"].to_list() == ["FC-A", "FC-B", None]
    assert commit["reason"].to_list() == [None, None, "no_stock"]
    snap = promises(lines, inventory=inv, nodes=two, lanes=legs)
    assert snap["ship_node"].to_list() == ["FC-A"] * 3


def _split_case() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    two = nodes({"FC-A": (14, 0, None), "FC-B": (14, 0, None)})
    legs = lanes([("FC-A", "R-1", 1.0, 0.0), ("FC-B", "R-1", 3.0, 0.0)])
    inv = stock([("X", "FC-A", 5), ("X", "FC-B", 5), ("Y", "FC-B", 5)])
    return two, legs, inv


def test_split_allow_ships_each_line_from_its_best_fc() -> None:
    two, legs, inv = _split_case()
    out = promises(
        orders([("A", 1, "X", 1, at(0, 9)), ("A", 2, "Y", 1, at(0, 9))]),
        inventory=inv,
        nodes=two,
        lanes=legs,
        split="allow",
    )
    assert out["ship_node"].to_list() == ["FC-A", "FC-B"]
    assert out["promise_date"].to_list() == [day(3), day(3)]


def test_split_avoid_ships_one_box_from_the_fc_holding_every_line() -> None:
    two, legs, inv = _split_case()
    out = promises(
        orders([("A", 1, "X", 1, at(0, 9)), ("A", 2, "Y", 1, at(0, 9))]),
        inventory=inv,
        nodes=two,
        lanes=legs,
        split="avoid",
    )
    assert out["ship_node"].to_list() == ["FC-B", "FC-B"]
    assert out["reason"].to_list() == [None, None]


def test_split_avoid_splits_when_no_fc_holds_every_line() -> None:
    two, legs, _ = _split_case()
    inv = stock([("X", "FC-A", 5), ("Y", "FC-B", 5)])
    for mode in ("snapshot", "commit"):
        out = promises(
            orders([("A", 1, "X", 1, at(0, 9)), ("A", 2, "Y", 1, at(0, 9))]),
            inventory=inv,
            nodes=two,
            lanes=legs,
            split="avoid",
            mode=mode,
        )
        assert out["ship_node"].to_list() == ["FC-A", "FC-B"]
        assert out["reason"].to_list() == ["split", "split"]


def test_higher_confidence_gives_a_later_date_with_normal_quantiles() -> None:
    """Transit N(1.5, 0.5): at c=0.5 day s+1 with P = Phi(1); at c=0.95 day s+2, P = Phi(3)."""
    legs = lanes([("FC-A", "R-1", 1.5, 0.5)])
    line = orders([("A", 1, "X", 1, at(0, 9))])
    low = promises(
        line, inventory=stock([("X", "FC-A", 1)]), nodes=ONE_FC, lanes=legs, confidence=0.5
    ).row(0, named=True)
    high = promises(
        line, inventory=stock([("X", "FC-A", 1)]), nodes=ONE_FC, lanes=legs, confidence=0.95
    ).row(0, named=True)
    assert (low["promise_date"], high["promise_date"]) == (day(1), day(2))
    assert low["on_time_prob"] == pytest.approx(NormalDist().cdf(1.0))
    assert high["on_time_prob"] == pytest.approx(NormalDist().cdf(3.0))


def test_split_order_date_covers_both_shipments_jointly() -> None:
    """Two independent shipments each N(1, 0.5): the order needs P1 * P2 >= c, not each >= c."""
    two = nodes({"FC-A": (14, 0, None), "FC-B": (14, 0, None)})
    legs = lanes([("FC-A", "R-1", 1.0, 0.5), ("FC-B", "R-1", 1.0, 0.5)])
    inv = stock([("X", "FC-A", 5), ("Y", "FC-B", 5)])
    out = promises(
        orders([("A", 1, "X", 1, at(0, 9)), ("A", 2, "Y", 1, at(0, 9))]),
        inventory=inv,
        nodes=two,
        lanes=legs,
        confidence=0.9,
    )
    # each alone: first D with Phi((D + 1 - 1) / 0.5) >= 0.9 is D = 1 (Phi(2) = 0.977);
    # jointly Phi(2)^2 = 0.955 >= 0.9 still holds, so the date stays day 1.
    assert out["promise_date"].to_list() == [day(1), day(1)]
    assert out["on_time_prob"][0] == pytest.approx(NormalDist().cdf(2.0) ** 2)
    tight = promises(
        orders([("A", 1, "X", 1, at(0, 9)), ("A", 2, "Y", 1, at(0, 9))]),
        inventory=inv,
        nodes=two,
        lanes=legs,
        confidence=0.97,
    )
    # alone day 1 (0.977 >= 0.97) but jointly 0.955 < 0.97, so day 2.
    assert tight["promise_date"].to_list() == [day(2), day(2)]
    assert tight["on_time_prob"][0] == pytest.approx(NormalDist().cdf(4.0) ** 2, abs=1e-6)


def test_unavailable_lines_carry_their_reason() -> None:
    net = nodes({"FC-A": (14, 0, None)}, regions=("R-1", "R-2"))
    out = promises(
        pl.concat(
            [
                orders([("A", 1, "NOPE", 1, at(0, 9))]),
                orders([("B", 1, "X", 1, at(0, 9))], dest="R-2"),
            ]
        ),
        inventory=stock([("X", "FC-A", 5)]),
        nodes=net,
        lanes=ONE_DAY,
    )
    assert out["status"].to_list() == ["unavailable", "unavailable"]
    assert out["reason"].to_list() == ["no_stock", "no_path"]
    assert out["promise_date"].to_list() == [None, None]


def test_the_fastest_fc_with_stock_wins() -> None:
    two = nodes({"FC-A": (14, 0, None), "FC-B": (14, 0, None)})
    legs = lanes([("FC-A", "R-1", 4.0, 0.0), ("FC-B", "R-1", 2.0, 0.0)])
    out = promises(
        orders([("A", 1, "X", 1, at(0, 9))]),
        inventory=stock([("X", "FC-A", 5), ("X", "FC-B", 5)]),
        nodes=two,
        lanes=legs,
    )
    assert out.row(0, named=True)["ship_node"] == "FC-B"


def test_receipts_without_arrival_date_are_ignored() -> None:
    """plan-buy writes no_order rows with a null arrival_date; they bring no stock."""
    receipts = pl.DataFrame(
        {
            "sku": ["X", "X"],
            "node": ["FC-A", "FC-A"],
            "arrival_date": [None, day(2)],
            "qty": [0.0, 4.0],
        },
        schema_overrides={"arrival_date": pl.Date},
    )
    out = promises(
        orders([("A", 1, "X", 4, at(0, 9))]),
        inventory=stock([("X", "FC-A", 0)]),
        nodes=ONE_FC,
        lanes=ONE_DAY,
        receipts=receipts,
    )
    assert out.row(0, named=True)["waits_for"] == day(2)


def test_a_network_without_fcs_or_lanes_promises_nothing() -> None:
    line = orders([("A", 1, "X", 1, at(0, 9)), ("A", 2, "Y", 1, at(0, 9))])
    regions_only = nodes({})
    for mode in ("snapshot", "commit"):
        out = promises(
            line,
            # inventory may only name known nodes; a region holds the stock
            inventory=stock([("X", "R-1", 1)]),
            nodes=regions_only,
            lanes=ONE_DAY.head(0),
            mode=mode,
            split="avoid",
        )
        assert out["reason"].to_list() == ["no_path", "no_path"]
    empty = promises(line.head(0), inventory=stock([("X", "FC-A", 1)]), nodes=ONE_FC, lanes=ONE_DAY)
    assert empty.height == 0
