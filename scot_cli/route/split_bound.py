"""A lower bound that prices the split cost: the grouped relaxation's LP duals, then each
order's boxes on its own.

The grouped relaxation (:mod:`scot_cli.route.relax`) drops the split cost, which on a large
day is most of what separates its bound from the plans (105,682 lines: about 8,000 boxes
beyond the first of their orders, 2 each). LP duality prices every plan against the
relaxation's optimum: for the optimal row duals :math:`\\lambda` and reduced costs
:math:`d = c - A^\\top \\lambda`, any point :math:`p` of the relaxation costs

.. math::

    c^\\top p \\ge z_{LP} - d^\\top x^* + \\sum_{d_j < 0} d_j\\, \\bar p_j
              + \\sum_{d_j > 0} d_j\\, p_j

(:math:`\\bar p_j` an upper bound of :math:`p_j`; the terms with the sign of the row duals
dropped are nonnegative). The duals of the groups' rows (equalities) are first lowered so
that each group's cheapest column has reduced cost 0: the LP may leave an option at its
upper bound with a negative reduced cost, which would make leaving a line unshipped look
free. A plan's image in the relaxation puts :math:`q_l / q_g` of its
group :math:`g` on the group option its line :math:`l` takes (or on the group's unshipped
column), so the last sum is a sum over lines of what each line's choice costs, and the plan's
cost is at least that plus the split cost of its boxes, order by order. Each order's least
of "every line its cheapest choice, plus one extra box" and "every line shipped from one FC
or left unshipped" is a lower bound of its part (a Lagrangian bound in the spirit of
Geoffrion (1974), "Lagrangean relaxation for integer programming", Math. Prog. Study 2: the
linking rows priced by the duals, the orders then separate). The bound is never below the
relaxation's LP value (every order's part is nonnegative).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from scot_cli.route import model as m

#: Strong linking rows (group, departure pairs) the grouped LP takes here, as in
#: :func:`scot_cli.route.relax.relaxed_bound`.
GROUP_ROWS = 400_000


def order_split_bound(
    inst: m.Instance, group_inst: m.Instance, line_goi: np.ndarray, *, time_limit: float
) -> tuple[float, str]:
    """The bound of the module docstring for the line model ``inst`` from its grouped
    relaxation ``group_inst`` (``line_goi``: the group option of every option of ``inst``).

    Returns the bound (``-inf`` unless the grouped LP ends optimal) and the LP's status.
    """
    from scot_cli.route.truck_bound import StrongModel

    if not inst.n_opts:
        return -math.inf, "no options"
    g = replace(group_inst, split_cost=0.0)
    strong = StrongModel(g, strong_max_rows=GROUP_ROWS)
    x, value, status, _ = strong.solve(time_limit=time_limit)
    if x is None or status != "optimal":
        return -math.inf, status
    sol = strong.highs.getSolution()
    col = np.asarray(sol.col_value)
    dual = np.asarray(sol.col_dual)
    n_x, n_g, n_s = g.n_opts, g.n_lines, g.slot_cap.shape[0]
    # upper bounds of the image's columns: options and unshipped shares at most 1, trucks at
    # most those of every option's volume
    load_max = np.asarray(g.opt_slots.T @ g.opt_vol).ravel()
    top = np.concatenate([np.ones(n_x + n_g), np.ceil(load_max / g.slot_cap) + 1.0])
    d = dual[: n_x + n_g + n_s].copy()
    # each group's row is an equality, so its dual may shift: lower it until the group's
    # cheapest column (an option at its upper bound 1 may carry a negative reduced cost,
    # the bound's multiplier taking the rest) has reduced cost 0; the dual stays optimal
    low = np.minimum(d[n_x : n_x + n_g], 0.0)
    np.minimum.at(low, g.opt_line, d[:n_x])
    d[:n_x] -= low[g.opt_line]
    d[n_x : n_x + n_g] -= low
    constant = value - float(d @ col[: d.shape[0]]) + float(np.minimum(d, 0.0) @ top)
    pos = np.maximum(d, 0.0)
    return constant + _orders_part(inst, g, line_goi, pos[:n_x], pos[n_x : n_x + n_g]), status


def _orders_part(
    inst: m.Instance, g: m.Instance, line_goi: np.ndarray, d_opt: np.ndarray, d_unship: np.ndarray
) -> float:
    """Sum over orders of the least priced choice of their lines with the split cost: per
    line and FC the cheapest option there or leaving it unshipped (reduced costs times the
    line's share of its group), then per order the lesser of one FC for every line and each
    line's cheapest choice plus one extra box (only for orders of two lines or more)."""
    n_fc = int(inst.opt_fc.max()) + 1
    share = inst.opt_qty / g.opt_qty[line_goi]
    line_grp = np.full(inst.n_lines, -1, dtype=np.int64)
    line_grp[inst.opt_line] = g.opt_line[line_goi]
    line_share = np.zeros(inst.n_lines)
    line_share[inst.opt_line] = share
    has = line_grp >= 0
    unship = np.where(has, d_unship[np.maximum(line_grp, 0)] * line_share, 0.0)
    at_fc = np.full((inst.n_lines, n_fc), np.inf)
    np.minimum.at(at_fc, (inst.opt_line, inst.opt_fc), d_opt[line_goi] * share)
    at_fc = np.minimum(at_fc, unship[:, None])[has]
    cheapest = at_fc.min(axis=1)
    order = inst.line_order[has]
    n_orders = int(inst.line_order.max()) + 1 if inst.n_lines else 0
    free = np.bincount(order, weights=cheapest, minlength=n_orders)
    one_fc = np.stack(
        [np.bincount(order, weights=at_fc[:, f], minlength=n_orders) for f in range(n_fc)], axis=1
    ).min(axis=1)
    n_lines = np.bincount(order, minlength=n_orders)
    part = np.where(n_lines >= 2, np.minimum(one_fc, free + inst.split_cost), free)
    return float(part.sum())
