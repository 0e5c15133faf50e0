"""Last mile's search: the problem PyVRP receives, parallel seeds, the lower bound, stop order."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scot_cli.errors import InfeasibleError
from scot_cli.route.lastmile import LastMileOptions, natural_order, plan_last_mile
from scot_cli.route.lastmile_bound import lower_bound, one_tree, radial_bound
from scot_cli.route.lastmile_search import (
    VrpResult,
    best_of,
    finish_worker,
    problem_data,
    solve_data,
    solve_vrp,
    start_worker,
)


def euclid(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer Euclidean distances over n random points (point 0 is the depot) and demands."""
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 100, size=(n, 2))
    dist = np.round(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    return dist.astype(np.int64), rng.integers(1, 10, size=n - 1)


def partitions(items: list[int]) -> Iterator[list[list[int]]]:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in partitions(rest):
        for k in range(len(part)):
            yield [*part[:k], [first, *part[k]], *part[k + 1 :]]
        yield [[first], *part]


def brute_force_cvrp(dist: np.ndarray, demand: np.ndarray, capacity: int) -> int:
    """Optimal CVRP distance with unlimited vehicles by enumeration (tiny instances only)."""

    def route(block: list[int]) -> float:
        return min(
            float(sum(dist[a, b] for a, b in itertools.pairwise([0, *perm, 0])))
            for perm in itertools.permutations(c + 1 for c in block)
        )

    best = np.inf
    for part in partitions(list(range(len(demand)))):
        if all(demand[b].sum() <= capacity for b in part):
            best = min(best, sum(route(b) for b in part))
    return int(best)


def test_problem_is_pyvrp_model_problem_same_search() -> None:
    """The ProblemData solve_vrp builds gives PyVRP's search, step for step, the same answer
    as the problem built through pyvrp.Model: same seed, same iterations, same routes."""
    from pyvrp import Model, solve
    from pyvrp.stop import MaxIterations

    dist, demand = euclid(30, 4)
    model = Model()
    locs = [model.add_location(0.0, 0.0) for _ in range(30)]
    depot = model.add_depot(locs[0])
    for i in range(1, 30):
        model.add_client(locs[i], delivery=[int(demand[i - 1])])
    model.add_vehicle_type(num_available=10, capacity=[40], start_depot=depot, end_depot=depot)
    for i, j in itertools.product(range(30), repeat=2):
        model.add_edge(locs[i], locs[j], distance=int(dist[i, j]), duration=int(dist[i, j]))
    direct = solve(model.data(), MaxIterations(300), seed=7, display=False).best
    ours = solve_vrp(dist, demand=demand, capacity=40, vehicles=10, seed=7, seeds=1, iterations=300)
    assert ours.distance == direct.distance()
    assert ours.routes == [[a.idx for a in r.schedule() if a.is_client()] for r in direct.routes()]


def test_clients_required_unless_they_carry_a_prize() -> None:
    dist, demand = euclid(6, 1)
    data = problem_data(
        dist, demand=demand, capacity=50, vehicles=3, prize=np.array([0, 5, 0, 0, 9])
    )
    assert [c.required for c in data.clients()] == [True, False, True, True, False]
    assert [c.prize for c in data.clients()] == [0, 5, 0, 0, 9]


def test_a_prize_below_the_detour_leaves_the_stop_out() -> None:
    """Two clients: one next to the depot, one 100 away worth 10; serving the far one costs
    200 more than it is worth 10, so it is left out; without a prize it must be served."""
    pos = np.array([0, 1, 100])
    dist = np.abs(pos[:, None] - pos[None, :])
    kw: dict[str, Any] = {
        "demand": np.ones(2, dtype=np.int64),
        "capacity": 5,
        "vehicles": 2,
        "seeds": 1,
    }
    skip = solve_vrp(dist, prize=np.array([0, 10]), iterations=200, **kw)
    assert skip.routes == [[0]] and skip.unplanned == [1] and skip.objective == 2 + 10
    serve = solve_vrp(dist, iterations=200, **kw)
    assert serve.distance == 200 and serve.unplanned == []


@settings(max_examples=8, deadline=None)
@given(n=st.integers(2, 7), seed=st.integers(0, 1000), capacity=st.sampled_from([10, 15, 30]))
def test_search_finds_brute_force_optimum_and_bound_is_below_it(
    n: int, seed: int, capacity: int
) -> None:
    dist, demand = euclid(n, seed)
    best = brute_force_cvrp(dist, demand, capacity)
    res = solve_vrp(
        dist, demand=demand, capacity=capacity, vehicles=n, seeds=1, iterations=400, seed=seed
    )
    assert res.feasible and res.distance == best
    assert lower_bound(dist.astype(float), demand, capacity) <= best + 1e-9


def test_bounds_on_a_line_known_values() -> None:
    """Four clients on a line at 1..4, capacity two clients: optimum 4 + 8 = 12 (two
    out-and-back routes). Radial: sum 2 d_i q_i / Q = 2 * 10 / 2 = 10. The 1-tree: path 1-2-3-4
    (3) plus the depot's two shortest edges (1 + 2) = 6."""
    pos = np.array([0.0, 1, 2, 3, 4])
    dist = np.abs(pos[:, None] - pos[None, :])
    assert radial_bound(dist, np.ones(4), 2) == pytest.approx(10.0)
    value, degree = one_tree(dist)
    assert value == pytest.approx(6.0) and degree.sum() == 2 * 5
    assert 10.0 <= lower_bound(dist, np.ones(4), 2) <= 12.0


def test_best_of_prefers_feasible_then_objective_then_seed() -> None:
    def res(feasible: bool, objective: int, seed: int) -> VrpResult:
        return VrpResult([], {}, objective, feasible, [], objective=objective, seed=seed)

    picked = best_of([res(False, 1, 0), res(True, 9, 3), res(True, 9, 1), res(True, 10, 2)])
    assert (picked.feasible, picked.objective, picked.seed) == (True, 9, 1)


def test_parallel_seeds_keep_the_best_of_the_single_seeds() -> None:
    """Seeds 5 and 6 in parallel (the second in a worker process) give exactly the better of
    the two single-seed searches (iterations make each search reproducible)."""
    dist, demand = euclid(40, 9)
    data = problem_data(dist, demand=demand, capacity=30, vehicles=20)
    singles = [solve_data(data, time_limit=60, seed=s, iterations=150) for s in (5, 6)]
    both = solve_data(data, time_limit=60, seed=5, seeds=2, iterations=150)
    assert both == best_of(singles)


def test_a_failed_worker_is_ignored() -> None:
    proc, feeder = start_worker(("not a problem",))
    assert finish_worker(proc, feeder, wait=60) is None
    assert proc.returncode != 0


def test_worker_module_runs_as_a_script() -> None:
    """``python -m scot_cli.route.lastmile_search`` with no job fails cleanly (no hang)."""
    done = subprocess.run(
        [sys.executable, "-m", "scot_cli.route.lastmile_search"],
        input=b"",
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0 and done.stdout == b""


def test_natural_order_of_stop_ids() -> None:
    stops = pl.DataFrame(
        {
            "station": ["B", "A", "A", "A", "A", "A"],
            "stop_id": ["1", "S10", "S2", "S02x", "9", "S1"],
        }
    )
    assert natural_order(stops)["stop_id"].to_list() == ["9", "S1", "S2", "S10", "S02x", "1"]


NODES = pl.DataFrame({"node": ["DS-1"], "lat": [40.0], "lon": [-74.0]})


def stops(n: int, **cols: list[float]) -> pl.DataFrame:
    rng = np.random.default_rng(n)
    return pl.DataFrame(
        {
            "stop_id": [f"S{i}" for i in range(n)],
            "station": ["DS-1"] * n,
            "lat": 40.0 + rng.normal(0, 0.05, n),
            "lon": -74.0 + rng.normal(0, 0.05, n),
            "demand": rng.uniform(1, 5, n),
            "tw_early": np.zeros(n),
            "tw_late": np.full(n, 600.0),
            "service_time": np.full(n, 3.0),
            **cols,
        }
    )


def test_summary_reports_routes_and_a_bound_below_the_distance() -> None:
    result = plan_last_mile(
        stops(12), NODES, options=LastMileOptions(vehicles=5, capacity=20, time_limit=0.5, seeds=1)
    )
    s = result.summary
    assert s.routed == 12 and s.lower_bound_km is not None
    assert 0 < s.lower_bound_km <= s.distance_km
    assert s.gap is not None and s.gap >= 0
    assert f"on {s.vehicles} routes" in str(s) and "above the lower bound" in str(s)


def test_prized_stops_may_be_left_out_required_ones_not() -> None:
    """A stop 5 degrees north worth 1 km is not worth the ~1,100 km round trip."""
    frame = stops(5).with_columns(
        pl.Series("lat", [40.01, 40.02, 40.03, 40.04, 45.0]),
        pl.Series("prize", [None, None, None, None, 1.0]),
        pl.lit(3000.0).alias("tw_late"),
    )
    opt = LastMileOptions(
        vehicles=2, capacity=50, time_limit=0.5, seeds=1, shift_minutes=3000, speed_kmh=100
    )
    routes = plan_last_mile(frame, NODES, options=opt).routes
    status = dict(zip(routes["stop_id"], routes["status"], strict=True))
    assert status == {
        "S0": "routed",
        "S1": "routed",
        "S2": "routed",
        "S3": "routed",
        "S4": "unassigned",
    }
    routes = plan_last_mile(frame.drop("prize"), NODES, options=opt).routes
    assert (routes["status"] == "routed").all()


def test_no_stop_routable_raises_infeasible() -> None:
    frame = stops(3).with_columns(pl.lit(500.0).alias("demand"))
    with pytest.raises(InfeasibleError, match="none of the 3 stops"):
        plan_last_mile(frame, NODES, options=LastMileOptions(capacity=10, time_limit=0.2))


def test_seeds_option_is_checked() -> None:
    from scot_cli.options import OptionError

    with pytest.raises(OptionError, match="seeds"):
        LastMileOptions(seeds=0)
