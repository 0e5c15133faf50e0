"""Placement inputs: period demand, service arcs, problem arrays, loss segments, solvers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_place_model import make_problem

from scot_cli.errors import InputDataError
from scot_cli.place.fairshare import equal_cover
from scot_cli.place.options import PlaceOptions
from scot_cli.place.plan import solve
from scot_cli.place.problem import build_problem, period_demand, service_arcs
from scot_cli.place.registry import SOLVERS
from scot_cli.place.segments import expected_sales, segments

D0 = dt.date(2026, 11, 1)


def nodes() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "node": ["FC-A", "FC-B", "R-1", "R-2", "V-1"],
            "kind": ["fc", "fc", "region", "region", "vendor"],
            "region": ["R-1", "R-2", "R-1", "R-2", "R-1"],
            "storage_capacity": [100.0, None, None, None, None],
            "daily_capacity": [50.0, 40.0, None, None, None],
            "cutoff_hour": [14, 14, None, None, None],
            "processing_days": [0, 1, None, None, None],
            "lat": [0.0] * 5,
            "lon": [0.0] * 5,
        }
    )


def lanes() -> pl.DataFrame:
    rows = [
        ("FC-A", "R-1", "ground", 0.8, 1.0),
        ("FC-A", "R-2", "ground", 2.5, 1.5),
        ("FC-A", "R-2", "air", 1.2, 4.0),
        ("FC-B", "R-1", "ground", 2.2, 2.0),
        ("FC-B", "R-2", "ground", 0.5, 1.0),
        ("V-1", "FC-A", "ground", 5.0, 0.3),
        ("V-1", "FC-B", "ground", 6.0, 0.7),
    ]
    return pl.DataFrame(
        rows,
        schema=["origin", "destination", "mode", "transit_days", "cost_per_unit"],
        orient="row",
    ).with_columns(
        transit_sd=pl.lit(0.1),
        truck_capacity=pl.lit(100.0),
        cost_per_truck=pl.lit(50.0),
        departure_hour=pl.lit(18, pl.Int64),
    )


def items() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A", "B"],
            "unit_cost": [10.0, 20.0],
            "price": [15.0, 30.0],
            "holding_cost_rate": [0.365, 0.365],
            "stockout_cost": [None, 3.0],
            "vendor": ["V-1", "V-2"],
            "unit_volume": [1.0, 2.0],
        }
    )


def forecast() -> pl.DataFrame:
    days = [D0 + dt.timedelta(days=i) for i in range(10)]
    return pl.DataFrame(
        {
            "sku": ["A"] * 10 + ["B"] * 10,
            "location": ["R-1"] * 10 + ["R-2"] * 10,
            "date": days + days,
            "mean": [2.0] * 10 + [1.0] * 10,
            "p10": [1.0] * 20,
            "p90": [3.0] * 20,
        }
    )


def inventory() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A", "A", "B"],
            "node": ["FC-A", "FC-B", "FC-B"],
            "on_hand": [5.0, 3.0, 4.0],
            "in_transit": [2.0, 6.0, None],
            "eta": [D0 + dt.timedelta(days=2), D0 + dt.timedelta(days=20), None],
        }
    )


def test_period_demand_sums_means_and_spreads_as_independent_days() -> None:
    out = period_demand(forecast(), days=7)
    a = out.filter(sku="A").row(0, named=True)
    assert a["mu"] == pytest.approx(14.0)
    daily_sd = 2.0 / (2 * 1.2815515655446004)
    assert a["sd"] == pytest.approx(daily_sd * np.sqrt(7))


def test_period_demand_without_quantiles_is_poisson() -> None:
    out = period_demand(forecast().drop("p10", "p90"), days=4)
    assert out.filter(sku="A")["sd"][0] == pytest.approx(np.sqrt(8.0))


def test_service_arcs_take_fewest_days_then_cheapest() -> None:
    arcs = service_arcs(nodes(), lanes()).sort("fc", "region")
    assert arcs.select("fc", "region", "cost", "days").rows() == [
        ("FC-A", "R-1", 1.0, 1),
        ("FC-A", "R-2", 4.0, 2),
        ("FC-B", "R-1", 2.0, 4),
        ("FC-B", "R-2", 1.0, 2),
    ]


def test_build_problem_arrays() -> None:
    prob = build_problem(
        forecast=forecast(), items=items(), inventory=inventory(), nodes=nodes(), lanes=lanes()
    )
    assert (prob.skus, prob.fcs, prob.regions) == (["A", "B"], ["FC-A", "FC-B"], ["R-1", "R-2"])
    # in transit counts only when its eta falls inside the 7-day period
    assert prob.current.tolist() == [[7.0, 3.0], [0.0, 4.0]]
    assert prob.mu.tolist() == [[14.0, 0.0], [0.0, 7.0]]
    assert prob.holding[:, 0] == pytest.approx([10 * 0.365 * 7 / 365, 20 * 0.365 * 7 / 365])
    # lost sale: stockout_cost or margin, plus the dearest arc into the region
    assert prob.lost.tolist() == [[5.0 + 2.0, 5.0 + 4.0], [3.0 + 2.0, 3.0 + 4.0]]
    # V-2 has no lanes: the FC's median inbound cost stands in
    assert prob.inbound_cost.tolist() == [[0.3, 0.7], [0.3, 0.7]]
    assert prob.storage[0] == 100.0 and np.isinf(prob.storage[1])
    assert prob.throughput.tolist() == [350.0, 280.0]


def test_build_problem_counts_arriving_buys_in_the_period() -> None:
    supply = pl.DataFrame(
        {
            "sku": ["A", "A", "B"],
            "arrival_date": [D0, D0 + dt.timedelta(days=30), D0 + dt.timedelta(days=3)],
            "qty": [10.0, 99.0, 5.0],
            "status": ["order", "order", "skip"],
        }
    )
    prob = build_problem(
        forecast=forecast(),
        items=items(),
        inventory=inventory(),
        nodes=nodes(),
        lanes=lanes(),
        receipts=supply,
    )
    assert prob.arriving.tolist() == [10.0, 0.0]


def test_forecast_sku_missing_from_items_is_an_input_error() -> None:
    bad = forecast().with_columns(pl.lit("Z").alias("sku"))
    with pytest.raises(InputDataError, match=r"sku 'Z' in column sku is not in items\.parquet"):
        build_problem(
            forecast=bad, items=items(), inventory=inventory(), nodes=nodes(), lanes=lanes()
        )


def test_expected_sales_at_the_mean_is_mu_minus_phi0_sd() -> None:
    """Snyder & Shen, Fundamentals of Supply Chain Theory, Sec. 4.3: G(0) = phi(0)."""
    out = expected_sales(np.array([100.0]), np.array([100.0]), np.array([10.0]))
    assert out[0] == pytest.approx(100.0 - 10.0 * 0.3989422804)


@settings(max_examples=50, deadline=None)
@given(mu=st.floats(0, 500), sd=st.floats(0, 200))
def test_segments_are_concave_and_match_the_loss_function(mu: float, sd: float) -> None:
    widths, gains = segments(np.array([mu]), np.array([sd]))
    assert (widths >= 0).all()
    used = gains[0][widths[0] > 1e-12]
    assert (np.diff(used) <= 1e-12).all()
    assert ((gains >= 0) & (gains <= 1)).all()
    top = widths.sum()
    # demand is max(D, 0): L(a) - L(0), scaled so a full allocation sells mu
    at = [float(expected_sales(np.array([a]), np.array([mu]), np.array([sd]))[0]) for a in (0, top)]
    want = (at[1] - at[0]) * (mu / (mu - at[0]) if mu - at[0] > 1e-12 else 1.0)
    assert float((widths * gains).sum()) == pytest.approx(
        want,
        rel=1e-6,
        abs=1e-6,
    )


@settings(max_examples=50, deadline=None)
@given(
    current=st.lists(st.floats(0, 100), min_size=3, max_size=3),
    demand=st.lists(st.one_of(st.just(0.0), st.floats(0.01, 50)), min_size=3, max_size=3),
    supply=st.floats(0, 200),
)
def test_equal_cover_allocates_all_supply_and_never_takes_stock(
    current: list[float], demand: list[float], supply: float
) -> None:
    c, d = np.array([current]), np.array([demand])
    alloc = equal_cover(c, d, np.array([supply]))
    assert (alloc >= -1e-9).all()
    if d.sum() > 0:
        assert alloc.sum() == pytest.approx(supply, rel=1e-9, abs=1e-9)
        cover = (c + alloc)[d > 0] / d[d > 0]
        receiving = (alloc > 1e-9)[d > 0]
        if receiving.any():
            level = cover[receiving].max()
            assert cover[receiving] == pytest.approx(np.full(receiving.sum(), level), rel=1e-6)
            assert (cover >= level - 1e-6 * max(1.0, level)).all()


@pytest.mark.parametrize("solver", [s for s in SOLVERS if s != "highs"])
def test_other_solvers_agree_with_highs(solver: str) -> None:
    prob = make_problem(
        current=[[35, 50, 40]],
        mu=[[45, 20, 30, 30]],
        sd=[[5, 3, 4, 4]],
        cost=[[8, 6, 10, 9], [9, 12, 13, 7], [14, 9, 16, 5]],
        lost=40.0,
        holding=0.1,
    )
    ref = solve(prob, PlaceOptions()).total_cost
    assert solve(prob, PlaceOptions(), solver=solver).total_cost == pytest.approx(ref, rel=2e-3)
