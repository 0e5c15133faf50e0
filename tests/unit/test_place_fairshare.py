"""Fair share keeps fractional receipts and reports the equalised days of cover (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

from scot_cli.place.fairshare import equal_cover
from scot_cli.place.options import PlaceOptions
from scot_cli.place.plan import solve
from scot_cli.place.problem import PlaceProblem
from scot_cli.place.report import placement_frame


def three_fc_problem(period_days: int) -> PlaceProblem:
    """One sku, three FCs each nearest to its own region; 80 units held, 500 arriving.

    Period demand 100/620/150 against stock 20/30/30: equal cover is T = 580/870 = 2/3
    of the period, so receipts are 2/3 * d - c = 46.67, 383.33 and 70.
    """
    mu = np.array([[100.0, 620.0, 150.0]])
    fc, reg = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    cost = np.where(fc == reg, 1.0, 5.0)
    return PlaceProblem(
        skus=["S0"],
        fcs=["F0", "F1", "F2"],
        regions=["R0", "R1", "R2"],
        mu=mu,
        sd=np.zeros_like(mu),
        volume=np.ones(1),
        holding=np.zeros((1, 3)),
        current=np.array([[20.0, 30.0, 30.0]]),
        arriving=np.array([500.0]),
        inbound_cost=np.zeros((1, 3)),
        transfer_cost=np.full((1, 3), 1e4),
        eligible=np.ones((1, 3), bool),
        lost=np.full((1, 3), 100.0),
        arc_fc=fc.ravel(),
        arc_region=reg.ravel(),
        arc_cost=cost.ravel(),
        arc_days=np.ones(9, np.int64),
        storage=np.full(3, np.inf),
        throughput=np.full(3, np.inf),
        period_days=period_days,
    )


def test_equal_cover_keeps_fractional_receipts() -> None:
    alloc = equal_cover(
        np.array([[20.0, 30.0, 30.0]]), np.array([[100.0, 620.0, 150.0]]), np.array([500.0])
    )
    assert alloc[0] == pytest.approx([140 / 3, 1150 / 3, 70.0], abs=1e-9)


def test_fair_share_placement_keeps_fractions_issue_14() -> None:
    """Issue 14 row 4: receipts 46.67/383.33/70, not rounded to 47/383/70."""
    frame = placement_frame(solve(three_fc_problem(7), PlaceOptions(), fair_share=True))
    assert frame["fair_share"].to_list() == [True, True, True]
    assert frame["inbound_units"].to_list() == pytest.approx([140 / 3, 1150 / 3, 70.0], abs=1e-6)
    assert frame["target_units"].to_list() == pytest.approx([200 / 3, 1240 / 3, 100.0], abs=1e-6)
    assert frame["target_units"].sum() == pytest.approx(580.0, abs=1e-6)


def test_fair_share_days_of_cover_is_the_equalised_cover_issue_14() -> None:
    """Issue 14 row 4: cover is T = 2/3 of a 7-day period (4.67 days), not the period."""
    frame = placement_frame(solve(three_fc_problem(7), PlaceOptions(), fair_share=True))
    assert frame["days_of_cover"].to_list() == pytest.approx([14 / 3] * 3, abs=1e-6)
