"""Last mile: vehicle routes from each delivery station (CVRP and VRPTW) with PyVRP.

PyVRP (Wouda, Lan & Kool (2024), "PyVRP: a high-performance VRP solver package", INFORMS
J. Comput. 36(4)) searches with iterated local search over the hybrid genetic search
neighbourhoods of Vidal (2022); :mod:`scot_cli.route.lastmile_search` runs independent seeds
on every core and keeps the best. Distances are great-circle km from the stations' and stops'
coordinates (integer metres for the solver), durations follow from ``speed_kmh``. Stops are
passed in the natural order of their ids (``S2`` before ``S10``) whatever the input order.

Every stop is required unless it has a ``prize`` (km of driving it is worth): then the search
may leave it out when serving it costs more. A stop no vehicle can reach is reported with its
reason; when the others do not all fit the fleet (more demand than vehicles times capacity, or
no feasible routes found in ``time_limit``), a second search makes them optional with a prize
above any detour, so it leaves out only what it must. The summary gives the routes' length
and, when every stop is routed, a lower bound on any routes' length
(:mod:`scot_cli.route.lastmile_bound`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from scot_cli.errors import InfeasibleError
from scot_cli.options import Options, at_least, between, positive
from scot_cli.route.lastmile_bound import lower_bound
from scot_cli.route.lastmile_search import VrpResult, solve_vrp
from scot_cli.route.options import haversine_km
from scot_cli.validate import check_grid

__all__ = [
    "LastMileOptions",
    "LastMileResult",
    "LastMileSummary",
    "VrpResult",
    "natural_order",
    "plan_last_mile",
    "solve_vrp",
]

ProgressFn = Callable[[int, int], None]
#: Volume and time are scaled to integers for the solver.
VOLUME_SCALE = 1000
SECONDS = 60


#: Slowest average speed accepted, km/h (slower is a typo for a van).
MIN_SPEED_KMH = 0.1
#: Most parallel searches per station.
MAX_SEEDS = 64


@dataclass(frozen=True, kw_only=True)
class LastMileOptions(Options):
    """Fleet and search settings of :func:`scot_cli.route.last_mile` (times in minutes).

    Attributes
    ----------
    vehicles
        Vehicles available per station.
    capacity
        Volume one vehicle carries (the stops' ``demand`` unit).
    speed_kmh
        Average speed in km/h.
    shift_minutes
        Minutes a vehicle may be out, back at the station included.
    time_limit
        Wall seconds of search per station (twice when a second search has to pick the stops
        to leave out).
    seed
        Seed of the first search; the others use the next seeds.
    seeds
        Independent searches in parallel per station, the best kept (None: one per core).
    """

    vehicles: int = 10
    capacity: float = 100.0
    speed_kmh: float = 40.0
    shift_minutes: float = 600.0
    time_limit: float = 5.0
    seed: int = 0
    seeds: int | None = None

    def check(self) -> None:
        at_least("vehicles", self.vehicles, 1)
        positive("capacity", self.capacity)
        at_least("speed_kmh", self.speed_kmh, MIN_SPEED_KMH)
        positive("shift_minutes", self.shift_minutes)
        positive("time_limit", self.time_limit)
        at_least("seed", self.seed, 0)
        between("seeds", self.seeds, 1, MAX_SEEDS)


@dataclass(frozen=True)
class LastMileSummary:
    """Headline figures of the last-mile routes."""

    stops: int
    routed: int
    unassigned: int
    vehicles: int
    distance_km: float
    seconds: float
    #: Lower bound on the length of any routes serving every stop (None: not every stop is
    #: routed, so the bound does not apply).
    lower_bound_km: float | None = None

    @property
    def gap(self) -> float | None:
        """How far above the lower bound the routes are, as a fraction (an upper limit on the
        distance to the optimum)."""
        if self.lower_bound_km is None or self.lower_bound_km <= 0:
            return None
        return self.distance_km / self.lower_bound_km - 1

    def as_dict(self) -> dict[str, Any]:
        """The figures by name (the run's provenance records them)."""
        return {**asdict(self), "gap": self.gap}

    def __str__(self) -> str:
        text = (
            f"{self.routed:,}/{self.stops:,} stops on {self.vehicles:,} routes, "
            f"{self.distance_km:,.1f} km"
        )
        gap = self.gap
        if gap is not None and self.lower_bound_km is not None:
            text += f", {100 * gap:.1f}% above the lower bound {self.lower_bound_km:,.1f} km"
        return text


@dataclass(frozen=True)
class LastMileResult:
    """Result of :func:`scot_cli.route.last_mile`: one row per stop and the summary."""

    routes: pl.DataFrame
    summary: LastMileSummary


def _matrices(
    depot: tuple[float, float], stops: pl.DataFrame, opt: LastMileOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = stops.height + 1
    check_grid(
        {"distance rows (stops and depot)": n, "columns": n},
        cause=f"stops: station {stops['station'][0]!r} has {stops.height:,} stops",
    )
    lat = np.concatenate([[depot[0]], stops["lat"].to_numpy()])
    lon = np.concatenate([[depot[1]], stops["lon"].to_numpy()])
    km = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    dist = np.round(km * 1000).astype(np.int64)
    dur = np.round(km / opt.speed_kmh * 60 * SECONDS).astype(np.int64)
    return dist, dur, km


def _unreachable(stops: pl.DataFrame, dur: np.ndarray, opt: LastMileOptions) -> pl.Series:
    """Why a stop cannot be served by any vehicle, or null."""
    reach = np.maximum(dur[0, 1:] / SECONDS, stops["tw_early"].to_numpy())
    reason = np.where(
        stops["demand"].to_numpy() > opt.capacity,
        "demand above vehicle capacity",
        np.where(
            reach > stops["tw_late"].to_numpy(),
            "time window unreachable",
            np.where(
                reach + stops["service_time"].to_numpy() + dur[1:, 0] / SECONDS > opt.shift_minutes,
                "beyond the shift",
                "",
            ),
        ),
    )
    return pl.Series("why", reason).replace("", None)


def natural_order(stops: pl.DataFrame) -> pl.DataFrame:
    """Stops by station, then by id in natural order: the id's text before its trailing
    digits, then those digits as a number (``S2`` before ``S10``), then the id itself."""
    sid = pl.col("stop_id")
    return stops.sort(
        pl.col("station"),
        sid.str.replace(r"\d+$", ""),
        sid.str.extract(r"(\d+)$").str.strip_chars_start("0").str.len_chars(),
        sid.str.extract(r"(\d+)$").str.strip_chars_start("0"),
        sid,
        nulls_last=False,
    )


@dataclass(frozen=True)
class _Station:
    """One station's stops as solver integers (the stops the fleet can reach)."""

    dist: np.ndarray
    dur: np.ndarray
    idx: np.ndarray
    demand: np.ndarray
    prize: np.ndarray


def _solve_station(st: _Station, stops: pl.DataFrame, opt: LastMileOptions) -> VrpResult:
    """Required stops first; if they cannot all be served, every stop optional (a prize above
    any detour unless it has its own), so the search leaves out only what it must."""
    idx = st.idx
    sub = np.concatenate([[0], idx + 1])
    dist, dur = st.dist[np.ix_(sub, sub)], st.dur[np.ix_(sub, sub)]
    common: dict[str, Any] = {
        "duration": dur,
        "demand": st.demand,
        "capacity": round(opt.capacity * VOLUME_SCALE),
        "vehicles": opt.vehicles,
        "tw_early": np.round(stops["tw_early"].to_numpy()[idx] * SECONDS).astype(np.int64),
        "tw_late": np.round(
            np.minimum(stops["tw_late"].to_numpy()[idx], opt.shift_minutes) * SECONDS
        ).astype(np.int64),
        "service": np.round(stops["service_time"].to_numpy()[idx] * SECONDS).astype(np.int64),
        "shift_duration": round(opt.shift_minutes * SECONDS),
        "time_limit": opt.time_limit,
        "seed": opt.seed,
        "seeds": opt.seeds,
    }
    fits = int(st.demand.sum()) <= common["capacity"] * opt.vehicles
    res = solve_vrp(dist, prize=st.prize, **common) if fits else None
    if res is None or not res.feasible:
        above_any_detour = 4 * (int(dist.max()) + 1) * 2
        prize = np.where(st.prize > 0, st.prize, above_any_detour)
        res = solve_vrp(dist, prize=prize, **common)
    return res


def _route_station(
    station: str, depot: tuple[float, float], stops: pl.DataFrame, opt: LastMileOptions
) -> tuple[pl.DataFrame, float | None]:
    """The station's rows and, when every stop is routed, a lower bound in km."""
    dist, dur, km = _matrices(depot, stops, opt)
    why = _unreachable(stops, dur, opt)
    idx = np.flatnonzero(why.is_null().to_numpy())
    rows: list[dict[str, Any]] = []
    bound = None
    demand = stops["demand"].to_numpy()
    if idx.shape[0]:
        prize = (
            stops["prize"].fill_null(0.0).to_numpy()[idx]
            if "prize" in stops.columns
            else np.zeros(idx.shape[0])
        )
        st = _Station(
            dist=dist,
            dur=dur,
            idx=idx,
            demand=np.round(demand[idx] * VOLUME_SCALE).astype(np.int64),
            prize=np.round(prize * 1000).astype(np.int64),
        )
        res = _solve_station(st, stops, opt)
        if res.feasible:
            sub = np.concatenate([[0], idx + 1])
            rows = _route_rows(station, stops, idx, res, dist[np.ix_(sub, sub)])
    routed = {r["stop_id"] for r in rows}
    if len(routed) == stops.height:
        # Great-circle km obey the triangle inequality; the routes' metres are rounded, so
        # the bound gives back half a metre per edge (at most two per stop).
        slack = 0.0005 * 2 * stops.height
        bound = max(lower_bound(km, demand, opt.capacity) - slack, 0.0)
    reasons = dict(zip(stops["stop_id"], why, strict=True))
    unrouted = (
        "not enough vehicles within the shift"
        if rows or not idx.shape[0]
        else ("no feasible routes found within the time limit")
    )
    rows += [
        {
            "stop_id": s,
            "station": station,
            "vehicle": None,
            "sequence": None,
            "arrival": None,
            "load": None,
            "route_distance": None,
            "status": "unassigned",
            "reason": reasons[s] or unrouted,
        }
        for s in stops["stop_id"]
        if s not in routed
    ]
    return pl.DataFrame(rows, schema=_ROUTE_SCHEMA), bound


_ROUTE_SCHEMA = {
    "stop_id": pl.String,
    "station": pl.String,
    "vehicle": pl.String,
    "sequence": pl.Int64,
    "arrival": pl.Float64,
    "load": pl.Float64,
    "route_distance": pl.Float64,
    "status": pl.String,
    "reason": pl.String,
}


def _route_rows(
    station: str, stops: pl.DataFrame, idx: np.ndarray, res: VrpResult, dist: np.ndarray
) -> list[dict[str, Any]]:
    ids, demand = stops["stop_id"].to_list(), stops["demand"].to_numpy()
    rows = []
    for v, route in enumerate(res.routes, start=1):
        path = [0, *[c + 1 for c in route], 0]
        km = float(sum(dist[a, b] for a, b in itertools.pairwise(path))) / 1000
        on_board = float(demand[idx[route]].sum())
        for seq, c in enumerate(route, start=1):
            rows.append(
                {
                    "stop_id": ids[idx[c]],
                    "station": station,
                    "vehicle": f"{station}/{v}",
                    "sequence": seq,
                    "arrival": res.starts[c] / SECONDS,
                    "load": on_board,
                    "route_distance": km,
                    "status": "routed",
                    "reason": None,
                }
            )
            on_board -= float(demand[idx[c]])
    return rows


def plan_last_mile(
    stops: pl.DataFrame,
    nodes: pl.DataFrame,
    *,
    options: LastMileOptions | None = None,
    progress: ProgressFn | None = None,
) -> LastMileResult:
    """Routes for every station's stops (validated frames): one row per stop and a summary.

    The loop runs per station (each an independent VRP within ``time_limit`` wall seconds,
    ``seeds`` searches in parallel).
    """
    opt = options or LastMileOptions()
    coords = {r[0]: (r[1], r[2]) for r in nodes.select("node", "lat", "lon").iter_rows()}
    parts = []
    bounds: list[float | None] = []
    groups = natural_order(stops).group_by("station", maintain_order=True)
    stations = stops["station"].n_unique()
    started = time.monotonic()
    for k, ((station,), grp) in enumerate(groups, start=1):
        rows, bound = _route_station(str(station), coords[str(station)], grp, opt)
        parts.append(rows)
        bounds.append(bound)
        if progress:
            progress(k, stations)
    routes = (pl.concat(parts) if parts else pl.DataFrame(schema=_ROUTE_SCHEMA)).sort("stop_id")
    routed = routes.filter(pl.col("status") == "routed")
    if routes.height and routed.height == 0:
        first = routes.row(0, named=True)
        raise InfeasibleError(
            f"route last-mile: none of the {routes.height:,} stops can be served (first: "
            f"{first['stop_id']!r}, {first['reason']}); check --capacity, --vehicles, "
            "--shift and the stops' time windows"
        )
    per_vehicle = routed.group_by("vehicle").agg(pl.col("route_distance").first())
    summary = LastMileSummary(
        stops=routes.height,
        routed=routed.height,
        unassigned=routes.height - routed.height,
        vehicles=per_vehicle.height,
        distance_km=round(float(per_vehicle["route_distance"].sum()), 3),
        seconds=round(time.monotonic() - started, 2),
        lower_bound_km=(
            round(sum(b for b in bounds if b is not None), 3)
            if bounds and all(b is not None for b in bounds)
            else None
        ),
    )
    return LastMileResult(routes, summary)
