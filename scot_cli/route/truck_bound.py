"""The strong LP in one HiGHS model, kept warm for a branch and bound over the trucks.

The strong LP (the line model's LP with every strong linking row) is built directly as a
HiGHS model, so that after it is solved its optimal basis stays in the solver. The integer-
trucks relaxation (trucks integer, lines free to split over their options) is then solved by
a best-first branch and bound on the truck counts that starts from that basis: the options
that reduced-cost fixing rules out are fixed at zero (the basis stays optimal), and each
child LP changes one truck count's bound and is re-solved by the dual simplex from its
parent's basis, a few hundred iterations instead of a fresh LP of thousands.

The inequality rows with a basic slack at the strong LP's optimum (most strong linking rows)
are set aside for the branch and bound, and put back when a node's point violates them: the
child LPs are a quarter of the size, and each node's LP value is a lower bound of its full LP
in either case, so the bound stays valid.

Measured on the fixtures (1,952 lines, 8,705 options of which 6,063 kept by fixing, loaded
machine): HiGHS's own MIP on the same relaxation solves its root LP again (3-4 s), separates
cuts for 10 s and closes the gap by strong branching at its first node (17 s wall, about
12 CPU s); the branch and bound here closes it in four child LPs from the strong LP's basis
(2.8 CPU s; 4.4 with every row kept). Its bound at any stopping point is the least LP value
over the open nodes (each at least its parent's), so it is valid whenever it stops.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp  # noqa: TID253 - the route library is imported lazily by the command

from scot_cli.route import model as m

#: A truck count is fractional when it is this far from the nearest integer.
INT_TOL = 1e-6


@dataclass
class TruckBound:
    """Result of :meth:`StrongModel.branch_trucks`.

    ``bound`` is a lower bound of every plan cheaper than the cutoff (``-inf`` when no LP
    answered), ``points`` the option values of the nodes with integer trucks (best first),
    ``nodes`` the child LPs solved and ``status`` ``optimal`` (the tree is closed),
    ``user_limit`` (stopped by the time limit) or ``lp_error``.
    """

    bound: float
    points: list[np.ndarray] = field(default_factory=list)
    nodes: int = 0
    status: str = "optimal"


class StrongModel:
    """The strong LP of ``inst`` as one HiGHS model (options, unshipped, trucks, boxes).

    Columns: x (options, in [0, 1]), u (unshipped lines, >= 0), y (trucks per lane
    departure, >= 0), z and w (boxes per order and FC, first box per order, in [0, 1]) when
    the split cost is positive; rows as in :func:`scot_cli.route.model._solve_model` (line,
    stock, truck capacity, FC day, strong links up to ``strong_max_rows``, boxes), with the
    bounds of the variables as column bounds rather than rows.
    """

    def __init__(self, inst: m.Instance, *, strong_max_rows: int) -> None:
        import highspy

        from scot_cli.quiet import native_stdout_silenced

        self.inst = inst
        with native_stdout_silenced():  # the banner HiGHS prints when it starts
            self.highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("random_seed", 0)
        n_x, n_l, n_s = inst.n_opts, inst.n_lines, inst.slot_cap.shape[0]
        rx, rz, wz = m._split_structure(inst)
        boxes = inst.split_cost > 0 and rx.shape[0] > 0
        n_z, n_w = (rz.shape[1], wz.shape[0]) if boxes else (0, 0)
        self.y0 = n_x + n_l
        self.n_x, self.n_s = n_x, n_s
        blocks: list[list[Any]] = []
        lower: list[np.ndarray] = []
        upper: list[np.ndarray] = []

        def row(on_x: Any, on_u: Any, on_y: Any, on_z: Any, on_w: Any, lo: Any, hi: Any) -> None:
            blocks.append([on_x, on_u, on_y, on_z, on_w][: 5 if boxes else 3])
            k = next(b for b in (on_x, on_u, on_y, on_z, on_w) if b is not None).shape[0]
            lower.append(np.broadcast_to(np.asarray(lo, dtype=float), (k,)))
            upper.append(np.broadcast_to(np.asarray(hi, dtype=float), (k,)))

        line_of = m._incidence(inst.opt_line, n_l)
        row(line_of, sp.identity(n_l, format="csr"), None, None, None, 1.0, 1.0)
        stock = m._incidence(inst.opt_stock, inst.stock_cap.shape[0], inst.opt_qty)
        row(stock, None, None, None, None, -math.inf, inst.stock_cap)
        vol = inst.opt_slots.multiply(inst.opt_vol[:, None]).T.tocsr()
        row(vol, None, -sp.diags(inst.slot_cap, format="csr"), None, None, -math.inf, 0.0)
        finite = np.isfinite(inst.fcday_cap)
        if finite.any():
            fcday = m._incidence(inst.opt_fcday, inst.fcday_cap.shape[0], inst.opt_qty)[finite]
            row(fcday, None, None, None, None, -math.inf, inst.fcday_cap[finite])
        link_x, link_y = m.strong_links(inst)
        if link_x.shape[0] <= strong_max_rows:
            row(link_x, None, -link_y, None, None, -math.inf, 0.0)
        if boxes:
            row(rx, None, None, -rz, None, -math.inf, 0.0)
            row(None, None, None, -wz, sp.identity(n_w, format="csr"), -math.inf, 0.0)
        widths = [n_x, n_l, n_s, n_z, n_w][: 5 if boxes else 3]
        for blk in blocks:
            k = next(b for b in blk if b is not None).shape[0]
            for j, b in enumerate(blk):
                if b is None:
                    blk[j] = sp.csr_matrix((k, widths[j]))
        a = sp.bmat(blocks, format="csc")
        cost = np.concatenate(
            [
                inst.opt_cost,
                inst.line_penalty,
                inst.slot_cost,
                np.full(n_z, inst.split_cost),
                np.full(n_w, -inst.split_cost),
            ]
        ).astype(float)
        col_lo = np.zeros(cost.shape[0])
        col_hi = np.concatenate(
            [np.ones(n_x), np.full(n_l + n_s, math.inf), np.ones(n_z + n_w)]
        ).astype(float)
        self.col_hi = col_hi
        self.rows = a.tocsr()
        self.row_lo, self.row_hi = np.concatenate(lower), np.concatenate(upper)
        # rows in the model, in its order; the others are set aside (all inequalities)
        self.absent = np.zeros(self.row_lo.shape[0], dtype=bool)
        self.present = np.flatnonzero(~self.absent)
        a = self.rows[self.present].tocsc()
        lp = highspy.HighsLp()
        lp.num_col_ = int(a.shape[1])
        lp.num_row_ = int(a.shape[0])
        lp.col_cost_ = cost
        lp.col_lower_ = col_lo
        lp.col_upper_ = col_hi
        lp.row_lower_ = self.row_lo[self.present]
        lp.row_upper_ = self.row_hi[self.present]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        self.highs.passModel(lp)
        self.value = -math.inf
        self.basis: Any = None

    def _run(self, seconds: float) -> str:
        """Run HiGHS for at most ``seconds`` more; its model status as a name."""
        import highspy

        h = self.highs
        # HiGHS's time limit counts the object's whole run time, over every run
        h.setOptionValue("time_limit", float(h.getRunTime() + max(seconds, 0.05)))
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return "optimal"
        if status == highspy.HighsModelStatus.kInfeasible:
            return "infeasible"
        if status == highspy.HighsModelStatus.kObjectiveBound:
            return "cutoff"
        if status == highspy.HighsModelStatus.kTimeLimit:
            return "user_limit"
        return "lp_error"

    def solve(self, *, time_limit: float) -> tuple[np.ndarray | None, float, str, m.Reduced | None]:
        """Solve the strong LP: option values, value, status and the reduced costs (the
        option values, value and reduced costs only when it is optimal)."""
        start, h = time.monotonic(), self.highs
        while True:
            status = self._run(time_limit - (time.monotonic() - start))
            if status != "optimal":
                return None, math.inf, status, None
            if not self._restore_violated_rows(np.asarray(h.getSolution().col_value)):
                break
        sol = h.getSolution()
        col = np.asarray(sol.col_value)
        dual = np.asarray(sol.col_dual)
        self.value = float(h.getInfo().objective_function_value)
        self.basis = h.getBasis()
        x = col[: self.n_x]
        dx = dual[: self.n_x].copy()
        # an option at its upper bound 1 with a negative reduced cost: the bound's multiplier
        # takes it, and the plan's cost still rises by at least max(d, 0) x over the LP's
        at_top = (dx < 0) & (x >= 1.0 - 1e-9)
        dx[at_top] = 0.0
        dy = dual[self.y0 : self.y0 + self.n_s].copy()
        return x.copy(), self.value, status, m.Reduced(dx, dy)

    def _set_aside_slack_rows(self) -> None:
        """Take out of the model the inequality rows whose slack is basic at the strong LP's
        optimum (most strong linking rows: 16,743 of 22,532 rows on the fixtures); the basis
        stays optimal. Every LP solved then is a relaxation of the full one, so its value
        stays a lower bound; :meth:`_restore_violated_rows` puts back those a point breaks."""
        import highspy

        basic = highspy.HighsBasisStatus.kBasic
        is_basic = np.fromiter(
            (st == basic for st in self.basis.row_status), dtype=bool, count=self.present.shape[0]
        )
        drop = is_basic & ~np.isfinite(self.row_lo[self.present])
        self.highs.deleteRows(int(drop.sum()), np.flatnonzero(drop).astype(np.int32))
        self.absent[self.present[drop]] = True
        self.present = self.present[~drop]

    def _restore_violated_rows(self, col: np.ndarray) -> bool:
        """Put back the rows set aside that ``col`` violates; whether there were any."""
        if not self.absent.any():
            return False
        lhs = self.rows @ col
        tol = 1e-6 * np.maximum(1.0, np.abs(self.row_hi))
        back = np.flatnonzero(self.absent & (lhs > self.row_hi + tol))
        if not back.shape[0]:
            return False
        sub = self.rows[back]
        self.highs.addRows(
            int(back.shape[0]),
            np.full(back.shape[0], -math.inf),
            self.row_hi[back],
            int(sub.nnz),
            sub.indptr[:-1].astype(np.int32),
            sub.indices.astype(np.int32),
            sub.data.astype(float),
        )
        self.absent[back] = False
        self.present = np.concatenate([self.present, back])
        return True

    def _padded(self, basis: Any) -> Any:
        """``basis`` with the slacks of the rows put back since it was taken, basic."""
        import highspy

        more = self.highs.getNumRow() - len(basis.row_status)
        if not more:
            return basis
        out = highspy.HighsBasis()
        out.valid, out.alien = True, False
        out.col_status = basis.col_status
        out.row_status = [*basis.row_status, *[highspy.HighsBasisStatus.kBasic] * more]
        return out

    def branch_trucks(self, keep: np.ndarray, cutoff: float, *, time_limit: float) -> TruckBound:
        """Best-first branch and bound on the truck counts over the options in ``keep``
        (the others fixed at zero), pruning at ``cutoff``, from the strong LP's basis
        (:meth:`solve` must have ended optimal).

        Each node branches on its most fractional truck count (ties: the larger cost per
        truck, then the lower index) into ``y <= floor`` and ``y >= ceil`` and solves both
        children at once; a child with integer trucks is a point of the relaxation at once,
        and each child LP stops at the best such value (or the cutoff). Returns the least of
        the cutoff, the best node with integer trucks and the open nodes' LP values (a node
        whose LP did not finish keeps its parent's value).
        """
        h, start = self.highs, time.monotonic()
        if self.basis is None:
            return TruckBound(-math.inf, status="lp_error")
        self._set_aside_slack_rows()
        root_basis = h.getBasis()
        hi = self.col_hi.copy()
        hi[: self.n_x] = np.where(keep, 1.0, 0.0)
        h.changeColsBounds(
            self.n_x, np.arange(self.n_x, dtype=np.int32), np.zeros(self.n_x), hi[: self.n_x]
        )
        ys = np.arange(self.y0, self.y0 + self.n_s, dtype=np.int32)
        base_hi = hi[ys]
        cost = self.inst.slot_cost

        def node(
            lo: np.ndarray, up: np.ndarray, basis: Any, stop: float
        ) -> tuple[str, float, Any, Any]:
            left = time_limit - (time.monotonic() - start)
            if left <= 0:
                return "user_limit", math.nan, None, None
            # the dual simplex stops once its objective passes ``stop``: the node is pruned
            h.setOptionValue("objective_bound", float(stop))
            h.changeColsBounds(self.n_s, ys, lo, up)
            h.setBasis(self._padded(basis))
            while True:
                status = self._run(left)
                if status != "optimal":
                    return status, math.nan, None, None
                col = np.asarray(h.getSolution().col_value)
                if not self._restore_violated_rows(col):
                    return status, float(h.getInfo().objective_function_value), col, h.getBasis()
                left = time_limit - (time.monotonic() - start)
                if left <= 0:
                    return "user_limit", math.nan, None, None

        lo0, up0 = np.zeros(self.n_s), base_hi.copy()
        status, value, col, basis = node(lo0, up0, root_basis, cutoff)
        if status == "cutoff":  # no point below the cutoff
            return TruckBound(cutoff)
        if status != "optimal":
            return TruckBound(self.value if status == "user_limit" else -math.inf, status=status)
        best = cutoff
        points: list[tuple[float, np.ndarray]] = []
        heap: list[tuple[float, int, np.ndarray, np.ndarray, Any, Any]] = []
        out = TruckBound(-math.inf)

        def fractional(col: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            y = col[ys]
            dist = np.minimum(y - np.floor(y), np.ceil(y) - y)
            return y, dist, np.flatnonzero(dist > INT_TOL)

        def settle(value: float, lo: np.ndarray, up: np.ndarray, col: Any, basis: Any) -> None:
            """A solved node: with integer trucks it is a point of the relaxation (the best
            such value prunes from now on), else it waits in the queue."""
            nonlocal best
            if not fractional(col)[2].shape[0]:
                best = min(best, value)
                points.append((value, col[: self.n_x].copy()))
                return
            heapq.heappush(heap, (value, out.nodes, lo, up, col, basis))

        settle(value, lo0, up0, col, basis)
        while heap:
            value, _, lo, up, col, basis = heap[0]
            if time.monotonic() - start >= time_limit:
                out.status = "user_limit"
                break
            if value >= best - 1e-9 * max(abs(best), 1.0):
                heap.clear()
                break
            if col is None:  # its LP did not finish
                out.status = "user_limit" if time.monotonic() - start >= time_limit else "lp_error"
                break
            heapq.heappop(heap)
            y, dist, cand = fractional(col)
            order = np.lexsort((cand, -cost[cand], -dist[cand]))
            j = int(cand[order[0]])
            for child_lo, child_up in (
                (lo, np.where(np.arange(self.n_s) == j, math.floor(y[j] + INT_TOL), up)),
                (np.where(np.arange(self.n_s) == j, math.ceil(y[j] - INT_TOL), lo), up),
            ):
                if child_lo[j] > child_up[j]:
                    continue
                status, v, c, b = node(child_lo, child_up, basis, best)
                out.nodes += 1
                if status == "optimal":
                    settle(v, child_lo, child_up, c, b)
                elif status not in ("infeasible", "cutoff"):
                    # no answer in time: the child keeps its parent's value
                    heapq.heappush(heap, (value, out.nodes, child_lo, child_up, None, None))
        open_min = heap[0][0] if heap else math.inf
        out.bound = min(best, open_min)
        out.points = [p for _, p in sorted(points, key=lambda t: t[0])]
        return out


def strong_lp(
    inst: m.Instance, *, time_limit: float, strong_max_rows: int
) -> tuple[np.ndarray | None, float, str, m.Reduced | None]:
    """The LP relaxation with up to ``strong_max_rows`` strong linking rows: option values,
    value, status, and the reduced costs when optimal (:func:`model.reduced_cost_fixing`). Solved
    as one HiGHS model (:class:`StrongModel`, which also keeps its
    basis for the integer-trucks bound)."""
    return StrongModel(inst, strong_max_rows=strong_max_rows).solve(time_limit=time_limit)
