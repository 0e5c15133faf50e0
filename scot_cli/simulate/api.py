"""``simulate``: step a network day by day under scot's decisions and a baseline.

One call runs every scenario (the base and each what-if) x policy x replication on common
random numbers and returns the daily measures, the KPIs per replication and their
summary with 95% intervals.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from scot_cli.errors import InputDataError
from scot_cli.validate import check_network

from .decisions import forecast as decide_forecast
from .demand import from_actuals, from_forecast, sample, scaled, streams
from .engine import Policy, Settings, run
from .fulfil import DecisionFill, substitutes
from .options import PolicySpec, SimulateOptions
from .policies import BaselinePolicy, Inputs, ScotPolicy
from .report import Run, daily_frame, kpi_frame, summary_frame
from .whatif import Scenario, apply
from .world import World, build_world

if TYPE_CHECKING:
    from scot_cli.engine import Engine

Table = pl.DataFrame | str | Path
Array = NDArray[np.float64]


@dataclass(frozen=True)
class SimulateSummary:
    """What a person reads after a run: the size of the run and the headline KPIs."""

    days: int
    replications: int
    skus: int
    scenarios: list[str]
    policies: list[str]
    headline: list[tuple[str, str, str, float, float | None, float | None]]
    warnings: list[str]

    def lines(self) -> list[str]:
        """One line for the run, one per scenario and policy with its headline KPIs."""
        out = [
            f"simulate: {self.skus:,} skus x {self.days} days x {self.replications} "
            f"replication(s); policies {', '.join(self.policies)}; "
            f"scenarios {', '.join(self.scenarios)}"
        ]
        rows: dict[tuple[str, str], list[str]] = {}
        for scen, pol, kpi, mean, lo, hi in self.headline:
            ci = "" if lo is None or hi is None else f" [{_fmt(kpi, lo)}, {_fmt(kpi, hi)}]"
            rows.setdefault((scen, pol), []).append(f"{kpi} {_fmt(kpi, mean)}{ci}")
        out += [f"  {s} / {p}: {'; '.join(parts)}" for (s, p), parts in rows.items()]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _fmt(kpi: str, value: float | None) -> str:
    if value is None:  # a rate with no denominator (no demand, or none served in time)
        return "none"
    return (
        f"{value:.1%}"
        if kpi.endswith(("rate", "share", "kept", "1day", "2day"))
        else (f"{value:,.0f}")
    )


@dataclass(frozen=True)
class SimulateResult:
    """The outputs of :func:`simulate`: ``daily`` (sim_daily), ``kpis`` (per replication),
    ``summary_table`` (sim_summary), the typed ``summary`` and the options used."""

    daily: pl.DataFrame
    kpis: pl.DataFrame
    summary_table: pl.DataFrame
    summary: SimulateSummary
    options: SimulateOptions
    totals: pl.DataFrame


HEADLINE = ("in_stock_rate", "share_1day", "promises_kept", "total_cost")


def _frame(value: Table | None, role: str) -> pl.DataFrame | None:
    """A table given as a frame or a Parquet path, validated as the command validates it
    (a frame the command has just read and validated is not checked again)."""
    if value is None:
        return None
    from scot_cli.io import Run as Reader
    from scot_cli.io import read_input
    from scot_cli.place.schema import FORECAST_IN
    from scot_cli.schema import INPUT_TABLES
    from scot_cli.validate import already_validated

    tables = {t.name: t for t in INPUT_TABLES}
    tables |= {"actuals": tables["sales"], "forecast": FORECAST_IN}
    table = tables[role]
    if isinstance(value, pl.DataFrame) and already_validated(table, value):
        return value
    return read_input(value, table, role=role, reader=Reader("simulate"))[0]


def cells(options: SimulateOptions, *, skus: int, fcs: int, regions: int) -> int:
    """Simulated state cells a run holds at once: per replication, demand and its draws
    (days x skus x regions, per scenario), the pipeline (days x skus x FCs) and the daily
    trace, summed over the replications kept for the summary."""
    scenarios = 1 + len(options.what_ifs)
    per_day = skus * (regions * (1 + scenarios) + fcs)
    return (
        int(options.days) * per_day
        + options.replications
        * scenarios
        * len(options.policies)
        * options.days
        * (fcs + regions)
        * 20
    )


def simulate(
    sales: Table,
    *,
    items: Table,
    nodes: Table,
    lanes: Table,
    inventory: Table,
    events: Table | None = None,
    actuals: Table | None = None,
    forecast: Table | None = None,
    options: SimulateOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    engine: Engine | None = None,
    **option_fields: Any,
) -> SimulateResult:
    """Simulate every scenario x policy x replication day by day.

    Parameters
    ----------
    sales
        Sales history (``sku, location, date, units``); the simulation starts the day
        after its last date.
    items, nodes, lanes, inventory
        The network and the stock at the start.
    events
        Events for scot's forecast (optional).
    actuals
        Held-back actual sales to replay as demand (instead of sampling the forecast).
    forecast
        A forecast to sample demand from and plan on (default: scot forecast of ``sales``).
    options
        :class:`SimulateOptions`; ``option_fields`` override its fields.
    progress
        Called with ``(done, total)`` runs.
    engine
        Where the replications run (:mod:`scot_cli.engine`): each one a task on a cluster,
        on its own random streams, so the result is the local one bit for bit. None: here.
    """
    o = (options or SimulateOptions()).replace(**option_fields)
    frames = {
        name: _frame(value, name)
        for name, value in (
            ("sales", sales),
            ("items", items),
            ("nodes", nodes),
            ("lanes", lanes),
            ("inventory", inventory),
            ("events", events),
            ("actuals", actuals),
        )
    }
    sales_f, items_f = _need(frames, "sales"), _need(frames, "items").sort("sku")
    nodes_f, lanes_f = _need(frames, "nodes"), _need(frames, "lanes")
    check_network(nodes_f, {"lanes": lanes_f, "inventory": _need(frames, "inventory")})
    regions = sorted(nodes_f.filter(pl.col("kind") == "region")["node"].to_list())
    fcs = nodes_f.filter(pl.col("kind") == "fc").height
    need = cells(o, skus=items_f.height, fcs=fcs, regions=len(regions))
    if need > o.max_cells:
        raise InputDataError(
            f"simulate: {need:,} simulated state cells exceed max_cells {o.max_cells:,}; "
            "simulate fewer days, replications, what-ifs or skus, or raise the limit"
        )
    last = sales_f["date"].max()
    if not isinstance(last, dt.date):
        raise InputDataError("sales: no rows; a simulation starts after the sales history")
    if items_f.height == 0:
        raise InputDataError("items: no rows; a simulation needs at least one sku")
    start = last + dt.timedelta(days=1)
    world = build_world(
        items=items_f,
        nodes=nodes_f,
        lanes=lanes_f,
        inventory=_need(frames, "inventory"),
        regions=regions,
        start=start,
    )
    base = Scenario(name="base", items=items_f, nodes=nodes_f, lanes=lanes_f)
    scenarios, warnings = [base], []
    for text in o.what_ifs:
        scen, warn = apply(base, text, skus=world.skus, fcs=world.fcs)
        scenarios.append(scen)
        warnings += warn
    warnings += unreachable(world, scenarios, o.max_promise_days, o.days)
    horizon = o.days + lead_span(scenarios, world, o.review_days)
    fc = _frame(forecast, "forecast")
    needed = frames["actuals"] is None or any(s.kind == "scot" for s in o.specs())
    if fc is None and not needed:
        fc = pl.DataFrame()
    elif fc is None:
        fc = decide_forecast(
            sales_f, horizon=horizon, items=items_f, events=frames["events"], seed=o.seed
        )
    model = (
        from_actuals(
            _need(frames, "actuals"), skus=world.skus, regions=regions, start=start, days=o.days
        )
        if frames["actuals"] is not None
        else from_forecast(fc, skus=world.skus, regions=regions, start=start, days=o.days)
    )
    hist = history(sales_f, world, o.moving_average_days)
    specs = o.specs()
    sub, share = substitutes(items_f, world.skus, o.substitution_share)
    shared = _Shared(
        options=o,
        world=world,
        scenarios=tuple(scenarios),
        specs=tuple(specs),
        model=model,
        forecast=fc,
        sales=sales_f,
        frames=frames,
        history=hist,
        horizon=horizon,
        reviews=math.ceil(o.days / o.review_days) + 1,
        substitute=sub,
        share=share,
    )
    total_runs = o.replications * len(scenarios) * len(specs)
    runs: list[Run] = []
    if engine is None or engine.name == "local":
        for r in range(o.replications):
            runs += replicate(r, shared, progress=progress, done=len(runs), total=total_runs)
    else:  # each replication a task on the cluster (docs/scale-out.md)
        handle = engine.share(shared)
        labels = [f"replication {r}" for r in range(o.replications)]
        tasks = engine.map(replicate, list(range(o.replications)), handle, labels=labels)
        for found in engine.results(tasks):
            runs += found
            if progress is not None:
                progress(len(runs), total_runs)
    totals = [
        {"scenario": d.scenario, "policy": d.policy, "replication": d.replication, **d.trace.totals}
        for d in runs
    ]
    per_rep = kpi_frame(runs)
    table = summary_frame(per_rep, (scenarios[0].name, specs[0].name))
    violations = sorted({v for done in runs for v in done.trace.violations})
    return SimulateResult(
        daily=daily_frame(runs, world),
        kpis=per_rep,
        summary_table=table,
        summary=_summary(o, world, scenarios, specs, table, warnings + violations[:5]),
        options=o,
        totals=pl.DataFrame(totals),
    )


@dataclass(frozen=True)
class _Shared:
    """What every replication reads (sent once to each worker on a cluster)."""

    options: SimulateOptions
    world: World
    scenarios: tuple[Scenario, ...]
    specs: tuple[PolicySpec, ...]
    model: Any
    forecast: pl.DataFrame
    sales: pl.DataFrame
    frames: dict[str, pl.DataFrame | None]
    history: Any
    horizon: int
    reviews: int
    substitute: Any
    share: Any


def replicate(
    r: int,
    shared: _Shared,
    *,
    progress: Callable[[int, int], None] | None = None,
    done: int = 0,
    total: int = 0,
) -> list[Run]:
    """Replication ``r``: every scenario x policy on the replication's random streams (a
    function of the seed and ``r`` alone, so replications may run in any order or place)."""
    o, world = shared.options, shared.world
    base = shared.scenarios[0]
    st = streams(
        o.seed,
        r,
        days=o.days,
        shape=world.shape,
        reviews=shared.reviews,
        substitution=bool((shared.share > 0).any()),
    )
    runs: list[Run] = []
    for scen in shared.scenarios:
        m = (
            shared.model
            if scen.demand_factor is None
            else scaled(shared.model, scen.demand_factor[None, :, None])
        )
        draw = sample(m, st.demand)
        open_fc = np.array([f not in scen.closed for f in world.fcs])
        w = world if scen is base else _rebuilt(world, scen, shared.frames)
        for spec in shared.specs:
            policy = _policy(
                spec,
                w,
                scen,
                shared.forecast,
                o,
                shared.sales,
                shared.frames["events"],
                open_fc,
                shared.horizon,
            )
            fulfil = DecisionFill(
                world=w,
                items=scen.items,
                nodes=scen.nodes,
                lanes=scen.lanes,
                open_fc=open_fc,
                promise=_promise_options(spec),
                route=_route_options(spec),
                max_promise_days=o.max_promise_days,
                substitute=shared.substitute,
                share=shared.share,
                uniforms=st.substitute,
            )
            trace = run(
                w,
                draw,
                st.lead,
                st.transit,
                policy,
                history=shared.history,
                fulfiller=fulfil,
                settings=Settings(review_days=o.review_days, open_fc=open_fc),
            )
            trace.violations.extend(getattr(policy, "violations", []))
            runs.append(Run(scen.name, spec.name, r, trace))
            if progress is not None:
                progress(done + len(runs), total)
    return runs


def _promise_options(spec: PolicySpec) -> Any:
    from scot_cli.promise import PromiseOptions

    return PromiseOptions(**{**spec.promise, "mode": "snapshot"})


def _route_options(spec: PolicySpec) -> Any:
    from scot_cli.route import RouteOptions

    return RouteOptions(**spec.route_fields())


#: Days of the week the reach of the network is probed on (a lane's departures and an
#: FC's cut-offs can make one weekday's orders later than another's).
PROBE_DAYS = 7
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def unreachable(
    world: World,
    scenarios: list[Scenario],
    max_promise_days: int,
    days: int = PROBE_DAYS,
) -> list[str]:
    """A warning per scenario naming the regions no open FC can promise within the limit
    (their demand is lost; the run goes on): scot promise's answer to one line per region
    and day of the first week (of the first ``days``) of a sku every open FC holds. A
    region out of reach on some weekdays only is named with those days."""
    from scot_cli.promise import PromiseOptions, promise

    out = []
    probe = "__probe__"
    when = [
        dt.datetime.combine(world.start + dt.timedelta(days=d), dt.time(12))
        for d in range(min(days, PROBE_DAYS))
    ]
    for s in scenarios:
        fcs = [f for f in world.fcs if f not in s.closed]
        regions = [g for g in world.regions if g in set(s.nodes["node"].to_list())]
        late: dict[str, list[dt.datetime]] = {
            g: list(when) for g in world.regions if g not in regions
        }
        if fcs and regions:
            lines = pl.DataFrame(
                {
                    "order_id": [f"{g}@{i}" for g in regions for i in range(len(when))],
                    "line": [1] * (len(regions) * len(when)),
                    "sku": [probe] * (len(regions) * len(when)),
                    "qty": [1.0] * (len(regions) * len(when)),
                    "destination": [g for g in regions for _ in when],
                    "order_time": when * len(regions),
                }
            )
            stock = pl.DataFrame(
                {
                    "sku": [probe] * len(fcs),
                    "node": fcs,
                    "on_hand": [float(lines.height)] * len(fcs),
                }
            )
            answer = promise(
                lines, inventory=stock, nodes=s.nodes, lanes=s.lanes, options=PromiseOptions()
            ).promises
            missed = answer.filter(
                (pl.col("status") != "promised")
                | pl.col("promise_days").is_null()
                | (pl.col("promise_days") > max_promise_days)
            )
            for oid in missed["order_id"].to_list():
                g, _, i = oid.rpartition("@")
                late.setdefault(g, []).append(when[int(i)])
        else:
            late = {g: list(when) for g in world.regions}
        out += _reach_warnings(s.name, late, len(when), max_promise_days)
    return out


def _reach_warnings(
    scenario: str, late: dict[str, list[dt.datetime]], probed: int, limit: int
) -> list[str]:
    """The warnings of one scenario: regions late on every day probed, then the regions
    late on some weekdays (named)."""
    always = sorted(g for g, when in late.items() if len(set(when)) >= probed)
    out = []
    if always:
        out.append(
            f"{scenario}: no open FC promises {', '.join(always)} within {limit} day(s); "
            "their demand is lost"
        )
    some = {
        g: ", ".join(_WEEKDAYS[d] for d in sorted({w.weekday() for w in when}))
        for g, when in sorted(late.items())
        if when and g not in always
    }
    if some:
        named = "; ".join(f"{g} on {days}" for g, days in some.items())
        out.append(
            f"{scenario}: no open FC promises within {limit} day(s) the orders of {named}; "
            "that demand is lost"
        )
    return out


def _need(frames: dict[str, pl.DataFrame | None], name: str) -> pl.DataFrame:
    frame = frames[name]
    if frame is None:
        raise InputDataError(f"simulate: the {name} table is required")
    return frame


def lead_span(scenarios: list[Scenario], world: World, review_days: int) -> int:
    """Days of forecast scot needs past the horizon: the longest lead time (3 spreads
    over its mean) and vendor transit of any scenario, plus two reviews."""
    worst = 0.0
    for s in scenarios:
        lt = (s.items["lead_time_days"] + 3 * s.items["lead_time_sd"].fill_null(0.0)).max()
        worst = max(worst, float(lt or 0.0))  # type: ignore[arg-type]
    return math.ceil(worst + float(world.inbound_days.max(initial=0.0))) + 2 * review_days


def _rebuilt(world: World, scen: Scenario, frames: dict[str, Any]) -> World:
    """The world of a scenario whose items changed (lead times); FCs stay indexed alike so
    the streams line up, closed FCs are masked by the engine instead."""
    if scen.items is frames["items"] or scen.items.equals(frames["items"].sort("sku")):
        return world
    return build_world(
        items=scen.items,
        nodes=frames["nodes"],
        lanes=frames["lanes"],
        inventory=frames["inventory"],
        regions=world.regions,
        start=world.start,
    )


def _policy(
    spec: PolicySpec,
    world: World,
    scen: Scenario,
    fc: pl.DataFrame,
    o: SimulateOptions,
    sales: pl.DataFrame,
    events: pl.DataFrame | None,
    open_fc: NDArray[np.bool_],
    horizon: int,
) -> Policy:
    if spec.kind == "baseline":
        return BaselinePolicy(world=world, open_fc=open_fc, weeks=o.baseline_weeks, name=spec.name)
    fc_s = fc
    if scen.demand_factor is not None:
        factor = pl.DataFrame({"sku": world.skus, "_f": scen.demand_factor})
        cols = [c for c in fc.columns if c == "mean" or (c[0] == "p" and c[1:].isdigit())]
        fc_s = (
            fc.join(factor, on="sku", how="left")
            .with_columns([pl.col(c) * pl.col("_f").fill_null(1.0) for c in cols])
            .drop("_f")
        )
    return ScotPolicy(
        world=world,
        inputs=Inputs(
            items=scen.items, nodes=scen.nodes, lanes=scen.lanes, sales=sales, events=events
        ),
        forecast=fc_s,
        horizon=horizon,
        review_days=o.review_days,
        buy=dict(spec.buy),
        place={**spec.place, **scen.place},
        reforecast=o.reforecast == "review",
        transfers=spec.transfers,
        seed=o.seed,
        name=spec.name,
    )


def history(sales: pl.DataFrame, world: World, window: int) -> Array:
    """The last ``window`` days of sales per day, sku and region before the start."""
    first = world.start - dt.timedelta(days=window)
    recent = sales.filter(pl.col("date") >= first)
    return from_actuals(
        recent, skus=world.skus, regions=world.regions, start=first, days=window
    ).mean


def _summary(
    o: SimulateOptions,
    world: World,
    scenarios: list[Scenario],
    specs: list[PolicySpec],
    table: pl.DataFrame,
    warnings: list[str],
) -> SimulateSummary:
    head = table.filter(pl.col("kpi").is_in(HEADLINE))
    return SimulateSummary(
        days=o.days,
        replications=o.replications,
        skus=len(world.skus),
        scenarios=[s.name for s in scenarios],
        policies=[s.name for s in specs],
        headline=[
            (r["scenario"], r["policy"], r["kpi"], r["mean"], r["ci_low"], r["ci_high"])
            for r in head.iter_rows(named=True)
        ],
        warnings=warnings,
    )
