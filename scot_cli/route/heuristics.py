"""Primal heuristics for large batches: capacity-aware greedy and dynamic slope scaling.

Dynamic slope scaling (Kim & Pardalos (1999), "A solution method for the fixed charge
network flow problem", Oper. Res. Lett. 24(4)) replaces each lane departure's truck cost by a
linear rate per volume, :math:`r_s = f_s \\lceil L_s / Q_s \\rceil / L_s` at the current load
:math:`L_s`, assigns every line to its cheapest option under those rates, and repeats; lanes
that attract volume become cheaper, so shipments consolidate onto fewer trucks.
"""

from __future__ import annotations

import numpy as np

from scot_cli.route.model import Instance, evaluate, loads, trucks_needed


def _first_per_line(inst: Instance, cost: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Cheapest allowed option of each line (-1 when none)."""
    idx = np.flatnonzero(allowed)
    best = np.full(inst.n_lines, -1, dtype=np.int64)
    if idx.shape[0] == 0:
        return best
    order = idx[np.lexsort((cost[idx], inst.opt_line[idx]))]
    lines = inst.opt_line[order]
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = lines[1:] != lines[:-1]
    best[lines[first]] = order[first]
    return best


def _fits(keys: np.ndarray, qty: np.ndarray, left: np.ndarray) -> np.ndarray:
    """Which items fit when each key's capacity is filled in item order (prefix rule)."""
    order = np.argsort(keys, kind="stable")
    k, q = keys[order], qty[order]
    cum = np.cumsum(q)
    start = np.searchsorted(k, k, side="left")
    before = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    ok = np.empty(keys.shape[0], dtype=bool)
    ok[order] = (cum - before) <= left[k] + 1e-9
    return ok


def greedy_assign(inst: Instance, cost: np.ndarray, *, rounds: int = 64) -> np.ndarray:
    """Each line to its cheapest option that still has stock and FC capacity.

    Rounds: every open line picks its cheapest allowed option; per stock key and FC day the
    lines are accepted in order of regret (the extra cost of their second choice, largest
    first; Martello & Toth (1990) for the generalised assignment problem) while capacity
    lasts; rejected lines lose that option and try again.
    """
    assign = np.full(inst.n_lines, -1, dtype=np.int64)
    allowed = np.ones(inst.n_opts, dtype=bool)
    stock, fcday = inst.stock_cap.copy(), inst.fcday_cap.copy()
    open_line = np.ones(inst.n_lines, dtype=bool)
    for _ in range(rounds):
        mask = allowed & open_line[inst.opt_line]
        best = _first_per_line(inst, cost, mask)
        cand = np.flatnonzero((best >= 0) & open_line)
        if cand.shape[0] == 0:
            break
        mask[best[cand]] = False
        second = _first_per_line(inst, cost, mask)
        regret = (
            np.where(second[cand] >= 0, cost[np.maximum(second[cand], 0)], 1e18) - cost[best[cand]]
        )
        cand = cand[np.argsort(-regret, kind="stable")]
        opts = best[cand]
        ok = _fits(inst.opt_stock[opts], inst.opt_qty[opts], stock) & _fits(
            inst.opt_fcday[opts], inst.opt_qty[opts], fcday
        )
        acc = opts[ok]
        assign[cand[ok]] = acc
        open_line[cand[ok]] = False
        np.subtract.at(stock, inst.opt_stock[acc], inst.opt_qty[acc])
        np.subtract.at(fcday, inst.opt_fcday[acc], inst.opt_qty[acc])
        allowed[opts[~ok]] = False
    return assign


def round_with_capacity(
    inst: Instance, xval: np.ndarray, *, position: np.ndarray | None = None
) -> np.ndarray:
    """Round fractional option values into a feasible plan.

    Each line prefers the option that its ``position`` in (0, 1) falls into when its values
    are laid end to end (lines of a pooled group then split across options in proportion),
    or its largest value without positions; stock and FC capacity are handed out in order of
    regret (:func:`greedy_assign`), other options by value, the option cost breaking ties.
    """
    scale = max(float(np.abs(inst.opt_cost).max()), 1.0) if inst.n_opts else 1.0
    cost = inst.opt_cost / scale * 1e-3 - xval
    if position is not None and inst.n_opts:
        cum = np.cumsum(xval)
        starts = np.searchsorted(inst.opt_line, np.arange(inst.n_lines + 1))
        before = np.where(starts[:-1] > 0, cum[np.maximum(starts[:-1] - 1, 0)], 0.0)
        total = np.maximum(cum[np.maximum(starts[1:] - 1, 0)] - before, 1e-12)
        reach = (cum - before[inst.opt_line]) / total[inst.opt_line]
        pick = _first_per_line(
            inst, np.arange(inst.n_opts, dtype=float), reach >= position[inst.opt_line] - 1e-9
        )
        chosen = pick[pick >= 0]
        cost[chosen] -= 2.0
    return greedy_assign(inst, cost)


def slope_scaling(inst: Instance, *, iterations: int = 30) -> np.ndarray:
    """Best assignment found by dynamic slope scaling (see the module docstring).

    Starting rates assume each lane departure carries its fair share of the volume that
    could use it (each line's volume spread evenly over its options), capped at a full truck;
    unused departures keep their last rate.
    """
    n_opts_of_line = np.bincount(inst.opt_line, minlength=inst.n_lines)
    share = inst.opt_vol / np.maximum(n_opts_of_line[inst.opt_line], 1)
    potential = np.asarray(inst.opt_slots.T @ share).ravel()
    rate = inst.slot_cost / np.clip(potential, 1e-9, inst.slot_cap)
    best, best_obj = (
        np.full(inst.n_lines, -1, dtype=np.int64),
        evaluate(inst, np.full(inst.n_lines, -1, dtype=np.int64)),
    )
    seen: set[bytes] = set()
    for _ in range(iterations):
        cost = inst.opt_cost + inst.opt_vol * np.asarray(inst.opt_slots @ rate).ravel()
        assign = greedy_assign(inst, cost)
        key = assign.tobytes()
        if key in seen:
            break
        seen.add(key)
        obj = evaluate(inst, assign)
        if obj < best_obj:
            best, best_obj = assign, obj
        load = loads(inst, assign)[0]
        used = load > 1e-9
        rate = np.where(
            used, inst.slot_cost * trucks_needed(load, inst.slot_cap) / np.maximum(load, 1e-9), rate
        )
    return best


def consolidate(inst: Instance, assign: np.ndarray, *, iterations: int = 30) -> np.ndarray:
    """Re-route every shipped line over the paths and departures of its own FC and day.

    Stock, FC capacity and boxes stay as they are (each line keeps its stock key and FC
    day), so only unit, lateness and truck costs change; the choice is dynamic slope scaling
    started from the loads of ``assign`` (unused departures priced at their fair share of the
    volume that could move to them). Returns the best assignment seen (never worse).
    """
    shipped = assign >= 0
    cur = np.where(shipped, assign, 0)
    line_opt = cur[inst.opt_line]
    allowed = (
        shipped[inst.opt_line]
        & (inst.opt_stock == inst.opt_stock[line_opt])
        & (inst.opt_fcday == inst.opt_fcday[line_opt])
    )
    best, best_obj = assign, evaluate(inst, assign)
    load = loads(inst, assign)[0]
    n_allowed = np.bincount(inst.opt_line[allowed], minlength=inst.n_lines)
    share = np.where(allowed, inst.opt_vol / np.maximum(n_allowed[inst.opt_line], 1), 0.0)
    potential = np.asarray(inst.opt_slots.T @ share).ravel()
    rate = inst.slot_cost / np.clip(potential, 1e-9, inst.slot_cap)
    seen: set[bytes] = set()
    for _ in range(iterations):
        used = load > 1e-9
        rate = np.where(
            used,
            inst.slot_cost * trucks_needed(load, inst.slot_cap) / np.maximum(load, 1e-9),
            rate,
        )
        cost = inst.opt_cost + inst.opt_vol * np.asarray(inst.opt_slots @ rate).ravel()
        pick = _first_per_line(inst, cost, allowed)
        new = np.where(shipped, pick, -1)
        key = new.tobytes()
        if key in seen:
            break
        seen.add(key)
        obj = evaluate(inst, new)
        if obj < best_obj:
            best, best_obj = new, obj
        load = loads(inst, new)[0]
    return best
