"""Multi-echelon inventory: serial systems by Clark-Scarf and trees by guaranteed service.

- :func:`clark_scarf_serial`: optimal echelon base-stock levels of a serial system with
  stochastic (normal) demand, by the exact decomposition of Clark & Scarf (1960) in the form
  of Chen & Zheng (1994) / Gallego & Zipkin (1999); Snyder & Shen, *Fundamentals of Supply
  Chain Theory* (2nd ed.), Section 6.2. Stage 1 faces the customer.
- :func:`gsm_tree`: optimal committed service times in a tree network under the
  guaranteed-service model, by the dynamic program of Graves & Willems (2000); Snyder & Shen
  Section 6.3. This is the model for vendor -> central FC -> regional FCs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .distributions import Array, norm_pdf, std_normal_loss


@dataclass(frozen=True)
class SerialSolution:
    """Echelon and local base-stock levels (stage 1 first) and the optimal expected cost."""

    echelon: list[float]
    local: list[float]
    cost: float


def clark_scarf_serial(
    *,
    echelon_holding: Sequence[float],
    stockout_cost: float,
    lead_times: Sequence[float],
    mean: float,
    sd: float,
    step: float = 0.01,
    width: float = 10.0,
) -> SerialSolution:
    """Optimal echelon base-stock levels of an N-stage serial system (stage 1 downstream).

    Parameters
    ----------
    echelon_holding
        Echelon holding cost ``h_j`` per unit per period of each stage, stage 1 first.
    stockout_cost
        Backorder cost ``p`` per unit per period at stage 1.
    lead_times
        Shipment lead time ``L_j`` into each stage, in periods.
    mean, sd
        Normal demand per period.
    step
        Grid step of the discretised recursion (stage 1 is exact).
    width
        Half-width of the demand grids, in standard deviations.

    Notes
    -----
    With ``H_1 = sum_j h_j`` (stage 1's local holding cost) and ``D_j`` the demand over
    ``L_j``, the recursion is ``C_0(x) = (p + H_1) [x]^-``; for ``j = 1..N``:
    ``C~_j(y) = h_j (y - E D_j) + E[C_{j-1}(y - D_j)]``, ``S_j = argmin C~_j`` and
    ``C_j(x) = C~_j(min(S_j, x))``. The optimal cost is ``C~_N(S_N)``.
    """
    h = list(echelon_holding)
    n = len(h)
    sd_max = sd * math.sqrt(max(*lead_times, 1e-12))
    total_mean = mean * sum(lead_times)
    lo = -width * sd_max - mean * max(lead_times)
    hi = total_mean + width * sd_max * n + 1
    grid = np.arange(math.floor(lo / step), math.ceil(hi / step) + 1, dtype=np.float64) * step
    big_h = float(sum(h))
    # stage 1 in closed form: h_1 (y - mu L_1) + (p + H_1) E[(D_1 - y)^+]
    mu1, s1 = mean * lead_times[0], sd * math.sqrt(lead_times[0])
    c_tilde: Array = h[0] * (grid - mu1) + (stockout_cost + big_h) * _normal_loss(grid, mu1, s1)
    levels = [_argmin(grid, c_tilde)]
    for j in range(1, n):
        capped: Array = np.where(grid < levels[-1], c_tilde, _at(grid, c_tilde, levels[-1]))
        mu, sj = mean * lead_times[j], sd * math.sqrt(lead_times[j])
        c_tilde = h[j] * (grid - mu) + _expect_shifted(capped, grid, mu, sj, step)
        levels.append(_argmin(grid, c_tilde))
    cost = _at(grid, c_tilde, levels[-1])
    local = [levels[0]] + [levels[j] - levels[j - 1] for j in range(1, n)]
    return SerialSolution(echelon=levels, local=local, cost=cost)


def _normal_loss(y: Array, mu: float, s: float) -> Array:
    if s <= 0:
        return np.maximum(mu - y, 0.0)
    return np.asarray(s * std_normal_loss((y - mu) / s), dtype=np.float64)


def _expect_shifted(values: Array, grid: Array, mu: float, s: float, step: float) -> Array:
    """``E[f(y - D)]`` on the grid for ``D ~ N(mu, s^2)``, ``f`` given by its grid values.

    Demand is discretised on the grid step; beyond the grid ``f`` is extended flat on the
    right (it is capped there) and linearly on the left.
    """
    if s <= 0:
        return np.interp(grid - mu, grid, values)
    k_lo = math.floor((mu - 10 * s) / step)
    k_hi = math.ceil((mu + 10 * s) / step)
    d = np.arange(k_lo, k_hi + 1, dtype=np.float64) * step
    w = norm_pdf((d - mu) / s)
    w /= w.sum()
    pad_lo, pad_hi = max(k_hi, 0), max(-k_lo, 0)
    slope = (values[1] - values[0]) / step
    left = values[0] - slope * step * np.arange(pad_lo, 0, -1)
    ext = np.concatenate([left, values, np.full(pad_hi, values[-1])])
    # E f(y - D) = sum_k w_k f(y - d_k): a correlation of f with w
    from scipy.signal import fftconvolve

    full = fftconvolve(ext, w, mode="full")
    # ext index of f(x_i - d_k) is i - k_lo - k + pad_lo, so out[i] = full[i + pad_lo - k_lo]
    out = full[pad_lo - k_lo + np.arange(grid.size)]
    return np.asarray(out, dtype=np.float64)


def _argmin(grid: Array, values: Array) -> float:
    """Grid minimiser refined by a parabola through it and its neighbours."""
    i = int(np.argmin(values))
    if 0 < i < values.size - 1:
        a, b, c = values[i - 1], values[i], values[i + 1]
        denom = a - 2 * b + c
        if denom > 0:
            return float(grid[i] + 0.5 * (a - c) / denom * (grid[1] - grid[0]))
    return float(grid[i])


def _at(grid: Array, values: Array, x: float) -> float:
    return float(np.interp(x, grid, values))


@dataclass(frozen=True)
class GsmNode:
    """A stage of the guaranteed-service model.

    ``processing_time`` T, ``holding_cost`` h, ``demand_sd`` of external demand (0 for
    internal stages), ``max_service_time`` for stages facing customers, ``inbound_service``
    for stages supplied from outside the network.
    """

    processing_time: int
    holding_cost: float
    demand_sd: float = 0.0
    max_service_time: int | None = None
    inbound_service: int = 0


@dataclass(frozen=True)
class GsmSolution:
    """Outbound (``service``) and inbound (``inbound``) service times, net replenishment times,
    safety stock per node, and total holding cost of safety stock."""

    service: dict[str, int]
    inbound: dict[str, int]
    nrt: dict[str, int]
    safety_stock: dict[str, float]
    cost: float


def gsm_tree(
    nodes: Mapping[str, GsmNode], edges: Sequence[tuple[str, str]], *, z: float
) -> GsmSolution:
    """Optimal committed service times in a tree by dynamic programming (Graves & Willems 2000).

    Node ``j`` with inbound service time ``SI_j`` (the largest outbound service time of its
    suppliers, or its ``inbound_service``) and outbound ``S_j`` holds safety stock
    ``z sigma_j sqrt(SI_j + T_j - S_j)`` with ``sigma_j`` the spread of all demand it serves
    (root of summed variances downstream). The DP roots the undirected tree, and for each node
    tabulates the best subtree cost over ``(SI, S)``; a supplier child constrains ``S_child <=
    SI``, a customer child ``SI_child >= S``.

    Parameters
    ----------
    nodes
        Stages by name.
    edges
        ``(supplier, customer)`` pairs forming a tree.
    z
        Safety factor (e.g. the normal quantile of the target service level).
    """
    names = list(nodes)
    sigma = _downstream_sigma(nodes, edges)
    horizon = sum(n.processing_time for n in nodes.values()) + max(
        n.inbound_service for n in nodes.values()
    )
    tree = _Tree(nodes, edges, sigma, z, np.arange(horizon + 1, dtype=np.float64))
    root = names[0]
    table = tree.solve(root, None)
    si, s = np.unravel_index(int(np.argmin(table)), table.shape)
    service: dict[str, int] = {}
    tree.trace(root, None, int(si), int(s), service)
    inbound = {
        k: max([service[u] for u in tree.supp[k]] or [nodes[k].inbound_service]) for k in names
    }
    nrt = {k: inbound[k] + nodes[k].processing_time - service[k] for k in names}
    stock = {k: z * sigma[k] * math.sqrt(max(nrt[k], 0)) for k in names}
    cost = float(sum(nodes[k].holding_cost * stock[k] for k in names))
    return GsmSolution(service, inbound, nrt, stock, cost)


def _downstream_sigma(
    nodes: Mapping[str, GsmNode], edges: Sequence[tuple[str, str]]
) -> dict[str, float]:
    var: dict[str, float] = {}

    def visit(name: str) -> float:
        if name not in var:
            var[name] = nodes[name].demand_sd ** 2 + sum(visit(v) for u, v in edges if u == name)
        return var[name]

    return {name: math.sqrt(visit(name)) for name in nodes}


class _Tree:
    """The rooted DP of Graves & Willems over a tree of stages."""

    def __init__(
        self,
        nodes: Mapping[str, GsmNode],
        edges: Sequence[tuple[str, str]],
        sigma: dict[str, float],
        z: float,
        span: Array,
    ) -> None:
        self.nodes, self.sigma, self.z, self.span = nodes, sigma, z, span
        self.supp = {name: [u for u, v in edges if v == name] for name in nodes}
        self.cust = {name: [v for u, v in edges if u == name] for name in nodes}
        self.tables: dict[str, Array] = {}

    def own(self, name: str) -> Array:
        """The node's own safety-stock cost for every ``(SI, S)`` (inf where infeasible)."""
        node = self.nodes[name]
        si, s = np.meshgrid(self.span, self.span, indexing="ij")
        nrt = si + node.processing_time - s
        cost = node.holding_cost * self.z * self.sigma[name] * np.sqrt(np.maximum(nrt, 0))
        ok = nrt >= 0
        if node.max_service_time is not None:
            ok &= s <= node.max_service_time
        if not self.supp[name]:
            ok &= si >= node.inbound_service
        return np.where(ok, cost, np.inf)

    def solve(self, name: str, parent: str | None) -> Array:
        """Best cost of ``name``'s subtree (parent side excluded) for every ``(SI, S)``.

        A supplier child must promise ``S_child <= SI``; a customer child is quoted
        ``SI_child >= S``; each adds its best subtree cost under that constraint.
        """
        table = self.own(name)
        idx = np.arange(self.span.size)
        for child in itertools.chain(self.supp[name], self.cust[name]):
            if child == parent:
                continue
            sub = self.solve(child, name)
            if child in self.supp[name]:
                best = np.minimum.accumulate(sub.min(axis=0))  # over S_child <= SI
                table = table + best[idx][:, None]
            else:
                best = np.minimum.accumulate(sub.min(axis=1)[::-1])[::-1]  # SI_child >= S
                table = table + best[idx][None, :]
        self.tables[name] = table
        return table

    def trace(
        self, name: str, parent: str | None, si: int, s: int, service: dict[str, int]
    ) -> None:
        """Record ``S`` for ``name`` and descend with each child's best feasible choice."""
        service[name] = s
        grid_si, grid_s = np.meshgrid(self.span, self.span, indexing="ij")
        for child in itertools.chain(self.supp[name], self.cust[name]):
            if child == parent:
                continue
            sub = self.tables[child]
            mask = grid_s <= si if child in self.supp[name] else grid_si >= s
            c_si, c_s = np.unravel_index(int(np.argmin(np.where(mask, sub, np.inf))), sub.shape)
            self.trace(child, name, int(c_si), int(c_s), service)
