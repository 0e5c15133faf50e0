"""Room for the truck loader: departures loaded to within one line of whole trucks.

The assignment prices a departure's trucks as ``ceil(load / capacity)``, as if lines could
split across trucks, so the local search happily fills a departure to a hair below a whole
number of trucks. Lines are not split when the trucks are loaded, and a load of 15.99999
trucks of small lines does not pack into 16 (first-fit decreasing needs 17: measured on a
100k-line day, four departures each one truck over ``ceil``). This step finds those
departures (first-fit decreasing above ``ceil``), asks each of them to leave room for its
largest line (its capacity lowered by that line's share, so that the relocation of the
local search sees a truck saved by moving a line off), relocates their lines, and keeps
the result only when its cost with first-fit decreasing's trucks falls.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from scot_cli.route import model as m


def packed_trucks(inst: m.Instance, assign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trucks per departure by first-fit decreasing over the lines of ``assign`` (lines
    whole), and the largest line volume on each departure."""
    from scot_cli.route.binpack import first_fit_decreasing

    n_s = inst.slot_cap.shape[0]
    used = assign[assign >= 0]
    inc = inst.opt_slots[used].tocoo()
    vol = inst.opt_vol[used][inc.row]
    biggest = np.zeros(n_s)
    np.maximum.at(biggest, inc.col, vol)
    order = np.argsort(inc.col, kind="stable")
    cols, vols = inc.col[order], vol[order]
    cuts = np.searchsorted(cols, np.arange(n_s + 1))
    trucks = np.zeros(n_s)
    for s in np.flatnonzero(cuts[1:] > cuts[:-1]).tolist():
        on = vols[cuts[s] : cuts[s + 1]]
        trucks[s] = int(first_fit_decreasing(on, float(inst.slot_cap[s])).max()) + 1
    return trucks, biggest


def packed_cost(inst: m.Instance, assign: np.ndarray) -> float:
    """:func:`scot_cli.route.model.evaluate` with first-fit decreasing's trucks."""
    load = m.loads(inst, assign)[0]
    model = m.trucks_needed(load, inst.slot_cap)
    return m.evaluate(inst, assign) + float(
        inst.slot_cost @ (packed_trucks(inst, assign)[0] - model)
    )


#: Rounds of :func:`leave_room` (each doubles the room asked of a departure still over).
ROUNDS = 3


def leave_room(inst: m.Instance, assign: np.ndarray, *, deadline: float) -> np.ndarray:
    """The plan with room made on the departures whose lines first-fit decreasing packs
    into more trucks than ``ceil(load / capacity)`` (module docstring), over up to
    :data:`ROUNDS` rounds; never costlier with first-fit's trucks than ``assign``."""
    best, cost = assign, packed_cost(inst, assign)
    for k in range(ROUNDS):
        cand = _room_round(inst, best, room=2.0**k, deadline=deadline)
        got = packed_cost(inst, cand)
        if got >= cost - 1e-6:
            break
        best, cost = cand, got
    return best


def _room_round(
    inst: m.Instance, assign: np.ndarray, *, room: float, deadline: float
) -> np.ndarray:
    """One round: ``room`` times the largest line asked of each departure over."""
    load = m.loads(inst, assign)[0]
    model = m.trucks_needed(load, inst.slot_cap)
    trucks, biggest = packed_trucks(inst, assign)
    over = trucks > model
    if not over.any() or time.monotonic() > deadline:
        return assign
    cap = np.where(over, inst.slot_cap - room * biggest / np.maximum(model, 1.0), inst.slot_cap)
    tight = replace(inst, slot_cap=cap)
    st = m.make_state(tight, assign)
    starts = np.searchsorted(inst.opt_line, np.arange(inst.n_lines + 1))
    on = np.asarray(inst.opt_slots[np.maximum(assign, 0)][:, np.flatnonzero(over)].sum(axis=1))
    lines = np.flatnonzero((assign >= 0) & (on.ravel() > 0))
    # largest lines first: one of them moved off leaves the room
    lines = lines[np.argsort(-inst.opt_vol[assign[lines]], kind="stable")]
    m.relocate(tight, st, starts, lines.tolist(), deadline)
    return np.asarray(st.assign)
