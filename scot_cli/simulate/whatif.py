"""What-if changes to a simulation's inputs, each run as a scenario on the same streams.

``speed-target=1:0.8`` (place's speed target), ``lead-time=x1.5`` (items' lead times),
``demand=+20%`` or ``demand=-10%:category=toys`` (demand of all or some skus),
``close=FC-EWR`` (an FC out of the network), ``storage=x0.8`` (FCs' storage capacity).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from scot_cli.options import OptionError

from .options import WHAT_IFS


@dataclass(frozen=True)
class Scenario:
    """One scenario's inputs: the tables the policies decide from, the FCs open, the
    demand factor per sku, and place overrides."""

    name: str
    items: pl.DataFrame
    nodes: pl.DataFrame
    lanes: pl.DataFrame
    closed: tuple[str, ...] = ()
    demand_factor: NDArray[np.float64] | None = None
    place: dict[str, object] = dataclasses.field(default_factory=dict)


def _factor(key: str, value: str) -> float:
    text = value.strip().lower()
    if not text.startswith("x"):
        raise OptionError("what_if", f"{key}: expected xF such as x1.5, got {value!r}")
    try:
        factor = float(text[1:])
    except ValueError as exc:
        raise OptionError("what_if", f"{key}: expected xF such as x1.5, got {value!r}") from exc
    if not factor > 0:
        raise OptionError("what_if", f"{key}: the factor must be positive, got {value!r}")
    return factor


def _percent(value: str) -> tuple[float, str | None, str | None]:
    change, _, where = value.partition(":")
    text = change.strip().rstrip("%")
    try:
        pct = float(text)
    except ValueError as exc:
        raise OptionError(
            "what_if", f"demand: expected +P% or -P% such as +20%, got {value!r}"
        ) from exc
    if pct <= -100:
        raise OptionError("what_if", f"demand: a change must be above -100%, got {change}")
    col, val = None, None
    if where:
        col, sep, val = where.partition("=")
        if not sep or col not in ("category", "sku"):
            raise OptionError(
                "what_if", f"demand: the filter is category=C or sku=S, got {where!r}"
            )
    return 1 + pct / 100, col, val


def apply(
    base: Scenario, text: str, *, skus: list[str], fcs: list[str]
) -> tuple[Scenario, list[str]]:
    """The scenario ``text`` (``KEY=VALUE``) makes of ``base``, and warnings (a change
    that leaves part of the network infeasible is kept and warned about)."""
    key, _, value = text.partition("=")
    WHAT_IFS.check(key)
    warnings: list[str] = []
    s = dataclasses.replace(base, name=text)
    if key == "speed-target":
        from scot_cli.place import parse_speed_target

        parse_speed_target(value)
        return dataclasses.replace(s, place={**s.place, "speed_target": value}), warnings
    if key == "lead-time":
        f = _factor(key, value)
        items = s.items.with_columns(pl.col("lead_time_days") * f, pl.col("lead_time_sd") * f)
        return dataclasses.replace(s, items=items), warnings
    if key == "storage":
        f = _factor(key, value)
        nodes = s.nodes.with_columns(pl.col("storage_capacity") * f)
        return dataclasses.replace(s, nodes=nodes), warnings
    if key == "close":
        if value not in fcs:
            raise OptionError("what_if", f"close: {value!r} is not an FC (FCs: {', '.join(fcs)})")
        nodes = s.nodes.filter(pl.col("node") != value)
        lanes = s.lanes.filter((pl.col("origin") != value) & (pl.col("destination") != value))
        if len(s.closed) + 1 >= len(fcs):
            warnings.append(f"close={value}: no FC is left open; every sale is lost")
        return dataclasses.replace(s, nodes=nodes, lanes=lanes, closed=(*s.closed, value)), warnings
    factor, col, val = _percent(value)
    items = s.items.sort("sku")
    hit = np.ones(len(skus), dtype=bool)
    if col is not None:
        hit = (items[col] == val).fill_null(False).to_numpy()
        if not hit.any():
            known = ", ".join(sorted(set(items[col].drop_nulls().to_list()))[:8])
            raise OptionError("what_if", f"demand: no sku has {col}={val} (known: {known})")
    prev = np.ones(len(skus)) if s.demand_factor is None else s.demand_factor
    return dataclasses.replace(s, demand_factor=np.where(hit, prev * factor, prev)), warnings
