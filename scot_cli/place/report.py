"""Output frames of a solved placement: placement, coverage and constraints."""

from __future__ import annotations

import numpy as np
import polars as pl

from scot_cli.place.fairshare import nearest_demand
from scot_cli.place.options import PlaceOptions
from scot_cli.place.plan import Plan

#: Delivery-day thresholds of the coverage table.
COVERAGE_DAYS = (1, 2, 3)


def round_units(target: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Round each row of ``target`` to whole units summing to ``total`` (largest remainder).

    Rows whose ``total`` is not a whole number are returned unrounded.

    >>> round_units(np.array([[1.4, 1.3, 0.3]]), np.array([3.0]))
    array([[2., 1., 0.]])
    """
    whole = np.abs(total - np.round(total)) < 1e-6
    base = np.floor(target + 1e-9)
    left = np.round(total) - base.sum(axis=1)
    rank = np.argsort(np.argsort(-(target - base), axis=1, kind="stable"), axis=1)
    rounded = base + (rank < left[:, None])
    return np.where(whole[:, None] & (left[:, None] >= 0), rounded, target)


def placement_frame(plan: Plan) -> pl.DataFrame:
    """One row per (sku, FC): target, current, receipts, transfers and served demand."""
    prob = plan.prob
    n_s, n_f, _ = prob.shape
    supply = prob.current.sum(axis=1) + prob.arriving
    # fair share's receipts equalise cover exactly; rounding them would unequalise it
    fair = plan.fair[:, None]
    target = np.maximum(plan.target, 0.0)
    target = np.where(fair, target, round_units(target, supply))
    rec = np.where(fair, plan.rec, round_units(plan.rec, prob.arriving))
    net = target - prob.current - rec
    served = _served_by_fc(plan)
    # a ten-thousandth of a unit in a period is the solver's tolerance, not demand served
    served = np.where(served < 1e-4, 0.0, served)
    # under scarcity an FC sells all it holds, so served demand would make every FC's cover
    # the period; fair share's cover is measured against the demand it equalised on
    basis = np.where(fair, nearest_demand(prob) * prob.eligible, served)
    rate = basis / max(prob.period_days, 1)
    cover = np.divide(target, rate, out=np.full_like(target, np.nan), where=rate > 1e-9)
    return pl.DataFrame(
        {
            "sku": np.repeat(np.array(prob.skus, dtype=object), n_f).tolist(),
            "node": np.tile(np.array(prob.fcs, dtype=object), n_s).tolist(),
            "target_units": target.ravel(),
            "current_units": prob.current.ravel(),
            "inbound_units": rec.ravel(),
            "transfer_in": np.maximum(net, 0.0).ravel(),
            "transfer_out": np.maximum(-net, 0.0).ravel(),
            "expected_demand": served.ravel(),
            "days_of_cover": cover.ravel(),
            "fair_share": np.repeat(plan.fair, n_f),
        }
    ).with_columns(pl.col("days_of_cover").fill_nan(None))


def sum_by(values: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    """(S, n): the columns of ``values`` (S, E) summed by ``index`` (E,) into ``n`` columns,
    each sum taken in column order from 0, as ``np.add.at`` on zeros does (the same bits),
    in one ``bincount`` pass instead of its element-wise loop."""
    n_s = values.shape[0]
    flat = (np.arange(n_s)[:, None] * n + np.asarray(index)[None, :]).ravel()
    out: np.ndarray = np.bincount(flat, weights=values.ravel(), minlength=n_s * n).reshape(n_s, n)
    return out


def _served_by_fc(plan: Plan) -> np.ndarray:
    """(S, F) expected units sold, split over FCs in proportion to their allocations."""
    prob = plan.prob
    alloc = sum_by(plan.flow, prob.arc_region, plan.sales.shape[1])
    frac = np.divide(plan.sales, alloc, out=np.zeros_like(alloc), where=alloc > 1e-12)
    served = sum_by(plan.flow * frac[:, prob.arc_region], prob.arc_fc, prob.current.shape[1])
    return served


def within_days(plan: Plan, days: int) -> np.ndarray:
    """(R,) expected units sold from FCs within ``days`` delivery days."""
    prob = plan.prob
    alloc = sum_by(plan.flow, prob.arc_region, plan.sales.shape[1])
    quick = prob.arc_days <= days
    fast = sum_by(plan.flow[:, quick], prob.arc_region[quick], plan.sales.shape[1])
    frac = np.divide(fast, alloc, out=np.zeros_like(alloc), where=alloc > 1e-12)
    out: np.ndarray = (plan.sales * frac).sum(axis=0)
    return out


def coverage_frame(after: Plan, before: Plan) -> pl.DataFrame:
    """Share of expected demand served within 1, 2 and 3 days per region and overall."""
    prob = after.prob
    demand = prob.mu.sum(axis=0)
    rows = []
    for d in COVERAGE_DAYS:
        b, a = within_days(before, d), within_days(after, d)
        for name, dem, wb, wa in [
            *zip(prob.regions, demand, b, a, strict=True),
            ("ALL", demand.sum(), b.sum(), a.sum()),
        ]:
            rows.append((name, d, float(dem), _share(wb, dem), _share(wa, dem)))
    return pl.DataFrame(
        rows,
        schema=["region", "days", "expected_demand", "share_before", "share_after"],
        orient="row",
    )


def _share(x: float, total: float) -> float:
    return float(min(1.0, max(0.0, x / total))) if total > 1e-12 else 0.0


def constraints_frame(plan: Plan, options: PlaceOptions) -> pl.DataFrame:
    """Storage, throughput and speed rows with limit, use, shadow price and violation."""
    prob, lp = plan.prob, plan.lp
    target = np.maximum(plan.target, 0.0)
    parts = []
    (cap_f,) = lp.index["s_store"]
    used = (prob.volume[:, None] * target).sum(axis=0)[cap_f]
    parts.append(
        _rows(
            "storage",
            [prob.fcs[i] for i in cap_f],
            prob.storage[cap_f],
            used,
            plan.duals.get("storage"),
            plan.slack["store"],
        )
    )
    (thr_f,) = lp.index["s_thru"]
    handled = np.zeros(len(prob.fcs))
    np.add.at(handled, prob.arc_fc, plan.flow.sum(axis=0))
    handled += (plan.tin + plan.tout + plan.rec).sum(axis=0)
    parts.append(
        _rows(
            "throughput",
            [prob.fcs[i] for i in thr_f],
            prob.throughput[thr_f],
            handled[thr_f],
            plan.duals.get("throughput"),
            plan.slack["thru"],
        )
    )
    if options.speed_days is not None and options.speed_share > 0:
        parts.append(_speed_rows(plan, options))
    return (
        pl.concat(parts)
        if parts
        else _rows("storage", [], np.zeros(0), np.zeros(0), None, np.zeros(0))
    )


def _speed_rows(plan: Plan, options: PlaceOptions) -> pl.DataFrame:
    prob, lp = plan.prob, plan.lp
    days = int(options.speed_days or 0)
    limit = options.speed_share * prob.mu.sum(axis=0)
    fast = np.zeros(len(prob.regions))
    quick = prob.arc_days <= days
    np.add.at(fast, prob.arc_region[quick], plan.flow[:, quick].sum(axis=0))
    (spd_r,) = lp.index["s_speed"]
    dual = np.zeros(len(prob.regions))
    slack = np.zeros(len(prob.regions))
    if plan.duals.get("speed") is not None and spd_r.size:
        dual[spd_r] = plan.duals["speed"]
    slack[spd_r] = plan.slack["speed"]
    reach = np.isin(np.arange(len(prob.regions)), prob.arc_region[quick])
    missing = (~reach) & (limit > 0)
    slack[missing] = limit[missing]
    out = _rows("speed", prob.regions, limit, fast, dual, slack)
    return out.with_columns(
        pl.when(pl.Series(missing))
        .then(pl.lit("unreachable"))
        .otherwise(pl.col("status"))
        .alias("status")
    )


def _rows(
    kind: str,
    nodes: list[str],
    limit: np.ndarray,
    used: np.ndarray,
    dual: np.ndarray | None,
    violation: np.ndarray,
) -> pl.DataFrame:
    n = len(nodes)
    price = np.zeros(n) if dual is None or dual.size != n else dual
    sign = -1.0 if kind == "speed" else 1.0
    slack = sign * (limit - used)
    viol = np.where(violation > 1e-6, violation, 0.0)
    tol = 1e-6 * np.maximum(1.0, np.abs(limit))
    binding = (np.abs(slack) <= tol) | (viol > 0) | (price > 1e-9)
    status = np.where(viol > 0, "violated", np.where(binding, "binding", "slack"))
    return pl.DataFrame(
        {
            "constraint": [kind] * n,
            "node": nodes,
            "limit": limit.astype(float),
            "used": used.astype(float),
            "slack": slack.astype(float),
            "shadow_price": price.astype(float),
            "binding": binding.astype(bool),
            "violation": viol.astype(float),
            "status": status.astype(str).tolist(),
        },
        schema={
            "constraint": pl.String,
            "node": pl.String,
            "limit": pl.Float64,
            "used": pl.Float64,
            "slack": pl.Float64,
            "shadow_price": pl.Float64,
            "binding": pl.Boolean,
            "violation": pl.Float64,
            "status": pl.String,
        },
    )
