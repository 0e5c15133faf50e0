"""Last mile: PyVRP wrapper on known small instances, and the routes table."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from scot_cli.route.lastmile import LastMileOptions, plan_last_mile, solve_vrp


def test_solve_vrp_line_instance_known_optimum() -> None:
    """Four clients on a line at 1..4 from the depot, capacity 2 clients: the optimum is
    two out-and-back routes {1,2} and {3,4} of length 4 + 8 = 12."""
    pos = np.array([0, 1, 2, 3, 4])
    dist = np.abs(pos[:, None] - pos[None, :])
    res = solve_vrp(
        dist, demand=np.ones(4, dtype=np.int64), capacity=2, vehicles=3, time_limit=0.5, seed=1
    )
    assert res.feasible
    assert res.distance == 12
    assert sorted(sorted(r) for r in res.routes) == [[0, 1], [2, 3]]


def test_solve_vrp_time_windows_order_the_visits() -> None:
    """Two clients at distance 1 and 2 whose windows force the far one first."""
    pos = np.array([0, 1, 2])
    dist = np.abs(pos[:, None] - pos[None, :])
    res = solve_vrp(
        dist,
        demand=np.ones(2, dtype=np.int64),
        capacity=5,
        vehicles=1,
        tw_early=np.array([5, 0]),
        tw_late=np.array([10, 2]),
        time_limit=0.5,
    )
    assert res.routes == [[1, 0]]
    assert res.starts[1] == 2 and res.starts[0] == 5


def stops_frame(n: int, rng: np.random.Generator, **kw: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "stop_id": [f"S{i:03d}" for i in range(n)],
            "station": ["DS-1"] * n,
            "lat": 40.0 + rng.normal(0, 0.05, n),
            "lon": -74.0 + rng.normal(0, 0.05, n),
            "demand": rng.uniform(1, 10, n),
            "tw_early": np.zeros(n),
            "tw_late": np.full(n, kw.get("tw_late", 600.0)),
            "service_time": np.full(n, 3.0),
        }
    )


NODES = pl.DataFrame({"node": ["DS-1"], "lat": [40.0], "lon": [-74.0]})


def test_unreachable_and_overfull_stops_are_reported() -> None:
    rng = np.random.default_rng(3)
    stops = stops_frame(6, rng).with_columns(
        pl.Series("demand", [5.0, 5.0, 5.0, 5.0, 5.0, 50.0]),
        pl.Series("lat", [40.01, 40.02, 40.03, 40.04, 45.0, 40.01]),
        pl.Series("tw_late", [600.0, 600.0, 600.0, 600.0, 60.0, 600.0]),
    )
    result = plan_last_mile(
        stops, NODES, options=LastMileOptions(vehicles=1, capacity=12.0, time_limit=0.5)
    )
    routes, summary = result.routes, result.summary
    why = dict(zip(routes["stop_id"], routes["reason"], strict=True))
    assert why["S004"] == "time window unreachable"
    assert why["S005"] == "demand above vehicle capacity"
    assert summary.routed == 2 and summary.unassigned == 4
    assert (
        sorted(r for s, r in why.items() if s < "S004" and r)
        == ["not enough vehicles within the shift"] * 2
    )


@settings(max_examples=6, deadline=None)
@given(n=st.integers(1, 25), seed=st.integers(0, 100), cap=st.sampled_from([15.0, 40.0]))
def test_routes_respect_capacity_and_cover_every_stop_once(n: int, seed: int, cap: float) -> None:
    stops = stops_frame(n, np.random.default_rng(seed))
    routes = plan_last_mile(
        stops, NODES, options=LastMileOptions(vehicles=30, capacity=cap, time_limit=0.2, seed=seed)
    ).routes
    assert sorted(routes["stop_id"]) == sorted(stops["stop_id"])
    routed = routes.filter(pl.col("status") == "routed")
    first = routed.filter(pl.col("sequence") == 1)
    assert (first["load"] <= cap + 1e-9).all()
    seqs = routed.group_by("vehicle").agg(pl.col("sequence").sort())
    for s in seqs["sequence"]:
        assert s.to_list() == list(range(1, len(s) + 1))
    arrivals = (
        routed.sort("vehicle", "sequence")
        .group_by("vehicle", maintain_order=True)
        .agg(pl.col("arrival").diff().min().alias("step"))
    )
    assert (arrivals["step"].fill_null(0.0) >= 0).all()
