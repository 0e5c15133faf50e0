"""Paths through the multi-tier network, composed from the lanes table's legs.

A leg's ``transit_days`` includes the dwell at its origin, so a path's transit
is the sum of its legs' means and its spread the square root of the summed
variances (legs taken as independent). Place and promise use the end-to-end
FC -> region paths; route also reads the legs of each path.
"""

from __future__ import annotations

import polars as pl

PATH_SEP = ">"


#: The last networks' paths: (nodes, lanes, max_legs, paths), newest last. A simulation
#: promises and routes every day on the same network, so its paths are composed once.
_RECENT: list[tuple[pl.DataFrame, pl.DataFrame, int, pl.DataFrame]] = []
_RECENT_SIZE = 4


def fc_paths(nodes: pl.DataFrame, lanes: pl.DataFrame, *, max_legs: int = 4) -> pl.DataFrame:
    """Every loop-free path from an FC to a region of at most ``max_legs`` legs.

    Returns one row per path: ``origin`` (FC), ``destination`` (region node),
    ``path`` (node ids joined by ``>``), ``modes`` (leg modes joined by ``>``),
    ``legs``, ``transit_days``, ``transit_sd``, ``cost_per_unit``,
    ``first_mode`` and ``departure_hour`` of the first leg, sorted by key.
    The paths of the last few networks are kept: a network equal to one of them (same
    columns and values) gets the same frame back without composing it again.
    """
    for i, (n, ln, k, out) in enumerate(_RECENT):
        if k == max_legs and n.equals(nodes) and ln.equals(lanes):
            _RECENT.append(_RECENT.pop(i))
            return out
    out = _compose(nodes, lanes, max_legs)
    _RECENT.append((nodes, lanes, max_legs, out))
    del _RECENT[:-_RECENT_SIZE]
    return out


def _compose(nodes: pl.DataFrame, lanes: pl.DataFrame, max_legs: int) -> pl.DataFrame:
    kinds = dict(zip(nodes["node"], nodes["kind"], strict=True))
    fcs = [n for n, k in kinds.items() if k == "fc"]
    regions = {n for n, k in kinds.items() if k == "region"}
    legs = lanes.select(
        "origin",
        "destination",
        "mode",
        "transit_days",
        (pl.col("transit_sd") ** 2).alias("var"),
        "cost_per_unit",
        "departure_hour",
    )
    frontier = legs.filter(pl.col("origin").is_in(fcs)).select(
        pl.col("origin"),
        pl.col("destination").alias("at"),
        (pl.col("origin") + PATH_SEP + pl.col("destination")).alias("path"),
        pl.col("mode").alias("modes"),
        pl.lit(1).alias("legs"),
        "transit_days",
        "var",
        "cost_per_unit",
        pl.col("mode").alias("first_mode"),
        "departure_hour",
    )
    done = [frontier]
    for _ in range(max_legs - 1):
        frontier = (
            frontier.filter(~pl.col("at").is_in(list(regions)))
            .join(legs, left_on="at", right_on="origin", suffix="_leg")
            .filter(
                ~pl.col("path").str.contains(
                    PATH_SEP + pl.col("destination") + PATH_SEP, literal=True
                )
                & (pl.col("destination") != pl.col("path").str.split(PATH_SEP).list.first())
            )
            .select(
                "origin",
                pl.col("destination").alias("at"),
                (pl.col("path") + PATH_SEP + pl.col("destination")).alias("path"),
                (pl.col("modes") + PATH_SEP + pl.col("mode")).alias("modes"),
                (pl.col("legs") + 1).alias("legs"),
                (pl.col("transit_days") + pl.col("transit_days_leg")).alias("transit_days"),
                (pl.col("var") + pl.col("var_leg")).alias("var"),
                (pl.col("cost_per_unit") + pl.col("cost_per_unit_leg")).alias("cost_per_unit"),
                "first_mode",
                "departure_hour",
            )
        )
        if frontier.height == 0:
            break
        done.append(frontier)
    out = pl.concat(done).filter(pl.col("at").is_in(list(regions)))
    return out.select(
        "origin",
        pl.col("at").alias("destination"),
        "path",
        "modes",
        "legs",
        "transit_days",
        pl.col("var").sqrt().alias("transit_sd"),
        "cost_per_unit",
        "first_mode",
        "departure_hour",
    ).sort("origin", "destination", "path")


def fastest_paths(paths: pl.DataFrame) -> pl.DataFrame:
    """The path with the least mean transit per (origin, destination); ties by cost, then path."""
    return (
        paths.sort("origin", "destination", "transit_days", "cost_per_unit", "path")
        .group_by("origin", "destination", maintain_order=True)
        .first()
    )


def cheapest_paths(paths: pl.DataFrame) -> pl.DataFrame:
    """The path with the least unit cost per (origin, destination); ties by transit, then path."""
    return (
        paths.sort("origin", "destination", "cost_per_unit", "transit_days", "path")
        .group_by("origin", "destination", maintain_order=True)
        .first()
    )
