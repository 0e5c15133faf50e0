"""Limits on what plan-buy may buy: budget, storage and seller limits (one linear program,
:mod:`scot_cli.buy.constrained`), and quantity discounts that set the batch."""

from __future__ import annotations

import numpy as np
import polars as pl

from scot_cli.errors import InputDataError

from .constrained import Group, allocate, normal_fit
from .levels import LevelTable, Rows
from .options import BuyOptions
from .schema import ALL


def discount_batches(planned: pl.DataFrame, breaks: pl.DataFrame, lam: np.ndarray) -> np.ndarray:
    """The order quantity of each row whose sku has price breaks (NaN elsewhere): the EOQ
    with all-units or incremental discounts (Snyder & Shen 3.6.2, 3.6.3), ``K`` the order
    cost, ``i`` the daily holding-cost rate and ``lam`` the daily demand. A loop over the
    skus with breaks only (the textbook functions are per sku)."""
    from .classic import eoq_all_units_discount, eoq_incremental_discount

    solve = {"all_units": eoq_all_units_discount, "incremental": eoq_incremental_discount}
    table = (
        breaks.sort("sku", "min_qty")
        .group_by("sku", maintain_order=True)
        .agg("min_qty", "unit_cost", "kind")
    )
    by_sku = {r[0]: r[1:] for r in table.iter_rows()}
    out = np.full(planned.height, np.nan)
    cols = planned.select("sku", "order_cost", "holding_cost_rate").iter_rows()
    for i, (sku, k, rate) in enumerate(cols):
        if sku not in by_sku or lam[i] <= 0:
            continue
        mins, costs, kinds = by_sku[sku]
        if len(set(kinds)) > 1 or mins[0] != 0:
            raise InputDataError(
                f"price_breaks: sku {sku!r} needs one kind and a first break at min_qty 0 "
                f"(got kinds {sorted(set(kinds))}, first min_qty {mins[0]:g})"
            )
        out[i] = solve[kinds[0]](max(k, 1e-9), rate / 365.0, lam[i], mins, costs).quantity
    return out


def seller_groups(planned: pl.DataFrame, limits: pl.DataFrame) -> list[Group]:
    """One volume limit per ``seller_limits`` row over the planned rows it covers."""
    seller = planned.get_column("seller")
    node = planned.get_column("node")
    groups = []
    for name, at, limit in limits.select("seller", "node", "max_volume").iter_rows():
        rows = (seller == name) & ((node == at) | (at == ALL))
        label = name if at == ALL else f"{name}@{at}"
        groups.append(Group(label, rows.arg_true().to_numpy(), float(limit)))
    return groups


def constrain(
    frame: pl.DataFrame,
    planned: pl.DataFrame,
    rows: Rows,
    table: LevelTable,
    o: BuyOptions,
    groups: list[Group],
) -> pl.DataFrame:
    """Cut orders to fit the budget and/or storage limit (see ``constrained.allocate``)."""
    position = planned.get_column("position").to_numpy()
    raw = frame.get_column("raw_qty").to_numpy()
    nv = (frame.get_column("policy") == "newsvendor").to_numpy()
    over = np.where(
        nv,
        rows.overage if rows.overage is not None else 0.0,
        rows.h * np.maximum(rows.review, 1e-9),
    )
    under = np.where(nv, rows.underage if rows.underage is not None else 0.0, table.p_used)
    alloc = allocate(
        normal_fit(
            frame.get_column("demand_mean").fill_null(0.0).to_numpy(),
            frame.get_column("demand_sd").fill_null(0.0).to_numpy(),
        ),
        position=position,
        unconstrained=position + raw,
        over=over,
        under=np.nan_to_num(under, nan=0.0, posinf=1e9),
        unit_cost=planned.get_column("unit_cost").to_numpy(),
        unit_volume=planned.get_column("unit_volume").to_numpy(),
        budget=o.budget,
        storage=o.storage,
        groups=groups,
        solver=o.solver,
    )
    binding = np.full(planned.height, alloc.binding, dtype=object)
    price = np.full(planned.height, np.nan if alloc.shadow_price is None else alloc.shadow_price)
    for g in groups:  # a row's own seller limit, when it binds, is what it answers to
        if alloc.group_price[g.name] > 1e-9:
            binding[g.rows] = "seller"
            price[g.rows] = alloc.group_price[g.name]
    return frame.with_columns(
        pl.Series("raw_qty", np.maximum(alloc.level - position, 0.0)),
        pl.Series("constrained", alloc.cut),
        pl.Series("binding_constraint", binding.tolist(), dtype=pl.String),
        pl.Series("shadow_price", price).fill_nan(None),
    )
