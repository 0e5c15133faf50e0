"""Buying under a budget or storage limit: the limit goes to the SKUs where it saves most.

Each SKU ``i`` chooses a level ``y_i`` between its inventory position ``x_i`` and its
unconstrained level ``S_i``; the order is ``y_i - x_i``. Its expected cost per cycle is the
newsvendor cost ``G_i(y) = c_o (y - mu) + (c_o + c_u) E[(D - y)^+]`` (convex; Snyder & Shen
Section 4.3), approximated from below by tangent lines at ``mu + sigma z_k`` so that the
problem is a linear program:

    minimise   sum_i t_i
    subject to t_i >= G_i(y_k) + G_i'(y_k) (y_i - y_k)   for every tangent k
               x_i <= y_i <= max(S_i, x_i)
               sum_i c_i (y_i - x_i) <= B                 (budget: purchase spend)
               sum_i v_i y_i <= V                         (storage: volume after ordering)
               sum_{i of g} v_i y_i <= V_g                (one per seller limit g)

solved with cvxpy (HiGHS by default). The dual value of a binding limit is its shadow
price: the expected cost per cycle saved by one more unit of budget or storage. This is the
multi-item constrained newsvendor (Hadley & Whitin 1963; Silver, Pyke & Thomas 2017,
Section 6.9), whose optimality condition equalises ``G_i'(y_i) / c_i`` across SKUs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scot_cli.errors import InfeasibleError
from scot_cli.options import OptionError

from .distributions import Array, Normal, norm_cdf, std_normal_loss

#: Tangent points, in standard deviations around the mean.
TANGENT_Z = np.linspace(-4.0, 4.0, 41)


@dataclass(frozen=True)
class Group:
    """A volume limit on some rows (a seller's storage): its name, rows and limit."""

    name: str
    rows: np.ndarray
    limit: float


@dataclass(frozen=True)
class Allocation:
    """The constrained levels, which rows were cut, and the limit's shadow price; per group
    limit, its shadow price (0 when it does not bind)."""

    level: Array
    cut: np.ndarray
    binding: str | None
    shadow_price: float | None
    group_price: dict[str, float] = field(default_factory=dict)


def _tangents(dist: Normal, over: Array, under: Array) -> tuple[Array, Array, Array]:
    """Tangent points, values and slopes of each row's newsvendor cost (rows x K)."""
    sigma = np.maximum(dist.sigma, 1e-6 * np.maximum(dist.mu, 1.0))
    mu = dist.mu
    y = mu[:, None] + sigma[:, None] * TANGENT_Z[None, :]
    z = TANGENT_Z[None, :]
    loss = sigma[:, None] * std_normal_loss(z)
    value = over[:, None] * (y - mu[:, None]) + (over + under)[:, None] * loss
    slope = (over + under)[:, None] * norm_cdf(z) - under[:, None]
    return y, value, slope


def allocate(
    dist: Normal,
    *,
    position: Array,
    unconstrained: Array,
    over: Array,
    under: Array,
    unit_cost: Array,
    unit_volume: Array,
    budget: float | None = None,
    storage: float | None = None,
    groups: Sequence[Group] = (),
    solver: str = "highs",
) -> Allocation:
    """Levels under a budget and/or storage limit (see the module docstring).

    Raises
    ------
    OptionError
        When the stock already held takes more than the storage limit.
    InfeasibleError
        When the stock already held takes more than a seller's limit.
    """
    import cvxpy

    cp: Any = cvxpy
    n = position.size
    upper = np.maximum(unconstrained, position)
    if storage is not None and float(unit_volume @ position) > storage + 1e-9:
        raise OptionError(
            "storage",
            f"{storage:g} is below the {float(unit_volume @ position):,.1f} volume units "
            "already held; raise the limit or plan without one",
        )
    for g in groups:
        held = float(unit_volume[g.rows] @ position[g.rows])
        if held > g.limit + 1e-9:
            raise InfeasibleError(
                f"seller limit {g.name} {g.limit:g}: the stock already held takes {held:,.1f} "
                "volume units, more than the limit; raise it in the seller limits"
            )
    # rows with nothing to buy keep their position and stay out of the program: a huge
    # position (1e300 on hand) would otherwise wreck its scaling
    free = np.flatnonzero(upper > position)
    level = position.astype(np.float64)
    if free.size == 0:
        none = {g.name: 0.0 for g in groups}
        return Allocation(level, np.zeros(n, dtype=bool), None, None, none)
    fixed_volume = float(np.delete(unit_volume, free) @ np.delete(position, free))
    pos, up = position[free], upper[free]
    y = cp.Variable(free.size)
    t = cp.Variable(free.size)
    over, under, mu, sigma = (
        np.broadcast_to(np.asarray(a, dtype=np.float64), (n,))[free]
        for a in (over, under, dist.mu, dist.sigma)
    )
    ty, tv, ts = _tangents(Normal(mu, sigma), over, under)
    cons = [y >= pos, y <= up]
    cons += [t >= tv[:, k] + cp.multiply(ts[:, k], y - ty[:, k]) for k in range(ty.shape[1])]
    limits: dict[str, Any] = {}
    if budget is not None:
        limits["budget"] = unit_cost[free] @ (y - pos) <= budget
    if storage is not None:
        limits["storage"] = unit_volume[free] @ y <= storage - fixed_volume
    by_group: dict[str, Any] = {}
    is_free = np.zeros(n, dtype=bool)
    is_free[free] = True
    for g in groups:
        mask = np.zeros(n, dtype=bool)
        mask[g.rows] = True
        kept = float(unit_volume[mask & ~is_free] @ position[mask & ~is_free])
        inside = mask[free]
        if inside.any():
            by_group[g.name] = unit_volume[free] * inside @ y <= g.limit - kept
    every = cons + list(limits.values()) + list(by_group.values())
    problem = cp.Problem(cp.Minimize(cp.sum(t)), every)
    from scot_cli.quiet import native_stdout_silenced

    try:
        with native_stdout_silenced():
            problem.solve(solver=solver.upper())
    except (cp.error.SolverError, ValueError) as exc:
        raise InfeasibleError(
            f"constrained buying: solver {solver} found no solution ({_first_line(exc)}); "
            "look for extreme costs, volumes or stock in the inputs, or plan without the limit"
        ) from exc
    if y.value is None or problem.status not in ("optimal", "optimal_inaccurate"):
        raise InfeasibleError(f"constrained buying: solver {solver} reports {problem.status}")
    level[free] = np.clip(np.asarray(y.value, dtype=np.float64), pos, up)
    binding, price = _binding(limits)
    prices = {g.name: max(_dual(by_group[g.name]), 0.0) for g in groups if g.name in by_group}
    prices |= {g.name: 0.0 for g in groups if g.name not in prices}
    if binding is None:
        # rows no binding limit holds keep their own level: the tangent lines only bound the
        # cost from below, and their flat minimum may sit a little under it
        bound = np.zeros(n, dtype=bool)
        for g in groups:
            bound[g.rows] |= prices[g.name] > 1e-9
        level = np.where(bound, level, upper)
    cut = level < upper - 1e-6 * np.maximum(upper, 1.0)
    return Allocation(level, cut, binding, price, prices)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _binding(limits: dict[str, Any]) -> tuple[str | None, float | None]:
    """The limit with the largest positive dual value, if any binds."""
    best: tuple[str | None, float | None] = (None, None)
    for name, con in limits.items():
        value = _dual(con)
        if value > 1e-9 and (best[1] is None or value > best[1]):
            best = (name, value)
    return best


def _dual(con: Any) -> float:
    dual = getattr(con, "dual_value", None)
    return float(np.asarray(dual).ravel()[0]) if dual is not None else 0.0


def normal_fit(mean: Array, sd: Array) -> Normal:
    """A normal distribution with the given mean and spread (for the tangent model)."""
    return Normal(np.asarray(mean, dtype=np.float64), np.asarray(sd, dtype=np.float64))


__all__ = ["TANGENT_Z", "Allocation", "Group", "allocate", "normal_fit"]
