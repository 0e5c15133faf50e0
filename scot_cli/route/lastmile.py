"""Last mile: vehicle routes from each delivery station (CVRP and VRPTW) with PyVRP.

PyVRP (Wouda, Lan & Kool (2024), "PyVRP: a high-performance VRP solver package", INFORMS
J. Comput. 36(4)) searches with iterated local search over the hybrid genetic search
neighbourhoods of Vidal (2022). Distances are great-circle km from the stations' and stops'
coordinates (integer metres for the solver), durations follow from ``speed_kmh``. A stop the
fleet cannot serve is optional with a prize above any detour, so the search leaves it out only
when it must; it is then reported with a reason.
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
from scot_cli.options import Options, at_least, positive
from scot_cli.route.options import haversine_km
from scot_cli.validate import check_grid

ProgressFn = Callable[[int, int], None]
#: Volume and time are scaled to integers for the solver.
VOLUME_SCALE = 1000
SECONDS = 60


#: Slowest average speed accepted, km/h (slower is a typo for a van).
MIN_SPEED_KMH = 0.1


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
        Seconds of search per station.
    seed
        Seed of the search.
    """

    vehicles: int = 10
    capacity: float = 100.0
    speed_kmh: float = 40.0
    shift_minutes: float = 600.0
    time_limit: float = 5.0
    seed: int = 0

    def check(self) -> None:
        at_least("vehicles", self.vehicles, 1)
        positive("capacity", self.capacity)
        at_least("speed_kmh", self.speed_kmh, MIN_SPEED_KMH)
        positive("shift_minutes", self.shift_minutes)
        positive("time_limit", self.time_limit)
        at_least("seed", self.seed, 0)


@dataclass(frozen=True)
class LastMileSummary:
    """Headline figures of the last-mile routes."""

    stops: int
    routed: int
    unassigned: int
    vehicles: int
    distance_km: float
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """The figures by name (the run's provenance records them)."""
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.routed:,}/{self.stops:,} stops on {self.vehicles:,} vehicles, "
            f"{self.distance_km:,.1f} km"
        )


@dataclass(frozen=True)
class LastMileResult:
    """Result of :func:`scot_cli.route.last_mile`: one row per stop and the summary."""

    routes: pl.DataFrame
    summary: LastMileSummary


@dataclass(frozen=True)
class VrpResult:
    """Routes as client indices (0-based), service start per client, cost and feasibility."""

    routes: list[list[int]]
    starts: dict[int, int]
    distance: int
    feasible: bool
    unplanned: list[int]


def solve_vrp(
    distance: np.ndarray,
    *,
    demand: np.ndarray,
    capacity: int,
    vehicles: int,
    duration: np.ndarray | None = None,
    tw_early: np.ndarray | None = None,
    tw_late: np.ndarray | None = None,
    service: np.ndarray | None = None,
    shift_duration: int | None = None,
    horizon: int | None = None,
    optional: bool = True,
    time_limit: float = 5.0,
    seed: int = 0,
) -> VrpResult:
    """Solve a CVRP / VRPTW over integer matrices (location 0 is the depot).

    Parameters
    ----------
    distance, duration
        Square integer matrices over the depot and the clients (duration defaults to
        distance).
    demand, tw_early, tw_late, service
        Per client (length n - 1): delivery, time window and service duration.
    capacity, vehicles, shift_duration
        Vehicle capacity, fleet size and the longest route duration (None: unlimited).
    horizon
        Latest return to the depot (None: unlimited).
    optional
        Make clients optional with a prize above any detour (so an overfull instance still
        yields routes and the left-out clients are reported).
    """
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    n = distance.shape[0]
    duration = distance if duration is None else duration
    zeros = np.zeros(n - 1, dtype=np.int64)
    early = zeros if tw_early is None else tw_early
    late = np.full(n - 1, np.iinfo(np.int64).max // 4) if tw_late is None else tw_late
    serv = zeros if service is None else service
    prize = int(4 * (distance.max() + 1) * 2)
    model = Model()
    locs = [model.add_location(0.0, 0.0) for _ in range(n)]
    depot = model.add_depot(locs[0])
    for i in range(1, n):
        model.add_client(
            locs[i],
            delivery=[int(demand[i - 1])],
            service_duration=int(serv[i - 1]),
            tw_early=int(early[i - 1]),
            tw_late=int(late[i - 1]),
            required=not optional,
            prize=prize if optional else 0,
        )
    vt: dict[str, Any] = {
        "num_available": vehicles,
        "capacity": [int(capacity)],
        "start_depot": depot,
        "end_depot": depot,
    }
    if shift_duration is not None:
        vt["shift_duration"] = int(shift_duration)
    if horizon is not None:
        vt["tw_late"] = int(horizon)
    model.add_vehicle_type(**vt)
    for i in range(n):
        for j in range(n):
            model.add_edge(
                locs[i], locs[j], distance=int(distance[i, j]), duration=int(duration[i, j])
            )
    res = model.solve(stop=MaxRuntime(time_limit), seed=seed, display=False)
    best = res.best
    routes, starts = [], {}
    for r in best.routes():
        visits = [a for a in r.schedule() if a.is_client()]
        routes.append([int(a.idx) for a in visits])
        starts.update({int(a.idx): int(a.start_time) for a in visits})
    unplanned = [int(a.idx) for a in best.unplanned()]
    return VrpResult(routes, starts, int(best.distance()), bool(best.is_feasible()), unplanned)


def _matrices(
    depot: tuple[float, float], stops: pl.DataFrame, opt: LastMileOptions
) -> tuple[np.ndarray, np.ndarray]:
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
    return dist, dur


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


def _route_station(
    station: str, depot: tuple[float, float], stops: pl.DataFrame, opt: LastMileOptions
) -> pl.DataFrame:
    dist, dur = _matrices(depot, stops, opt)
    why = _unreachable(stops, dur, opt)
    ok = why.is_null().to_numpy()
    idx = np.flatnonzero(ok)
    rows: list[dict[str, Any]] = []
    if idx.shape[0]:
        sub = np.concatenate([[0], idx + 1])
        res = solve_vrp(
            dist[np.ix_(sub, sub)],
            duration=dur[np.ix_(sub, sub)],
            demand=np.round(stops["demand"].to_numpy()[idx] * VOLUME_SCALE).astype(np.int64),
            capacity=round(opt.capacity * VOLUME_SCALE),
            vehicles=opt.vehicles,
            tw_early=np.round(stops["tw_early"].to_numpy()[idx] * SECONDS).astype(np.int64),
            tw_late=np.round(
                np.minimum(stops["tw_late"].to_numpy()[idx], opt.shift_minutes) * SECONDS
            ).astype(np.int64),
            service=np.round(stops["service_time"].to_numpy()[idx] * SECONDS).astype(np.int64),
            shift_duration=round(opt.shift_minutes * SECONDS),
            time_limit=opt.time_limit,
            seed=opt.seed,
        )
        rows = _route_rows(station, stops, idx, res, dist[np.ix_(sub, sub)])
    routed = {r["stop_id"] for r in rows}
    reasons = dict(zip(stops["stop_id"], why, strict=True))
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
            "reason": reasons[s] or "not enough vehicles within the shift",
        }
        for s in stops["stop_id"]
        if s not in routed
    ]
    return pl.DataFrame(rows, schema=_ROUTE_SCHEMA)


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

    The loop runs per station (each an independent VRP within ``time_limit`` seconds).
    """
    opt = options or LastMileOptions()
    coords = {r[0]: (r[1], r[2]) for r in nodes.select("node", "lat", "lon").iter_rows()}
    parts = []
    groups = stops.sort("station", "stop_id").group_by("station", maintain_order=True)
    stations = stops["station"].n_unique()
    started = time.monotonic()
    for k, ((station,), grp) in enumerate(groups, start=1):
        parts.append(_route_station(str(station), coords[str(station)], grp, opt))
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
    )
    return LastMileResult(routes, summary)
