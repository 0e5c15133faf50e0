"""The placement LP, built from arrays (sparse matrices), and its solution.

Variables (all non-negative), stacked in one vector:

* ``y[s,e]``  expected units of sku s allocated to arc e (FC f(e) -> region r(e)),
* ``z[s,r,k]`` units in expected-sales segment k of sku s in region r
  (:mod:`scot_cli.place.segments`),
* ``tin[s,f]``, ``tout[s,f]`` units moved into / out of FC f, ``rec[s,f]`` arriving buys
  received at FC f,
* penalised slacks of FC storage and throughput and of the regional speed targets.

The target stock is ``x[s,f] = current + rec + tin - tout``. Minimise

    sum h x + sum t tin + sum i rec + sum c_e y + late_e y
      + sum p (mu - sum_k g_k z) + penalties * slacks

subject to ``sum_r y[s,f,.] <= x[s,f]``, ``sum_f y[s,.,r] = sum_k z[s,r,k]``,
``sum_f tin = sum_f tout``, ``sum_f rec = arriving``, storage ``sum_s v_s x[s,f] <= cap_f``,
throughput ``sum y + tin + tout + rec <= daily capacity * days`` and speed
``sum_{s, e fast into r} y >= share * sum_s mu[s,r]``. This is the single-period
stochastic transportation / newsvendor placement LP (Snyder & Shen, Ch. 4 and 12;
Graves & Willems style echelon decoupling is not modelled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from scot_cli.errors import InfeasibleError
from scot_cli.place.options import PlaceOptions
from scot_cli.place.problem import PlaceProblem
from scot_cli.place.registry import SOLVERS
from scot_cli.place.segments import segments

if TYPE_CHECKING:
    import scipy.sparse as sp


@dataclass
class Bounds:
    """Lower/upper bounds (S, F) of the move variables; ``None`` means the defaults."""

    tin: tuple[np.ndarray, np.ndarray] | None = None
    tout: tuple[np.ndarray, np.ndarray] | None = None
    rec: tuple[np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True)
class Prices:
    """Prices of the shared constraints for a Lagrangian relaxation (Fisher 1981).

    ``storage`` per unit volume held at each FC, ``throughput`` per unit handled at each FC,
    ``speed`` per unit allocated to each region from an FC within the speed target.
    """

    storage: np.ndarray
    throughput: np.ndarray
    speed: np.ndarray


@dataclass
class LinearProgram:
    """``min c v + const`` s.t. ``A_ub v <= b_ub``, ``A_eq v = b_eq``, ``lb <= v <= ub``.

    ``blocks`` maps a variable family to its slice of ``v``; ``index`` holds each family's
    index arrays; ``rows`` maps a shared constraint family to (row slice of A_ub, ids).
    """

    c: np.ndarray
    const: float
    a_ub: sp.csr_matrix
    b_ub: np.ndarray
    a_eq: sp.csr_matrix
    b_eq: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    blocks: dict[str, slice]
    index: dict[str, tuple[np.ndarray, ...]]
    rows: dict[str, tuple[slice, np.ndarray]]
    gains: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class LPSolution:
    """Primal values ``v``, objective and shadow prices of the shared constraints."""

    v: np.ndarray
    objective: float
    duals: dict[str, np.ndarray]
    status: str


def build_lp(
    prob: PlaceProblem,
    options: PlaceOptions,
    bounds: Bounds | None = None,
    prices: Prices | None = None,
) -> LinearProgram:
    """Assemble the placement LP of ``prob`` as sparse arrays (no per-element Python loop).

    With ``prices`` the shared storage, throughput and speed constraints are dropped and
    priced into the objective instead (their Lagrangian relaxation): the LP separates by sku.
    """
    bounds = bounds or Bounds()
    widths, gains = segments(prob.mu, prob.sd, levels=options.levels)
    y_s, y_e = np.nonzero(prob.eligible[:, prob.arc_fc] & (prob.mu[:, prob.arc_region] > 0))
    z_s, z_r, z_k = np.nonzero(widths > 1e-9)
    t_s, t_f = np.nonzero(prob.eligible)
    o_s, o_f = np.nonzero(prob.current > 0)
    r_s, r_f = np.nonzero(prob.eligible & (prob.arriving[:, None] > 0))
    sizes = {"y": y_s.size, "z": z_s.size, "tin": t_s.size, "tout": o_s.size, "rec": r_s.size}
    cap_f = np.flatnonzero(np.isfinite(prob.storage) & (prices is None))
    thr_f = np.flatnonzero(np.isfinite(prob.throughput) & (prices is None))
    spd_r = speed_regions(prob, options) if prices is None else np.zeros(0, dtype=np.int64)
    sizes |= {"s_store": cap_f.size, "s_thru": thr_f.size, "s_speed": spd_r.size}
    blocks, start = {}, 0
    for name, size in sizes.items():
        blocks[name] = slice(start, start + size)
        start += size
    n = start
    index = {
        "y": (y_s, y_e),
        "z": (z_s, z_r, z_k),
        "tin": (t_s, t_f),
        "tout": (o_s, o_f),
        "rec": (r_s, r_f),
        "s_store": (cap_f,),
        "s_thru": (thr_f,),
        "s_speed": (spd_r,),
    }
    c, const = _objective(prob, options, index, gains, n, blocks)
    if prices is not None:
        _price(c, prob, options, index, blocks, prices)
    lb, ub = _bounds(prob, index, widths, bounds, n, blocks)
    col = {k: np.arange(s.start, s.stop) for k, s in blocks.items()}
    a_ub, b_ub, rows = _inequalities(prob, options, index, col, n)
    a_eq, b_eq = _equalities(prob, index, col, n)
    return LinearProgram(
        c, const, a_ub, b_ub, a_eq, b_eq, lb, ub, blocks, index, rows, gains[z_s, z_r, z_k]
    )


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a . b`` of two vectors without BLAS. OpenBLAS splits a dot over more than 10,000
    elements across its threads, which then spin-wait for more work: each such call costs
    the process about 14 ms of CPU for 0.2 ms of work (measured on a dot of 46,000), and the
    batched solve makes thousands of them on a busy 2-core machine. ``einsum`` sums in one
    thread, with the same result on any machine whatever its BLAS threads."""
    return float(np.einsum("i,i->", a, b))


def speed_regions(prob: PlaceProblem, options: PlaceOptions) -> np.ndarray:
    """Regions with a speed-target row: some need, and an FC within the target days."""
    if options.speed_days is None or options.speed_share <= 0:
        return np.zeros(0, dtype=np.int64)
    fast = prob.arc_region[prob.arc_days <= options.speed_days]
    need = _speed_need(prob, options) > 0
    return np.flatnonzero(np.isin(np.arange(len(prob.regions)), fast) & need)


def _speed_need(prob: PlaceProblem, options: PlaceOptions) -> np.ndarray:
    """(R,) units each region must get from FCs within the speed target."""
    if prob.speed_rhs is not None:
        return prob.speed_rhs
    need: np.ndarray = options.speed_share * prob.mu.sum(axis=0)
    return need


def _price(
    c: np.ndarray,
    prob: PlaceProblem,
    st: PlaceOptions,
    index: dict[str, tuple[np.ndarray, ...]],
    blocks: dict[str, slice],
    prices: Prices,
) -> None:
    """Add the shared constraints' prices to the objective ``c`` in place."""
    y_e = index["y"][1]
    days = st.speed_days if st.speed_days is not None else -1
    fast = prob.arc_days <= days
    c[blocks["y"]] += (prices.throughput[prob.arc_fc] - prices.speed[prob.arc_region] * fast)[y_e]
    for name, sign in (("tin", 1.0), ("tout", -1.0), ("rec", 1.0)):
        s, f = index[name]
        c[blocks[name]] += sign * prices.storage[f] * prob.volume[s] + prices.throughput[f]


def _objective(
    prob: PlaceProblem,
    st: PlaceOptions,
    index: dict[str, tuple[np.ndarray, ...]],
    gains: np.ndarray,
    n: int,
    blocks: dict[str, slice],
) -> tuple[np.ndarray, float]:
    c = np.zeros(n)
    y_e = index["y"][1]
    late = np.zeros(prob.arc_days.size)
    if st.speed_days is not None:
        late = st.late_cost * np.maximum(prob.arc_days - st.speed_days, 0)
    c[blocks["y"]] = (prob.arc_cost + late)[y_e]
    z_s, z_r, z_k = index["z"]
    c[blocks["z"]] = -prob.lost[z_s, z_r] * gains[z_s, z_r, z_k]
    c[blocks["tin"]] = (prob.holding + prob.transfer_cost)[index["tin"]]
    c[blocks["tout"]] = -prob.holding[index["tout"]]
    c[blocks["rec"]] = (prob.holding + prob.inbound_cost)[index["rec"]]
    c[blocks["s_store"]] = st.overflow_penalty
    c[blocks["s_thru"]] = st.overflow_penalty
    c[blocks["s_speed"]] = st.speed_penalty
    const = float((prob.holding * prob.current).sum() + (prob.lost * prob.mu).sum())
    return c, const


def _bounds(
    prob: PlaceProblem,
    index: dict[str, tuple[np.ndarray, ...]],
    widths: np.ndarray,
    bounds: Bounds,
    n: int,
    blocks: dict[str, slice],
) -> tuple[np.ndarray, np.ndarray]:
    lb, ub = np.zeros(n), np.full(n, np.inf)
    ub[blocks["z"]] = widths[index["z"]]
    ub[blocks["tout"]] = prob.current[index["tout"]]
    for name in ("tin", "tout", "rec"):
        given = getattr(bounds, name)
        if given is not None:
            lb[blocks[name]] = given[0][index[name]]
            ub[blocks[name]] = np.minimum(ub[blocks[name]], given[1][index[name]])
    return lb, ub


def _inequalities(
    prob: PlaceProblem,
    st: PlaceOptions,
    index: dict[str, tuple[np.ndarray, ...]],
    col: dict[str, np.ndarray],
    n: int,
) -> tuple[sp.csr_matrix, np.ndarray, dict[str, tuple[slice, np.ndarray]]]:
    n_s, n_f, n_r = prob.shape
    y_s, y_e = index["y"]
    y_f = prob.arc_fc[y_e]
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    # stock: sum_r y - tin + tout - rec <= current  (rows s*F + f)
    parts.append((y_s * n_f + y_f, col["y"], np.ones(y_s.size)))
    for name, sign in (("tin", -1.0), ("tout", 1.0), ("rec", -1.0)):
        s, f = index[name]
        parts.append((s * n_f + f, col[name], np.full(s.size, sign)))
    b = [prob.current.ravel()]
    row0 = n_s * n_f
    rows: dict[str, tuple[slice, np.ndarray]] = {}
    vol = prob.volume
    # storage: sum_s v (tin - tout + rec) - slack <= cap - sum_s v current
    (cap_f,) = index["s_store"]
    pos = np.full(n_f, -1)
    pos[cap_f] = np.arange(cap_f.size)
    for name, sign in (("tin", 1.0), ("tout", -1.0), ("rec", 1.0)):
        s, f = index[name]
        keep = pos[f] >= 0
        parts.append((row0 + pos[f[keep]], col[name][keep], sign * vol[s[keep]]))
    parts.append((row0 + np.arange(cap_f.size), col["s_store"], -np.ones(cap_f.size)))
    b.append(prob.storage[cap_f] - (vol[:, None] * prob.current).sum(axis=0)[cap_f])
    rows["storage"] = (slice(row0, row0 + cap_f.size), cap_f)
    row0 += cap_f.size
    # throughput: sum y + tin + tout + rec - slack <= daily capacity * days
    (thr_f,) = index["s_thru"]
    pos = np.full(n_f, -1)
    pos[thr_f] = np.arange(thr_f.size)
    for name, f in (
        ("y", y_f),
        ("tin", index["tin"][1]),
        ("tout", index["tout"][1]),
        ("rec", index["rec"][1]),
    ):
        keep = pos[f] >= 0
        parts.append((row0 + pos[f[keep]], col[name][keep], np.ones(int(keep.sum()))))
    parts.append((row0 + np.arange(thr_f.size), col["s_thru"], -np.ones(thr_f.size)))
    b.append(prob.throughput[thr_f])
    rows["throughput"] = (slice(row0, row0 + thr_f.size), thr_f)
    row0 += thr_f.size
    # speed: -sum_{fast} y - slack <= -share * sum_s mu
    (spd_r,) = index["s_speed"]
    pos = np.full(n_r, -1)
    pos[spd_r] = np.arange(spd_r.size)
    days = st.speed_days if st.speed_days is not None else -1
    y_r = prob.arc_region[y_e]
    keep = (prob.arc_days[y_e] <= days) & (pos[y_r] >= 0)
    parts.append((row0 + pos[y_r[keep]], col["y"][keep], -np.ones(int(keep.sum()))))
    parts.append((row0 + np.arange(spd_r.size), col["s_speed"], -np.ones(spd_r.size)))
    b.append(-_speed_need(prob, st)[spd_r])
    rows["speed"] = (slice(row0, row0 + spd_r.size), spd_r)
    row0 += spd_r.size
    return _assemble(parts, row0, n), np.concatenate(b), rows


def _equalities(
    prob: PlaceProblem,
    index: dict[str, tuple[np.ndarray, ...]],
    col: dict[str, np.ndarray],
    n: int,
) -> tuple[sp.csr_matrix, np.ndarray]:
    n_s, _, n_r = prob.shape
    y_s, y_e = index["y"]
    z_s, z_r, _ = index["z"]
    parts = [
        (y_s * n_r + prob.arc_region[y_e], col["y"], np.ones(y_s.size)),
        (z_s * n_r + z_r, col["z"], -np.ones(z_s.size)),
    ]
    base = n_s * n_r
    parts.append((base + index["tin"][0], col["tin"], np.ones(col["tin"].size)))
    parts.append((base + index["tout"][0], col["tout"], -np.ones(col["tout"].size)))
    base += n_s
    parts.append((base + index["rec"][0], col["rec"], np.ones(col["rec"].size)))
    b = np.concatenate([np.zeros(n_s * n_r + n_s), prob.arriving])
    return _assemble(parts, base + n_s, n), b


def _assemble(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_rows: int, n_cols: int
) -> sp.csr_matrix:
    import scipy.sparse as sp

    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    vals = np.concatenate([p[2] for p in parts])
    return sp.csr_matrix((vals, (rows, cols)), shape=(n_rows, n_cols))


def solve_lp(
    lp: LinearProgram,
    *,
    solver: str = "highs",
    time_limit: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LPSolution:
    """Solve ``lp`` through cvxpy with one of :data:`SOLVERS`.

    Raises
    ------
    InfeasibleError
        When the solver proves the LP infeasible or unbounded (only possible when the
        caller fixed moves that break the stock balance).
    """
    import cvxpy as cp

    from scot_cli.quiet import native_stdout_silenced

    n = lp.c.size
    v = cp.Variable(n, bounds=[lp.lb, np.where(np.isinf(lp.ub), np.inf, lp.ub)])
    shared = {k: sl for k, (sl, _) in lp.rows.items()}
    own = np.ones(lp.b_ub.size, dtype=bool)
    for sl in shared.values():
        own[sl] = False
    cons = {"own": lp.a_ub[own] @ v <= lp.b_ub[own], "eq": lp.a_eq @ v == lp.b_eq}
    for k, sl in shared.items():
        if sl.stop > sl.start:
            cons[k] = lp.a_ub[sl] @ v <= lp.b_ub[sl]
    problem = cp.Problem(cp.Minimize(lp.c @ v), list(cons.values()))
    if progress is not None:
        progress(1, 3)
    opts: dict[str, object] = {}
    if solver == "highs":
        opts = {"output_flag": False}
        if time_limit is not None:
            opts["time_limit"] = float(time_limit)
    try:
        with native_stdout_silenced():
            problem.solve(  # type: ignore[no-untyped-call]
                solver=SOLVERS[solver][0], **opts
            )
    except (cp.error.SolverError, ValueError) as exc:
        # ValueError: cvxpy cannot unpack a solution the solver returned without one
        said = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise InfeasibleError(
            f"placement LP: solver {solver} found no solution ({said}); look for extreme "
            "costs, volumes or stock in the inputs, or try the clarabel solver"
        ) from exc
    if progress is not None:
        progress(3, 3)
    if problem.status not in ("optimal", "optimal_inaccurate", "user_limit") or v.value is None:
        raise InfeasibleError(
            f"placement LP is {problem.status}: the fixed moves (fair-share receipts) "
            "conflict with the stock balance; rerun without fair share"
        )
    duals = {
        k: (
            np.maximum(0.0, np.asarray(cons[k].dual_value, float))
            if k in cons and cons[k].dual_value is not None
            else np.zeros(sl.stop - sl.start)
        )
        for k, sl in shared.items()
    }
    return LPSolution(
        np.maximum(np.asarray(v.value, float), 0.0),
        float(lp.c @ np.maximum(v.value, 0.0)) + lp.const,
        duals,
        problem.status,
    )
