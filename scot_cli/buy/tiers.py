"""Central tiers: FCs fed by central nodes planned as multi-echelon systems.

A node of kind ``dc`` with lanes to FCs (or to other ``dc`` nodes) is a central node; every
sku's FCs below it and the central nodes above them form a tree supplied by the item's
vendor at the root. Each tree is planned as one system, per sku:

- a chain (one FC below one or more central nodes) by Clark & Scarf's echelon base-stock
  levels (:func:`scot_cli.buy.echelon.clark_scarf_serial`; Snyder & Shen 6.2), with normal
  daily demand, the lanes' mean transit as lead times, ``stockout_cost`` per unit-day
  backordered (or the cost a service target implies) and echelon holding costs equal to the
  value each stage adds (the unit cost at the root, the inbound lane's ``cost_per_unit``
  below it);
- any other tree by the guaranteed-service model (:func:`scot_cli.buy.echelon.gsm_tree`;
  Graves & Willems 2000, Snyder & Shen 6.3): committed service times per stage, safety stock
  ``z sigma sqrt(NRT)`` where it is cheapest; processing times are the lanes' transit days
  (the root's: its vendor lane) rounded up to whole days, the root is quoted the item's
  ``lead_time_days`` by its vendor, and an FC may quote its customers up to its
  ``processing_days`` (0 when null).

Stages review every day (the models' period is one day); ``--review-days`` does not apply to
them. Each row orders up to its echelon level: the row's own level plus those of every stage
below it, against its echelon position (its stock plus the stock below it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import polars as pl

from scot_cli.errors import InputDataError

from .distributions import Array, norm_cdf, norm_ppf
from .echelon import GsmNode, clark_scarf_serial, gsm_tree

#: Kind of a central node in the nodes table.
CENTRAL = "dc"
#: Grid step of the standardised Clark-Scarf recursion, in standard deviations of daily demand.
CS_STEP = 0.002
#: A lane without cost adds this fraction of the unit cost, so that holding below is not free.
MIN_ADDED = 0.01

#: Columns an echelon row overrides in the levels frame.
OVERRIDE = (
    "policy",
    "distribution",
    "protection_days",
    "demand_mean",
    "demand_sd",
    "target",
    "reorder_point",
    "order_up_to",
    "safety_stock",
    "cycle_stock",
    "fill_rate",
    "in_stock_prob",
    "holding_cost",
    "stockout_cost",
    "ordering_cost",
    "unit_shortage_cost",
    "raw_qty",
    "echelon_level",
    "echelon_position",
    "service_days",
    "replenishment_days",
)


@dataclass(frozen=True)
class Tiers:
    """The central tier of a network: each fed node's central supplier and the leg into it."""

    parent: dict[str, str]
    transit: dict[str, float]
    transit_sd: dict[str, float]
    cost: dict[str, float]
    processing: dict[str, int]

    @property
    def central(self) -> set[str]:
        return set(self.parent.values())

    def ancestors(self, node: str) -> list[str]:
        """Central nodes above ``node``, nearest first."""
        out: list[str] = []
        while node in self.parent:
            node = self.parent[node]
            out.append(node)
        return out


def find_tiers(nodes: pl.DataFrame, lanes: pl.DataFrame) -> Tiers | None:
    """The central tier of ``nodes`` and ``lanes``, or None when no central node feeds an FC.

    A lane from a ``dc`` node to an FC or another ``dc`` node makes its destination fed by it
    (the fastest such lane, ties by cost); a node fed by two central nodes, or a loop of
    central nodes, is an input error.
    """
    kinds = dict(zip(nodes["node"], nodes["kind"], strict=True))
    legs = (
        lanes.filter(
            pl.col("origin").replace_strict(kinds, default=None) == CENTRAL,
            pl.col("destination").replace_strict(kinds, default=None).is_in(["fc", CENTRAL]),
        )
        .sort("destination", "transit_days", "cost_per_unit", "origin")
        .group_by("origin", "destination", maintain_order=True)
        .first()
    )
    if legs.height == 0:
        return None
    two = (
        legs.group_by("destination")
        .agg(pl.col("origin").sort())
        .filter(pl.col("origin").list.len() > 1)
    )
    if two.height:
        row = two.sort("destination").row(0, named=True)
        raise InputDataError(
            f"lanes: node {row['destination']!r} is fed by central nodes "
            f"{', '.join(row['origin'])}; a central tier is a tree, keep one lane into it"
        )
    parent = dict(zip(legs["destination"], legs["origin"], strict=True))
    for start in parent:
        seen = {start}
        node = start
        while node in parent:
            node = parent[node]
            if node in seen:
                raise InputDataError(f"lanes: central nodes feed each other in a loop at {node!r}")
            seen.add(node)
    proc = {
        n: int(p) if p is not None else 0
        for n, p in zip(nodes["node"], nodes["processing_days"], strict=True)
    }
    return Tiers(
        parent=parent,
        transit=dict(zip(legs["destination"], legs["transit_days"], strict=True)),
        transit_sd=dict(zip(legs["destination"], legs["transit_sd"], strict=True)),
        cost=dict(zip(legs["destination"], legs["cost_per_unit"], strict=True)),
        processing=proc,
    )


def with_central_keys(keys: pl.DataFrame, tiers: Tiers) -> pl.DataFrame:
    """The forecast's (sku, node) keys plus (sku, central node) for every central node above
    one of the sku's nodes."""
    above = pl.DataFrame(
        [(n, a) for n in tiers.parent for a in tiers.ancestors(n)],
        schema={"node": pl.String, "_above": pl.String},
        orient="row",
    )
    extra = (
        keys.join(above, on="node")
        .select("sku", pl.col("_above").alias("node"))
        .unique()
        .join(keys, on=["sku", "node"], how="anti")
    )
    return pl.concat([keys, extra.select(keys.columns)]).sort("sku", "node")


def supplied(rows: pl.DataFrame, tiers: Tiers) -> pl.DataFrame:
    """Rows of nodes fed by a central node are supplied by it: ``vendor`` is the central node
    and the lead time is the leg's transit alone. Adds ``_central`` (central node rows)."""
    node = pl.col("node")
    fed = node.is_in(list(tiers.parent))
    return rows.with_columns(
        pl.when(fed)
        .then(node.replace_strict(tiers.parent, default=None))
        .otherwise("vendor")
        .alias("vendor"),
        pl.when(fed)
        .then(node.replace_strict(tiers.transit, default=None, return_dtype=pl.Float64))
        .otherwise("lead_days")
        .alias("lead_days"),
        pl.when(fed)
        .then(node.replace_strict(tiers.transit_sd, default=None, return_dtype=pl.Float64))
        .otherwise("lead_sd")
        .alias("lead_sd"),
        node.is_in(list(tiers.central)).alias("_central"),
    )


@dataclass(frozen=True)
class Demand:
    """Daily demand and targets of the planned rows (aligned with ``planned``)."""

    mean: Array
    sd: Array
    p: Array
    target: Array


@dataclass
class _Stage:
    idx: int
    node: str
    position: float
    lead: float
    mean: float = 0.0
    sd: float = 0.0
    local_h: float = 0.0
    #: The vendor's lead time (root stages only).
    lead_time: float = 0.0


def plan_tiers(
    rows: pl.DataFrame,
    planned: pl.DataFrame,
    result: pl.DataFrame,
    demand: Demand,
    tiers: Tiers,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Echelon levels of every sku's tree: ``(rows, result)`` with the tree rows' levels
    replaced, central rows added to the result, and a reason on central rows with nothing
    planned below them.

    One small dynamic program per sku and tree (a Python loop over skus; the Clark-Scarf
    recursion is solved once per distinct cost ratio and lead times, in units of the daily
    demand's spread).
    """
    fed = planned.get_column("node").is_in(list(tiers.parent)).to_numpy()
    fed &= result.get_column("level_reason").is_null().to_numpy()
    by_sku: dict[str, list[int]] = {}
    sku_col = planned.get_column("sku").to_list()
    for i in np.flatnonzero(fed).tolist():
        by_sku.setdefault(sku_col[i], []).append(i)
    central = rows.filter(pl.col("_central"))
    central_at = {
        (s, n): (i, p, lead, lt)
        for s, n, i, p, lead, lt in zip(
            central["sku"],
            central["node"],
            central["_idx"],
            central["position"].fill_null(0.0),
            central["lead_days"],
            central["lead_time_days"],
            strict=True,
        )
    }
    col = planned.get_column
    node_col = col("node").to_list()
    idx_col = col("_idx").to_list()
    pos_col = col("position").to_numpy()
    lead_col = col("lead_days").to_numpy()
    rate = col("holding_cost_rate").to_numpy() / 365.0
    unit = col("unit_cost").to_numpy() * rate
    out: list[dict[str, object]] = []
    for sku, members in by_sku.items():
        stages: dict[str, _Stage] = {}
        for i in members:
            st = _Stage(int(idx_col[i]), node_col[i], float(pos_col[i]), float(lead_col[i]))
            st.mean, st.sd = float(demand.mean[i]), float(demand.sd[i])
            stages[st.node] = st
            for a in tiers.ancestors(st.node):
                if a not in stages:
                    ci, cp, cl, lt = central_at[(sku, a)]
                    stages[a] = _Stage(int(ci), a, float(cp), float(cl), lead_time=float(lt))
        first_row = members[0]
        roots = [n for n in stages if n not in tiers.parent]
        for root in roots:
            tree = _subtree(root, stages, tiers)
            _local_costs(root, tree, stages, tiers, float(unit[first_row]), float(rate[first_row]))
            leaves = [n for n in tree if n not in tiers.central]
            first = members[[node_col[i] for i in members].index(leaves[0])]
            p, t = float(demand.p[first]), float(demand.target[first])
            if len(leaves) == 1 and len(tree) == len(tiers.ancestors(leaves[0])) + 1:
                out += _serial(leaves[0], stages, tiers, p, t)
            else:
                out += _gsm(root, tree, stages, tiers, p, t)
    return _merge(rows, result, out, central_at)


def _subtree(root: str, stages: Mapping[str, _Stage], tiers: Tiers) -> list[str]:
    return [n for n in stages if n == root or root in tiers.ancestors(n)]


def _local_costs(
    root: str, tree: list[str], stages: dict[str, _Stage], tiers: Tiers, h_unit: float, rate: float
) -> None:
    """Local holding cost per unit-day of each stage: the root's is the unit's (``h_unit``),
    each stage below adds its inbound lane's cost per unit at the daily holding ``rate`` (at
    least 1% of the unit's)."""
    for n in sorted(tree, key=lambda x: len(tiers.ancestors(x))):
        if n == root:
            stages[n].local_h = h_unit
        else:
            added = max(tiers.cost[n] * rate, MIN_ADDED * h_unit)
            stages[n].local_h = stages[tiers.parent[n]].local_h + added


def _shortage(p: float, target: float, h: float) -> tuple[float, float]:
    """Cost per unit short and target: the given cost, or the one whose critical ratio
    ``p / (p + h)`` is the target."""
    if math.isfinite(p):
        return p, p / (p + h)
    t = min(max(target, 1e-6), 1 - 1e-6)
    return h * t / (1 - t), t


@lru_cache(maxsize=4096)
def _standard_levels(ratios: tuple[float, ...], leads: tuple[float, ...]) -> tuple[float, ...]:
    """Clark-Scarf echelon levels for N(0, 1) daily demand with costs divided by ``p``."""
    sol = clark_scarf_serial(
        echelon_holding=list(ratios),
        stockout_cost=1.0,
        lead_times=list(leads),
        mean=0.0,
        sd=1.0,
        step=CS_STEP,
    )
    return tuple(sol.echelon)


def _serial(
    leaf: str, stages: Mapping[str, _Stage], tiers: Tiers, p_in: float, target: float
) -> list[dict[str, object]]:
    """Clark-Scarf for the chain from ``leaf`` up to its root; one row per stage."""
    chain = [leaf, *tiers.ancestors(leaf)]
    local = [stages[n].local_h for n in chain]
    echelon_h = [
        local[j] - (local[j + 1] if j + 1 < len(chain) else 0.0) for j in range(len(chain))
    ]
    p, t = _shortage(p_in, target, local[0])
    leads = tuple(max(stages[n].lead, 0.0) for n in chain)
    mu, sigma = stages[leaf].mean, stages[leaf].sd
    x = _standard_levels(tuple(h / p for h in echelon_h), leads)
    cum = np.cumsum(leads)
    levels = [mu * float(cum[j]) + sigma * x[j] for j in range(len(chain))]
    rows: list[dict[str, object]] = []
    position = 0.0
    for j, n in enumerate(chain):
        position += stages[n].position
        own = levels[j] - (levels[j - 1] if j else 0.0)
        lead_mean = mu * leads[j]
        rows.append(
            _row(
                stages[n],
                "clark_scarf",
                days=leads[j],
                mean=lead_mean,
                sd=sigma * math.sqrt(leads[j]),
                target=t,
                level=own,
                safety=own - lead_mean,
                in_stock=None,
                holding=None,
                p=p,
                echelon=levels[j],
                position=position,
                service=None,
                nrt=None,
            )
        )
    return rows


def _gsm(
    root: str,
    tree: list[str],
    stages: Mapping[str, _Stage],
    tiers: Tiers,
    p_in: float,
    target: float,
) -> list[dict[str, object]]:
    """The guaranteed-service model on the tree under ``root``; one row per stage."""
    leaves = [n for n in tree if n not in tiers.central]
    h_leaf = float(np.mean([stages[n].local_h for n in leaves]))
    p, t = _shortage(p_in, target, h_leaf)
    z = float(norm_ppf(np.array([t]))[0])
    gnodes: dict[str, GsmNode] = {}
    for n in tree:
        st = stages[n]
        if n == root:
            proc, inbound = _days(st.lead - st.lead_time), _days(st.lead_time)
        else:
            proc, inbound = _days(st.lead), 0
        is_leaf = n in leaves
        gnodes[n] = GsmNode(
            processing_time=proc,
            holding_cost=st.local_h,
            demand_sd=st.sd if is_leaf else 0.0,
            max_service_time=tiers.processing.get(n, 0) if is_leaf else None,
            inbound_service=inbound,
        )
    edges = [(tiers.parent[n], n) for n in tree if n != root]
    sol = gsm_tree(gnodes, edges, z=z)
    mean = {
        n: sum(stages[m].mean for m in leaves if m == n or n in tiers.ancestors(m)) for n in tree
    }
    level = {n: mean[n] * sol.nrt[n] + sol.safety_stock[n] for n in tree}
    rows: list[dict[str, object]] = []
    for n in tree:
        below = [m for m in tree if m == n or n in tiers.ancestors(m)]
        sigma = math.sqrt(sum(stages[m].sd ** 2 for m in leaves if m in below))
        days = float(sol.nrt[n])
        rows.append(
            _row(
                stages[n],
                "gsm",
                days=days,
                mean=mean[n] * days,
                sd=sigma * math.sqrt(days),
                target=t,
                level=level[n],
                safety=sol.safety_stock[n],
                in_stock=float(norm_cdf(np.array([z]))[0]),
                holding=stages[n].local_h * sol.safety_stock[n],
                p=p,
                echelon=sum(level[m] for m in below),
                position=sum(stages[m].position for m in below),
                service=float(sol.service[n]),
                nrt=days,
            )
        )
    return rows


def _days(x: float) -> int:
    return max(math.ceil(x - 1e-9), 0)


def _row(
    st: _Stage,
    policy: str,
    *,
    days: float,
    mean: float,
    sd: float,
    target: float,
    level: float,
    safety: float,
    in_stock: float | None,
    holding: float | None,
    p: float,
    echelon: float,
    position: float,
    service: float | None,
    nrt: float | None,
) -> dict[str, object]:
    return {
        "_idx": st.idx,
        "policy": policy,
        "distribution": "normal",
        "protection_days": days,
        "demand_mean": mean,
        "demand_sd": sd,
        "target": target,
        "reorder_point": level,
        "order_up_to": level,
        "safety_stock": safety,
        "cycle_stock": 0.0,
        "fill_rate": None,
        "in_stock_prob": in_stock,
        "holding_cost": holding,
        "stockout_cost": None,
        "ordering_cost": None,
        "unit_shortage_cost": p,
        "raw_qty": max(echelon - position, 0.0),
        "echelon_level": echelon,
        "echelon_position": position,
        "service_days": service,
        "replenishment_days": nrt,
    }


def _merge(
    rows: pl.DataFrame,
    result: pl.DataFrame,
    out: list[dict[str, object]],
    central_at: Mapping[tuple[str, str], tuple[int, float, float, float]],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    schema = {c: result.schema[c] for c in OVERRIDE} | {"_idx": result.schema["_idx"]}
    upd = pl.DataFrame(out, schema=schema) if out else pl.DataFrame(schema=schema)
    done = upd.get_column("_idx")
    kept = result.filter(~pl.col("_idx").is_in(done.implode()))
    fc = result.filter(pl.col("_idx").is_in(done.implode())).drop(*OVERRIDE).join(upd, on="_idx")
    new = upd.filter(~pl.col("_idx").is_in(fc.get_column("_idx").implode())).with_columns(
        pl.lit(False).alias("constrained"),
        pl.lit(False).alias("spread_floored"),
    )
    merged = pl.concat([kept, fc, new], how="diagonal_relaxed").select(result.columns).sort("_idx")
    lonely = [i for i, *_ in central_at.values() if i not in set(done.to_list())]
    rows = rows.with_columns(
        pl.when(pl.col("_idx").is_in(lonely))
        .then(pl.lit("central node with no planned FC below it for this sku"))
        .otherwise(pl.col("reason"))
        .alias("reason")
    )
    return rows, merged
