"""Placement LP: known optima, speed targets, scarce capacity, fair share, conservation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scot_cli.place.options import PlaceOptions
from scot_cli.place.plan import before, evaluate, proportional_targets, solve
from scot_cli.place.problem import PlaceProblem
from scot_cli.place.report import constraints_frame, placement_frame, within_days


def make_problem(
    *,
    current: list[list[float]],
    mu: list[list[float]],
    cost: list[list[float]],
    days: list[list[int]] | None = None,
    sd: list[list[float]] | None = None,
    arriving: list[float] | None = None,
    lost: float = 100.0,
    holding: float = 0.0,
    transfer_cost: float = 1e4,
    storage: list[float] | None = None,
    volume: list[float] | None = None,
) -> PlaceProblem:
    """A problem with every FC -> region arc, from small nested lists."""
    cur = np.array(current, float)
    n_s, n_f = cur.shape
    mu_a = np.array(mu, float)
    n_r = mu_a.shape[1]
    cost_a = np.array(cost, float)
    days_a = np.ones((n_f, n_r), int) if days is None else np.array(days, int)
    fc, reg = np.meshgrid(np.arange(n_f), np.arange(n_r), indexing="ij")
    return PlaceProblem(
        skus=[f"S{i}" for i in range(n_s)],
        fcs=[f"F{i}" for i in range(n_f)],
        regions=[f"R{i}" for i in range(n_r)],
        mu=mu_a,
        sd=np.zeros_like(mu_a) if sd is None else np.array(sd, float),
        volume=np.ones(n_s) if volume is None else np.array(volume, float),
        holding=np.full((n_s, n_f), holding),
        current=cur,
        arriving=np.zeros(n_s) if arriving is None else np.array(arriving, float),
        inbound_cost=np.zeros((n_s, n_f)),
        transfer_cost=np.full((n_s, n_f), transfer_cost),
        eligible=np.ones((n_s, n_f), bool),
        lost=np.full((n_s, n_r), lost),
        arc_fc=fc.ravel(),
        arc_region=reg.ravel(),
        arc_cost=cost_a.ravel(),
        arc_days=days_a.ravel(),
        storage=np.full(n_f, np.inf) if storage is None else np.array(storage, float),
        throughput=np.full(n_f, np.inf),
    )


def test_transportation_winston_powerco_optimum_1020() -> None:
    """Winston, Operations Research (4th ed.), Sec. 7.1 Powerco: optimal cost $1020."""
    prob = make_problem(
        current=[[35, 50, 40]],
        mu=[[45, 20, 30, 30]],
        cost=[[8, 6, 10, 9], [9, 12, 13, 7], [14, 9, 16, 5]],
    )
    plan = solve(prob, PlaceOptions())
    assert plan.costs["shipping"] == pytest.approx(1020.0, abs=1e-6)
    assert plan.costs["shortage"] == pytest.approx(0.0, abs=1e-6)
    assert plan.tin.sum() == pytest.approx(0.0, abs=1e-9)


def test_cheap_transfer_moves_stock_next_to_demand() -> None:
    prob = make_problem(current=[[10, 0]], mu=[[0, 10]], cost=[[5, 5], [5, 1]], transfer_cost=1.0)
    plan = solve(prob, PlaceOptions())
    assert plan.target[0] == pytest.approx([0.0, 10.0], abs=1e-6)
    assert plan.costs["moves"] + plan.costs["shipping"] == pytest.approx(20.0, abs=1e-6)


def _speed_case() -> PlaceProblem:
    # far FC ships for 1 in 3 days, near FC for 2 in 1 day; 100 units of demand
    return make_problem(current=[[100, 100]], mu=[[100]], cost=[[1], [2]], days=[[3], [1]])


def test_speed_target_that_binds_has_the_cost_gap_as_shadow_price() -> None:
    prob = _speed_case()
    plan = solve(prob, PlaceOptions(speed_target=(1, 0.6), late_cost=0.0))
    assert plan.costs["shipping"] == pytest.approx(60 * 2 + 40 * 1, abs=1e-6)
    assert within_days(plan, 1)[0] == pytest.approx(60.0, abs=1e-6)
    row = constraints_frame(plan, PlaceOptions(speed_target=(1, 0.6))).row(0, named=True)
    assert row["constraint"] == "speed"
    assert row["binding"] is True
    assert row["status"] == "binding"
    assert row["shadow_price"] == pytest.approx(1.0, abs=1e-6)


def test_speed_target_that_does_not_bind_is_slack_with_zero_price() -> None:
    prob = _speed_case()
    unconstrained = solve(prob, PlaceOptions())
    loose = PlaceOptions(speed_target=(3, 0.8), late_cost=0.0)
    plan = solve(prob, loose)
    assert plan.costs["shipping"] == pytest.approx(unconstrained.costs["shipping"])
    row = constraints_frame(plan, loose).row(0, named=True)
    assert (row["binding"], row["status"], row["shadow_price"]) == (False, "slack", 0.0)
    assert row["slack"] == pytest.approx(20.0)


def test_unreachable_speed_target_is_reported_not_infeasible() -> None:
    prob = make_problem(current=[[100]], mu=[[50]], cost=[[1]], days=[[2]])
    cfg = PlaceOptions(speed_target=(1, 0.8))
    plan = solve(prob, cfg)
    row = constraints_frame(plan, cfg).row(0, named=True)
    assert row["status"] == "unreachable"
    assert row["violation"] == pytest.approx(40.0)
    assert plan.sales.sum() == pytest.approx(50.0)


def test_supply_short_of_demand_reports_unmet_at_the_lost_sale_cost() -> None:
    prob = make_problem(current=[[20, 30]], mu=[[40, 40]], cost=[[1, 2], [2, 1]], lost=7.0)
    plan = solve(prob, PlaceOptions())
    assert plan.sales.sum() == pytest.approx(50.0)
    assert plan.costs["shortage"] == pytest.approx(30 * 7.0)
    assert plan.costs["shipping"] == pytest.approx(50.0)


def test_storage_short_of_stock_is_a_penalised_violation() -> None:
    prob = make_problem(current=[[30]], mu=[[10]], cost=[[1]], storage=[20.0])
    cfg = PlaceOptions()
    plan = solve(prob, cfg)
    row = constraints_frame(plan, cfg).row(0, named=True)
    assert (row["constraint"], row["status"]) == ("storage", "violated")
    assert row["violation"] == pytest.approx(10.0)
    assert row["slack"] == pytest.approx(-10.0)


def test_binding_storage_has_a_shadow_price_and_pushes_stock_elsewhere() -> None:
    # arriving units prefer F0 (ships for 1) but F0 holds only 10; F1 ships for 3
    prob = make_problem(
        current=[[0, 0]], mu=[[30]], cost=[[1], [3]], arriving=[30], storage=[10.0, 100.0]
    )
    cfg = PlaceOptions()
    plan = solve(prob, cfg)
    assert plan.target[0] == pytest.approx([10.0, 20.0], abs=1e-6)
    row = constraints_frame(plan, cfg).filter(node="F0").row(0, named=True)
    assert row["status"] == "binding"
    assert row["shadow_price"] == pytest.approx(2.0, abs=1e-6)


def test_fair_share_gives_nothing_to_the_overstocked_fc() -> None:
    # F0 holds 50 for its 40 of demand; F1 holds nothing for its 40; 20 units arrive.
    prob = make_problem(
        current=[[50, 0]],
        mu=[[40, 40]],
        cost=[[1, 3], [3, 1]],
        days=[[1, 3], [3, 1]],
        arriving=[20],
        transfer_cost=0.1,
    )
    plan = solve(prob, PlaceOptions(), fair_share=True)
    assert plan.fair.tolist() == [True]
    assert plan.rec[0] == pytest.approx([0.0, 20.0], abs=1e-6)
    assert plan.tin.sum() == pytest.approx(0.0, abs=1e-9)
    frame = placement_frame(plan)
    assert frame["inbound_units"].to_list() == [0.0, 20.0]
    assert frame["fair_share"].to_list() == [True, True]


def test_fair_share_equalises_days_of_cover() -> None:
    prob = make_problem(
        current=[[10, 0, 0]],
        mu=[[20, 40, 20]],
        cost=[[1, 3, 3], [3, 1, 3], [3, 3, 1]],
        arriving=[30],
    )
    plan = solve(prob, PlaceOptions(), fair_share=True)
    cover = plan.target[0] / np.array([20, 40, 20])
    assert cover == pytest.approx([0.5, 0.5, 0.5], abs=1e-6)


def test_fair_share_leaves_plentiful_skus_to_the_lp() -> None:
    prob = make_problem(current=[[100, 0]], mu=[[5, 5]], cost=[[1, 3], [3, 1]], arriving=[10])
    plan = solve(prob, PlaceOptions(), fair_share=True)
    assert plan.fair.tolist() == [False]


def test_before_keeps_positions_and_placement_is_no_worse() -> None:
    prob = make_problem(
        current=[[40, 0]],
        mu=[[20, 20]],
        cost=[[1, 3], [3, 1]],
        transfer_cost=0.5,
        days=[[1, 3], [3, 1]],
    )
    cfg = PlaceOptions()
    base, plan = before(prob, cfg), solve(prob, cfg)
    assert base.target[0] == pytest.approx([40.0, 0.0])
    assert plan.total_cost <= base.total_cost + 1e-6
    assert within_days(plan, 1).sum() > within_days(base, 1).sum()


def test_proportional_rule_splits_supply_by_nearest_demand() -> None:
    prob = make_problem(
        current=[[30, 0]],
        mu=[[10, 20]],
        cost=[[1, 3], [3, 1]],
        days=[[1, 3], [3, 1]],
        arriving=[30],
    )
    target = proportional_targets(prob)
    assert target[0] == pytest.approx([20.0, 40.0])
    plan = evaluate(prob, target, PlaceOptions())
    assert plan.target[0] == pytest.approx([20.0, 40.0])
    assert plan.rec[0].sum() == pytest.approx(30.0)


def test_proportional_rule_receives_buys_of_skus_without_demand() -> None:
    # S0 has no demand but 4 units arriving: the rule once kept its current stock only, so
    # the targets lost the buys and evaluate() raised InfeasibleError (receipts fixed at 0).
    prob = make_problem(
        current=[[5, 0], [0, 0], [30, 0]],
        mu=[[0, 0], [0, 0], [10, 20]],
        cost=[[1, 3], [3, 1]],
        arriving=[4, 6, 0],
    )
    target = proportional_targets(prob)
    assert target[0] == pytest.approx([9.0, 0.0])
    assert target[1] == pytest.approx([3.0, 3.0])
    assert target[2] == pytest.approx([10.0, 20.0])
    plan = evaluate(prob, target, PlaceOptions())
    assert plan.rec.sum(axis=1) == pytest.approx([4.0, 6.0, 0.0])
    assert plan.target == pytest.approx(target)


@st.composite
def problems(draw: st.DrawFn) -> PlaceProblem:
    n_s = draw(st.integers(1, 3))
    n_f = draw(st.integers(1, 3))
    n_r = draw(st.integers(1, 3))
    whole = st.integers(0, 40)
    current = [[float(draw(whole)) for _ in range(n_f)] for _ in range(n_s)]
    mu = [[float(draw(whole)) for _ in range(n_r)] for _ in range(n_s)]
    sd = [[draw(st.floats(0, 5)) for _ in range(n_r)] for _ in range(n_s)]
    cost = [[draw(st.floats(0.5, 3)) for _ in range(n_r)] for _ in range(n_f)]
    days = [[draw(st.integers(1, 3)) for _ in range(n_r)] for _ in range(n_f)]
    arriving = [float(draw(st.integers(0, 20))) for _ in range(n_s)]
    storage = [draw(st.sampled_from([np.inf, 30.0, 80.0])) for _ in range(n_f)]
    return make_problem(
        current=current,
        mu=mu,
        cost=cost,
        days=days,
        sd=sd,
        arriving=arriving,
        lost=4.0,
        holding=0.05,
        transfer_cost=draw(st.floats(0.1, 2)),
        storage=storage,
    )


@settings(max_examples=25, deadline=None)
@given(prob=problems(), fair=st.booleans(), speed=st.booleans())
def test_placement_conserves_units(prob: PlaceProblem, fair: bool, speed: bool) -> None:
    cfg = PlaceOptions(speed_target=(1, 0.7)) if speed else PlaceOptions()
    frame = placement_frame(solve(prob, cfg, fair_share=fair))
    per_sku = frame.drop("node", "fair_share").group_by("sku").sum().sort("sku")
    supply = prob.current.sum(axis=1) + prob.arriving
    assert per_sku["target_units"].to_numpy() == pytest.approx(supply, abs=1e-6)
    assert per_sku["transfer_in"].to_numpy() == pytest.approx(
        per_sku["transfer_out"].to_numpy(), abs=1e-6
    )
    assert per_sku["inbound_units"].to_numpy() == pytest.approx(prob.arriving, abs=1e-6)
    assert (frame["target_units"] >= 0).all()
    # whole units, except where fair share splits a shortage (its receipts stay fractional)
    whole = frame.filter(~frame["fair_share"])["target_units"]
    assert (whole == whole.round()).all()
    rebuilt = (
        frame["current_units"]
        + frame["inbound_units"]
        + frame["transfer_in"]
        - frame["transfer_out"]
    )
    assert rebuilt.to_numpy() == pytest.approx(frame["target_units"].to_numpy(), abs=1e-6)


def test_dot_matches_numpy_without_blas_threads() -> None:
    from scot_cli.place.model import dot

    rng = np.random.default_rng(7)
    a, b = rng.normal(size=46_000), rng.normal(size=46_000)
    assert dot(a, b) == pytest.approx(float(np.dot(a, b)), rel=1e-12, abs=1e-9)
    assert dot(a, b) == dot(a.copy(), b.copy())
    assert dot(np.zeros(0), np.zeros(0)) == 0.0
