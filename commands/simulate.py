"""``scot simulate``: replay the network day by day under scot's decisions and a baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from scot_cli.simulate.options import POLICIES, REFORECAST, WHAT_IFS, PolicySpec, SimulateOptions

from ._common import (
    ENGINE_OPT,
    SCHEDULER_OPT,
    WORKERS_OPT,
    choice_option,
    epilog,
    folder_option,
    help_models_option,
    info,
    progress,
    seed_option,
    table_option,
    warn,
)

EXAMPLE = (
    "scot simulate --sales fixtures/sales.parquet --items fixtures/items.parquet "
    "--nodes fixtures/nodes.parquet --lanes fixtures/lanes.parquet "
    "--inventory fixtures/inventory.parquet --days 28 --what-if lead-time=x1.5 -o out/sim"
)
DEFAULTS = SimulateOptions()


def simulate(
    sales: str = typer.Option(..., "--sales", help="Sales history."),
    items: str = table_option("items", required=True, help="Item master."),
    nodes: str = table_option("nodes", required=True, help="Network nodes."),
    lanes: str = table_option("lanes", required=True, help="Lanes."),
    inventory: str = table_option("inventory", required=True, help="Stock at the start."),
    events: str | None = table_option("events", help="Events for the forecast."),
    actuals: str | None = typer.Option(None, "--actuals", help="Sales to replay as demand."),
    forecast: str | None = typer.Option(None, "--forecast", help="Forecast to plan on."),
    days: int = typer.Option(DEFAULTS.days, "--days", help="Simulated days."),
    replications: int = typer.Option(DEFAULTS.replications, "--replications", help="Runs."),
    seed: int = seed_option(),
    policy: list[str] = typer.Option(
        None, "--policy", metavar="NAME|TOML", help="scot, baseline or a TOML file (repeat)."
    ),
    what_if: list[str] = typer.Option(
        None, "--what-if", metavar="KEY=VALUE", help="A what-if scenario (repeat)."
    ),
    review_days: int = typer.Option(DEFAULTS.review_days, "--review-days", help="Review period."),
    reforecast: str = choice_option(
        REFORECAST, DEFAULTS.reforecast, "--reforecast", help="Forecast again?"
    ),
    max_promise_days: int = typer.Option(
        DEFAULTS.max_promise_days, "--max-promise-days", help="Later: lost sale."
    ),
    substitution_share: float = typer.Option(
        DEFAULTS.substitution_share, "--substitution-share", help="Lost -> substitute_sku."
    ),
    baseline_weeks: float = typer.Option(
        DEFAULTS.baseline_weeks, "--baseline-weeks", help="Baseline's cover."
    ),
    max_cells: int = typer.Option(DEFAULTS.max_cells, "--max-cells", help="State size limit."),
    engine: str = ENGINE_OPT,
    scheduler: str | None = SCHEDULER_OPT,
    workers: int | None = WORKERS_OPT,
    out: Path = folder_option(..., "-o", "--output", help="Output folder."),
    _models: bool = help_models_option(POLICIES, WHAT_IFS, REFORECAST),
) -> None:
    """Step the network day by day: in-stock rate, speed, promises kept and cost per policy."""
    from scot_cli.engine import open_engine, parse_engine
    from scot_cli.io import Run
    from scot_cli.place.schema import FORECAST_IN
    from scot_cli.schema import EVENTS, INVENTORY, ITEMS, LANES, NODES, SALES
    from scot_cli.simulate import simulate as decide

    options = SimulateOptions(
        days=days,
        replications=replications,
        seed=seed,
        policies=tuple(_policy(p) for p in (policy or ["scot", "baseline"])),
        what_ifs=tuple(what_if or ()),
        review_days=review_days,
        reforecast=reforecast,
        max_promise_days=max_promise_days,
        substitution_share=substitution_share,
        baseline_weeks=baseline_weeks,
        max_cells=max_cells,
    )
    spec = parse_engine(engine, scheduler=scheduler, workers=workers)
    run = Run("simulate", params=options.params(), seed=seed)
    history = run.read(sales, SALES, role="sales")
    tables = {
        "items": run.read(items, ITEMS, role="items"),
        "nodes": run.read(nodes, NODES, role="nodes"),
        "lanes": run.read(lanes, LANES, role="lanes"),
        "inventory": run.read(inventory, INVENTORY, role="inventory"),
        "events": run.read_optional(events, EVENTS, role="events"),
        "actuals": run.read_optional(actuals, SALES, role="actuals"),
        "forecast": run.read(forecast, FORECAST_IN, role="forecast") if forecast else None,
    }
    if spec.is_local:
        with progress("simulating") as bar:
            result = decide(history, **tables, options=options, progress=bar)  # type: ignore[arg-type]
    else:  # each replication a task on the cluster (docs/scale-out.md)
        eng = open_engine(spec)
        try:
            result = decide(history, **tables, options=options, engine=eng)  # type: ignore[arg-type]
        finally:
            eng.close()
    out.mkdir(parents=True, exist_ok=True)
    # a what-if the network cannot serve is not an error: its warnings stay with the outputs
    extra = {"summary": result.summary.lines(), "warnings": result.summary.warnings}
    run.write(result.daily, str(out / "sim_daily.parquet"), None, extra=extra)
    run.write(result.summary_table, str(out / "sim_summary.parquet"), None, extra=extra)
    run.write(result.kpis, str(out / "sim_kpis.parquet"), None, extra=extra)
    for line in result.summary.lines():
        info(line)
    for message in result.summary.warnings:
        warn(message)


def _policy(value: str) -> Any:
    """A built-in policy name, or a TOML file naming a set of scot options."""
    if not value.endswith(".toml"):
        POLICIES.check(value)
        return value
    import tomllib

    from scot_cli.errors import InputDataError
    from scot_cli.io import read_input_bytes

    try:
        spec = tomllib.loads(read_input_bytes(value).decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputDataError(f"{value}: not a TOML policy file ({exc})") from exc
    spec.setdefault("name", Path(value).stem)
    return PolicySpec.parse(spec)


simulate.scot_flags = {"policies": "--policy", "what_ifs": "--what-if"}  # type: ignore[attr-defined]


def register(app: typer.Typer) -> None:
    app.command(
        "simulate",
        help="Replay the network day by day: scot's decisions against a baseline.",
        epilog=epilog(
            EXAMPLE,
            more="Writes sim_daily, sim_summary and sim_kpis Parquet (docs/commands/simulate.md).",
        ),
    )(simulate)
