"""The PyVRP search behind ``scot route last-mile``: one problem, independent seeds in parallel.

The problem goes to PyVRP as one ``ProblemData`` built from the integer matrices (no per-edge
model calls, so building costs milliseconds at any size), with every client required unless it
carries a prize. ``seeds`` independent searches run at once, the first in this process and the
others in fresh worker interpreters, all stopped at the same deadline; the best solution wins
(feasible first, then the lowest objective, then the lowest seed), and the first seed's search
is always among them.

This module imports only numpy at load time: worker processes import it, not polars.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

if TYPE_CHECKING:
    from pyvrp import ProblemData

#: Seconds kept back from the time limit to gather the seeds' results.
GATHER_SECONDS = 0.05


@dataclass(frozen=True)
class VrpResult:
    """Routes as client indices (0-based), service start per client, cost and feasibility.

    ``objective`` is the distance plus the prizes of the optional clients left out; ``seed`` is
    the seed whose search found the routes.
    """

    routes: list[list[int]]
    starts: dict[int, int]
    distance: int
    feasible: bool
    unplanned: list[int]
    objective: int = 0
    seed: int = 0


class Deadline:
    """PyVRP stopping criterion: stop at a ``time.monotonic()`` instant (one clock for all
    processes of the machine), or after ``iterations`` when given (a reproducible stop)."""

    def __init__(self, at: float, iterations: int | None = None) -> None:
        self.at = at
        self.left = iterations

    def __call__(self, best_cost: float) -> bool:
        del best_cost
        if self.left is not None:
            self.left -= 1
            return self.left < 0
        return time.monotonic() >= self.at


def default_seeds() -> int:
    """Independent searches by default: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - platforms without sched_getaffinity
        return max(1, os.cpu_count() or 1)


def problem_data(
    distance: np.ndarray,
    *,
    demand: np.ndarray,
    capacity: int,
    vehicles: int,
    duration: np.ndarray | None = None,
    tw_early: np.ndarray | None = None,
    tw_late: np.ndarray | None = None,
    service: np.ndarray | None = None,
    prize: np.ndarray | None = None,
    shift_duration: int | None = None,
    horizon: int | None = None,
) -> ProblemData:
    """PyVRP's ``ProblemData`` for a single-depot CVRP / VRPTW (location 0 is the depot).

    A client is optional exactly when its ``prize`` is above zero; ``None`` bounds are
    PyVRP's own "unbounded" defaults, as ``pyvrp.read`` leaves them.
    """
    from pyvrp import Client, Depot, Location, ProblemData, VehicleType

    n = distance.shape[0]
    dist = np.ascontiguousarray(distance, dtype=np.int64)
    dur = dist if duration is None else np.ascontiguousarray(duration, dtype=np.int64)
    ints = {
        "delivery": demand,
        "tw_early": tw_early,
        "tw_late": tw_late,
        "service_duration": service,
        "prize": prize,
    }
    columns = {k: v.astype(np.int64).tolist() for k, v in ints.items() if v is not None}
    clients = []
    for i in range(n - 1):
        kw: dict[str, Any] = {k: v[i] for k, v in columns.items() if k != "delivery"}
        kw["required"] = kw.get("prize", 0) <= 0
        clients.append(Client(i + 1, delivery=[columns["delivery"][i]], **kw))
    vt: dict[str, Any] = {"num_available": int(vehicles), "capacity": [int(capacity)]}
    if shift_duration is not None:
        vt["shift_duration"] = int(shift_duration)
    if horizon is not None:
        vt["tw_late"] = int(horizon)
    return ProblemData(
        locations=[Location(0.0, 0.0) for _ in range(n)],
        clients=clients,
        depots=[Depot(0)],
        vehicle_types=[VehicleType(**vt)],
        distance_matrices=[cast(Any, dist)],
        duration_matrices=[cast(Any, dur)],
    )


def search(data: ProblemData, seed: int, at: float, iterations: int | None = None) -> VrpResult:
    """One PyVRP search (its default parameters) with ``seed``, stopped at the monotonic
    instant ``at`` or after ``iterations``."""
    from pyvrp import solve

    stop = Deadline(at, iterations)
    best = solve(data, stop=stop, seed=seed, collect_stats=False, display=False).best
    routes, starts = [], {}
    for r in best.routes():
        visits = [a for a in r.schedule() if a.is_client()]
        routes.append([int(a.idx) for a in visits])
        starts.update({int(a.idx): int(a.start_time) for a in visits})
    return VrpResult(
        routes=routes,
        starts=starts,
        distance=int(best.distance()),
        feasible=bool(best.is_feasible()),
        unplanned=[int(a.idx) for a in best.unplanned()],
        objective=int(best.distance()) + int(best.uncollected_prizes()),
        seed=seed,
    )


def best_of(results: list[VrpResult]) -> VrpResult:
    """Feasible before infeasible, then the lowest objective, then the lowest seed."""
    return min(results, key=lambda r: (not r.feasible, r.objective, r.seed))


def solve_data(
    data: ProblemData,
    *,
    time_limit: float,
    seed: int = 0,
    seeds: int = 1,
    iterations: int | None = None,
    started: float | None = None,
) -> VrpResult:
    """Best of ``seeds`` searches (seeds ``seed``, ``seed + 1``, ...) ending ``time_limit``
    seconds after ``started`` (default: now), or after ``iterations`` each when given."""
    begin = time.monotonic() if started is None else started
    at = begin + max(time_limit - GATHER_SECONDS, 0.0)
    if seeds <= 1:
        return search(data, seed, at, iterations)
    # Workers stop a little earlier: their answers must cross a pipe before the deadline.
    early = at - min(WORKER_MARGIN, 0.05 * time_limit)
    workers = [start_worker((data, seed + k, early, iterations)) for k in range(1, seeds)]
    results = [search(data, seed, at, iterations)]
    for proc, feeder in workers:
        done = finish_worker(proc, feeder, wait=max(at - time.monotonic(), 0.0) + WORKER_GRACE)
        if done is not None:
            results.append(done)
    return best_of(results)


#: Seconds a worker may run past the deadline (its last iteration, its answer) before it is
#: stopped and its seed ignored, so the call keeps to its time limit on a busy machine.
WORKER_GRACE = 0.3
#: Seconds before the deadline a worker stops its search.
WORKER_MARGIN = 0.2


def start_worker(job: tuple[Any, ...]) -> tuple[subprocess.Popen[bytes], threading.Thread]:
    """Start one search in a fresh interpreter (``python -m`` this module): nothing of this
    process (threads, ``__main__``) is inherited; the job is fed on a thread so this process
    starts its own search at once."""
    proc = subprocess.Popen(
        [sys.executable, "-m", __name__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    blob = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)

    def feed() -> None:
        assert proc.stdin is not None
        try:
            proc.stdin.write(blob)
            proc.stdin.close()
        except OSError:  # the worker died; finish_worker reports it as missing
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    return proc, feeder


def finish_worker(
    proc: subprocess.Popen[bytes], feeder: threading.Thread, *, wait: float
) -> VrpResult | None:
    """The worker's result, or None when it failed or overran ``wait`` seconds (then it is
    killed): the other seeds' results stand."""
    ends = time.monotonic() + wait
    feeder.join(timeout=wait)
    proc.stdin = None  # fed and closed by the feeder thread
    try:
        if feeder.is_alive():
            raise subprocess.TimeoutExpired(proc.args, wait)
        out, _ = proc.communicate(timeout=max(ends - time.monotonic(), 0.0))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None
    if proc.returncode != 0 or not out:
        return None
    result = pickle.loads(out)  # written by our own worker process
    return result if isinstance(result, VrpResult) else None


def worker_main() -> None:
    """Read one pickled job on stdin, write the pickled :class:`VrpResult` on stdout."""
    data, seed, at, iterations = pickle.loads(sys.stdin.buffer.read())
    if iterations is None and time.monotonic() >= at:
        os._exit(0)  # started too late to search: no answer
    result = search(data, seed, at, iterations)
    answer = memoryview(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    while answer:  # file descriptor 1 is the pipe the parent reads
        answer = answer[os.write(1, answer) :]
    # Skip the interpreter's teardown (tenths of a second freeing modules): the parent waits.
    os._exit(0)


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
    prize: np.ndarray | None = None,
    shift_duration: int | None = None,
    horizon: int | None = None,
    time_limit: float = 5.0,
    seed: int = 0,
    seeds: int | None = None,
    iterations: int | None = None,
) -> VrpResult:
    """Solve a CVRP / VRPTW over integer matrices (location 0 is the depot).

    Parameters
    ----------
    distance, duration
        Square integer matrices over the depot and the clients (duration defaults to
        distance).
    demand, tw_early, tw_late, service, prize
        Per client (length n - 1): delivery, time window, service duration and prize; a
        client is required unless its prize is above zero.
    capacity, vehicles, shift_duration
        Vehicle capacity, fleet size and the longest route duration (None: unlimited).
    horizon
        Latest return to the depot (None: unlimited).
    time_limit
        Wall seconds for the whole call, building the problem included.
    seed, seeds
        Seeds ``seed`` to ``seed + seeds - 1`` search in parallel; the best solution is kept
        (``seeds`` None: one per core, :func:`default_seeds`).
    iterations
        Stop each search after this many iterations instead (reproducible; ``time_limit``
        then no longer applies).
    """
    started = time.monotonic()
    data = problem_data(
        distance,
        demand=demand,
        capacity=capacity,
        vehicles=vehicles,
        duration=duration,
        tw_early=tw_early,
        tw_late=tw_late,
        service=service,
        prize=prize,
        shift_duration=shift_duration,
        horizon=horizon,
    )
    return solve_data(
        data,
        time_limit=time_limit,
        seed=seed,
        seeds=default_seeds() if seeds is None else seeds,
        iterations=iterations,
        started=started,
    )


if __name__ == "__main__":
    # The importable module, not ``__main__``, so the result unpickles in the parent.
    from scot_cli.route.lastmile_search import worker_main as main

    main()
