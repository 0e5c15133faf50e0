"""Batched solve: close to the single LP, conserves units, respects the shared limits."""

from __future__ import annotations

import numpy as np
import pytest

from scot_cli.place.decompose import before_batched, solve_batched
from scot_cli.place.options import PlaceOptions
from scot_cli.place.plan import before, solve
from scot_cli.place.problem import PlaceProblem
from scot_cli.place.report import constraints_frame, placement_frame


def generated(n_skus: int, seed: int = 1) -> PlaceProblem:
    """A small coupled problem: 3 FCs, 4 regions, tight storage, uneven supply."""
    rng = np.random.default_rng(seed)
    n_f, n_r = 3, 4
    mu = rng.uniform(0, 20, (n_skus, n_r))
    current = np.round(rng.uniform(0, 25, (n_skus, n_f)))
    volume = rng.uniform(0.5, 2.0, n_skus)
    fc, reg = np.meshgrid(np.arange(n_f), np.arange(n_r), indexing="ij")
    cost = rng.uniform(1, 3, (n_f, n_r))
    stock = float((volume * current.sum(axis=1)).sum())
    return PlaceProblem(
        skus=[f"S{i:03d}" for i in range(n_skus)],
        fcs=["F0", "F1", "F2"],
        regions=["R0", "R1", "R2", "R3"],
        mu=mu,
        sd=np.sqrt(mu),
        volume=volume,
        holding=np.full((n_skus, n_f), 0.05),
        current=current,
        arriving=np.round(rng.uniform(0, 10, n_skus)),
        inbound_cost=np.full((n_skus, n_f), 0.3),
        transfer_cost=np.full((n_skus, n_f), 0.4),
        eligible=rng.uniform(size=(n_skus, n_f)) < 0.8,
        lost=np.full((n_skus, n_r), 8.0),
        arc_fc=fc.ravel(),
        arc_region=reg.ravel(),
        arc_cost=cost.ravel(),
        arc_days=rng.integers(1, 4, n_f * n_r),
        storage=np.array([0.3, 0.4, 0.5]) * stock,
        throughput=np.full(n_f, float(mu.sum())),
    )


def test_batched_solve_is_close_to_the_single_lp() -> None:
    prob = generated(40)
    settings = PlaceOptions(speed_target=(2, 0.6))
    prob.eligible[:, 0] = True
    single = solve(prob, settings)
    batched = solve_batched(prob, settings, batch_size=20)
    assert batched.total_cost >= single.total_cost - 1e-6
    assert batched.bound is not None
    assert batched.bound <= single.total_cost + 1e-6
    assert batched.total_cost == pytest.approx(single.total_cost, rel=0.02)


def test_batched_plan_conserves_units_and_reports_constraints() -> None:
    prob = generated(45, seed=4)
    settings = PlaceOptions(speed_target=(2, 0.6))
    plan = solve_batched(prob, settings, batch_size=20)
    frame = placement_frame(plan)
    supply = prob.current.sum() + prob.arriving.sum()
    assert float(frame["target_units"].sum()) == pytest.approx(supply)
    assert float(frame["transfer_in"].sum()) == pytest.approx(float(frame["transfer_out"].sum()))
    cons = constraints_frame(plan, settings)
    assert set(cons["constraint"]) <= {"storage", "throughput", "speed"}
    assert cons.filter(constraint="storage").height == 3


def test_one_batch_is_the_plain_solve() -> None:
    prob = generated(10)
    assert solve_batched(prob, PlaceOptions(), batch_size=50).total_cost == pytest.approx(
        solve(prob, PlaceOptions()).total_cost
    )


def test_before_batched_keeps_todays_positions() -> None:
    prob = generated(30, seed=2)
    base = before_batched(prob, PlaceOptions(), batch_size=10)
    assert base.target == pytest.approx(prob.current)
    assert base.sales.sum() == pytest.approx(before(prob, PlaceOptions()).sales.sum(), rel=0.05)


def test_batched_plan_is_within_the_tolerance_of_a_bound_below_the_optimum() -> None:
    # 120 skus in batches of 10: the pilot on a sample runs, then the price rounds
    prob = generated(120, seed=7)
    prob.eligible[:, 0] = True
    settings = PlaceOptions(speed_target=(2, 0.6))
    single = solve(prob, settings)
    batched = solve_batched(prob, settings, batch_size=10, tolerance=5e-4)
    assert batched.bound is not None
    # weak duality: the Lagrangian bound is below the single LP's optimum
    assert batched.bound <= single.total_cost + 1e-6
    # the plan costs at most the master optimum, within the tolerance of the bound
    assert batched.total_cost >= single.total_cost - 1e-6
    assert batched.total_cost <= batched.bound * (1 + 5e-4) + 1e-6
    assert batched.rounds is not None and batched.rounds >= 1


def test_batched_plan_respects_the_shared_limits_it_was_given() -> None:
    prob = generated(60, seed=3)
    prob.eligible[:, 0] = True
    settings = PlaceOptions(speed_target=(2, 0.6))
    plan = solve_batched(prob, settings, batch_size=15)
    store = (prob.volume[:, None] * plan.target).sum(axis=0)
    assert (store <= prob.storage + 1e-6).all()
    assert plan.slack["store"].sum() == pytest.approx(0.0, abs=1e-6)


def test_batched_solve_is_deterministic() -> None:
    prob = generated(50, seed=5)
    prob.eligible[:, 0] = True
    settings = PlaceOptions(speed_target=(2, 0.6))
    one = solve_batched(prob, settings, batch_size=10)
    two = solve_batched(prob, settings, batch_size=10, workers=1)
    assert np.array_equal(one.target, two.target)
    assert np.array_equal(one.flow, two.flow)
    assert one.bound == two.bound


def test_master_solver_gives_the_simplex_plan_and_falls_back_to_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the master LP by IPX with crossover: the same plan, bound and prices as the dual
    # simplex; an IPX that stops short (one iteration) hands the master to the simplex
    from scot_cli.place import coordinate

    prob = generated(120, seed=7)
    prob.eligible[:, 0] = True
    settings = PlaceOptions(speed_target=(2, 0.6))
    ipm = solve_batched(prob, settings, batch_size=10)
    simplex = {"output_flag": False, "presolve": "off", "simplex_strategy": 1}
    monkeypatch.setattr(coordinate, "MASTER_OPTIONS", simplex)
    dual = solve_batched(prob, settings, batch_size=10)
    short = {**coordinate.MASTER_OPTIONS, "solver": "ipm", "ipm_iteration_limit": 1}
    monkeypatch.setattr(coordinate, "MASTER_OPTIONS", short)
    fallback = solve_batched(prob, settings, batch_size=10)
    for other in (dual, fallback):
        assert other.rounds == ipm.rounds
        assert other.bound == pytest.approx(ipm.bound, rel=1e-9)
        assert other.total_cost == pytest.approx(ipm.total_cost, rel=1e-7)
        assert np.allclose(other.target, ipm.target, atol=1e-6)
        for key in ("storage", "throughput", "speed"):
            assert np.allclose(other.duals[key], ipm.duals[key], atol=1e-7)
