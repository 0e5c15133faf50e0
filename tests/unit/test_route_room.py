"""Room for the truck loader: departures filled to a hair of whole trucks give a line up."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from scot_cli.route import model as m
from scot_cli.route.room import leave_room, packed_cost, packed_trucks


def two_departures(n_lines: int = 5, cheap_b: float = 10.0) -> m.Instance:
    """Lines of volume 4 on departure A (capacity 10, 100 a truck) or, one unit dearer, B
    (capacity 10, ``cheap_b`` a truck): five lines fill A to exactly two trucks, which
    whole lines cannot pack into fewer than three."""
    opt_line = np.repeat(np.arange(n_lines), 2)
    slot = np.tile([0, 1], n_lines)
    return m.Instance(
        opt_line=opt_line,
        opt_cost=np.tile([0.0, 1.0], n_lines),
        opt_qty=np.ones(2 * n_lines),
        opt_vol=np.full(2 * n_lines, 4.0),
        opt_stock=np.zeros(2 * n_lines, dtype=np.int64),
        opt_fcday=np.zeros(2 * n_lines, dtype=np.int64),
        opt_fc=np.zeros(2 * n_lines, dtype=np.int64),
        opt_slots=sp.csr_matrix((np.ones(2 * n_lines), (np.arange(2 * n_lines), slot))),
        stock_cap=np.array([100.0]),
        fcday_cap=np.array([np.inf]),
        slot_cap=np.array([10.0, 10.0]),
        slot_cost=np.array([100.0, cheap_b]),
        line_order=np.arange(n_lines),
        line_penalty=np.full(n_lines, 1e5),
        split_cost=0.0,
    )


def test_a_departure_over_its_trucks_gives_a_line_up() -> None:
    inst = two_departures()
    all_a = np.arange(5) * 2  # every line on A: 2 trucks in the model, 3 when loaded
    assert m.evaluate(inst, all_a) == 200.0
    trucks, biggest = packed_trucks(inst, all_a)
    assert trucks.tolist() == [3.0, 0.0] and biggest[0] == 4.0
    assert packed_cost(inst, all_a) == 300.0
    out = leave_room(inst, all_a, deadline=time.monotonic() + 10)
    assert (out >= 0).all() and int((out % 2 == 1).sum()) == 1  # one line moved to B
    assert packed_cost(inst, out) == 211.0 == m.evaluate(inst, out)


def test_no_departure_over_leaves_the_plan() -> None:
    """Four lines pack into two trucks as the model counts them: nothing to do; and where
    moving costs more than the truck it saves, the plan stays too."""
    inst = two_departures(n_lines=4)
    plan = np.arange(4) * 2
    assert packed_cost(inst, plan) == m.evaluate(inst, plan) == 200.0
    assert (leave_room(inst, plan, deadline=time.monotonic() + 10) == plan).all()
    dear = two_departures(cheap_b=500.0)
    all_a = np.arange(5) * 2
    out = leave_room(dear, all_a, deadline=time.monotonic() + 10)
    assert packed_cost(dear, out) <= packed_cost(dear, all_a)
