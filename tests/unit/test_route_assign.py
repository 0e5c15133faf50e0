"""Fulfilment assignment: exactness against brute force, and invariants of every plan."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from unittest.mock import patch

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scot_cli.route import model as m
from scot_cli.route.assign import (
    Relaxation,
    RouteOptions,
    build_instance,
    fc_stock,
    prepare_lines,
    relaxation,
    route_lines,
    solve,
)
from scot_cli.route.options import line_options, next_departures, path_schedules
from scot_cli.route.split_bound import order_split_bound
from scot_cli.route.truck_bound import StrongModel, strong_lp
from scot_cli.route.trucks import first_fit_decreasing, slot_table

DAY = dt.date(2026, 11, 2)  # a Monday


def network(
    *, cap: float = 10.0, truck: float = 100.0, fc_cap: float | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two FCs, one sort center, one station, two regions; ground and air legs."""
    nodes = pl.DataFrame(
        {
            "node": ["FC-A", "FC-B", "SC-1", "DS-1", "R-1", "R-2"],
            "kind": ["fc", "fc", "sort_center", "station", "region", "region"],
            "region": ["R-1", "R-2", "R-1", "R-1", "R-1", "R-2"],
            "storage_capacity": [None] * 6,
            "daily_capacity": [fc_cap, fc_cap, None, None, None, None],
            "cutoff_hour": [14, 14, None, None, None, None],
            "processing_days": [0, 0, None, None, None, None],
            "lat": [40.0, 34.0, 39.0, 40.5, 40.6, 40.9],
            "lon": [-74.0, -118.0, -95.0, -74.5, -74.4, -74.1],
        },
        schema_overrides={"storage_capacity": pl.Float64, "daily_capacity": pl.Float64},
    )
    lanes = pl.DataFrame(
        {
            "origin": ["FC-A", "FC-A", "FC-B", "SC-1", "DS-1", "DS-1"],
            "destination": ["DS-1", "SC-1", "SC-1", "DS-1", "R-1", "R-2"],
            "mode": ["ground", "air", "ground", "ground", "ground", "ground"],
            "transit_days": [0.5, 0.3, 1.5, 0.6, 0.3, 0.4],
            "transit_sd": [0.1] * 6,
            "cost_per_unit": [0.5, 1.5, 0.8, 0.3, 0.2, 0.25],
            "truck_capacity": [cap, cap / 2, cap, cap, cap, cap],
            "cost_per_truck": [
                truck,
                truck * 0.8,
                truck * 1.2,
                truck * 0.5,
                truck * 0.3,
                truck * 0.35,
            ],
            "departure_hour": [20, 21, 20, 3, 9, 9],
            "weekdays": ["1111111", "1111100", "1111110", "1111111", "1111110", "1111110"],
        }
    )
    return nodes, lanes


def promises(rows: list[tuple[str, int, str, float, str, int]]) -> pl.DataFrame:
    """(order_id, line, sku, qty, destination, days to promise) -> promise lines."""
    return pl.DataFrame(
        [(o, ln, s, q, d, DAY, DAY + dt.timedelta(days=p)) for o, ln, s, q, d, p in rows],
        schema={
            "order_id": pl.String,
            "line": pl.Int64,
            "sku": pl.String,
            "qty": pl.Float64,
            "destination": pl.String,
            "ship_date": pl.Date,
            "promise_date": pl.Date,
        },
        orient="row",
    )


def inventory(stock: dict[tuple[str, str], float]) -> pl.DataFrame:
    return pl.DataFrame(
        [(s, n, q) for (s, n), q in stock.items()],
        schema={"sku": pl.String, "node": pl.String, "on_hand": pl.Float64},
        orient="row",
    )


def instance(
    pr: pl.DataFrame, inv: pl.DataFrame, nodes: pl.DataFrame, lanes: pl.DataFrame, opt: RouteOptions
) -> tuple[m.Instance, pl.DataFrame, pl.DataFrame]:
    lines = prepare_lines(pr, None)
    sched = path_schedules(nodes, lanes, ready_dates=[DAY], holds=2 if opt.hold else 0)
    stock = fc_stock(inv, nodes)
    opts = line_options(lines, sched, stock, paths_per_fc=opt.paths_per_fc)
    slots = slot_table(sched, lanes)
    return build_instance(lines, opts, slots, stock, nodes, opt), opts, slots


def grouped(
    pr: pl.DataFrame,
    inv: pl.DataFrame,
    nodes: pl.DataFrame,
    lanes: pl.DataFrame,
    opt: RouteOptions,
) -> Relaxation:
    """The grouped relaxation (lines of one sku, destination and dates pooled)."""
    lines = prepare_lines(pr, None)
    sched = path_schedules(nodes, lanes, ready_dates=[DAY], holds=2 if opt.hold else 0)
    stock = fc_stock(inv, nodes)
    opts = line_options(lines, sched, stock, paths_per_fc=opt.paths_per_fc)
    return relaxation(lines, opts, slot_table(sched, lanes), stock, nodes, opt)


def brute_force(
    pr: pl.DataFrame,
    inv: pl.DataFrame,
    nodes: pl.DataFrame,
    opts: pl.DataFrame,
    slots: pl.DataFrame,
    opt: RouteOptions,
) -> float:
    """Enumerate every choice (an option or unshipped) per line and price it from scratch."""
    lines = pr.sort("order_id", "line").rows(named=True)
    per_line = [[*opts.filter(pl.col("li") == i).rows(named=True), None] for i in range(len(lines))]
    stock = {(r["sku"], r["node"]): r["on_hand"] for r in inv.rows(named=True)}
    daily = {r["node"]: r["daily_capacity"] for r in nodes.rows(named=True)}
    slot = {r["slot"]: r for r in slots.rows(named=True)}
    best = math.inf
    for combo in itertools.product(*per_line):
        used: dict[tuple[str, str], float] = {}
        day: dict[tuple[str, dt.date], float] = {}
        load: dict[str, float] = {}
        boxes: dict[str, set[str]] = {}
        cost = 0.0
        for ln, o, choices in zip(lines, combo, per_line, strict=True):
            if o is None:
                # a line without any option is not a decision: no penalty in the objective
                cost += opt.unshipped_cost * ln["qty"] if len(choices) > 1 else 0.0
                continue
            cost += ln["qty"] * (o["cost_per_unit"] + opt.late_cost * o["late_days"])
            used[(ln["sku"], o["origin"])] = used.get((ln["sku"], o["origin"]), 0) + ln["qty"]
            day[(o["origin"], o["fc_day"])] = day.get((o["origin"], o["fc_day"]), 0) + ln["qty"]
            for s in o["slots"]:
                load[s] = load.get(s, 0.0) + ln["qty"]
            boxes.setdefault(ln["order_id"], set()).add(o["origin"])
        if any(q > stock.get(k, 0.0) + 1e-9 for k, q in used.items()):
            continue
        if any(daily[f] is not None and q > daily[f] + 1e-9 for (f, _), q in day.items()):
            continue
        cost += sum(
            math.ceil(v / slot[s]["capacity"] - 1e-9) * slot[s]["cost_per_truck"]
            for s, v in load.items()
        )
        cost += opt.split_cost * sum(len(b) - 1 for b in boxes.values())
        best = min(best, cost)
    return best


def test_next_departures_skips_days_the_lane_does_not_run() -> None:
    sat = dt.datetime(2026, 11, 7, 22)
    got = next_departures(sat, hour=20, weekdays="1111100", count=2)
    assert got == [dt.datetime(2026, 11, 9, 20), dt.datetime(2026, 11, 10, 20)]


def test_first_fit_decreasing_known_answer() -> None:
    """FFD on Johnson (1973)'s style example: 7,5,4,3,1 into bins of 10 uses 2 bins."""
    bins = first_fit_decreasing(np.array([5.0, 7.0, 3.0, 4.0, 1.0]), 10.0)
    assert bins.tolist() == [1, 0, 0, 1, 1]


def six_lines() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Six lines, two FCs, truck costs that reward consolidation: nodes, lanes, promises,
    inventory."""
    nodes, lanes = network(cap=6.0, truck=40.0)
    pr = promises(
        [
            ("O1", 1, "A", 2, "R-1", 3),
            ("O1", 2, "B", 1, "R-1", 3),
            ("O2", 1, "A", 3, "R-2", 3),
            ("O3", 1, "B", 2, "R-1", 1),
            ("O4", 1, "A", 1, "R-1", 2),
            ("O4", 2, "C", 2, "R-1", 2),
        ]
    )
    inv = inventory(
        {("A", "FC-A"): 4, ("A", "FC-B"): 5, ("B", "FC-A"): 1, ("B", "FC-B"): 3, ("C", "FC-B"): 2}
    )
    return nodes, lanes, pr, inv


def test_mip_equals_brute_force_six_lines() -> None:
    """Exactness: six lines, two FCs, truck costs that reward consolidation."""
    nodes, lanes, pr, inv = six_lines()
    opt = RouteOptions(method="mip", time_limit=20, split_cost=5.0)
    inst, opts, slots = instance(pr, inv, nodes, lanes, opt)
    assert inst.n_opts >= 12
    sol = solve(inst, opt)
    assert sol.objective == pytest.approx(brute_force(pr, inv, nodes, opts, slots, opt))
    assert sol.gap == pytest.approx(0.0, abs=1e-5)


def test_auto_strong_lp_bound_is_valid_and_tighter(monkeypatch: pytest.MonkeyPatch) -> None:
    """With more strong linking rows than the MIP takes, auto solves the line model's LP
    with all of them: its bound is below the brute-force optimum and at least the grouped
    relaxation's, and the plan is never worse than the myopic start."""
    nodes, lanes, pr, inv = six_lines()
    opt = RouteOptions(method="auto", time_limit=20, split_cost=5.0)
    inst, opts, slots = instance(pr, inv, nodes, lanes, opt)
    best = brute_force(pr, inv, nodes, opts, slots, opt)
    relax = grouped(pr, inv, nodes, lanes, opt)
    plain = solve(inst, opt, method="lp-round", relax=relax)
    monkeypatch.setattr(m, "STRONG_MAX_ROWS", 0)
    sol = solve(inst, opt, relax=relax)
    assert sol.method == "lp-round" and "strong LP optimal" in sol.status
    assert plain.bound - 1e-6 <= sol.bound <= best + 1e-6 <= sol.objective + 2e-6


def test_reduced_costs_and_integer_trucks_bound() -> None:
    """The strong LP's reduced costs are nonnegative and vanish where the LP point is
    positive; fixing by them keeps every option of an optimal plan; the MIP with integer
    trucks (lines free to split) lies between the strong LP and the optimum."""
    nodes, lanes, pr, inv = six_lines()
    opt = RouteOptions(method="mip", time_limit=20, split_cost=5.0)
    inst, opts, slots = instance(pr, inv, nodes, lanes, opt)
    best = brute_force(pr, inv, nodes, opts, slots, opt)
    rows = m.strong_links(inst)[0].shape[0]
    xlp, value, status, red = strong_lp(inst, time_limit=20, strong_max_rows=rows)
    assert status == "optimal" and red is not None and xlp is not None
    assert red.x.min() >= -1e-7 and red.y.min() >= -1e-7
    assert float(red.x @ xlp) == pytest.approx(0.0, abs=1e-6)
    exact = solve(inst, opt)
    assert exact.objective == pytest.approx(best)
    keep = m.reduced_cost_fixing(inst, red, value, best + 1e-3)
    assert keep[exact.assign[exact.assign >= 0]].all()
    _, _, trucks_bound, _ = m.solve_model(
        inst, integer=True, x_integer=False, time_limit=20, strong_max_rows=rows
    )
    assert value - 1e-6 <= trucks_bound <= best + 1e-6
    # a cutoff at the optimum prunes nothing below it: the bound stays valid
    _, _, cut_bound, cut_status = m.solve_model(
        inst, integer=True, x_integer=False, time_limit=20, strong_max_rows=rows, cutoff=best
    )
    assert cut_status != "overrun"
    assert min(best, cut_bound) >= trucks_bound - 1e-6
    assert min(best, cut_bound) <= best + 1e-6


def test_strong_model_equals_the_modelling_layer_lp() -> None:
    """The strong LP built directly in HiGHS (bounds as column bounds) has the value of the
    same LP through cvxpy; its reduced costs are nonnegative, vanish on the LP's support,
    and fixing by them keeps every option of an optimal plan."""
    nodes, lanes, pr, inv = six_lines()
    opt = RouteOptions(method="mip", time_limit=20, split_cost=5.0)
    inst, opts, slots = instance(pr, inv, nodes, lanes, opt)
    best = brute_force(pr, inv, nodes, opts, slots, opt)
    rows = m.strong_links(inst)[0].shape[0]
    xlp, value, status, red = StrongModel(inst, strong_max_rows=rows).solve(time_limit=20)
    _, ref, _, ref_status = m.solve_model(inst, integer=False, time_limit=20, strong_max_rows=rows)
    assert status == ref_status == "optimal" and xlp is not None and red is not None
    assert value == pytest.approx(ref, rel=1e-9)
    assert red.x.min() >= -1e-7 and red.y.min() >= -1e-7
    assert float(red.x @ xlp) == pytest.approx(0.0, abs=1e-6)
    exact = solve(inst, opt)
    assert exact.objective == pytest.approx(best)
    keep = m.reduced_cost_fixing(inst, red, value, best + 1e-3)
    assert keep[exact.assign[exact.assign >= 0]].all()


def test_truck_branch_and_bound_stopped_at_once_keeps_the_lp_bound() -> None:
    """With no time the branch and bound answers the strong LP's value (still a bound)."""
    nodes, lanes, pr, inv = six_lines()
    opt = RouteOptions(method="mip", time_limit=20, split_cost=5.0)
    inst, opts, slots = instance(pr, inv, nodes, lanes, opt)
    best = brute_force(pr, inv, nodes, opts, slots, opt)
    rows = m.strong_links(inst)[0].shape[0]
    strong = StrongModel(inst, strong_max_rows=rows)
    _, value, _, _ = strong.solve(time_limit=20)
    out = strong.branch_trucks(np.ones(inst.n_opts, dtype=bool), math.inf, time_limit=0.0)
    assert out.status == "user_limit" and out.bound == pytest.approx(value)
    assert out.bound <= best + 1e-6
    # and without a strong LP solved first there is no bound
    fresh = StrongModel(inst, strong_max_rows=rows)
    assert fresh.branch_trucks(np.ones(inst.n_opts, dtype=bool), math.inf, time_limit=5).bound == (
        -math.inf
    )


@pytest.mark.parametrize("fork", [True, False])
def test_support_mip_and_trucks_bound_at_once_or_in_turn(
    monkeypatch: pytest.MonkeyPatch, fork: bool
) -> None:
    """The strong path runs the support MIP in a child beside the integer-trucks bound where
    it can fork, in turn where it cannot: the same optimum and a valid bound either way."""
    from scot_cli.route import bounded

    if fork and not bounded.forkable():
        pytest.skip("needs fork")
    monkeypatch.setattr(bounded, "forkable", lambda: fork)
    monkeypatch.setattr(m, "STRONG_MAX_ROWS", -1)
    nodes, lanes, pr, inv = six_lines()
    opt = RouteOptions(method="auto", time_limit=20, split_cost=5.0)
    inst, opts, slots = instance(pr, inv, nodes, lanes, opt)
    best = brute_force(pr, inv, nodes, opts, slots, opt)
    sol = solve(inst, opt, relax=grouped(pr, inv, nodes, lanes, opt))
    assert "strong LP optimal" in sol.status and "integer trucks" in sol.status
    assert sol.bound <= best + 1e-6 <= sol.objective + 2e-6
    assert sol.objective == pytest.approx(best)


def test_started_child_runs_beside_this_process() -> None:
    """A call started in a child runs while this process works: two one-second sleeps, one
    in each, end in well under two seconds."""
    from scot_cli.route import bounded

    if not bounded.forkable():
        pytest.skip("needs fork")
    t0 = time.monotonic()
    pending = bounded.start_with_deadline(_nap, 1.0, seconds=10.0)
    time.sleep(1.0)
    assert pending.wait() == (True, 1.0)
    assert time.monotonic() - t0 < 1.8


def _nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


line_rows = st.lists(
    st.tuples(
        st.sampled_from(["A", "B"]),
        st.integers(1, 4),
        st.sampled_from(["R-1", "R-2"]),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=5,
)


def random_case(
    rows: list[tuple[str, int, str, int]], stock: list[int], truck: float, fc_cap: float | None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Nodes, lanes, promises and inventory of a random instance (two lines per order)."""
    nodes, lanes = network(cap=5.0, truck=truck, fc_cap=fc_cap)
    pr = promises([(f"O{i // 2}", i % 2 + 1, s, q, d, p) for i, (s, q, d, p) in enumerate(rows)])
    keys = [("A", "FC-A"), ("A", "FC-B"), ("B", "FC-A"), ("B", "FC-B")]
    inv = inventory(dict(zip(keys, map(float, stock), strict=True)))
    return nodes, lanes, pr, inv


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=line_rows,
    stock=st.lists(st.integers(0, 6), min_size=4, max_size=4),
    truck=st.sampled_from([5.0, 30.0, 200.0]),
    split=st.sampled_from([0.0, 8.0]),
    fc_cap=st.sampled_from([None, 4.0]),
)
def test_mip_equals_brute_force_random(
    rows: list[tuple[str, int, str, int]],
    stock: list[int],
    truck: float,
    split: float,
    fc_cap: float | None,
) -> None:
    """Exactness on random instances of up to five lines."""
    nodes, lanes, pr, inv = random_case(rows, stock, truck, fc_cap)
    opt = RouteOptions(method="mip", time_limit=20, split_cost=split)
    inst, opts, slots = instance(pr, inv, nodes, lanes, opt)
    best = brute_force(pr, inv, nodes, opts, slots, opt)
    assert solve(inst, opt).objective == pytest.approx(best, rel=1e-6)
    lp = solve(inst, opt, method="lp-round")
    assert lp.bound <= best + 1e-6 <= lp.objective + 2e-6
    relaxed = solve(inst, opt, method="lp-round", relax=grouped(pr, inv, nodes, lanes, opt))
    assert relaxed.bound <= best + 1e-6 <= relaxed.objective + 2e-6
    # the strong LP path: its bound, raised by the MIP with integer trucks over the options
    # that reduced-cost fixing keeps, stays below the optimum
    with patch.object(m, "STRONG_MAX_ROWS", -1):
        strong = solve(inst, opt.replace(method="auto"))
    assert inst.n_opts == 0 or "integer trucks" in strong.status
    assert strong.bound <= best + 1e-6 <= strong.objective + 2e-6


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=line_rows,
    stock=st.lists(st.integers(0, 6), min_size=4, max_size=4),
    truck=st.sampled_from([5.0, 30.0, 200.0]),
    split=st.sampled_from([0.0, 8.0]),
    fc_cap=st.sampled_from([None, 4.0]),
)
def test_truck_branch_and_bound_equals_the_relaxation_mip(
    rows: list[tuple[str, int, str, int]],
    stock: list[int],
    truck: float,
    split: float,
    fc_cap: float | None,
) -> None:
    """Exactness of the integer-trucks bound on random instances: the branch and bound from
    the strong LP's basis closes at the optimum of the same relaxation solved by HiGHS's
    MIP, which lies between the strong LP and the brute-force optimum; with reduced-cost
    fixing and a cutoff just above the optimum its bound stays at most the optimum."""
    nodes, lanes, pr, inv = random_case(rows, stock, truck, fc_cap)
    opt = RouteOptions(method="mip", time_limit=20, split_cost=split)
    inst, opts, slots = instance(pr, inv, nodes, lanes, opt)
    if not inst.n_opts:
        return
    best = brute_force(pr, inv, nodes, opts, slots, opt)
    n_rows = m.strong_links(inst)[0].shape[0]
    strong = StrongModel(inst, strong_max_rows=n_rows)
    _, value, status, red = strong.solve(time_limit=20)
    assert status == "optimal" and red is not None
    every = np.ones(inst.n_opts, dtype=bool)
    out = strong.branch_trucks(every, math.inf, time_limit=20)
    _, relaxed, _, mip_status = m.solve_model(
        inst, integer=True, x_integer=False, time_limit=20, strong_max_rows=n_rows, mip_rel_gap=0
    )
    assert out.status == "optimal" and mip_status == "optimal"
    assert out.bound == pytest.approx(relaxed, rel=1e-6, abs=1e-6)
    # solver tolerance: LP values agree to about 1e-9 of the objective (1e6 with penalties)
    tol = 1e-6 + 1e-8 * abs(best)
    assert value - tol <= out.bound <= best + tol
    assert out.points and len(out.points[0]) == inst.n_opts
    cutoff = best + 1e-3
    fixed = StrongModel(inst, strong_max_rows=n_rows)
    _, value, _, red = fixed.solve(time_limit=20)
    assert red is not None
    keep = m.reduced_cost_fixing(inst, red, value, cutoff)
    cut = fixed.branch_trucks(keep, cutoff, time_limit=20)
    assert min(cutoff, out.bound) - tol <= cut.bound <= best + tol


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["A", "B"]),
            st.integers(1, 9),
            st.sampled_from(["R-1", "R-2"]),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=25,
    ),
    stock=st.lists(st.integers(0, 30), min_size=4, max_size=4),
    method=st.sampled_from(["mip", "lp-round", "myopic"]),
    hold=st.booleans(),
)
def test_every_line_once_and_trucks_within_capacity(
    rows: list[tuple[str, int, str, int]], stock: list[int], method: str, hold: bool
) -> None:
    """Invariants: one row per line, shipped or unshipped with a reason; no truck above its
    capacity; stock never overdrawn."""
    nodes, lanes = network(cap=10.0, truck=50.0)
    pr = promises([(f"O{i // 3}", i % 3 + 1, s, q, d, p) for i, (s, q, d, p) in enumerate(rows)])
    inv = inventory(
        dict(
            zip(
                [("A", "FC-A"), ("A", "FC-B"), ("B", "FC-A"), ("B", "FC-B")],
                map(float, stock),
                strict=True,
            )
        )
    )
    plan = route_lines(
        pr,
        inventory=inv,
        nodes=nodes,
        lanes=lanes,
        options=RouteOptions(method=method, time_limit=5, hold=hold),
    )
    ship, trucks = plan.shipments, plan.trucks
    assert (
        ship.select("order_id", "line")
        .sort("order_id", "line")
        .equals(pr.select("order_id", "line").sort("order_id", "line"))
    )
    assert (ship.filter(pl.col("status") == "unshipped")["ship_node"].is_null()).all()
    assert ship.filter(pl.col("status") != "on_time")["reason"].is_not_null().all()
    if trucks.height:
        assert (trucks["load"] <= trucks["capacity"] + 1e-9).all()
        legs = (
            ship.filter(pl.col("truck_ids").is_not_null())
            .select(pl.col("truck_ids").str.split("|"), "volume")
            .explode("truck_ids")
        )
        per_truck = legs.group_by("truck_ids").agg(pl.col("volume").sum())
        joined = per_truck.join(trucks, left_on="truck_ids", right_on="truck_id")
        assert joined.height == trucks.height
        assert np.allclose(joined["volume"], joined["load"])
    used = (
        ship.filter(pl.col("ship_node").is_not_null())
        .group_by("sku", "ship_node")
        .agg(pl.col("qty").sum())
    )
    over = used.join(inv, left_on=["sku", "ship_node"], right_on=["sku", "node"]).filter(
        pl.col("qty") > pl.col("on_hand") + 1e-9
    )
    assert over.height == 0


def test_hold_waits_for_a_later_departure_that_still_keeps_the_promise() -> None:
    """Two lines promised far ahead: without hold they leave on different days' first
    departures only if released apart; with hold the earlier line waits to share a truck."""
    nodes, lanes = network(cap=10.0, truck=100.0)
    pr = promises([("O1", 1, "A", 1, "R-1", 6), ("O2", 1, "A", 1, "R-1", 6)]).with_columns(
        pl.Series("ship_date", [DAY, DAY + dt.timedelta(days=1)])
    )
    inv = inventory({("A", "FC-A"): 10})
    plain = route_lines(
        pr,
        inventory=inv,
        nodes=nodes,
        lanes=lanes,
        options=RouteOptions(method="mip", time_limit=10),
    )
    held = route_lines(
        pr,
        inventory=inv,
        nodes=nodes,
        lanes=lanes,
        options=RouteOptions(method="mip", time_limit=10, hold=True),
    )
    assert held.trucks.height < plain.trucks.height
    assert held.shipments["on_time"].all()
    assert held.summary.objective < plain.summary.objective


def test_reasons_no_stock_and_no_lane_fast_enough() -> None:
    nodes, lanes = network()
    pr = promises([("O1", 1, "Z", 1, "R-1", 3), ("O2", 1, "A", 1, "R-1", 0)])
    inv = inventory({("A", "FC-A"): 5})
    plan = route_lines(
        pr,
        inventory=inv,
        nodes=nodes,
        lanes=lanes,
        options=RouteOptions(method="mip", time_limit=5),
    )
    got = dict(zip(plan.shipments["order_id"], plan.shipments["reason"], strict=True))
    assert got == {"O1": "no stock", "O2": "no lane fast enough"}
    status = dict(zip(plan.shipments["order_id"], plan.shipments["status"], strict=True))
    assert status == {"O1": "unshipped", "O2": "late"}


def test_capacity_full_when_the_fc_day_is_used_up() -> None:
    nodes, lanes = network(fc_cap=2.0)
    pr = promises([("O1", 1, "A", 2, "R-1", 3), ("O2", 1, "A", 2, "R-1", 3)])
    inv = inventory({("A", "FC-A"): 10})
    plan = route_lines(
        pr,
        inventory=inv,
        nodes=nodes,
        lanes=lanes,
        options=RouteOptions(method="mip", time_limit=5),
    )
    s = plan.shipments.sort("order_id")
    assert s["status"].to_list().count("on_time") == 1
    assert "capacity full" in s["reason"].to_list()


def test_backorder_and_unavailable_lines_are_not_shipped_today() -> None:
    nodes, lanes = network()
    pr = promises(
        [("O1", 1, "A", 1, "R-1", 3), ("O2", 1, "A", 1, "R-1", 3), ("O3", 1, "A", 1, "R-1", 3)]
    ).with_columns(pl.Series("status", ["promised", "backorder", "unavailable"]))
    inv = inventory({("A", "FC-A"): 10})
    plan = route_lines(
        pr,
        inventory=inv,
        nodes=nodes,
        lanes=lanes,
        options=RouteOptions(method="mip", time_limit=5),
    )
    assert plan.shipments.sort("order_id")["reason"].to_list() == [
        None,
        "backorder",
        "not promised",
    ]


def test_hold_with_no_stock_anywhere_leaves_the_plan() -> None:
    """No line can ship (no stock): --hold has nothing to move and the plan stands."""
    nodes, lanes = network()
    pr = promises([("O1", 1, "A", 1, "R-1", 0)])
    inv = inventory({("A", "FC-A"): 0, ("A", "FC-B"): 0})
    plan = route_lines(
        pr,
        inventory=inv,
        nodes=nodes,
        lanes=lanes,
        options=RouteOptions(method="mip", time_limit=5, hold=True),
    )
    assert plan.shipments["status"].to_list() == ["unshipped"]
    assert plan.trucks.height == 0


def test_optimiser_never_worse_than_myopic_on_consolidation() -> None:
    """Lines from both FCs to one region: the optimiser pools them on fewer trucks."""
    nodes, lanes = network(cap=20.0, truck=60.0)
    pr = promises([(f"O{i}", 1, "A", 1, "R-1", 3) for i in range(8)])
    inv = inventory({("A", "FC-A"): 8, ("A", "FC-B"): 8})
    base = route_lines(
        pr, inventory=inv, nodes=nodes, lanes=lanes, options=RouteOptions(method="myopic")
    )
    best = route_lines(
        pr,
        inventory=inv,
        nodes=nodes,
        lanes=lanes,
        options=RouteOptions(method="mip", time_limit=5),
    )
    assert best.summary.objective <= base.summary.objective + 1e-6
    assert best.summary.bound is not None
    assert best.summary.bound <= best.summary.objective + 1e-6


def test_in_transit_stock_counts_once_it_has_arrived() -> None:
    """Units in transit with an eta on or before the first ship date are shippable."""
    nodes, lanes = network()
    pr = promises([("O1", 1, "A", 2, "R-1", 3), ("O2", 1, "B", 2, "R-1", 3)])
    inv = pl.DataFrame(
        {
            "sku": ["A", "B"],
            "node": ["FC-A", "FC-A"],
            "on_hand": [0.0, 0.0],
            "in_transit": [5.0, 5.0],
            "eta": [DAY, DAY + dt.timedelta(days=1)],
        }
    )
    plan = route_lines(
        pr,
        inventory=inv,
        nodes=nodes,
        lanes=lanes,
        options=RouteOptions(method="mip", time_limit=5),
    )
    got = dict(zip(plan.shipments["order_id"], plan.shipments["status"], strict=True))
    assert got == {"O1": "on_time", "O2": "unshipped"}


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["A", "B"]),
            st.integers(1, 5),
            st.sampled_from(["R-1", "R-2"]),
            st.integers(0, 6),
            st.integers(0, 2),
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_hold_is_an_improvement_that_breaks_no_promise(
    rows: list[tuple[str, int, str, int, int]],
) -> None:
    """--hold starts from the plan without holding: never a higher cost, every line on time
    without holding stays on time, none arrives later than the promise allows."""
    nodes, lanes = network(cap=10.0, truck=100.0)
    pr = promises(
        [(f"O{i}", 1, s, q, d, p + r) for i, (s, q, d, p, r) in enumerate(rows)]
    ).with_columns(pl.Series("ship_date", [DAY + dt.timedelta(days=r[4]) for r in rows]))
    inv = inventory({("A", "FC-A"): 30, ("A", "FC-B"): 30, ("B", "FC-A"): 30})
    plans = {
        hold: route_lines(
            pr,
            inventory=inv,
            nodes=nodes,
            lanes=lanes,
            options=RouteOptions(method="mip", time_limit=5, hold=hold),
        )
        for hold in (False, True)
    }
    plain, held = plans[False], plans[True]
    assert held.summary.objective <= plain.summary.objective + 1e-6
    on_time = plain.shipments.filter(pl.col("status") == "on_time").select("order_id")
    kept = held.shipments.join(on_time, on="order_id")
    assert (kept["status"] == "on_time").all()
    assert held.shipments["status"].is_in(["on_time", "late", "unshipped"]).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=line_rows,
    stock=st.lists(st.integers(0, 6), min_size=4, max_size=4),
    truck=st.sampled_from([5.0, 30.0, 200.0]),
    split=st.sampled_from([0.0, 8.0, 60.0]),
    fc_cap=st.sampled_from([None, 4.0]),
)
def test_order_split_bound_between_the_grouped_lp_and_the_optimum(
    rows: list[tuple[str, int, str, int]],
    stock: list[int],
    truck: float,
    split: float,
    fc_cap: float | None,
) -> None:
    """The grouped LP's duals with each order's boxes priced: a bound at least the grouped
    LP's value and at most the brute-force optimum."""
    nodes, lanes, pr, inv = random_case(rows, stock, truck, fc_cap)
    opt = RouteOptions(method="lp-round", time_limit=20, split_cost=split)
    inst, opts, slots = instance(pr, inv, nodes, lanes, opt)
    relax = grouped(pr, inv, nodes, lanes, opt)
    bound, status = order_split_bound(inst, relax.inst, relax.line_goi, time_limit=20)
    if not inst.n_opts:
        assert bound == -math.inf
        return
    best = brute_force(pr, inv, nodes, opts, slots, opt)
    _, lp_value, _, lp_status = m.solve_model(
        relax.inst, integer=False, time_limit=20, split=False, strong_max_rows=400_000
    )
    assert status == lp_status == "optimal"
    tol = 1e-6 + 1e-8 * abs(best)
    assert lp_value - tol <= bound <= best + tol


def test_order_split_bound_prices_a_forced_second_box() -> None:
    """An order whose two skus are stocked at different FCs needs two boxes: the grouped LP
    has no split cost, the order bound adds it (and stays at most the optimum)."""
    nodes, lanes = network(cap=10.0, truck=1.0)
    pr = promises([("O1", 1, "A", 1, "R-1", 3), ("O1", 2, "B", 1, "R-1", 3)])
    inv = inventory({("A", "FC-A"): 5, ("B", "FC-B"): 5})
    opt = RouteOptions(method="lp-round", time_limit=20, split_cost=50.0)
    inst, opts, slots = instance(pr, inv, nodes, lanes, opt)
    relax = grouped(pr, inv, nodes, lanes, opt)
    best = brute_force(pr, inv, nodes, opts, slots, opt)
    _, lp_value, _, _ = m.solve_model(
        relax.inst, integer=False, time_limit=20, split=False, strong_max_rows=400_000
    )
    bound, status = order_split_bound(inst, relax.inst, relax.line_goi, time_limit=20)
    assert status == "optimal"
    assert bound == pytest.approx(lp_value + 50.0, rel=1e-9)
    assert bound <= best + 1e-6


def with_parallel_modes(lanes: pl.DataFrame) -> pl.DataFrame:
    """The lanes plus an air lane beside each ground lane out of an FC (same nodes, faster,
    dearer per unit, cheaper per truck, half the capacity): two options on one path."""
    air = lanes.filter(pl.col("origin").str.starts_with("FC") & (pl.col("mode") == "ground"))
    air = air.with_columns(
        pl.lit("air").alias("mode"),
        pl.col("transit_days") * 0.5,
        pl.col("cost_per_unit") * 2.0,
        pl.col("truck_capacity") / 2.0,
        pl.col("cost_per_truck") * 0.3,
        pl.lit(22, pl.Int64).alias("departure_hour"),
    )
    return pl.concat([lanes, air.select(lanes.columns)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=line_rows,
    stock=st.lists(st.integers(0, 6), min_size=4, max_size=4),
    truck=st.sampled_from([5.0, 30.0, 200.0]),
    split=st.sampled_from([0.0, 8.0, 60.0]),
)
def test_grouped_bounds_valid_with_lanes_of_two_modes_on_one_path(
    rows: list[tuple[str, int, str, int]], stock: list[int], truck: float, split: float
) -> None:
    """Lines of one group whose options share a path but not its modes (so neither costs
    nor departures) keep them apart in the grouped relaxation: its bound and the order
    bound stay at most the brute-force optimum."""
    from scot_cli.route.relax import relaxed_bound

    nodes, lanes, pr, inv = random_case(rows, stock, truck, None)
    lanes = with_parallel_modes(lanes)
    opt = RouteOptions(method="lp-round", time_limit=20, split_cost=split)
    inst, opts, slots = instance(pr, inv, nodes, lanes, opt)
    if not inst.n_opts:
        return
    relax = grouped(pr, inv, nodes, lanes, opt)
    best = brute_force(pr, inv, nodes, opts, slots, opt)
    tol = 1e-6 + 1e-8 * abs(best)
    relaxed, _, _ = relaxed_bound(relax.inst, relax.line_goi, time_limit=20)
    assert relaxed <= best + tol
    _, lp_value, _, _ = m.solve_model(
        relax.inst, integer=False, time_limit=20, split=False, strong_max_rows=400_000
    )
    bound, _ = order_split_bound(inst, relax.inst, relax.line_goi, time_limit=20)
    assert lp_value - tol <= bound <= best + tol
