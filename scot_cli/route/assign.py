"""Fulfilment assignment: from promised lines to shipments and trucks.

Steps: prepare the lines (volume from the item master), schedule every FC -> region path,
build the candidate options, solve the assignment (:mod:`scot_cli.route.model`) by the chosen
method, pack the trucks and report every line with its status and reason.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp  # noqa: TID253 - the route library is imported lazily by the command

from scot_cli.options import Options, at_least, between, positive
from scot_cli.route import model as m
from scot_cli.route.baseline import myopic_options
from scot_cli.route.options import line_options, no_option_reason, path_schedules
from scot_cli.route.registry import METHODS
from scot_cli.route.truck_bound import StrongModel
from scot_cli.route.trucks import pack_trucks, shipments_table, slot_table, trucks_table
from scot_cli.validate import check_network

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True, kw_only=True)
class RouteOptions(Options):
    """Options of the assignment (the command's flags).

    Attributes
    ----------
    method
        A key of :data:`scot_cli.route.METHODS`.
    split_cost
        Cost of each box beyond the first of an order (:math:`\\beta`).
    late_cost
        Penalty per unit and day delivered after the promise date; above any truck cost by
        default, so a promise gives way only when no feasible plan keeps it.
    unshipped_cost
        Penalty per unit left unshipped; above any lateness so that lines ship when they
        can.
    min_fill
        Trucks loaded below this fill are flagged.
    hold
        After the plan, let lines wait for a later first-leg departure when that lowers the
        cost and keeps their arrival (:mod:`scot_cli.route.hold`; up to half the time limit
        more).
    time_limit
        Seconds for the solver and the local search.
    mip_max_options
        ``auto`` solves the MIP up to this many options (and
        :data:`scot_cli.route.model.STRONG_MAX_ROWS` line-departure pairs; with more pairs,
        the strong LP and a MIP over its support), else the LP with rounding.
    paths_per_fc
        On-time paths kept per line, FC and departure.
    seed
        Seed of the local search.
    """

    method: str = "auto"
    split_cost: float = 2.0
    late_cost: float = 10_000.0
    unshipped_cost: float = 100_000.0
    min_fill: float = 0.5
    hold: bool = False
    time_limit: float = 30.0
    mip_max_options: int = 60_000
    paths_per_fc: int = 2
    seed: int = 0

    def check(self) -> None:
        METHODS.check(self.method)
        positive("time_limit", self.time_limit)
        between("min_fill", self.min_fill, 0.0, 1.0)
        for name in ("split_cost", "late_cost", "unshipped_cost"):
            at_least(name, getattr(self, name), 0.0)
        at_least("mip_max_options", self.mip_max_options, 0)
        at_least("paths_per_fc", self.paths_per_fc, 1)
        at_least("seed", self.seed, 0)


@dataclass(frozen=True)
class RouteSummary:
    """Headline figures of a fulfilment plan.

    ``bound`` and ``gap`` are None when no lower bound was found (the myopic rule, or a
    relaxation cut by the time limit); objective and bound include the lateness and
    unshipped penalties of lines that had a choice.
    """

    method: str
    solver_status: str
    objective: float
    bound: float | None
    gap: float | None
    shipping_cost: float
    lines: int
    shipped: int
    on_time: int
    late: int
    unshipped: int
    on_time_share: float
    boxes_per_order: float
    trucks: int
    mean_fill: float
    under_min_fill: int

    def as_dict(self) -> dict[str, Any]:
        """The figures by name (the run's provenance records them)."""
        return asdict(self)

    def __str__(self) -> str:
        bound = "no bound" if self.bound is None else f"bound {self.bound:,.2f}"
        gap = "" if self.gap is None else f", gap {100 * self.gap:.2f}%"
        return (
            f"{self.shipped:,}/{self.lines:,} lines shipped ({self.on_time:,} on time, "
            f"{self.late:,} late, {self.unshipped:,} unshipped) on {self.trucks:,} trucks, "
            f"mean fill {self.mean_fill:.2f}; shipping cost {self.shipping_cost:,.2f}, "
            f"objective {self.objective:,.2f} with penalties, {bound}{gap} ({self.method})"
        )


@dataclass(frozen=True)
class RouteResult:
    """Result of :func:`scot_cli.route.route`: shipments, trucks and the summary."""

    shipments: pl.DataFrame
    trucks: pl.DataFrame
    summary: RouteSummary


def prepare_lines(promises: pl.DataFrame, items: pl.DataFrame | None) -> pl.DataFrame:
    """Lines with ``li``, ``order_ix``, ``ready`` (ship date) and ``volume`` (unit volume
    from ``items``, 1 when absent)."""
    vol = (
        items.select("sku", "unit_volume")
        if items is not None
        else pl.DataFrame(schema={"sku": pl.String, "unit_volume": pl.Float64})
    )
    if "status" not in promises.columns:
        promises = promises.with_columns(pl.lit(None, pl.String).alias("status"))
    keep = ["order_id", "line", "sku", "qty", "destination", "ship_date", "promise_date", "status"]
    lines = (
        promises.select(keep)
        .sort("order_id", "line")
        .join(vol, on="sku", how="left")
        .with_columns(
            pl.int_range(pl.len()).alias("li"),
            pl.col("order_id").rank("dense").cast(pl.Int64).sub(1).alias("order_ix"),
            _ready().alias("ready"),
            (pl.col("qty") * pl.col("unit_volume").fill_null(1.0)).alias("volume"),
        )
    )
    return lines.drop("unit_volume")


def _ready() -> pl.Expr:
    """Ship date of lines promised from stock; null for backorders and unavailable lines."""
    promised = pl.col("status").is_null() | (pl.col("status") == "promised")
    return pl.when(promised).then(pl.col("ship_date"))


def build_instance(
    lines: pl.DataFrame,
    opts: pl.DataFrame,
    slots: pl.DataFrame,
    stock: pl.DataFrame,
    nodes: pl.DataFrame,
    opt: RouteOptions,
) -> m.Instance:
    """Arrays of the model from the options frame (``oi`` order, sorted by line)."""
    stock_keys = stock.select("sku", pl.col("node").alias("origin"), "on_hand").with_row_index(
        "stock_ix"
    )
    daily = dict(zip(nodes["node"], nodes["daily_capacity"], strict=True))
    with_stock = (
        opts.lazy()
        .join(
            stock_keys.lazy().select("sku", "origin", "stock_ix"),
            on=["sku", "origin"],
            how="left",
        )
        .sort("oi")
    )
    fcday = (
        with_stock.select("origin", "fc_day")
        .unique()
        .sort("origin", "fc_day")
        .with_row_index("fd")
        .collect()
    )
    fc_names = sorted(nodes.filter(pl.col("kind") == "fc")["node"])
    o = (
        with_stock.join(fcday.lazy(), on=["origin", "fc_day"], how="left")
        .sort("oi")
        .with_columns(
            pl.col("origin")
            .replace_strict(fc_names, list(range(len(fc_names))), return_dtype=pl.Int64)
            .alias("_fc")
        )
        .collect()
    )
    exploded = (
        o.lazy()
        .select("oi", "slots")
        .explode("slots")
        .select(
            "oi",
            pl.col("slots").replace_strict(
                slots["slot"], pl.int_range(slots.height, eager=True), return_dtype=pl.Int64
            ),
        )
        .collect()
    )
    cols = exploded["slots"].to_numpy()
    inc = sp.csr_matrix(
        (np.ones(cols.shape[0]), (exploded["oi"].to_numpy(), cols)), shape=(o.height, slots.height)
    )
    caps = [daily.get(n) for n in fcday["origin"]]
    return m.Instance(
        opt_line=o["li"].to_numpy().astype(np.int64),
        opt_cost=(o["qty"] * (o["cost_per_unit"] + opt.late_cost * o["late_days"])).to_numpy(),
        opt_qty=o["qty"].to_numpy(),
        opt_vol=o["volume"].to_numpy(),
        opt_stock=o["stock_ix"].to_numpy().astype(np.int64),
        opt_fcday=o["fd"].to_numpy().astype(np.int64),
        opt_fc=o["_fc"].to_numpy(),
        opt_slots=inc,
        stock_cap=stock_keys["on_hand"].to_numpy(),
        fcday_cap=np.array([math.inf if c is None else float(c) for c in caps]),
        slot_cap=slots["capacity"].to_numpy(),
        slot_cost=slots["cost_per_truck"].to_numpy(),
        line_order=lines["order_ix"].to_numpy().astype(np.int64),
        line_penalty=_penalty(lines, o, opt),
        split_cost=opt.split_cost,
        opt_core=(o["hold"] == 0).to_numpy() if "hold" in o.columns else None,
    )


def _penalty(lines: pl.DataFrame, opts: pl.DataFrame, opt: RouteOptions) -> np.ndarray:
    """Unshipped penalty per line; zero for lines without any option (nothing to decide, so
    the objective and the bound leave them out)."""
    has = np.zeros(lines.height, dtype=bool)
    has[opts["li"].unique().to_numpy()] = True
    return np.where(has, (lines["qty"] * opt.unshipped_cost).to_numpy(), 0.0)


def fc_stock(
    inventory: pl.DataFrame, nodes: pl.DataFrame, *, as_of: dt.date | None = None
) -> pl.DataFrame:
    """Shippable units per sku at FCs: on hand, plus in-transit units whose ``eta`` is on or
    before ``as_of`` (the batch's first ship date, so they are there for every line)."""
    fcs = nodes.filter(pl.col("kind") == "fc")["node"]
    inv = inventory.filter(pl.col("node").is_in(fcs.implode()))
    arrived = pl.lit(0.0)
    if as_of is not None and {"in_transit", "eta"} <= set(inv.columns):
        arrived = (
            pl.when(pl.col("eta") <= as_of).then(pl.col("in_transit")).otherwise(0.0).fill_null(0.0)
        )
    return inv.select("sku", "node", (pl.col("on_hand") + arrived).alias("on_hand"))


def with_base(opts: pl.DataFrame, base: pl.DataFrame) -> pl.DataFrame:
    """The candidate options plus the myopic rule's choice of each line (``is_base``), so the
    rule's plan is always a feasible start and the optimiser never ends worse than it."""
    key = ["li", "origin", "hold", "path"]
    both = pl.concat(
        [
            opts.with_columns(pl.lit(value=False).alias("is_base")),
            base.select(opts.columns).with_columns(pl.lit(value=True).alias("is_base")),
        ],
    )
    return (
        both.sort([*key, "is_base"], descending=[False, False, False, False, True])
        .unique(key, keep="first", maintain_order=True)
        .with_columns(pl.int_range(pl.len()).alias("oi"))
    )


@dataclass(frozen=True)
class Relaxation:
    """The grouped relaxation (:mod:`scot_cli.route.relax`) of an instance."""

    inst: m.Instance
    line_goi: np.ndarray
    line_pos: np.ndarray


def relaxation(
    lines: pl.DataFrame,
    opts: pl.DataFrame,
    slots: pl.DataFrame,
    stock: pl.DataFrame,
    nodes: pl.DataFrame,
    opt: RouteOptions,
) -> Relaxation:
    """Build the grouped relaxation of the options of ``lines``."""
    from scot_cli.route.relax import group_frames

    glines, gopts, line_goi, line_pos = group_frames(lines, opts)
    gopt = opt.replace(split_cost=0.0)
    return Relaxation(build_instance(glines, gopts, slots, stock, nodes, gopt), line_goi, line_pos)


def solve(
    inst: m.Instance,
    opt: RouteOptions,
    *,
    method: str | None = None,
    starts: list[np.ndarray] | None = None,
    relax: Relaxation | None = None,
) -> m.Solution:
    """Solve by ``method``: ``mip``, ``lp-round`` or ``auto`` (MIP when small enough).

    Starts: the given ones (the myopic plan), dynamic slope scaling, the rounded grouped
    relaxation (``relax``, which also gives the bound) and, for ``mip``, HiGHS's incumbent
    (the MIP runs first, on half the time). Each start is repaired and consolidated, the best
    one polished by the local search within what is left of the time limit. The bound is the
    best of the relaxation and the MIP's dual bound; on the ``lp-round`` path without the
    strong LP, also the relaxation's duals with each order's split cost priced
    (:func:`scot_cli.route.split_bound.order_split_bound`).

    ``auto`` solves the MIP when the instance has at most ``mip_max_options`` options and
    at most :data:`scot_cli.route.model.STRONG_MAX_ROWS` strong linking rows. With more rows
    the MIP without them has a weak bound and, within seconds, no useful incumbent (on the
    fixtures: 1,952 lines, 15,367 rows), so the batch takes the ``lp-round`` path and the LP
    of the line model with every strong linking row adds its bound (above the grouped
    relaxation's: it keeps the lines apart and the split cost in); then the MIP over the
    LP's support (:func:`support_mip`) looks for a better plan while the relaxation with
    integer trucks and splittable lines over the options the LP's reduced costs keep
    (:func:`truck_relaxation`, a branch and bound from the LP's basis) raises the bound
    (:func:`_support_and_trucks`).
    """
    from scot_cli.route.heuristics import consolidate, round_with_capacity, slope_scaling

    method = method or opt.method
    start = time.monotonic()
    # the line model with every strong linking row: its LP bound, when the MIP would lack them
    strong_lp, rows = False, 0
    if method == "auto":
        small = inst.n_opts <= opt.mip_max_options
        rows = m.strong_links(inst)[0].shape[0] if small else 0
        strong_lp = rows > m.STRONG_MAX_ROWS
        method = "mip" if small and not strong_lp else "lp-round"
    pool = [*(starts or []), slope_scaling(inst)]
    bound, status = -math.inf, ("" if inst.n_opts else "no options")

    def relax_step(share: float, *, beside: bool = False) -> Callable[[], None]:
        """Start the grouped relaxation (in a child process with ``beside``, so that this
        process can solve the strong LP meanwhile); the returned function takes its bound
        and its rounded start."""
        if not inst.n_opts or relax is None:
            return lambda: None
        from scot_cli.route.bounded import start_with_deadline
        from scot_cli.route.relax import relaxed_bound

        left = opt.time_limit - (time.monotonic() - start)
        budget = max(left * share, 0.25 * opt.time_limit, 1.0)
        if beside:
            # the child imports the modelling layer itself (about a second more to wait for),
            # beside the strong LP here
            pending = start_with_deadline(
                relaxed_bound,
                relax.inst,
                relax.line_goi,
                seconds=budget + IMPORT_SECONDS,
                time_limit=budget,
            )
        else:
            out = relaxed_bound(relax.inst, relax.line_goi, time_limit=budget)

        def take() -> None:
            nonlocal bound, status
            answered, got = pending.wait() if beside else (True, out)
            if not answered or got is None:
                status = f"{status}; relaxation overrun".removeprefix("; ")
                return
            value, xline, relax_status = got
            bound = max(bound, value)
            status = f"{status}; relaxation {relax_status}".removeprefix("; ")
            if xline is not None:
                pool.append(round_with_capacity(inst, xline, position=relax.line_pos))

        return take

    # with the strong LP, the grouped relaxation runs beside it in a child process
    relaxed = relax_step(0.4, beside=strong_lp) if method != "mip" else (lambda: None)
    if not strong_lp:
        relaxed()
        if relax is not None and inst.n_opts:
            # the grouped relaxation drops the split cost; its duals price it order by order
            from scot_cli.route.split_bound import order_split_bound

            left = opt.time_limit - (time.monotonic() - start)
            value, order_status = order_split_bound(
                inst, relax.inst, relax.line_goi, time_limit=max(0.2 * left, 1.0)
            )
            bound = max(bound, value)
            status = f"{status}; order bound {order_status}".removeprefix("; ")
    support, red, lp_value, strong = None, None, -math.inf, None
    if strong_lp and inst.n_opts:
        left = opt.time_limit - (time.monotonic() - start)
        strong = StrongModel(inst, strong_max_rows=rows)
        try:
            xlp, value, lp_status, red = strong.solve(time_limit=max(0.8 * left, 1.0))
        finally:
            relaxed()
        # an LP stopped early gives no valid bound
        lp_value = value if lp_status == "optimal" else -math.inf
        bound = max(bound, lp_value)
        status = f"{status}; strong LP {lp_status}".removeprefix("; ")
        if xlp is not None and lp_status == "optimal":
            support = xlp > SUPPORT_MIN
    if inst.n_opts and method == "mip":
        budget = max(opt.time_limit - (time.monotonic() - start), 1.0)
        xval, _, mip_bound, mip_status = m.solve_model(inst, integer=True, time_limit=budget * 0.5)
        status = f"mip {mip_status}"
        bound = max(bound, mip_bound)
        if xval is not None:
            pool.append(m.repair(inst, m.round_assignment(inst, xval)))
        relax_step(0.5)()
    if inst.n_opts and relax is None and method == "lp-round":
        budget = max(opt.time_limit - (time.monotonic() - start), 1.0)
        xval, lp_value, _, lp_status = m.solve_model(inst, integer=False, time_limit=budget * 0.5)
        # an LP stopped early gives no valid bound
        bound = max(bound, lp_value if lp_status == "optimal" else -math.inf)
        status = lp_status
        if xval is not None:
            pool.append(round_with_capacity(inst, xval))
    deadline = start + opt.time_limit
    pool = [consolidate(inst, m.insert_unshipped(inst, a, deadline=deadline)) for a in pool]
    assign = min(pool, key=lambda a: m.evaluate(inst, a))
    if support is not None:
        assign, truck = _support_and_trucks(inst, assign, support, red, lp_value, strong, deadline)
        if truck is not None:
            bound = max(bound, truck[0])
            status = f"{status}; integer trucks {truck[1]}"
    remaining = max(opt.time_limit - (time.monotonic() - start), 0.5)
    # the last share of the limit leaves room for the truck loader (scot_cli.route.room)
    search_end = time.monotonic() + remaining - ROOM_SHARE * min(remaining, opt.time_limit)
    assign = m.local_search(inst, assign, deadline=search_end, seed=opt.seed)
    if inst.n_opts:
        from scot_cli.route.room import leave_room

        assign = leave_room(inst, assign, deadline=start + max(opt.time_limit, 0.5))
    obj = m.evaluate(inst, assign)
    if not inst.n_opts:
        bound = obj
    return m.Solution(assign, obj, min(bound, obj), method, status)


def _support_and_trucks(
    inst: m.Instance,
    assign: np.ndarray,
    support: np.ndarray,
    red: m.Reduced | None,
    lp_value: float,
    strong: StrongModel | None,
    deadline: float,
) -> tuple[np.ndarray, tuple[float, str] | None]:
    """The support MIP (:func:`support_mip`, a plan) and the integer-trucks bound
    (:func:`truck_relaxation`) within ``deadline``; the plan, and the bound with its status
    (None without reduced costs).

    Where the MIP runs in a forked child (:func:`scot_cli.route.bounded.forkable`) both run
    at once, each on :data:`TRUCK_SHARE` of the time left, the bound here with the cutoff of
    the plan before the MIP: on two cores neither waits for the other. Otherwise they run one
    after the other, the MIP on :data:`SUPPORT_SHARE` of the time left, so that the bound
    prunes at the MIP's plan. The local search has the rest.
    """
    from scot_cli.route.bounded import forkable

    both = red is not None and strong is not None and forkable()
    left = deadline - time.monotonic()
    plan = start_support_mip(
        inst, assign, support, time_limit=(TRUCK_SHARE if both else SUPPORT_SHARE) * left
    )
    if red is None or strong is None:
        return plan(), None
    if both:
        try:
            bounded, value, truck_status = truck_relaxation(
                inst, assign, red, lp_value, strong, time_limit=left
            )
        finally:
            mip_plan = plan()
        best = min((mip_plan, bounded), key=lambda a: m.evaluate(inst, a))
        return best, (value, truck_status)
    best, value, truck_status = truck_relaxation(
        inst, plan(), red, lp_value, strong, time_limit=deadline - time.monotonic()
    )
    return best, (value, truck_status)


#: Share of the time limit kept from the local search for :func:`scot_cli.route.room.leave_room`
#: (measured: 4-6 CPU s on a 100k-line day, milliseconds where no departure needs room).
ROOM_SHARE = 0.08

#: Seconds more to wait for a child that imports the modelling layer itself (cvxpy: measured
#: 1.2-1.3 s on a quiet machine).
IMPORT_SECONDS = 2.0

#: Options the strong LP uses at least this much join the support MIP (:func:`support_mip`).
SUPPORT_MIN = 0.05
#: The support MIP stops this close to its own bound (a neighbourhood, not a proof).
SUPPORT_GAP = 0.002


#: Shares of the time left for the support MIP (it usually stops earlier, at
#: :data:`SUPPORT_GAP`), then for :func:`truck_relaxation`'s branch and bound, when they run
#: one after the other; when they run at once (:func:`_support_and_trucks`), each has
#: ``TRUCK_SHARE`` of it. The local search has the rest.
SUPPORT_SHARE = 0.4
TRUCK_SHARE = 0.85


def truck_relaxation(
    inst: m.Instance,
    assign: np.ndarray,
    red: m.Reduced,
    lp_value: float,
    strong: StrongModel,
    *,
    time_limit: float,
) -> tuple[np.ndarray, float, str]:
    """A lower bound from the relaxation with integer trucks and lines free to split (x in
    [0, 1]): one integer per lane departure, and much tighter than the strong LP where the
    LP pays for fractions of trucks.

    The options are those that a plan cheaper than ``assign`` may use
    (:func:`scot_cli.route.model.reduced_cost_fixing` from the strong LP's reduced costs),
    so the bound is ``min(cost of assign, the relaxation's bound)``. The relaxation is
    solved by a branch and bound on the trucks from the strong LP's basis
    (:meth:`scot_cli.route.truck_bound.StrongModel.branch_trucks`, on
    :data:`TRUCK_SHARE` of ``time_limit``), pruning at the plan's cost. Its best point with
    integer trucks, rounded and repaired, replaces ``assign`` when cheaper. Returns the
    plan, the bound (-inf when no LP answered) and the status with the nodes solved.
    """
    upper = m.evaluate(inst, assign)
    if time_limit <= 0 or not math.isfinite(upper):
        return assign, -math.inf, "skipped"
    mask = m.reduced_cost_fixing(inst, red, lp_value, upper)
    mask[assign[assign >= 0]] = True
    if not mask.any():
        # no option can lower the cost: the plan ships nothing and is optimal
        return assign, upper, "fixed"
    deadline = time.monotonic() + time_limit
    out = strong.branch_trucks(mask, upper, time_limit=TRUCK_SHARE * time_limit)
    for point in out.points[:1]:
        got = m.repair(inst, m.round_assignment(inst, point))
        cand = m.insert_unshipped(inst, got, deadline=deadline)
        if m.evaluate(inst, cand) < upper - 1e-6:
            assign = cand
    return assign, min(upper, out.bound), f"{out.status} after {out.nodes} nodes"


def support_mip(
    inst: m.Instance, assign: np.ndarray, support: np.ndarray, *, time_limit: float
) -> np.ndarray:
    """The MIP over the options the strong LP uses (``support``) and those of ``assign``,
    with every strong linking row, within ``time_limit`` seconds; its plan when cheaper than
    ``assign``, else ``assign``.

    The LP's support is a small part of the options (3,081 of 8,705 on the fixtures, where
    the full MIP does not finish its root in minutes), and the restricted MIP is a
    neighbourhood of the plan that the LP points to (in the spirit of RINS, Danna, Rothberg
    & Le Pape (2005), "Exploring relaxation induced neighborhoods to improve MIP
    solutions", Math. Prog. 102).
    """
    return start_support_mip(inst, assign, support, time_limit=time_limit)()


def start_support_mip(
    inst: m.Instance, assign: np.ndarray, support: np.ndarray, *, time_limit: float
) -> Callable[[], np.ndarray]:
    """Start :func:`support_mip` (in a forked child where the platform allows it) and return
    the function that waits for its plan."""
    if time_limit < 1.0:
        return lambda: assign
    mask = support.copy()
    mask[assign[assign >= 0]] = True
    keep = np.flatnonzero(mask)
    sub = m.restrict(inst, mask)
    rows = m.strong_links(sub)[0].shape[0]
    answer = m.start_model(
        sub,
        integer=True,
        time_limit=time_limit,
        strong_max_rows=rows,
        mip_rel_gap=SUPPORT_GAP,
        import_first=False,
    )

    def plan() -> np.ndarray:
        xval = answer()[0]
        if xval is None:
            return assign
        got = m.repair(sub, m.round_assignment(sub, xval))
        cand = np.where(got >= 0, keep[np.maximum(got, 0)], -1)
        return cand if m.evaluate(inst, cand) < m.evaluate(inst, assign) - 1e-6 else assign

    return plan


def _reasons(
    lines: pl.DataFrame,
    opts: pl.DataFrame,
    assign: np.ndarray,
    no_opt: pl.DataFrame,
    inst: m.Instance,
) -> pl.DataFrame:
    """Reason per line, used where it is late or unshipped.

    No option at all: not promised, no stock, or too large for a truck. Otherwise: no
    on-time option -> no lane fast enough; stock left at none of its FCs -> no stock;
    else the stock, FC or truck capacity went to other lines -> capacity full.
    """
    left = m.loads(inst, assign)[1][inst.opt_stock]
    per_line = (
        opts.lazy()
        .select("li", "qty", "late_days")
        .with_columns(pl.lit(pl.Series("left", left)))
        .group_by("li")
        .agg(
            (pl.col("late_days") == 0).any().alias("could"),
            (pl.col("left") >= pl.col("qty")).any().alias("stocked"),
        )
    )
    return (
        lines.lazy()
        .select("li")
        .join(per_line, on="li", how="left")
        .join(no_opt.lazy().rename({"reason": "fixed"}), on="li", how="left")
        .select(
            "li",
            pl.when(pl.col("fixed").is_not_null())
            .then(pl.col("fixed"))
            .when(~pl.col("could"))
            .then(pl.lit("no lane fast enough"))
            .when(~pl.col("stocked"))
            .then(pl.lit("no stock"))
            .otherwise(pl.lit("capacity full"))
            .alias("reason"),
        )
        .collect()
    )


def _chosen(opts: pl.DataFrame, assign: np.ndarray) -> pl.DataFrame:
    used = assign[assign >= 0]
    return opts.filter(pl.col("oi").is_in(pl.Series(used).implode()))


def _legs(lines: pl.DataFrame, chosen: pl.DataFrame) -> pl.DataFrame:
    return (
        chosen.lazy()
        .select("li", "slots")
        .with_columns(pl.int_ranges(pl.col("slots").list.len()).alias("leg"))
        .explode("slots", "leg")
        .rename({"slots": "slot"})
        .join(lines.lazy().select("li", "qty", "volume"), on="li")
        .collect()
    )


def route_lines(
    promises: pl.DataFrame,
    *,
    inventory: pl.DataFrame,
    nodes: pl.DataFrame,
    lanes: pl.DataFrame,
    items: pl.DataFrame | None = None,
    options: RouteOptions | None = None,
    progress: ProgressFn | None = None,
) -> RouteResult:
    """Choose FC, path, departures and trucks for every promised line.

    ``promises`` needs ``order_id``, ``line``, ``sku``, ``qty``, ``destination``,
    ``ship_date`` and ``promise_date``. Returns the shipments and trucks tables and a
    summary with the objective, the lower bound and the gap.
    """
    opt = options or RouteOptions()
    check_network(nodes, {"lanes": lanes, "inventory": inventory})
    lines = prepare_lines(promises, items)
    ready = sorted(d for d in lines["ready"].unique().to_list() if d is not None)
    schedules = path_schedules(nodes, lanes, ready_dates=ready, holds=0)
    stock = fc_stock(inventory, nodes, as_of=ready[0] if ready else None)
    if progress:
        progress(1, 4)
    base = myopic_options(lines, schedules, stock, nodes)
    if opt.method == "myopic":
        opts = base.with_columns(pl.lit(value=True).alias("is_base"))
    else:
        opts = with_base(line_options(lines, schedules, stock, paths_per_fc=opt.paths_per_fc), base)
    slots = slot_table(schedules, lanes)
    inst = build_instance(lines, opts, slots, stock, nodes, opt)
    base_assign = m.round_assignment(inst, opts["is_base"].cast(pl.Float64).to_numpy())
    if progress:
        progress(2, 4)
    if opt.method == "myopic":
        obj = m.evaluate(inst, base_assign)
        sol = m.Solution(base_assign, obj, -math.inf, "myopic", "rule")
    else:
        relax = relaxation(lines, opts, slots, stock, nodes, opt)
        sol = solve(inst, opt, starts=[base_assign], relax=relax)
        if opt.hold:
            from scot_cli.route.hold import HOLD_DEPARTURES, hold_step

            h_sched = path_schedules(nodes, lanes, ready_dates=ready, holds=HOLD_DEPARTURES)
            h_opts = with_base(
                line_options(lines, h_sched, stock, paths_per_fc=opt.paths_per_fc), base
            )
            h_slots = slot_table(h_sched, lanes)
            h_inst = build_instance(lines, h_opts, h_slots, stock, nodes, opt)
            h_rel = relaxation(lines, h_opts, h_slots, stock, nodes, opt)
            held = hold_step(
                opts,
                sol,
                h_opts,
                h_inst,
                relax=h_rel.inst,
                relax_goi=h_rel.line_goi,
                time_limit=opt.time_limit,
                seed=opt.seed,
            )
            if held is not None:
                schedules, opts, slots, inst, sol = h_sched, h_opts, h_slots, h_inst, held
    if progress:
        progress(3, 4)
    plan = assemble(lines, opts, slots, inst, sol, schedules, stock, opt)
    if progress:
        progress(4, 4)
    return plan


def assemble(
    lines: pl.DataFrame,
    opts: pl.DataFrame,
    slots: pl.DataFrame,
    inst: m.Instance,
    sol: m.Solution,
    schedules: pl.DataFrame,
    stock: pl.DataFrame,
    opt: RouteOptions,
) -> RouteResult:
    """Pack trucks and build the output tables and the summary of a solution."""
    chosen = _chosen(opts, sol.assign)
    packed = pack_trucks(_legs(lines, chosen), slots, seed=opt.seed)
    trucks = trucks_table(packed, slots, min_fill=opt.min_fill)
    no_opt = no_option_reason(
        lines.join(opts.select("li").unique(), on="li", how="anti"), stock, schedules
    )
    reasons = _reasons(lines, opts, sol.assign, no_opt, inst)
    shipments = shipments_table(lines, chosen, packed, trucks, reasons)
    return RouteResult(shipments, trucks, summarise(shipments, trucks, sol, inst))


def summarise(
    shipments: pl.DataFrame, trucks: pl.DataFrame, sol: m.Solution, inst: m.Instance
) -> RouteSummary:
    """Headline figures: cost, bound and gap, boxes per order, truck fill, on-time share."""
    is_shipped = pl.col("ship_node").is_not_null()
    on_time = pl.col("on_time").fill_null(False)
    figures = shipments.select(
        pl.struct("order_id", "ship_node").filter(is_shipped).n_unique().alias("boxes"),
        pl.col("order_id").filter(is_shipped).n_unique().alias("orders"),
        is_shipped.sum().alias("shipped"),
        pl.col("cost").sum().alias("cost"),
        on_time.sum().alias("on_time"),
        (pl.col("status") == "late").sum().alias("late"),
        (pl.col("status") == "unshipped").sum().alias("unshipped"),
        on_time.mean().alias("share"),
    ).row(0, named=True)
    boxes, orders = figures["boxes"], figures["orders"]
    packed_trucks = float(trucks["cost"].sum()) if trucks.height else 0.0
    model_trucks = float(
        inst.slot_cost @ m.trucks_needed(m.loads(inst, sol.assign)[0], inst.slot_cap)
    )
    objective = sol.objective + packed_trucks - model_trucks
    finite = math.isfinite(sol.bound)
    gap = max(0.0, (objective - sol.bound) / objective) if finite and objective > 0 else 0.0
    return RouteSummary(
        method=sol.method,
        solver_status=sol.status,
        objective=round(objective, 4),
        bound=round(sol.bound, 4) if finite else None,
        gap=round(gap, 6) if finite else None,
        shipping_cost=round(float(figures["cost"]), 2),
        lines=shipments.height,
        shipped=int(figures["shipped"]),
        on_time=int(figures["on_time"]),
        late=int(figures["late"]),
        unshipped=int(figures["unshipped"]),
        on_time_share=round(float(figures["share"] or 0.0), 4),
        boxes_per_order=round(boxes / orders, 4) if orders else 0.0,
        trucks=trucks.height,
        mean_fill=round(float(trucks.select(pl.col("fill").mean()).item() or 0.0), 4),
        under_min_fill=int(trucks["under_min_fill"].sum()),
    )
