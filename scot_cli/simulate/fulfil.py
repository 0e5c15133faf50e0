"""Each simulated day's fulfilment through scot's own decisions: promise, then route.

A day's demand arrives as order lines of one unit each, one order per sku and region (and
per tranche: yesterday's backlog, today's demand, substitutes). :func:`scot_cli.promise.promise`
(snapshot mode, the product page) shows every line a date; a customer shown no date, or a
date more than ``max_promise_days`` away, does not buy, or with the substitution share
buys the item's ``substitute_sku`` instead (promised the same way). The lines that buy
go to :func:`scot_cli.route.route`, which picks FC, path, departure and truck for each
against the stock on hand; the shipments it returns are what is served, the lines it
cannot ship are promises broken. Deliveries arrive at route's scheduled arrival plus a
sampled deviation of the path's transit; trucks are route's (lane departures, packed).

Nothing here decides: it turns arrays into the decisions' tables and their answers back
into arrays, vectorised (the Python loops run over tranches, not lines).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from scot_cli.errors import ScotError

from .world import World

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Hour of the day the simulated orders are placed (a midday order, before FC cut-offs).
ORDER_HOUR = 12

#: Per-region delivery measures a fill returns (a slice of the engine's region measures).
FILL_MEASURES = (
    "served_1day",
    "served_2day",
    "promised",
    "promises_kept",
    "substituted",
    "unshipped",
    "orders",
    "split_orders",
    "shipping_cost",
)
#: Per-FC truck measures a fill returns.
TRUCK_MEASURES = ("trucks", "truck_volume", "truck_capacity")

_US_PER_DAY = 86_400_000_000
_EPOCH = dt.date(1970, 1, 1)


@dataclass
class Fill:
    """One day's fulfilment.

    ``shipped[k, f]`` units of sku ``k`` left FC ``f``; ``served[p][k, g]`` units of
    tranche ``p``'s demand for sku ``k`` in region ``g`` were served (by the sku or its
    substitute); ``region[g, m]`` over :data:`FILL_MEASURES`, ``fc[f, m]`` over
    :data:`TRUCK_MEASURES`.
    """

    shipped: Array
    served: list[Array]
    region: Array
    fc: Array
    violations: list[str] = field(default_factory=list)


def empty_fill(world: World, tranches: int) -> Fill:
    """A day on which nothing ships."""
    k, f, g = world.shape
    return Fill(
        shipped=np.zeros((k, f)),
        served=[np.zeros((k, g)) for _ in range(tranches)],
        region=np.zeros((g, len(FILL_MEASURES))),
        fc=np.zeros((f, len(TRUCK_MEASURES))),
    )


def binary_split(n: IntArray) -> tuple[IntArray, IntArray]:
    """Each count ``n[i]`` as parts 1, 2, 4, ..., 2**(j-1) and the rest (``j`` the largest
    with ``2**j - 1 <= n[i]``), largest first. Any number of units ``s`` from 0 to ``n[i]``
    is a sum of some parts, and taking the parts in this order while they fit reaches
    exactly ``s``; so a one-FC rule shipping lines in order serves ``min(stock, n)``, and
    part of a demand can ship from several FCs, with about ``log2(n)`` lines instead of
    ``n``. Returns the cell of each part and its size.

    >>> [c.tolist() for c in binary_split(np.array([1, 5, 0, 7]))]
    [[0, 1, 1, 1, 3, 3, 3], [1, 2, 2, 1, 4, 2, 1]]
    """
    n = np.asarray(n, dtype=np.int64)
    j = np.floor(np.log2(n + 1.0)).astype(np.int64)
    rest = n - (2**j - 1)
    parts = j + (rest > 0)
    cell = np.repeat(np.arange(n.shape[0]), parts)
    pos = np.arange(cell.shape[0]) - np.repeat(np.cumsum(parts) - parts, parts)
    size = np.where(pos < j[cell], 2 ** np.minimum(pos, 62), rest[cell])
    order = np.lexsort((-size, cell))
    return cell[order].astype(np.int64), size[order].astype(np.int64)


def substitutes(items: pl.DataFrame, skus: list[str], share: float) -> tuple[IntArray, Array]:
    """Each sku's substitute (index into ``skus``, -1 for none) and the share of its lost
    customers who take it: the items' ``substitute_sku`` and ``substitute_share`` columns
    (the share defaults to ``share``)."""
    k = len(skus)
    if "substitute_sku" not in items.columns:
        return np.full(k, -1, dtype=np.int64), np.zeros(k)
    ix = {s: i for i, s in enumerate(skus)}
    rows = items.sort("sku")
    sub = np.array(
        [
            ix.get(s, -1) if s is not None and s != own else -1
            for own, s in zip(rows["sku"].to_list(), rows["substitute_sku"].to_list(), strict=True)
        ],
        dtype=np.int64,
    )
    if "substitute_share" in items.columns:
        per = rows["substitute_share"].cast(pl.Float64).fill_null(share).to_numpy().copy()
    else:
        per = np.full(k, share)
    return sub, np.where(sub >= 0, np.clip(per, 0.0, 1.0), 0.0)


@dataclass
class DecisionFill:
    """Fulfilment by :func:`scot_cli.promise.promise` and :func:`scot_cli.route.route`.

    ``promise`` and ``route`` are the decisions' options objects; ``substitute`` and
    ``share`` come from :func:`substitutes`; ``uniforms`` (days, skus, regions) decide how
    many lost customers of a sku and region take its substitute (common random numbers).
    """

    world: World
    items: pl.DataFrame
    nodes: pl.DataFrame
    lanes: pl.DataFrame
    open_fc: NDArray[np.bool_]
    promise: Any
    route: Any
    max_promise_days: int
    substitute: IntArray
    share: Array
    uniforms: Array | None = None
    _sd: pl.DataFrame | None = None

    def __post_init__(self) -> None:
        from scot_cli.network import fc_paths

        paths = fc_paths(self.nodes, self.lanes)
        self._sd = paths.select("path", "modes", pl.col("transit_sd").alias("_sd")).unique(
            ["path", "modes"]
        )

    def fulfil(self, day: int, asked: list[Array], on_hand: Array, z: Array) -> Fill:
        """Promise and route the day's demand ``asked`` (tranches in priority order, each
        (skus, regions) whole units) against ``on_hand`` (skus, FCs); ``z`` (FCs, regions)
        are the day's standard normal transit deviations."""
        w = self.world
        fill = empty_fill(w, len(asked))
        lines = self._lines(asked, day)
        if lines.height == 0:
            return fill
        inv = self._inventory(on_hand)
        if inv.height == 0:
            return fill
        try:
            answered = self._promised(lines, inv)
            bought = answered.filter(pl.col("buys"))
            subs = self._substitutes(answered, day, inv)
            if subs is not None:
                bought = pl.concat([bought, subs.select(bought.columns)])
            fill.region[:, 2] = np.bincount(
                bought["g"].to_numpy(), weights=bought["qty"].to_numpy(), minlength=len(w.regions)
            )
            if bought.height == 0:
                return fill
            routed = self._route(bought, inv)
        except ScotError as exc:
            fill.violations.append(f"day {day}: fulfilment: {exc.message}")
            fill.region[:, 2] = 0.0
            return fill
        self._measure(fill, routed, day, z)
        return fill

    # the decisions' tables ------------------------------------------------------------

    def _lines(self, asked: list[Array], day: int) -> pl.DataFrame:
        """One single-unit line per unit asked: order ``{tranche}-{sku}-{region}``."""
        parts = []
        for p, arr in enumerate(asked):
            k, g = np.nonzero(arr > 0)
            parts.append((np.full(k.shape[0], p), k, g, arr[k, g].astype(np.int64)))
        tranche = np.concatenate([q[0] for q in parts])
        kk = np.concatenate([q[1] for q in parts])
        gg = np.concatenate([q[2] for q in parts])
        n = np.concatenate([q[3] for q in parts])
        return self._unit_lines(tranche, kk, kk, gg, n, day, prefix="")

    def _unit_lines(
        self,
        tranche: IntArray,
        k_ordered: IntArray,
        k_sku: IntArray,
        g: IntArray,
        n: IntArray,
        day: int,
        *,
        prefix: str,
    ) -> pl.DataFrame:
        """The order of each cell (``n`` units of sku ``k_sku`` for region ``g``) as lines
        of 1, 2, 4, ... units and the rest (:func:`binary_split`)."""
        cell, qty = binary_split(n)
        line = np.arange(cell.shape[0]) - np.searchsorted(cell, cell) + 1
        when = dt.datetime.combine(self.world.start + dt.timedelta(days=day), dt.time(ORDER_HOUR))
        skus = np.array(self.world.skus)
        regions = np.array(self.world.regions)
        frame = pl.DataFrame(
            {
                "p": tranche[cell],
                "k": k_ordered[cell],
                "ks": k_sku[cell],
                "g": g[cell],
                "line": line.astype(np.int64),
                "qty": qty.astype(np.float64),
            }
        )
        return frame.with_columns(
            pl.format(
                "{}{}-{}-{}",
                pl.lit(prefix),
                pl.col("p"),
                pl.col("k").cast(pl.String).str.zfill(7),
                pl.col("g").cast(pl.String).str.zfill(4),
            ).alias("order_id"),
            pl.Series("sku", skus[k_sku[cell]] if cell.shape[0] else [], dtype=pl.String),
            pl.Series("destination", regions[g[cell]] if cell.shape[0] else [], dtype=pl.String),
            pl.lit(when).cast(pl.Datetime("us")).alias("order_time"),
        )

    def _inventory(self, on_hand: Array) -> pl.DataFrame:
        k, f = np.nonzero((on_hand > 0) & self.open_fc[None, :])
        return pl.DataFrame(
            {
                "sku": pl.Series(
                    np.array(self.world.skus)[k] if k.shape[0] else [], dtype=pl.String
                ),
                "node": pl.Series(
                    np.array(self.world.fcs)[f] if f.shape[0] else [], dtype=pl.String
                ),
                "on_hand": on_hand[k, f],
            }
        )

    def _promised(self, lines: pl.DataFrame, inv: pl.DataFrame) -> pl.DataFrame:
        """``lines`` with the promise's ``ship_date``, ``promise_date`` and ``status``, and
        whether the customer buys (``buys``: promised within ``max_promise_days``)."""
        from scot_cli.promise.core import decide_lines

        # decide_lines is promise() on frames already validated: the network once per run,
        # the day's lines and stock built here with the orders' and inventory's dtypes
        cols = ["order_id", "line", "sku", "qty", "destination", "order_time"]
        decided = decide_lines(
            lines.select(cols),
            inventory=inv,
            nodes=self.nodes,
            lanes=self.lanes,
            options=self.promise,
        )
        answer = decided.table().select(
            "order_id",
            "line",
            "ship_date",
            "promise_date",
            "promise_days",
            pl.col("status").cast(pl.String),
        )
        return lines.join(answer, on=["order_id", "line"], how="left").with_columns(
            (
                (pl.col("status") == "promised")
                & pl.col("promise_days").is_not_null()
                & (pl.col("promise_days") <= self.max_promise_days)
            ).alias("buys")
        )

    def _substitutes(
        self, answered: pl.DataFrame, day: int, inv: pl.DataFrame
    ) -> pl.DataFrame | None:
        """The substitute lines that buy: of the customers of today's demand who do not
        buy, the share of each sku takes its substitute (whole units: ``floor(n * share +
        u)`` with the day's uniform ``u``, so ``n * share`` on average), promised in turn."""
        if self.uniforms is None or not (self.share > 0).any():
            return None
        lost = (
            answered.filter(~pl.col("buys") & (pl.col("p") == pl.col("p").max()))
            .group_by("p", "k", "g")
            .agg(pl.col("qty").sum().cast(pl.Int64).alias("n"))
            .sort("p", "k", "g")
        )
        k = lost["k"].to_numpy()
        g = lost["g"].to_numpy()
        total = lost["n"].to_numpy()
        sub = self.substitute[k]
        n = np.floor(total * self.share[k] + self.uniforms[day, k, g])
        n = np.where(sub >= 0, np.minimum(n, total), 0).astype(np.int64)
        keep = n > 0
        if not keep.any():
            return None
        p = lost["p"].to_numpy()[keep]
        cand = self._unit_lines(p, k[keep], sub[keep], g[keep], n[keep], day, prefix="s")
        return self._promised(cand, inv).filter(pl.col("buys"))

    def _route(self, bought: pl.DataFrame, inv: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        from scot_cli.route import route_lines

        # route_lines is route() on frames already validated (these are, once per run)
        result = route_lines(
            bought.select(
                "order_id",
                "line",
                "sku",
                "qty",
                "destination",
                "ship_date",
                "promise_date",
                "status",
            ),
            nodes=self.nodes,
            lanes=self.lanes,
            inventory=inv,
            items=self.items,
            options=self.route,
        )
        ship = result.shipments.select(
            "order_id", "line", "ship_node", "path", "modes", "depart", "arrive", "cost"
        )
        return bought.join(ship, on=["order_id", "line"], how="left"), result.trucks

    # the answers as arrays ------------------------------------------------------------

    def _measure(
        self, fill: Fill, routed: tuple[pl.DataFrame, pl.DataFrame], day: int, z: Array
    ) -> None:
        w = self.world
        lines, trucks = routed
        n_reg, n_fc = len(w.regions), len(w.fcs)
        f_ix = {v: i for i, v in enumerate(w.fcs)}
        done = lines.filter(pl.col("ship_node").is_not_null()).join(
            self._sd if self._sd is not None else pl.DataFrame(), on=["path", "modes"], how="left"
        )
        left = lines.filter(pl.col("ship_node").is_null())
        fill.region[:, 5] = np.bincount(
            left["g"].to_numpy(), weights=left["qty"].to_numpy(), minlength=n_reg
        )
        if done.height == 0:
            return
        f = done["ship_node"].replace_strict(f_ix, return_dtype=pl.Int64).to_numpy()
        k_sku = done["ks"].to_numpy()
        k = done["k"].to_numpy()
        g = done["g"].to_numpy()
        p = done["p"].to_numpy()
        qty = done["qty"].to_numpy()
        is_sub = (done["order_id"].str.starts_with("s")).to_numpy()
        np.add.at(fill.shipped, (k_sku, f), qty)
        for t in range(len(fill.served)):
            hit = p == t
            np.add.at(fill.served[t], (k[hit], g[hit]), qty[hit])
        arrive = done["arrive"].cast(pl.Int64).to_numpy()
        depart = done["depart"].cast(pl.Int64).to_numpy()
        sd = done["_sd"].fill_null(0.0).to_numpy()
        late_us = np.rint(z[f, g] * sd * _US_PER_DAY).astype(np.int64)
        delivered = np.maximum(arrive + late_us, depart) // _US_PER_DAY
        today = (w.start - _EPOCH).days + day
        after = delivered - today
        promised_day = done["promise_date"].cast(pl.Int64).to_numpy()  # days since the epoch
        measures = {
            0: after <= 1,
            1: after <= 2,
            3: delivered <= promised_day,
            4: is_sub,
        }
        for col, mask in measures.items():
            fill.region[:, col] = np.bincount(g[mask], weights=qty[mask], minlength=n_reg)
        fill.region[:, 8] = np.bincount(g, weights=done["cost"].to_numpy(), minlength=n_reg)
        boxes = done.group_by("order_id").agg(
            pl.col("g").first(), pl.col("ship_node").n_unique().alias("boxes")
        )
        og = boxes["g"].to_numpy()
        fill.region[:, 6] = np.bincount(og, minlength=n_reg)
        fill.region[:, 7] = np.bincount(og[boxes["boxes"].to_numpy() > 1], minlength=n_reg)
        first = trucks.filter(pl.col("origin").is_in(w.fcs))
        if first.height:
            t_f = first["origin"].replace_strict(f_ix, return_dtype=pl.Int64).to_numpy()
            fill.fc[:, 0] = np.bincount(t_f, minlength=n_fc)
            fill.fc[:, 1] = np.bincount(t_f, weights=first["load"].to_numpy(), minlength=n_fc)
            fill.fc[:, 2] = np.bincount(t_f, weights=first["capacity"].to_numpy(), minlength=n_fc)
