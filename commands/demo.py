"""``scot demo``: the whole chain on the bundled fixtures, with a readable summary."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table as RichTable

from scot_cli.errors import ScotError

from ._common import STATE, epilog, folder_option, stdout_console

#: Pipeline steps in order (command name, step function defined below).
STEPS = ("forecast", "plan-buy", "place", "promise", "route", "simulate", "explain")

#: A step: (fixtures folder, output folder, command runner) -> summary lines.
Step = Callable[[Path, Path, Callable[[list[str]], None]], list[str]]


def bundled_fixtures() -> Path | None:
    """The committed fixtures folder of a source checkout, when there is one."""
    folder = Path(__file__).resolve().parent.parent / "fixtures"
    return folder if (folder / "sales.parquet").exists() else None


def invoke(args: list[str]) -> None:
    """Run one ``scot`` command in this process; its error, if any, is raised with the
    step named and the step's exit code."""
    from .main import app

    command = typer.main.get_command(app)
    flags = ["--quiet"] + (["--debug"] if STATE.debug else [])
    STATE.nested = True
    try:
        code = command.main(args=[*flags, *args], prog_name="scot", standalone_mode=False)
    except ScotError as exc:
        failed = type(exc)(f"demo step 'scot {args[0]}': {exc.message}")
        raise failed from exc
    finally:
        STATE.nested = False
    if isinstance(code, int) and code != 0:
        raise ScotError(f"demo step 'scot {' '.join(args)}' exited with code {code}")


def demo(
    out: Path = folder_option(Path("out/demo"), "--out", "-o", help="Folder for the outputs."),
    fixtures: Path = typer.Option(
        None,
        "--fixtures",
        help="Folder of input tables (default: the bundled fixtures, or "
        "freshly generated ones when scot is installed without them).",
    ),
) -> None:
    """Run forecast, plan-buy, place, promise, route and explain on the fixtures; write
    report.html, a page of their pictures."""
    if fixtures is not None:
        _check_fixtures(fixtures)
    out.mkdir(parents=True, exist_ok=True)
    src = fixtures or bundled_fixtures()
    if src is None:
        src = out / "fixtures"
        invoke(["fixtures", "--out", str(src)])
    con = stdout_console()
    con.print(f"[bold]scot demo[/]: inputs {src}, outputs {out}")
    # CPU beside wall: on a shared machine the wall time says more about the load than the step
    table = RichTable("step", "seconds", "cpu s", "summary", title="pipeline", title_justify="left")
    for name in STEPS:
        _run_step(name, src, out, table)
    con.print(table)
    invoke(["report", str(out), "-o", str(out / "report.html")])
    con.print(f"report: {out / 'report.html'}")


def _check_fixtures(folder: Path) -> None:
    """Every input table is in ``folder``, before any step runs."""
    from scot_cli.errors import InputDataError
    from scot_cli.schema import INPUT_TABLES

    if not folder.is_dir():
        raise InputDataError(
            f"--fixtures {folder}: no such folder; create one with scot fixtures --out {folder}"
        )
    missing = [t.name for t in INPUT_TABLES if not (folder / f"{t.name}.parquet").is_file()]
    if missing:
        raise InputDataError(
            f"--fixtures {folder}: has no {', '.join(m + '.parquet' for m in missing)}; "
            f"create the tables with scot fixtures --out {folder}"
        )


def _run_step(name: str, src: Path, out: Path, table: RichTable) -> None:
    step: Step = globals()[f"{name.replace('-', '_')}_step"]
    start, cpu = time.perf_counter(), time.process_time()
    lines = step(src, out, invoke)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    table.add_row(name, f"{wall:.1f}", f"{cpu:.1f}", "\n".join(lines))


# The steps: each runs its command as a user would and summarises the output.


def forecast_step(fixtures: Path, out: Path, invoke: Callable[[list[str]], None]) -> list[str]:
    """Forecast the fixtures' sales 28 days ahead (with items and events) into the demo."""
    import polars as pl

    target = out / "forecast.parquet"
    invoke(
        [
            "forecast",
            str(fixtures / "sales.parquet"),
            "--items",
            str(fixtures / "items.parquet"),
            "--events",
            str(fixtures / "events.parquet"),
            "--horizon",
            "28",
            "-o",
            str(target),
        ]
    )
    df = pl.read_parquet(target)
    cold = df.filter(pl.col("model").str.starts_with("cold_start"))["sku"].n_unique()
    top = df["model"].value_counts(sort=True).head(3)
    picks = ", ".join(f"{m} {c // 28}" for m, c in top.iter_rows())
    return [
        f"forecast: {df.select('sku', 'location').n_unique():,} series x 28 days, "
        f"{df['mean'].sum():,.0f} units expected",
        f"models picked per series: {picks}; {cold} new sku(s) by cold start",
    ]


def plan_buy_step(fixtures: Path, out: Path, invoke: Callable[[list[str]], None]) -> list[str]:
    """Plan purchases from the forecast step's output; summarise the orders."""
    import polars as pl

    invoke(
        [
            "plan-buy",
            str(out / "forecast.parquet"),
            "--items",
            str(fixtures / "items.parquet"),
            "--inventory",
            str(fixtures / "inventory.parquet"),
            "-o",
            str(out / "orders.parquet"),
            "--policy-out",
            str(out / "policy.parquet"),
        ]
    )
    orders = pl.read_parquet(out / "orders.parquet")
    policy = pl.read_parquet(out / "policy.parquet")
    items = pl.read_parquet(fixtures / "items.parquet").select("sku", "unit_cost")
    placed = orders.filter(pl.col("status") == "order").join(items, on="sku", how="left")
    spend = float((placed["qty"] * placed["unit_cost"]).sum())
    planned = policy.filter(pl.col("status") != "unplanned")
    by_policy = planned.group_by("policy").len().sort("policy")
    mix = ", ".join(f"{p} {n}" for p, n in by_policy.iter_rows())
    return [
        f"{placed.height} purchase orders, {placed['qty'].sum():,.0f} units, spend {spend:,.0f}",
        f"policies: {mix}; {orders.height - planned.height} skus unplanned",
        f"expected fill rate {planned['fill_rate'].fill_null(0.0).to_numpy().mean():.1%} "
        "(mean over skus)",
        *_central_tier(fixtures, out, invoke),
    ]


def _central_tier(fixtures: Path, out: Path, invoke: Callable[[list[str]], None]) -> list[str]:
    """Plan again over the network with its central DCs (the fixtures' nodes_central and
    lanes_central, which only plan-buy reads) into out/central/; the orders the later steps
    read stay the single-tier ones."""
    import polars as pl

    nodes, lanes = fixtures / "nodes_central.parquet", fixtures / "lanes_central.parquet"
    if not (nodes.is_file() and lanes.is_file()):
        return []
    folder = out / "central"
    folder.mkdir(parents=True, exist_ok=True)
    invoke(
        [
            "plan-buy",
            str(out / "forecast.parquet"),
            "--items",
            str(fixtures / "items.parquet"),
            "--inventory",
            str(fixtures / "inventory.parquet"),
            "--nodes",
            str(nodes),
            "--lanes",
            str(lanes),
            "-o",
            str(folder / "orders.parquet"),
            "--policy-out",
            str(folder / "policy.parquet"),
        ]
    )
    policy = pl.read_parquet(folder / "policy.parquet")
    dcs = pl.read_parquet(nodes).filter(pl.col("kind") == "dc").get_column("node")
    tiers = policy.filter(pl.col("echelon_level").is_not_null())
    at_dc = tiers.filter(pl.col("node").is_in(dcs.implode()))
    by = dict(tiers.group_by("policy").len().iter_rows())
    return [
        f"central tier ({dcs.len()} DCs, out/central/): {by.get('gsm', 0)} rows by guaranteed "
        f"service, {by.get('clark_scarf', 0)} by Clark-Scarf; "
        f"{float(at_dc['safety_stock'].clip(0).sum()):,.0f} units of safety stock at the DCs",
    ]


def place_step(fixtures: Path, out: Path, invoke: Callable[[list[str]], None]) -> list[str]:
    """Place the demo's forecast over the fixture network (uses out/orders.parquet if there)."""
    import polars as pl

    args = [
        "place",
        str(out / "forecast.parquet"),
        "--items",
        str(fixtures / "items.parquet"),
        "--inventory",
        str(fixtures / "inventory.parquet"),
        "--nodes",
        str(fixtures / "nodes.parquet"),
        "--lanes",
        str(fixtures / "lanes.parquet"),
        "--speed-target",
        "2:0.8",
        # two weeks, so that the buys plan-buy sends (arriving after a week) are placed too
        "--days",
        "14",
        "-o",
        str(out / "placement.parquet"),
        "--coverage-out",
        str(out / "coverage.parquet"),
        "--constraints-out",
        str(out / "constraints.parquet"),
    ]
    if (out / "orders.parquet").exists():
        args += ["--receipts", str(out / "orders.parquet")]
    invoke(args)
    placement = pl.read_parquet(out / "placement.parquet")
    cov = pl.read_parquet(out / "coverage.parquet").filter(pl.col("region") == "ALL")
    cons = pl.read_parquet(out / "constraints.parquet")
    share = dict(
        zip(cov["days"], zip(cov["share_before"], cov["share_after"], strict=True), strict=True)
    )
    return [
        f"{placement['sku'].n_unique()} skus x {placement['node'].n_unique()} FCs, "
        f"{placement['transfer_in'].sum():,.0f} units transferred, "
        f"{placement['inbound_units'].sum():,.0f} arriving units placed",
        f"1-day coverage {share[1][0]:.0%} -> {share[1][1]:.0%}, "
        f"2-day {share[2][0]:.0%} -> {share[2][1]:.0%}",
        f"{int(cons['binding'].sum())} binding / "
        f"{int(cons['status'].is_in(['violated', 'unreachable']).sum())} unmet constraints",
    ]


def promise_step(fixtures: Path, out: Path, invoke: Callable[[list[str]], None]) -> list[str]:
    """Promise the fixtures' orders in snapshot and commit modes; keep the commit output."""
    import polars as pl

    base = [
        str(fixtures / "orders.parquet"),
        "--inventory",
        str(fixtures / "inventory.parquet"),
        "--nodes",
        str(fixtures / "nodes.parquet"),
        "--lanes",
        str(fixtures / "lanes.parquet"),
        "--calendar",
        str(fixtures / "calendar.parquet"),
    ]
    if (out / "orders.parquet").exists():
        base += ["--receipts", str(out / "orders.parquet")]
    lines = []
    for mode, path in (
        ("snapshot", out / "promises_snapshot.parquet"),
        ("commit", out / "promises.parquet"),
    ):
        invoke(["promise", *base, "--mode", mode, "-o", str(path)])
        df = pl.read_parquet(path)
        ok = df.filter(pl.col("status") != "unavailable")
        days = ok.select(pl.col("promise_days").median().fill_null(0)).item()
        lines.append(
            f"{mode}: {ok.height:,}/{df.height:,} lines promised, median {days:g} days, "
            f"{(df['status'] == 'backorder').sum():,} backorders"
        )
    return lines


def route_step(fixtures: Path, out: Path, invoke: Callable[[list[str]], None]) -> list[str]:
    """Route the promise step's lines (or the orders promised at ship + 3 days without it),
    set against the nearest-FC rule on the same lines (its trucks and cost show what
    consolidation saves), then route the vans of the busiest delivery station."""
    import polars as pl

    from scot_cli.route.api import route

    promises = out / "promises.parquet"
    if not promises.exists():
        promises = out / "route-promises.parquet"
        _fallback_promises(fixtures, promises)
    ships, trucks = out / "shipments.parquet", out / "trucks.parquet"
    nodes = str(fixtures / "nodes.parquet")
    tables = [
        str(promises),
        "--inventory",
        str(fixtures / "inventory.parquet"),
        "--nodes",
        nodes,
        "--lanes",
        str(fixtures / "lanes.parquet"),
        "--items",
        str(fixtures / "items.parquet"),
    ]
    invoke(
        [
            "route",
            *tables,
            "--time-limit",
            "8",
            "-o",
            str(ships),
            "--trucks-out",
            str(trucks),
        ]
    )
    # the rule on the same lines, through the library: its tables stay out of the report
    rule = route(
        str(promises),
        inventory=fixtures / "inventory.parquet",
        nodes=nodes,
        lanes=fixtures / "lanes.parquet",
        items=fixtures / "items.parquet",
        method="myopic",
    )
    rule_cost, rule_count = float(rule.shipments["cost"].sum()), rule.trucks.height
    s, t = pl.read_parquet(ships), pl.read_parquet(trucks)
    stops = out / "stops.parquet"
    _demo_stops(s, pl.read_parquet(nodes)).write_parquet(stops)
    invoke(
        [
            "route",
            "last-mile",
            str(stops),
            "--nodes",
            nodes,
            "--vehicles",
            "12",
            "--capacity",
            "40",
            "--time-limit",
            "1",
            "-o",
            str(out / "routes.parquet"),
        ]
    )
    r = pl.read_parquet(out / "routes.parquet")
    status = dict(s["status"].value_counts().iter_rows())
    cost = float(s["cost"].sum())
    fill = float(t.select(pl.col("fill").mean()).item() or 0.0)
    # what the data allows: a lane's whole day of volume against one truck's capacity
    lane_day = t.group_by("origin", "destination", "mode", pl.col("departure").dt.date()).agg(
        (pl.col("load").sum() / pl.col("capacity").max()).alias("share")
    )
    most = float(lane_day["share"].fill_null(0.0).to_numpy().max(initial=0.0))
    fewer = 100 * (t.height - rule_count) / rule_count if rule_count else 0.0
    return [
        f"route: {s.height:,} lines: {status.get('on_time', 0):,} on time, "
        f"{status.get('late', 0):,} late, {status.get('unshipped', 0):,} unshipped",
        f"{t.height} trucks (nearest-FC rule: {rule_count}, {fewer:+.0f}%), mean fill "
        f"{fill:.2f}: the busiest lane's whole day fills {most:.0%} of one truck",
        f"shipping cost {cost:,.0f} (rule: {rule_cost:,.0f}, "
        f"{100 * (cost - rule_cost) / rule_cost:+.0f}%)",
        f"last mile {r['station'][0]}: {int((r['status'] == 'routed').sum())}/{r.height} stops "
        f"on {r['vehicle'].n_unique() - int(r['vehicle'].null_count() > 0)} vans",
    ]


def _demo_stops(ships: Any, nodes: Any) -> Any:
    """One stop per order of the busiest station's region, placed around the region centre
    (seeded), with the order's volume as demand and a morning or afternoon window."""
    import numpy as np
    import polars as pl

    routed = ships.filter(pl.col("path").is_not_null()).with_columns(
        pl.col("path").str.split(">").list.get(-2).alias("station")
    )
    station = routed["station"].value_counts(sort=True)["station"][0]
    orders = (
        routed.filter(pl.col("station") == station)
        .group_by("order_id", "destination")
        .agg(pl.col("volume").sum().alias("demand"))
        .sort("order_id")
    )
    centre = nodes.filter(pl.col("node") == orders["destination"][0]).row(0, named=True)
    rng = np.random.default_rng(0)
    n = orders.height
    afternoon = rng.random(n) < 0.5
    return orders.select(
        pl.col("order_id").alias("stop_id"),
        pl.lit(station).alias("station"),
        pl.Series("lat", centre["lat"] + rng.normal(0, 0.08, n)),
        pl.Series("lon", centre["lon"] + rng.normal(0, 0.08, n)),
        "demand",
        pl.Series("tw_early", np.where(afternoon, 240.0, 0.0)),
        pl.Series("tw_late", np.where(afternoon, 540.0, 300.0)),
        pl.lit(3.0).alias("service_time"),
    )


def _fallback_promises(fixtures: Path, target: Path) -> None:
    """Promises when the promise step has not run: ship the order day, deliver 3 days later."""
    import polars as pl

    orders = pl.read_parquet(fixtures / "orders.parquet")
    day = pl.col("order_time").dt.date()
    orders.with_columns(
        day.alias("ship_date"), (day + pl.duration(days=3)).alias("promise_date")
    ).drop("order_time").write_parquet(target)


#: Days the demo simulates (each day is promised and routed by scot's decisions).
SIM_DAYS = 7
#: Policies of the demo's runs: explain re-runs both runs on each mix of their changed
#: inputs, so every policy here costs that many simulations again.
SIM_POLICIES = ("scot",)


def simulate_step(fixtures: Path, out: Path, invoke: Callable[[list[str]], None]) -> list[str]:
    """One week simulated (scot against the baseline), then again with a quarter of the
    stock gone and a fifth more demand, and explain on the two runs: why did the in-stock
    rate change? Writes ``out/sim/`` and ``out/sim-scenario/``."""
    import polars as pl

    if not (out / "forecast.parquet").exists():
        return ["skipped: needs the forecast step's output"]
    scen = out / "sim-scenario"
    scen.mkdir(parents=True, exist_ok=True)
    # both changes bite within a week, unlike a lead time (no buy arrives that soon)
    stock = pl.read_parquet(fixtures / "inventory.parquet")
    stock.with_columns((pl.col("on_hand") * 0.75).round()).write_parquet(scen / "inventory.parquet")
    fc = pl.read_parquet(out / "forecast.parquet")
    fc.with_columns(pl.col(c) * 1.2 for c in _quantile_columns(fc)).write_parquet(
        scen / "forecast.parquet"
    )
    runs = {
        "sim": (out / "forecast.parquet", fixtures / "inventory.parquet"),
        "sim-scenario": (scen / "forecast.parquet", scen / "inventory.parquet"),
    }
    policies = [a for p in SIM_POLICIES for a in ("--policy", p)]
    for name, (forecast, inv) in runs.items():
        invoke(
            [
                "simulate",
                "--sales",
                str(fixtures / "sales.parquet"),
                "--items",
                str(fixtures / "items.parquet"),
                "--nodes",
                str(fixtures / "nodes.parquet"),
                "--lanes",
                str(fixtures / "lanes.parquet"),
                "--inventory",
                str(inv),
                "--forecast",
                str(forecast),
                "--days",
                str(SIM_DAYS),
                *policies,
                "-o",
                str(out / name),
            ]
        )
    summary = {name: pl.read_parquet(out / name / "sim_summary.parquet") for name in runs}
    rate = {
        name: table.filter(pl.col("kpi") == "in_stock_rate").select("policy", "mean").rows()
        for name, table in summary.items()
    }
    lines = [f"scenario: stock -25%, demand +20%; {SIM_DAYS} days"]
    lines += [
        f"in-stock rate {p}: {a:.1%} -> {b:.1%}"
        for (p, a), (_, b) in zip(rate["sim"], rate["sim-scenario"], strict=True)
    ]
    # a week is shorter than most lead times: the policies differ in what they buy first
    bought = summary["sim"].filter(pl.col("kpi") == "bought_units")
    lines.append(
        f"bought in {SIM_DAYS} days: "
        + ", ".join(f"{p} {v:,.0f}" for p, v in bought.select("policy", "mean").rows())
    )
    daily = [str(out / name / "sim_daily.parquet") for name in runs]
    try:
        by = ["--metric", "in_stock_rate", "--by", "node"]
        report = ["--report", str(scen / "explain.md")]
        invoke(["explain", *daily, *by, "-o", str(scen / "explain.parquet"), *report])
    except ScotError as exc:
        return [*lines, f"explain: {exc.message}"]
    table = pl.read_parquet(scen / "explain.parquet")
    total = table.filter((pl.col("subject") == "(all)") & (pl.col("metric") == "in_stock_rate"))
    total = total.filter(pl.col("contribution").abs() >= 5e-4)
    parts = ", ".join(
        f"{d} {c * 100:+.1f} pts"
        for d, c in total.sort(pl.col("contribution").abs(), descending=True)
        .select("driver", "contribution")
        .head(3)
        .iter_rows()
    )
    why = f"why: {parts}" if parts else "why: no driver changed the in-stock rate"
    return [*lines, why, f"report: {scen / 'explain.md'}"]


def explain_step(fixtures: Path, out: Path, invoke: Callable[[list[str]], None]) -> list[str]:
    """A changed scenario (a vendor's lead time up, part of the forecast down), explained.

    Writes into ``out/scenario/``: items with one vendor's lead time doubled, the
    forecast with a fifth of the skus' demand cut by 40%, plan-buy's orders and
    policy on them, and the explain report (``explain.md``) and table.
    """
    import polars as pl

    if not (out / "policy.parquet").exists() or not (out / "forecast.parquet").exists():
        return ["skipped: needs the forecast and plan-buy steps' outputs"]
    scen = out / "scenario"
    scen.mkdir(parents=True, exist_ok=True)
    items = pl.read_parquet(fixtures / "items.parquet")
    vendor = items["vendor"].sort()[0]
    later = pl.when(pl.col("vendor") == vendor).then(pl.col("lead_time_days") * 2)
    items.with_columns(
        later.otherwise(pl.col("lead_time_days")).alias("lead_time_days")
    ).write_parquet(scen / "items.parquet")
    fc = pl.read_parquet(out / "forecast.parquet")
    cut = pl.col("sku").hash(7) % 5 == 0
    scaled = [
        pl.when(cut).then(pl.col(c) * 0.6).otherwise(pl.col(c)).alias(c)
        for c in _quantile_columns(fc)
    ]
    fc.with_columns(scaled).write_parquet(scen / "forecast.parquet")
    invoke(
        [
            "plan-buy",
            str(scen / "forecast.parquet"),
            "--items",
            str(scen / "items.parquet"),
            "--inventory",
            str(fixtures / "inventory.parquet"),
            "-o",
            str(scen / "orders.parquet"),
            "--policy-out",
            str(scen / "policy.parquet"),
        ]
    )
    args = ["explain", str(out / "policy.parquet"), str(scen / "policy.parquet")]
    try:
        invoke([*args, "-o", str(scen / "explain.parquet"), "--report", str(scen / "explain.md")])
    except ScotError as exc:
        return [f"explain failed: {exc.message}"]
    lines = _demo_summary(pl.read_parquet(scen / "explain.parquet"), vendor)
    return [*lines, f"report: {scen / 'explain.md'}"]


def _quantile_columns(fc: Any) -> list[str]:
    return [c for c in fc.columns if c == "mean" or (c.startswith("p") and c[1:].isdigit())]


def _demo_summary(table: Any, vendor: str) -> list[str]:
    import polars as pl

    total = table.filter(pl.col("subject") == "(all)")
    lines = [f"scenario: vendor {vendor} lead time x2, 1 in 5 skus' forecast -40%"]
    present = set(total["metric"])
    for metric in [m for m in ("qty", "raw_qty", "safety_stock") if m in present][:2]:
        rows = total.filter(pl.col("metric") == metric).sort(
            pl.col("contribution").abs(), descending=True
        )
        head = rows.row(0, named=True)
        parts = ", ".join(
            f"{d} {c:+,.0f}" for d, c in rows.select("driver", "contribution").head(3).iter_rows()
        )
        change = f"{head['before']:,.0f} -> {head['after']:,.0f} ({head['delta']:+,.0f})"
        lines.append(f"{metric}: {change} = {parts}")
    return lines


def register(app: typer.Typer) -> None:
    app.command(
        "demo",
        help="Run the whole chain on the bundled fixtures and print a summary (the main job).",
        epilog=epilog("scot demo --out out/demo"),
    )(demo)
