"""The policies a simulation compares: scot's chain, a retailer's baseline, a base stock.

:class:`ScotPolicy` calls the real decisions (through :mod:`scot_cli.simulate.decisions`);
:class:`BaselinePolicy` is what a retailer without scot runs; :class:`BaseStockPolicy`
orders up to fixed levels (the textbook policy the validation compares with theory).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from scot_cli.errors import ScotError

from .decisions import forecast as decide_forecast
from .decisions import place as decide_place
from .decisions import plan_buy as decide_plan_buy
from .engine import Decision, View
from .world import World

Array = NDArray[np.float64]


def round_packs(qty: Array, case_pack: Array, moq: Array) -> Array:
    """Order quantities rounded up to whole case packs, and up to the MOQ when positive."""
    packs = np.ceil(np.maximum(qty, 0.0) / case_pack - 1e-9) * case_pack
    return np.where(packs > 0, np.maximum(packs, np.ceil(moq / case_pack) * case_pack), 0.0)


def split_units(total: Array, weights: Array) -> Array:
    """Whole units of ``total`` (per sku) split across columns in proportion to
    ``weights`` (largest share takes the rounding remainder); rows without weight split
    evenly."""
    w = np.where(weights.sum(axis=1, keepdims=True) > 0, weights, 1.0)
    share = w / w.sum(axis=1, keepdims=True)
    units = np.floor(total[:, None] * share)
    units[np.arange(len(total)), np.argmax(share, axis=1)] += total - units.sum(axis=1)
    out: Array = units
    return out


def nearest_open(world: World, open_fc: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Each region's fastest open FC."""
    first = []
    for g in range(len(world.regions)):
        fcs = [int(f) for f in world.rank[g] if open_fc[f] and np.isfinite(world.path_days[f, g])]
        first.append(fcs[0] if fcs else int(np.flatnonzero(open_fc)[0]))
    return np.array(first, dtype=np.int64)


@dataclass
class BaselinePolicy:
    """Order up to ``weeks`` of the moving-average demand (per sku, all FCs together),
    split across FCs in proportion to the regional demand each region's nearest FC
    serves; no transfers. Rounded to case packs and MOQs."""

    world: World
    open_fc: NDArray[np.bool_]
    weeks: float = 6.0
    name: str = "baseline"

    def review(self, view: View) -> Decision:
        daily = view.recent.sum(axis=1) / view.window
        target = self.weeks * 7.0 * daily
        position = view.on_hand.sum(axis=1) + view.pipeline.sum(axis=1) - view.backlog.sum(axis=1)
        qty = round_packs(target - position, self.world.case_pack, self.world.moq)
        near = nearest_open(self.world, self.open_fc)
        weights = np.zeros_like(view.on_hand)
        for g, f in enumerate(near):
            weights[:, f] += view.recent[:, g]
        weights[:, ~self.open_fc] = 0.0
        if not weights.any():
            weights[:, self.open_fc] = 1.0
        return Decision(buy=split_units(qty, weights))


@dataclass
class BaseStockPolicy:
    """Order up to ``levels`` (skus x FCs) at every review: the inventory position (on
    hand + pipeline - backorders, the latter counted at the sku's first FC) is raised to
    the level (Snyder & Shen, ch. 4, base-stock policy)."""

    levels: Array
    name: str = "base_stock"

    def review(self, view: View) -> Decision:
        position = view.on_hand + view.pipeline
        position[:, 0] -= view.backlog.sum(axis=1)
        return Decision(buy=np.maximum(self.levels - position, 0.0))


@dataclass
class Inputs:
    """The tables scot's policy decides from (what-ifs already applied)."""

    items: pl.DataFrame
    nodes: pl.DataFrame
    lanes: pl.DataFrame
    sales: pl.DataFrame
    events: pl.DataFrame | None = None


@dataclass
class ScotPolicy:
    """scot's chain at each review: the forecast (made once, or again from the simulated
    history), plan-buy per FC against the inventory position, then place's transfers for
    the coming period."""

    world: World
    inputs: Inputs
    forecast: pl.DataFrame
    horizon: int
    review_days: int
    buy: dict[str, Any] = field(default_factory=dict)
    place: dict[str, Any] = field(default_factory=dict)
    reforecast: bool = False
    transfers: bool = True
    seed: int = 0
    name: str = "scot"
    violations: list[str] = field(default_factory=list)

    def review(self, view: View) -> Decision:
        fc = self._forecast(view)
        inv = self._inventory(view)
        orders = decide_plan_buy(
            fc,
            items=self.inputs.items,
            inventory=inv,
            nodes=self.inputs.nodes,
            lanes=self.inputs.lanes,
            as_of=view.date,
            review_days=self.review_days,
            fields=self.buy,
        )
        buy = self._dense(orders, "qty")
        if not self.transfers:
            return Decision(buy=buy)
        try:
            placed = decide_place(
                fc,
                items=self.inputs.items,
                inventory=inv,
                nodes=self.inputs.nodes,
                lanes=self.inputs.lanes,
                supply=orders.select("sku", "arrival_date", "qty"),
                period_days=self.review_days,
                fields=self.place,
            )
        except ScotError as exc:
            self.violations.append(f"day {view.day}: place: {exc.message}")
            return Decision(buy=buy)
        transfer = self._dense(placed, "transfer_in") - self._dense(placed, "transfer_out")
        return Decision(buy=buy, transfer=transfer)

    def _forecast(self, view: View) -> pl.DataFrame:
        first = view.date + dt.timedelta(days=1)
        if self.reforecast and view.day > 0:
            self.forecast = decide_forecast(
                pl.concat(
                    [
                        self.inputs.sales.select("sku", "location", "date", "units"),
                        simulated_sales(self.world, view.past(), self.world.start),
                    ]
                ),
                horizon=self.horizon - view.day,
                items=self.inputs.items,
                events=self.inputs.events,
                seed=self.seed,
            )
        return self.forecast.filter(pl.col("date") >= first)

    def _inventory(self, view: View) -> pl.DataFrame:
        k, f = len(self.world.skus), len(self.world.fcs)
        open_nodes = set(self.inputs.nodes["node"].to_list())
        frame = pl.DataFrame(
            {
                "sku": np.repeat(self.world.skus, f),
                "node": np.tile(self.world.fcs, k),
                "on_hand": view.on_hand.ravel(),
                "in_transit": view.pipeline.ravel(),
            }
        )
        return frame.filter(pl.col("node").is_in(open_nodes))

    def _dense(self, df: pl.DataFrame, value: str) -> Array:
        out = np.zeros((len(self.world.skus), len(self.world.fcs)))
        s_ix = {v: i for i, v in enumerate(self.world.skus)}
        f_ix = {v: i for i, v in enumerate(self.world.fcs)}
        keep = df.filter(pl.col("sku").is_in(list(s_ix)) & pl.col("node").is_in(list(f_ix)))
        if keep.height:
            i = keep["sku"].replace_strict(s_ix, return_dtype=pl.Int64).to_numpy()
            j = keep["node"].replace_strict(f_ix, return_dtype=pl.Int64).to_numpy()
            np.add.at(out, (i, j), keep[value].cast(pl.Float64).fill_null(0.0).to_numpy())
        return out


def simulated_sales(world: World, demand: Array, start: dt.date) -> pl.DataFrame:
    """Simulated demand (days, skus, regions) as sales rows (``sku, location, date, units``)."""
    t, k, g = np.nonzero(np.ones_like(demand, dtype=bool))
    return pl.DataFrame(
        {
            "sku": np.array(world.skus)[k],
            "location": np.array(world.regions)[g],
            "date": pl.Series(t, dtype=pl.Int64).cast(pl.Int32),
            "units": demand.ravel(),
        }
    ).with_columns((pl.lit(start) + pl.duration(days=pl.col("date"))).alias("date"))
