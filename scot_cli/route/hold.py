"""``--hold``: an improvement step on the plan without holding.

The plan is first made exactly as without ``--hold``; then every line may also wait for one
of the next :data:`HOLD_DEPARTURES` departures of its first leg, so that lines released on
different days, or reaching a sort center on different days, share trucks. The step starts
from the plan, moves lines one at a time and empties whole lane departures
(:func:`scot_cli.route.model.local_search`), keeping a move only when the total cost falls,
and offers each line only options that arrive no later than its place in the plan: an on-time
line stays on time, a late one gets no later. So the result is never worse than the plan
without holding and never breaks a promise the plan kept.
"""

from __future__ import annotations

import math
import time

import numpy as np
import polars as pl

from scot_cli.route import model as m

#: Later departures of the first leg a line may wait for.
HOLD_DEPARTURES = 2
#: Share of the time limit for the step's search, and as much again for its bound.
HOLD_SHARE = 0.25

KEY = ["li", "origin", "hold", "path"]


def hold_step(
    plan_opts: pl.DataFrame,
    sol: m.Solution,
    opts: pl.DataFrame,
    inst: m.Instance,
    *,
    relax: m.Instance,
    relax_goi: np.ndarray,
    time_limit: float,
    seed: int = 0,
) -> m.Solution | None:
    """Improve ``sol`` (a plan on the options ``plan_opts``) on the options with held
    departures (``opts``, instance ``inst``; ``relax`` and ``relax_goi`` their grouped
    relaxation, for the bound); None when the plan's options are not among them (then the
    plan stands). ``time_limit`` is the command's: the step takes :data:`HOLD_SHARE` of it
    for the search and as much for the bound."""
    from scot_cli.route.heuristics import consolidate
    from scot_cli.route.relax import relaxed_bound

    if not inst.n_opts:  # no line can ship: nothing to hold
        return None
    used = sol.assign[sol.assign >= 0]
    chosen = plan_opts.filter(pl.col("oi").is_in(pl.Series(used).implode())).select(
        *KEY, "late_days"
    )
    mapped = chosen.join(opts.select(*KEY, pl.col("oi").alias("new")), on=KEY, how="left")
    if mapped["new"].null_count():
        return None
    start = np.full(inst.n_lines, -1, dtype=np.int64)
    start[mapped["li"].to_numpy()] = mapped["new"].to_numpy()
    # options no later than the plan's own; any option for a line the plan left unshipped
    limit = np.full(inst.n_lines, math.inf)
    limit[mapped["li"].to_numpy()] = mapped["late_days"].to_numpy()
    late = opts["late_days"].to_numpy()
    mask = late <= limit[inst.opt_line]
    keep = np.flatnonzero(mask)
    sub = m.restrict(inst, mask)
    pos = np.full(inst.n_opts, -1, dtype=np.int64)
    pos[keep] = np.arange(keep.shape[0])
    first = np.where(start >= 0, pos[np.maximum(start, 0)], -1)
    deadline = time.monotonic() + HOLD_SHARE * time_limit
    better = m.local_search(sub, consolidate(sub, first), deadline=deadline, seed=seed)
    before, after = m.evaluate(sub, first), m.evaluate(sub, better)
    if not after < before - 1e-6:
        better, after = first, before
    assign = np.where(better >= 0, keep[np.maximum(better, 0)], -1)
    value, _, status = relaxed_bound(relax, relax_goi, time_limit=max(HOLD_SHARE * time_limit, 1.0))
    bound = min(value, after) if inst.n_opts else after
    return m.Solution(assign, after, bound, sol.method, f"{sol.status}; hold {status}")
