"""Supply per sku and FC over time: on hand now, then in-transit units and receipts by day.

Available to promise follows first come, first served on cumulative supply: with ``C`` units
already committed at a (sku, FC), a line of ``q`` units can ship from the first day on which the
cumulative supply reaches ``C + q``. This never over-promises (a later line may not jump ahead of
an earlier one's units), at the price of sometimes promising later than a full
available-to-promise netting would (Vollmann et al., *Manufacturing Planning and Control*,
ch. 3, cumulative ATP).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from .grid import epoch_days

#: Availability day of a quantity no supply covers.
NEVER = np.iinfo(np.int64).max // 4
_TOL = 1e-9


@dataclass(frozen=True)
class Supply:
    """Supply of every (sku, FC) pair ``sf = sku * F + f`` (sku ``n_sku`` has none).

    ``on_hand[sf]`` is available now; the future arrivals of ``sf`` are the events
    ``start[sf] .. start[sf] + count[sf] - 1`` with their day index ``ev_day`` and the
    cumulative supply ``ev_cum`` (on hand included) once they have arrived.
    """

    n_fc: int
    on_hand: np.ndarray
    start: np.ndarray
    count: np.ndarray
    ev_day: np.ndarray
    ev_cum: np.ndarray

    @cached_property
    def total(self) -> np.ndarray:
        """All the supply of each ``sf`` once every arrival is in (on hand included)."""
        out: np.ndarray = self.on_hand.copy()
        if self.ev_cum.size:
            owner = np.repeat(np.arange(self.count.size), self.count)
            np.maximum.at(out, owner, self.ev_cum)
        return out

    def available_day(self, sf: np.ndarray, need: np.ndarray) -> np.ndarray:
        """Day index from which cumulative supply covers ``need`` (-1: now; NEVER: never)."""
        out: np.ndarray = np.full(sf.shape, NEVER, dtype=np.int64)
        now = self.on_hand[sf] >= need - _TOL
        out[now] = -1
        todo = np.flatnonzero(~now & (self.count[sf] > 0))
        j = 0
        while todo.size:
            pos = self.start[sf[todo]] + j
            hit = self.ev_cum[pos] >= need[todo] - _TOL
            out[todo[hit]] = self.ev_day[pos[hit]]
            todo = todo[~hit]
            j += 1
            todo = todo[self.count[sf[todo]] > j]
        return out

    def supply_by(self, sf: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Cumulative supply of ``sf`` available on day index ``day``."""
        out: np.ndarray = self.on_hand[sf].copy()
        todo = np.flatnonzero(self.count[sf] > 0)
        j = 0
        while todo.size:
            pos = self.start[sf[todo]] + j
            arrived = self.ev_day[pos] <= day[todo]
            out[todo[arrived]] = self.ev_cum[pos[arrived]]
            todo = todo[arrived]
            j += 1
            todo = todo[self.count[sf[todo]] > j]
        return out


def build_supply(
    *,
    inventory: pl.DataFrame,
    receipts: pl.DataFrame | None,
    skus: pl.Series,
    fcs: tuple[str, ...],
    day0: int,
) -> Supply:
    """Index inventory (on hand, in transit with eta) and receipts by (sku, FC).

    ``skus`` lists the sku ids (position = sku index). Rows at nodes other than FCs, and
    in-transit units without an eta, are not promisable and are left out. Arrivals dated
    before ``day0`` count from ``day0``.
    """
    n_f = len(fcs)
    n_pairs = (len(skus) + 1) * n_f
    sku_enum, fc_enum = pl.Enum(skus.to_list()), pl.Enum(list(fcs))

    def keyed(df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(
            (
                pl.col("sku").cast(sku_enum, strict=False).to_physical().cast(pl.Int64) * n_f
                + pl.col("node").cast(fc_enum, strict=False).to_physical().cast(pl.Int64)
            ).alias("sf")
        ).filter(pl.col("sf").is_not_null())

    inv = keyed(inventory.select("sku", "node", "on_hand"))
    on_hand = np.zeros(n_pairs)
    on_hand[inv["sf"].to_numpy()] = inv["on_hand"].to_numpy()
    arrivals = _arrivals(inventory, receipts)
    if arrivals.height == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Supply(
            n_f,
            on_hand,
            np.zeros(n_pairs, dtype=np.int64),
            np.zeros(n_pairs, dtype=np.int64),
            empty,
            np.zeros(0),
        )
    ev = (
        keyed(arrivals)
        .with_columns(pl.max_horizontal(pl.col("day") - day0, pl.lit(0)).alias("day"))
        .group_by("sf", "day")
        .agg(pl.col("qty").sum())
        .sort("sf", "day")
    )
    sf = ev["sf"].to_numpy()
    cum = ev.select(pl.col("qty").cum_sum().over("sf"))["qty"].to_numpy() + on_hand[sf]
    count = np.bincount(sf, minlength=n_pairs).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    return Supply(n_f, on_hand, start, count, ev["day"].to_numpy().astype(np.int64), cum)


def _arrivals(inventory: pl.DataFrame, receipts: pl.DataFrame | None) -> pl.DataFrame:
    parts = []
    if "in_transit" in inventory.columns and "eta" in inventory.columns:
        parts.append(
            inventory.filter((pl.col("in_transit") > 0) & pl.col("eta").is_not_null()).select(
                "sku", "node", pl.col("eta").alias("date"), pl.col("in_transit").alias("qty")
            )
        )
    if receipts is not None:
        parts.append(
            receipts.filter((pl.col("qty") > 0) & pl.col("arrival_date").is_not_null()).select(
                "sku", "node", pl.col("arrival_date").alias("date"), "qty"
            )
        )
    if not parts:
        return pl.DataFrame(
            schema={"sku": pl.String, "node": pl.String, "day": pl.Int64, "qty": pl.Float64}
        )
    df = pl.concat(parts)
    return df.with_columns(pl.Series("day", epoch_days(df["date"]))).drop("date")
