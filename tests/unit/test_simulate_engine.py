"""The simulation's day loop: theory, conservation, common random numbers."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scot_cli.errors import ScotError
from scot_cli.simulate import demand as sim_demand
from scot_cli.simulate.engine import Decision, Settings, StockOnly, View, run
from scot_cli.simulate.policies import BaseStockPolicy, round_packs, split_units
from scot_cli.simulate.report import interval
from scot_cli.simulate.theory import base_stock_poisson
from scot_cli.simulate.world import World


def tiny_world(
    *, skus: int = 1, fcs: int = 1, regions: int = 1, lead: float = 4.0, on_hand: float = 0.0
) -> World:
    """A network of ``fcs`` FCs one day from each of ``regions`` regions (FC 0 fastest)."""
    days = np.tile(np.arange(1.0, fcs + 1.0)[:, None] * 0.5, (1, regions))
    return World(
        skus=[f"S{k}" for k in range(skus)],
        fcs=[f"F{f}" for f in range(fcs)],
        regions=[f"R{g}" for g in range(regions)],
        start=dt.date(2026, 1, 1),
        path_days=days,
        path_sd=np.zeros((fcs, regions)),
        rank=np.tile(np.arange(fcs), (regions, 1)),
        unit_cost=np.ones(skus),
        holding_per_day=np.full(skus, 0.01),
        lost_unit_cost=np.full(skus, 5.0),
        lead_mean=np.full(skus, lead),
        lead_sd=np.zeros(skus),
        case_pack=np.ones(skus),
        moq=np.zeros(skus),
        on_hand=np.full((skus, fcs), on_hand),
        in_transit=np.zeros((skus, fcs)),
        transit_day=np.zeros((skus, fcs), dtype=np.int64),
        inbound_days=np.zeros((skus, fcs)),
    )


def poisson_demand(
    rate: float, days: int, seed: int, shape: tuple[int, int] = (1, 1)
) -> np.ndarray:
    model = sim_demand.DemandModel(
        mean=np.full((days, *shape), rate), var=np.full((days, *shape), rate)
    )
    u = np.random.default_rng(seed).random((days, *shape))
    return sim_demand.sample(model, u)


def check_base_stock(level: int, rate: float, lead: int, *, days: int, reps: int) -> None:
    burn = 50
    world = tiny_world(lead=float(lead), on_hand=float(level))
    fills, stocks = [], []
    for r in range(reps):
        trace = run(
            world,
            poisson_demand(rate, days, seed=r)[:, :, :],
            np.zeros((days + 1, 1)),
            np.zeros((days, 1, 1)),
            BaseStockPolicy(levels=np.array([[float(level)]])),
            history=np.zeros((7, 1, 1)),
            settings=Settings(review_days=1, backorder=True),
        )
        reg = trace.region[burn:, 0, :]
        fills.append(reg[:, 1].sum() / reg[:, 0].sum())
        stocks.append(trace.fc[burn:, 0, 0].mean())
    theory = base_stock_poisson(level, rate, lead)
    _, lo, hi = interval(np.array(fills))
    assert lo <= theory.fill_rate <= hi
    _, lo, hi = interval(np.array(stocks))
    assert lo <= theory.on_hand <= hi


def test_base_stock_poisson_matches_snyder_shen_ch4() -> None:
    """Single sku, single FC, Poisson demand, fixed lead time, base stock with backorders:
    the simulated fill rate and mean on-hand stock hold the analytical values (Snyder &
    Shen 2019, ch. 4: IL = S - D_L; see scot_cli.simulate.theory) within the 95% interval
    over the replications."""
    check_base_stock(12, 2.0, 3, days=200, reps=6)


@pytest.mark.slow
@pytest.mark.parametrize(("level", "rate", "lead"), [(25, 5.0, 4), (12, 2.0, 3), (6, 0.5, 7)])
def test_base_stock_poisson_matches_snyder_shen_ch4_long(
    level: int, rate: float, lead: int
) -> None:
    """The same known answer, 20 replications of 1,500 days (narrower intervals)."""
    check_base_stock(level, rate, lead, days=1_500, reps=20)


def test_theory_fill_rate_rises_with_the_level() -> None:
    rates = [base_stock_poisson(s, 5.0, 4).fill_rate for s in (15, 20, 25, 30)]
    assert rates == sorted(rates)
    assert 0 < rates[0] < rates[-1] < 1


class OrderEveryDay:
    name = "fixed"

    def __init__(self, qty: np.ndarray, transfer: np.ndarray | None = None) -> None:
        self.qty = qty
        self.transfer = transfer

    def review(self, view: View) -> Decision:
        return Decision(buy=self.qty, transfer=self.transfer)


def test_common_random_numbers_make_scaled_demand_monotone() -> None:
    """The same uniforms, demand x1.2: every day's count is at least the base count."""
    mean = np.full((200, 4, 2), 3.0)
    model = sim_demand.DemandModel(mean=mean, var=mean * 2.5)
    u = np.random.default_rng(0).random(mean.shape)
    base = sim_demand.sample(model, u)
    more = sim_demand.sample(sim_demand.scaled(model, np.array(1.2)), u)
    assert (more >= base).all()
    assert more.sum() > base.sum()
    assert base.var() > base.mean()  # over-dispersed (negative binomial)


def test_streams_depend_on_seed_and_replication_only() -> None:
    a = sim_demand.streams(7, 1, days=5, shape=(3, 2, 4), reviews=2)
    b = sim_demand.streams(7, 1, days=5, shape=(3, 2, 4), reviews=2)
    c = sim_demand.streams(7, 2, days=5, shape=(3, 2, 4), reviews=2)
    assert np.array_equal(a.demand, b.demand)
    assert not np.array_equal(a.demand, c.demand)
    assert a.demand.shape == (5, 3, 4)


def test_round_packs_and_split_units() -> None:
    qty = round_packs(np.array([0.0, 1.0, 13.0]), np.array([6.0, 6.0, 6.0]), np.array([0, 12, 0]))
    assert qty.tolist() == [0.0, 12.0, 18.0]
    parts = split_units(np.array([10.0, 7.0]), np.array([[1.0, 2.0], [0.0, 0.0]]))
    assert parts.sum(axis=1).tolist() == [10.0, 7.0]
    assert (parts == np.floor(parts)).all()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    skus=st.integers(1, 4),
    review=st.integers(1, 5),
    backorder=st.booleans(),
)
def test_units_balance_for_any_policy(seed: int, skus: int, review: int, backorder: bool) -> None:
    """Whatever a policy buys (even far more than demand), units balance exactly and no
    quantity goes negative (one FC, one region: the day loop's own bookkeeping; networks
    with choices are tested through promise and route in test_simulate_fulfil.py)."""
    rng = np.random.default_rng(seed)
    days = 30
    world = tiny_world(skus=skus, lead=3.0, on_hand=2.0)
    dem = rng.poisson(2.0, (days, skus, 1)).astype(float)
    buy = rng.integers(0, 6, (skus, 1)).astype(float)
    trace = run(
        world,
        dem,
        rng.standard_normal((days + 1, skus)),
        rng.standard_normal((days, 1, 1)),
        OrderEveryDay(buy),
        history=np.zeros((7, skus, 1)),
        settings=Settings(review_days=review, backorder=backorder),
    )
    t = trace.totals
    assert t["bought"] == t["received"] + t["in_transit"]
    assert t["demand"] == t["served"] + t["lost"] + t["backordered"] == dem.sum()
    assert t["start_stock"] + t["received"] - t["shipped"] == t["end_stock"]
    assert (trace.fc >= 0).all() and (trace.region >= 0).all()


def test_stock_only_refuses_a_network_with_choices() -> None:
    with pytest.raises(ScotError, match="one FC and one region"):
        StockOnly(tiny_world(fcs=2))


def test_startup_shortfall_is_the_loss_of_a_run_that_cannot_buy_in_time() -> None:
    """One sku, one FC, one region, fixed lead time: the units lost before the first buy
    arrives are the demand beyond the starting stock, whatever the policy orders."""
    from scot_cli.simulate.theory import first_arrival_days, startup_shortfall

    lead, inbound, level, days = 6, 2, 10, 30
    world = dataclasses.replace(
        tiny_world(lead=float(lead), on_hand=float(level)), inbound_days=np.full((1, 1), 2.0)
    )
    arrival = first_arrival_days(world.lead_mean, world.inbound_days)
    demand = np.full((days, 1, 1), 3.0)
    expected = startup_shortfall(np.array([float(level)]), demand[:, :, 0], arrival)
    for target in (0.0, 40.0, 400.0):
        trace = run(
            world,
            demand,
            np.zeros((days + 1, 1)),
            np.zeros((days, 1, 1)),
            BaseStockPolicy(levels=np.array([[target]])),
            history=np.zeros((7, 1, 1)),
            settings=Settings(review_days=1),
        )
        lost_early = trace.region[: int(arrival[0]), 0, 2].sum()
        assert arrival[0] == lead + inbound
        assert lost_early == expected[0] == 3 * (lead + inbound) - level
