"""The notebook call shape of ``scot route``: options objects, frames or paths, typed results."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest

from scot_cli.errors import InputDataError
from scot_cli.options import OptionError
from scot_cli.route import (
    METHODS,
    LastMileOptions,
    RouteOptions,
    RouteResult,
    decide_from_inputs,
    last_mile,
    route,
)


@pytest.fixture(scope="module")
def promises(small_dir: Path) -> pl.DataFrame:
    orders = pl.read_parquet(small_dir / "orders.parquet")
    day = pl.col("order_time").dt.date()
    return orders.with_columns(
        day.alias("ship_date"), (day + pl.duration(days=3)).alias("promise_date")
    ).drop("order_time")


def test_options_validate_by_field() -> None:
    with pytest.raises(OptionError) as err:
        RouteOptions(method="magic")
    assert err.value.field == "method"
    assert err.value.reason == "unknown value 'magic' (choose from auto, mip, lp-round, myopic)"
    for field, value in [("min_fill", 1.5), ("time_limit", 0.0), ("late_cost", -1.0)]:
        with pytest.raises(OptionError) as bad:
            RouteOptions(**{field: value})
        assert bad.value.field == field
    with pytest.raises(OptionError) as lm:
        LastMileOptions(speed_kmh=0.0)
    assert lm.value.field == "speed_kmh"


def test_options_round_trip_through_params() -> None:
    opt = RouteOptions(method="lp-round", hold=True, split_cost=3.0, seed=4)
    assert RouteOptions.from_params(opt.params()) == opt
    lm = LastMileOptions(vehicles=3, capacity=50.0)
    assert LastMileOptions.from_params({**lm.params(), "unknown": 1}) == lm


def test_methods_registry_feeds_choices() -> None:
    assert METHODS.names() == ["auto", "mip", "lp-round", "myopic"]
    assert METHODS.field == "method"


def test_route_takes_frames_or_paths_alike(small_dir: Path, promises: pl.DataFrame) -> None:
    tables = {t: small_dir / f"{t}.parquet" for t in ("inventory", "nodes", "lanes", "items")}
    by_path = route(promises, **tables, method="myopic")
    frames = {t: pl.read_parquet(p) for t, p in tables.items()}
    by_frame = route(promises, **frames, options=RouteOptions(method="myopic"))
    assert isinstance(by_path, RouteResult)
    assert by_path.shipments.equals(by_frame.shipments)
    s = by_path.summary
    assert s.lines == promises.height == s.shipped + s.unshipped
    assert s.bound is None and "None" not in str(s)
    assert set(dataclasses.asdict(s)) == set(s.as_dict())


def test_route_fills_qty_and_destination_from_orders(
    small_dir: Path, promises: pl.DataFrame
) -> None:
    tables = {t: small_dir / f"{t}.parquet" for t in ("inventory", "nodes", "lanes")}
    bare = promises.drop("qty", "destination")
    with pytest.raises(InputDataError, match=r"^promises: missing column 'qty', 'destination'"):
        route(bare, **tables, method="myopic")
    joined = route(bare, **tables, orders=small_dir / "orders.parquet", method="myopic")
    assert joined.shipments["qty"].sum() == promises["qty"].sum()


def test_route_validates_frames_on_entry(small_dir: Path, promises: pl.DataFrame) -> None:
    tables = {t: small_dir / f"{t}.parquet" for t in ("inventory", "nodes", "lanes")}
    with pytest.raises(InputDataError, match="promises"):
        route(promises.drop("sku"), **tables)
    bad = promises.with_columns(pl.lit("R-MARS").alias("destination"))
    with pytest.raises(InputDataError, match=r"^promises: node 'R-MARS' in column destination"):
        route(bad, **tables)


def test_decide_from_inputs_is_route_with_recorded_params(
    small_dir: Path, promises: pl.DataFrame
) -> None:
    inputs = {t: pl.read_parquet(small_dir / f"{t}.parquet") for t in ("inventory", "nodes")}
    inputs |= {"lanes": pl.read_parquet(small_dir / "lanes.parquet"), "promises": promises}
    opt = RouteOptions(method="myopic", split_cost=4.0)
    again = decide_from_inputs(inputs, opt.params())
    direct = route(promises, **{k: v for k, v in inputs.items() if k != "promises"}, options=opt)
    assert again.equals(direct.shipments)


def test_last_mile_checks_stations(small_dir: Path) -> None:
    stops = pl.DataFrame(
        {
            "stop_id": ["S1", "S2"],
            "station": ["DS-NE", "DS-MOON"],
            "lat": [40.7, 40.8],
            "lon": [-73.9, -73.95],
            "demand": [1.0, 2.0],
        }
    )
    with pytest.raises(InputDataError, match=r"^stops: station 'DS-MOON' in column station"):
        last_mile(stops, nodes=small_dir / "nodes.parquet")
    done = last_mile(stops.head(1), nodes=small_dir / "nodes.parquet", time_limit=0.2)
    assert done.summary.routed == 1 and done.routes["status"].to_list() == ["routed"]
