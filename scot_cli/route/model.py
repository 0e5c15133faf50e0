"""The fulfilment assignment model over candidate options, as arrays.

Mixed-integer model (a fixed-charge network design with single sourcing per line; see
Magnanti & Wong (1984), "Network design and transportation planning", Transp. Sci. 18(1)):

.. math::

    \\min \\sum_o c_o x_o + \\sum_l p_l u_l + \\sum_s f_s y_s
          + \\beta \\big(\\sum_{(k,i)} z_{ki} - \\sum_k w_k\\big)

subject to, for every line :math:`l`, stock key :math:`(i, \\text{sku})`, FC day :math:`d`,
lane departure :math:`s` and multi-line order :math:`k`:

* :math:`\\sum_{o \\in l} x_o + u_l = 1` (each line shipped once or unshipped),
* :math:`\\sum_{o \\in (i, \\text{sku})} q_o x_o \\le \\text{on\\_hand}` (stock),
* :math:`\\sum_{o \\in d} q_o x_o \\le \\text{daily\\_capacity}` (FC processing),
* :math:`\\sum_{o \\ni s} v_o x_o \\le Q_s y_s` (truck capacity, :math:`y_s` integer trucks),
* :math:`\\sum_{o \\in l, \\text{fc}(o) = i} x_o \\le z_{ki}` (a box per order and FC),
  :math:`w_k \\le \\sum_i z_{ki}`, :math:`w_k \\le 1` (the first box is free).

:math:`c_o` is unit cost times quantity plus the lateness penalty (per unit and day late),
:math:`p_l` the penalty of leaving a line unshipped, :math:`f_s` the cost per truck and
:math:`\\beta` the cost per extra box (``split_cost``).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import scipy.sparse as sp  # noqa: TID253 - the route library is imported lazily by the command

#: Option values (None without a solution), objective, bound and solver status.
Answer = tuple[np.ndarray | None, float, float, str]

#: The strong linking rows tighten the bound a lot but slow HiGHS down on large batches; they
#: are added up to this many (line, departure) pairs.
STRONG_MAX_ROWS = 5_000


@dataclass(frozen=True)
class Instance:
    """Arrays of one assignment problem; options are columns, lines rows.

    Attributes
    ----------
    opt_line, opt_cost, opt_qty, opt_vol
        Line index, cost :math:`c_o`, units and volume of each option.
    opt_stock, opt_fcday, opt_fc
        Stock-key, FC-day and FC index of each option.
    opt_slots
        Option x lane-departure incidence (CSR, 0/1).
    stock_cap, fcday_cap
        On hand per stock key; daily capacity per FC day (``inf`` when unlimited).
    slot_cap, slot_cost
        Truck capacity :math:`Q_s` and cost per truck :math:`f_s` per lane departure.
    line_order, line_penalty
        Order index of each line and its unshipped penalty :math:`p_l`.
    split_cost
        :math:`\\beta`, the cost of each box beyond the first of an order.
    opt_core
        Options leaving on the first departure (the others wait for a later one); None
        when every option does.
    """

    opt_line: np.ndarray
    opt_cost: np.ndarray
    opt_qty: np.ndarray
    opt_vol: np.ndarray
    opt_stock: np.ndarray
    opt_fcday: np.ndarray
    opt_fc: np.ndarray
    opt_slots: sp.csr_matrix
    stock_cap: np.ndarray
    fcday_cap: np.ndarray
    slot_cap: np.ndarray
    slot_cost: np.ndarray
    line_order: np.ndarray
    line_penalty: np.ndarray
    split_cost: float
    opt_core: np.ndarray | None = None

    @property
    def n_lines(self) -> int:
        return int(self.line_order.shape[0])

    @property
    def n_opts(self) -> int:
        return int(self.opt_line.shape[0])


@dataclass(frozen=True)
class Solution:
    """An assignment (option per line, -1 unshipped), its objective, a lower bound and method."""

    assign: np.ndarray
    objective: float
    bound: float
    method: str
    status: str

    @property
    def gap(self) -> float:
        """Relative gap (objective - bound) / objective."""
        if self.objective <= 0:
            return 0.0
        return max(0.0, (self.objective - self.bound) / self.objective)


@dataclass(frozen=True)
class Cuts:
    """Rows :math:`a^\\top x - r\\, y_s \\le b`: coefficients on the options (``on_x``,
    sparse, one row per cut), the lane departure ``slot`` and coefficient ``on_y`` of each,
    and the right-hand sides ``rhs``."""

    on_x: sp.csr_matrix
    slot: np.ndarray
    on_y: np.ndarray
    rhs: np.ndarray


def restrict(inst: Instance, mask: np.ndarray) -> Instance:
    """The instance with only the options where ``mask`` holds (lines keep their index)."""
    keep = np.flatnonzero(mask)
    return replace(
        inst,
        opt_line=inst.opt_line[keep],
        opt_cost=inst.opt_cost[keep],
        opt_qty=inst.opt_qty[keep],
        opt_vol=inst.opt_vol[keep],
        opt_stock=inst.opt_stock[keep],
        opt_fcday=inst.opt_fcday[keep],
        opt_fc=inst.opt_fc[keep],
        opt_slots=inst.opt_slots[keep],
        opt_core=None,
    )


def _incidence(rows: np.ndarray, n_rows: int, values: np.ndarray | None = None) -> sp.csr_matrix:
    n = rows.shape[0]
    data = np.ones(n) if values is None else values
    return sp.csr_matrix((data, (rows, np.arange(n))), shape=(n_rows, n))


def _split_structure(inst: Instance) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """Rows (line, FC) of multi-line orders -> (options incidence, pair incidence, order x pair)."""
    lines_per_order = np.bincount(inst.line_order)
    multi = lines_per_order[inst.line_order[inst.opt_line]] > 1
    opt_idx = np.flatnonzero(multi)
    n_fc = int(inst.opt_fc.max()) + 1 if inst.n_opts else 1
    row_key = inst.opt_line[opt_idx] * n_fc + inst.opt_fc[opt_idx]
    rows, row_of = np.unique(row_key, return_inverse=True)
    pair_key = inst.line_order[rows // n_fc] * n_fc + rows % n_fc
    pairs, pair_of_row = np.unique(pair_key, return_inverse=True)
    orders, order_of_pair = np.unique(pairs // n_fc, return_inverse=True)
    rx = sp.csr_matrix(
        (np.ones(opt_idx.shape[0]), (row_of, opt_idx)), shape=(rows.shape[0], inst.n_opts)
    )
    rz = _incidence(pair_of_row, pairs.shape[0]).T.tocsr()
    wz = _incidence(order_of_pair, orders.shape[0])
    return rx, rz, wz


def strong_links(inst: Instance) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Rows (line, lane departure): the line's options through the departure sum to at most
    its trucks, :math:`\\sum_{o \\in l, o \\ni s} x_o \\le y_s`. Valid because a used
    departure has a truck; they tighten the LP bound of the fixed-charge model (Gendron,
    Crainic & Frangioni (1999), strong linking inequalities)."""
    coo = inst.opt_slots.tocoo()
    key = inst.opt_line[coo.row].astype(np.int64) * inst.slot_cap.shape[0] + coo.col
    rows, row_of = np.unique(key, return_inverse=True)
    link_x = sp.csr_matrix(
        (np.ones(coo.nnz), (row_of, coo.row)), shape=(rows.shape[0], inst.n_opts)
    )
    link_y = sp.csr_matrix(
        (np.ones(rows.shape[0]), (np.arange(rows.shape[0]), rows % inst.slot_cap.shape[0])),
        shape=(rows.shape[0], inst.slot_cap.shape[0]),
    )
    return link_x, link_y


def solve_model(
    inst: Instance,
    *,
    integer: bool,
    time_limit: float,
    split: bool = True,
    strong_max_rows: int = STRONG_MAX_ROWS,
    cuts: Cuts | None = None,
    mip_rel_gap: float = 1e-6,
    x_integer: bool = True,
    cutoff: float = math.inf,
) -> Answer:
    """Solve the model (MIP, or its LP relaxation) with HiGHS through cvxpy, with ``cuts``
    (valid inequalities, :class:`Cuts`) added when given; a MIP stops within ``mip_rel_gap``
    of its bound. ``x_integer=False`` keeps only the trucks integer: a relaxation of the
    MIP (lines may split over options), so its dual bound is a lower bound of the MIP's.
    A finite ``cutoff`` prunes every node not below it (HiGHS's ``objective_bound``): the
    dual bound then holds for solutions below the cutoff, so ``min(cutoff, bound)`` is a
    lower bound.

    Returns the option values (None without an incumbent), the objective, the best bound
    and the solver status. A MIP runs in a child process given up on shortly after
    ``time_limit`` (:mod:`scot_cli.route.bounded`: HiGHS can overrun its limit by minutes
    inside one root cut round); then the status is ``"overrun"`` and there is no answer.
    """
    return start_model(
        inst,
        integer=integer,
        time_limit=time_limit,
        split=split,
        strong_max_rows=strong_max_rows,
        cuts=cuts,
        mip_rel_gap=mip_rel_gap,
        x_integer=x_integer,
        cutoff=cutoff,
    )()


def start_model(
    inst: Instance,
    *,
    integer: bool,
    time_limit: float,
    split: bool = True,
    strong_max_rows: int = STRONG_MAX_ROWS,
    cuts: Cuts | None = None,
    mip_rel_gap: float = 1e-6,
    x_integer: bool = True,
    cutoff: float = math.inf,
    import_first: bool = True,
) -> Callable[[], Answer]:
    """Start :func:`solve_model` (same arguments) and return the function that waits for its
    answer: a MIP runs in a forked child meanwhile, so this process can work beside it
    (:func:`scot_cli.route.bounded.start_with_deadline`); an LP runs here before this
    returns.

    The modelling layer (cvxpy, over a second to import) is imported here before the fork,
    unless ``import_first`` is False: then a child imports it itself, beside this process's
    work, and its solver's limit is cut so that it still ends ``time_limit`` from now."""
    kwargs: dict[str, Any] = {
        "integer": integer,
        "time_limit": time_limit,
        "split": split,
        "strong_max_rows": strong_max_rows,
        "cuts": cuts,
        "mip_rel_gap": mip_rel_gap,
        "x_integer": x_integer,
        "cutoff": cutoff,
    }
    if not integer:
        out = cast(Answer, _solve_model(inst, **kwargs))
        return lambda: out
    if import_first:
        import cvxpy  # noqa: F401 - imported here so that the child does not spend its time on it
        import highspy  # noqa: F401
    else:
        kwargs["until"] = time.monotonic() + time_limit

    from scot_cli.route.bounded import start_with_deadline

    pending = start_with_deadline(_solve_model, inst, seconds=max(time_limit, 1.0), **kwargs)

    def answer() -> Answer:
        answered, out = pending.wait()
        if not answered or out is None:
            return None, math.inf, -math.inf, "overrun"
        return cast(Answer, out)

    return answer


@dataclass(frozen=True)
class Reduced:
    """Reduced costs of an optimal LP point: :math:`d = c + A^\\top \\lambda \\ge 0` per option
    (``x``) and per lane departure's trucks (``y``), from the row duals :math:`\\lambda`."""

    x: np.ndarray
    y: np.ndarray


def _solve_model(
    inst: Instance,
    *,
    integer: bool,
    time_limit: float,
    split: bool,
    strong_max_rows: int,
    cuts: Cuts | None,
    mip_rel_gap: float,
    x_integer: bool = True,
    cutoff: float = math.inf,
    until: float = math.inf,
) -> Any:
    """:func:`solve_model` in this process; the solver's limit is cut to end by ``until``
    (a :func:`time.monotonic` value) when that comes first."""
    import cvxpy as cp

    from scot_cli.quiet import native_stdout_silenced

    n_s = inst.slot_cap.shape[0]
    x_int = integer and x_integer
    x = cp.Variable(inst.n_opts, boolean=x_int, nonneg=not x_int)
    u = cp.Variable(inst.n_lines, nonneg=True)
    y = cp.Variable(n_s, integer=integer, nonneg=not integer)
    vol = inst.opt_slots.multiply(inst.opt_vol[:, None]).T.tocsr()
    finite = np.isfinite(inst.fcday_cap)
    fcday = _incidence(inst.opt_fcday, inst.fcday_cap.shape[0], inst.opt_qty)[finite]
    line_of = _incidence(inst.opt_line, inst.n_lines)
    stock = _incidence(inst.opt_stock, inst.stock_cap.shape[0], inst.opt_qty)
    cons: list[Any] = [
        line_of @ x + u == 1,
        stock @ x <= inst.stock_cap,
        vol @ x <= cp.multiply(inst.slot_cap, y),  # type: ignore[attr-defined]
    ]
    if integer:
        cons.append(y >= 0)
    if not x_int:
        cons.append(x <= 1)
    if finite.any():
        cons.append(fcday @ x <= inst.fcday_cap[finite])
    link_x, link_y = strong_links(inst)
    if link_x.shape[0] <= strong_max_rows:
        cons.append(link_x @ x <= link_y @ y)
    if cuts is not None and cuts.rhs.shape[0]:
        cons.append(
            cuts.on_x @ x - cp.multiply(cuts.on_y, y[cuts.slot]) <= cuts.rhs  # type: ignore[attr-defined]
        )
    obj = inst.opt_cost @ x + inst.line_penalty @ u + inst.slot_cost @ y
    rx, rz, wz = _split_structure(inst)
    if split and inst.split_cost > 0 and rx.shape[0]:
        z = cp.Variable(rz.shape[1], nonneg=True)
        w = cp.Variable(wz.shape[0], nonneg=True)
        cons += [rx @ x <= rz @ z, w <= wz @ z, w <= 1, z <= 1]
        obj = obj + inst.split_cost * (cp.sum(z) - cp.sum(w))  # type: ignore[attr-defined]
    prob = cp.Problem(cp.Minimize(obj), cons)
    time_limit = min(time_limit, until - time.monotonic())
    opts: dict[str, Any] = {"time_limit": float(max(time_limit, 1.0)), "output_flag": False}
    if integer:
        opts["mip_rel_gap"] = mip_rel_gap
    if integer and not x_integer:
        # a relaxation solved for its bound: measured on the fixtures, HiGHS's restarts after
        # root reductions solve the root again for little, and its sub-MIP heuristics find
        # an incumbent that ``cutoff`` makes unnecessary; without them the bound closes in
        # about half the time (40 -> 12 CPU s)
        opts.update(
            mip_allow_restart=False,
            mip_heuristic_run_rins=False,
            mip_heuristic_run_rens=False,
            mip_heuristic_run_root_reduced_cost=False,
            mip_heuristic_run_feasibility_jump=False,
        )
    if integer and math.isfinite(cutoff):
        opts["objective_bound"] = float(cutoff)
    fail = (None, math.inf, -math.inf, "solver_error")
    try:
        with warnings.catch_warnings(), native_stdout_silenced():
            warnings.simplefilter("ignore")
            prob.solve(solver=cp.HIGHS, **opts)  # type: ignore[no-untyped-call]
    except (cp.error.SolverError, ValueError):
        # ValueError: cvxpy cannot unpack a solution HiGHS returned without one (status unknown)
        return fail
    info = prob.solver_stats.extra_stats if prob.solver_stats else None
    value = float(prob.value) if prob.value is not None and np.isfinite(prob.value) else math.inf
    bound = value
    if integer and info is not None:
        bound = float(getattr(info, "mip_dual_bound", value))
    return (None if x.value is None else np.asarray(x.value)), value, bound, str(prob.status)


def reduced_cost_fixing(inst: Instance, red: Reduced, lp_value: float, upper: float) -> np.ndarray:
    """Options that a plan cheaper than ``upper`` may use, by reduced-cost fixing (Nemhauser
    & Wolsey (1988), "Integer and combinatorial optimization", II.2.1).

    For any feasible plan, cost :math:`\\ge z_{LP} + \\sum_o d_o x_o + \\sum_s d_s y_s` with
    :math:`d \\ge 0` the reduced costs of the optimal LP point. An option also needs a truck on
    each of its departures, so a plan using it costs at least :math:`z_{LP} + d_o +
    \\sum_{s \\ni o} d_s`; where that exceeds ``upper`` no cheaper plan uses the option. The
    MIP over the options kept is then exact for every plan cheaper than ``upper``, and
    ``min(upper, its bound)`` is a lower bound of the whole problem. Tolerance: the slack
    grows by the negative reduced costs (solver tolerance) times their variables' largest
    values and a relative 1e-6.
    """
    dx, dy = red.x, red.y
    load_max = np.asarray(inst.opt_slots.T @ inst.opt_vol).ravel()
    y_max = np.ceil(load_max / inst.slot_cap) + 1.0
    slack = (
        upper
        - lp_value
        + 1e-6 * max(abs(upper), 1.0)
        + float(np.maximum(-dx, 0.0).sum())
        + float(np.maximum(-dy, 0.0) @ y_max)
    )
    need = dx + np.asarray(inst.opt_slots @ np.maximum(dy, 0.0)).ravel()
    return np.asarray(need <= slack)


def round_assignment(inst: Instance, xval: np.ndarray) -> np.ndarray:
    """Option per line from (possibly fractional) option values: the largest, ties by order."""
    assign = np.full(inst.n_lines, -1, dtype=np.int64)
    order = np.lexsort((-xval, inst.opt_line))
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = inst.opt_line[order][1:] != inst.opt_line[order][:-1]
    best = order[first]
    keep = xval[best] > 1e-6
    assign[inst.opt_line[best[keep]]] = best[keep]
    return assign


@dataclass
class State:
    """Loads and residuals of an assignment, updated move by move in the local search."""

    assign: np.ndarray
    slot_load: np.ndarray
    stock_left: np.ndarray
    fcday_left: np.ndarray
    boxes: dict[int, dict[int, int]]


def loads(inst: Instance, assign: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slot loads, residual stock and residual FC-day capacity of ``assign`` (the arrays of
    :func:`make_state` without the boxes)."""
    used = assign[assign >= 0]
    load = np.asarray(inst.opt_slots[used].T @ inst.opt_vol[used]).ravel()
    stock = inst.stock_cap - np.bincount(
        inst.opt_stock[used], weights=inst.opt_qty[used], minlength=inst.stock_cap.shape[0]
    )
    fcday = inst.fcday_cap - np.bincount(
        inst.opt_fcday[used], weights=inst.opt_qty[used], minlength=inst.fcday_cap.shape[0]
    )
    return load, stock, fcday


def extra_boxes(inst: Instance, assign: np.ndarray) -> int:
    """Boxes beyond the first of each order: distinct (order, FC) pairs minus orders."""
    used = assign[assign >= 0]
    if not used.shape[0]:
        return 0
    order = inst.line_order[inst.opt_line[used]]
    pairs = np.unique(order * (int(inst.opt_fc.max()) + 1) + inst.opt_fc[used]).shape[0]
    return int(pairs - np.unique(order).shape[0])


def make_state(inst: Instance, assign: np.ndarray) -> State:
    """Loads, residual stock and capacity, and boxes (lines per order and FC) of ``assign``."""
    used = assign[assign >= 0]
    load, stock, fcday = loads(inst, assign)
    boxes: dict[int, dict[int, int]] = {}
    for o in used.tolist():
        fcs = boxes.setdefault(int(inst.line_order[inst.opt_line[o]]), {})
        fcs[int(inst.opt_fc[o])] = fcs.get(int(inst.opt_fc[o]), 0) + 1
    return State(assign.copy(), load, stock, fcday, boxes)


def trucks_needed(load: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Trucks per lane departure when loads may split across trucks: ceil(load / capacity)."""
    return np.asarray(np.ceil(np.maximum(load, 0.0) / cap - 1e-9))


def evaluate(inst: Instance, assign: np.ndarray) -> float:
    """Objective of an assignment (trucks as ceil(load / capacity)); inf when infeasible."""
    load, stock_left, fcday_left = loads(inst, assign)
    if (stock_left < -1e-6).any() or (fcday_left < -1e-6).any():
        return math.inf
    used = assign[assign >= 0]
    extra = extra_boxes(inst, assign)
    return float(
        inst.opt_cost[used].sum()
        + inst.line_penalty[assign < 0].sum()
        + inst.slot_cost @ trucks_needed(load, inst.slot_cap)
        + inst.split_cost * extra
    )


def repair(inst: Instance, assign: np.ndarray) -> np.ndarray:
    """Make a rounded assignment feasible: drop lines where stock or FC capacity is exceeded."""
    assign = assign.copy()
    st = make_state(inst, assign)
    for key_arr, left in ((inst.opt_stock, st.stock_left), (inst.opt_fcday, st.fcday_left)):
        over = np.flatnonzero(left < -1e-6)
        for k in over.tolist():
            lines = np.flatnonzero((assign >= 0) & (key_arr[np.maximum(assign, 0)] == k))
            for line in lines[np.argsort(-inst.opt_qty[assign[lines]])].tolist():
                if left[k] >= -1e-6:
                    break
                left[k] += inst.opt_qty[assign[line]]
                assign[line] = -1
    return assign


def _move_delta(inst: Instance, st: State, line: int, new: int) -> float:
    old = int(st.assign[line])
    delta = (inst.opt_cost[new] if new >= 0 else inst.line_penalty[line]) - (
        inst.opt_cost[old] if old >= 0 else inst.line_penalty[line]
    )
    load = st.slot_load
    for o, sign in ((old, -1.0), (new, 1.0)):
        if o < 0:
            continue
        s = inst.opt_slots.indices[inst.opt_slots.indptr[o] : inst.opt_slots.indptr[o + 1]]
        before = trucks_needed(load[s], inst.slot_cap[s])
        load[s] += sign * inst.opt_vol[o]
        delta += float(inst.slot_cost[s] @ (trucks_needed(load[s], inst.slot_cap[s]) - before))
    for o, sign in ((new, 1.0), (old, -1.0)):
        if o >= 0:
            s = inst.opt_slots.indices[inst.opt_slots.indptr[o] : inst.opt_slots.indptr[o + 1]]
            load[s] -= sign * inst.opt_vol[o]
    return float(delta + inst.split_cost * _box_delta(inst, st, line, old, new))


def _box_delta(inst: Instance, st: State, line: int, old: int, new: int) -> int:
    if inst.split_cost <= 0:
        return 0
    fcs = st.boxes.get(int(inst.line_order[line]), {})
    before = max(len(fcs) - 1, 0)
    after = set(fcs)
    if old >= 0 and fcs.get(int(inst.opt_fc[old]), 0) == 1:
        after.discard(int(inst.opt_fc[old]))
    if new >= 0:
        after.add(int(inst.opt_fc[new]))
    return max(len(after) - 1, 0) - before


def _feasible_move(inst: Instance, st: State, line: int, new: int) -> bool:
    old = int(st.assign[line])
    if new < 0:
        return True
    stock_left = st.stock_left[inst.opt_stock[new]] + (
        inst.opt_qty[old] if old >= 0 and inst.opt_stock[old] == inst.opt_stock[new] else 0.0
    )
    day_left = st.fcday_left[inst.opt_fcday[new]] + (
        inst.opt_qty[old] if old >= 0 and inst.opt_fcday[old] == inst.opt_fcday[new] else 0.0
    )
    need = inst.opt_qty[new]
    return bool(stock_left >= need - 1e-9 and day_left >= need - 1e-9)


def _apply(inst: Instance, st: State, line: int, new: int) -> None:
    old = int(st.assign[line])
    for o, sign in ((old, -1.0), (new, 1.0)):
        if o < 0:
            continue
        s = inst.opt_slots.indices[inst.opt_slots.indptr[o] : inst.opt_slots.indptr[o + 1]]
        st.slot_load[s] += sign * inst.opt_vol[o]
        st.stock_left[inst.opt_stock[o]] -= sign * inst.opt_qty[o]
        st.fcday_left[inst.opt_fcday[o]] -= sign * inst.opt_qty[o]
        fcs = st.boxes.setdefault(int(inst.line_order[line]), {})
        fc = int(inst.opt_fc[o])
        fcs[fc] = fcs.get(fc, 0) + int(sign)
        if fcs[fc] == 0:
            del fcs[fc]
    st.assign[line] = new


def _best_move(
    inst: Instance, st: State, line: int, starts: np.ndarray, banned: int = -1
) -> tuple[int, float]:
    """Best feasible option of ``line`` (or unshipped) and its cost change, avoiding a slot."""
    best, best_delta = int(st.assign[line]), math.inf if banned >= 0 else 0.0
    unship = [] if banned >= 0 else [-1]
    for new in [*range(int(starts[line]), int(starts[line + 1])), *unship]:
        if new == st.assign[line] or not _feasible_move(inst, st, line, new):
            continue
        if banned >= 0 and new >= 0 and banned in _slots_of(inst, new):
            continue
        d = _move_delta(inst, st, line, new)
        if d < best_delta - 1e-9:
            best, best_delta = new, d
    return best, best_delta


def _slots_of(inst: Instance, o: int) -> np.ndarray:
    return np.asarray(
        inst.opt_slots.indices[inst.opt_slots.indptr[o] : inst.opt_slots.indptr[o + 1]]
    )


def _relocate_pass(
    inst: Instance, st: State, starts: np.ndarray, order: list[int], deadline: float
) -> bool:
    improved = False
    for line in order:
        if time.monotonic() > deadline:
            break
        best, delta = _best_move(inst, st, line, starts)
        if best != st.assign[line] and delta < -1e-6:
            _apply(inst, st, line, best)
            improved = True
    return improved


def relocate(
    inst: Instance, st: State, starts: np.ndarray, order: list[int], deadline: float
) -> bool:
    """Move each line of ``order`` to its best option when that lowers the cost (one pass,
    within ``deadline``); whether any moved. ``starts``: each line's first option."""
    return _relocate_pass(inst, st, starts, order, deadline)


def _drop_pass(inst: Instance, st: State, starts: np.ndarray, deadline: float) -> bool:
    """Try to empty each used lane departure, emptiest first (a DROP move: Kuehn &
    Hamburger (1963)); keep the moves when the total cost falls, else undo them."""
    used_opts = st.assign[st.assign >= 0]
    on_slot = inst.opt_slots[used_opts].tocsc()
    improved = False
    for s in np.argsort(st.slot_load / inst.slot_cap).tolist():
        if st.slot_load[s] <= 1e-9:
            continue
        if time.monotonic() > deadline:
            break
        lines = inst.opt_line[used_opts[on_slot.indices[on_slot.indptr[s] : on_slot.indptr[s + 1]]]]
        moves, total = [], 0.0
        for line in lines.tolist():
            if time.monotonic() > deadline:
                # a departure of thousands of lines takes seconds: undone unless finished
                total = math.inf
                break
            if inst.opt_slots[st.assign[line], s] == 0:
                continue
            new, delta = _best_move(inst, st, line, starts, banned=s)
            if not math.isfinite(delta):
                total = math.inf
                break
            moves.append((line, int(st.assign[line])))
            _apply(inst, st, line, new)
            total += delta
        if total < -1e-6:
            improved = True
            continue
        for line, old in reversed(moves):
            _apply(inst, st, line, old)
    return improved


def insert_unshipped(inst: Instance, assign: np.ndarray, *, deadline: float) -> np.ndarray:
    """Move each unshipped line to its best feasible option (a cheap repair of a start)."""
    st = make_state(inst, assign)
    starts = np.searchsorted(inst.opt_line, np.arange(inst.n_lines + 1))
    _relocate_pass(inst, st, starts, np.flatnonzero(st.assign < 0).tolist(), deadline)
    return np.asarray(st.assign)


def local_search(
    inst: Instance, assign: np.ndarray, *, deadline: float, seed: int = 0, max_passes: int = 20
) -> np.ndarray:
    """Relocate single lines and empty whole lane departures while the cost falls.

    Each move is priced exactly: option cost, truck counts on the lanes left and joined,
    extra boxes of the order. Stops at a local optimum, after ``max_passes`` or at
    ``deadline`` (a ``time.monotonic()`` value). A Python loop per line: measured at about
    10 µs per candidate move, it runs after the solver, within the time limit.
    """
    rng = np.random.default_rng(seed)
    st = make_state(inst, assign)
    starts = np.searchsorted(inst.opt_line, np.arange(inst.n_lines + 1))
    _relocate_pass(inst, st, starts, np.flatnonzero(st.assign < 0).tolist(), deadline)
    for _ in range(max_passes):
        order = rng.permutation(inst.n_lines).tolist()
        moved = _relocate_pass(inst, st, starts, order, deadline)
        dropped = _drop_pass(inst, st, starts, deadline)
        if not (moved or dropped) or time.monotonic() > deadline:
            break
    return np.asarray(st.assign)
