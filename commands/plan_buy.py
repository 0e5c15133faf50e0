"""``scot plan-buy``: purchase orders and inventory policies from a quantile forecast."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from scot_cli.errors import UsageError
from scot_cli.schema import INVENTORY, ITEMS, LANES, NODES

from ._common import epilog, info, output_option, progress

EXAMPLE = (
    "scot plan-buy forecast.parquet --items fixtures/items.parquet "
    "--inventory fixtures/inventory.parquet -o orders.parquet --policy-out policy.parquet"
)
MORE = (
    "Budget or storage limit: add --budget 50000 (purchase spend) or --storage 9000 (volume "
    "after ordering); orders are cut where they save least and the policy table reports the "
    "shadow price of the binding limit. With --network nodes.parquet --lanes lanes.parquet "
    "each region's demand is bought at its fastest FC and the vendor lane adds to the lead "
    "time."
)

FORECAST_ARG = typer.Argument(..., help="Forecast (Parquet from scot forecast), or - for stdin.")
ITEMS_OPT = typer.Option(..., "--items", help="Item master: costs, lead times, packs, vendor.")
INVENTORY_OPT = typer.Option(..., "--inventory", help="Stock per sku and node.")
NODES_OPT = typer.Option(None, "--network", help="Nodes table: buy per FC (with --lanes).")
LANES_OPT = typer.Option(None, "--lanes", help="Lanes table: region paths and vendor lanes.")
LEVEL_OPT = typer.Option(
    None, "--service-level", help="Service target in (0,1) for every sku (overrides items)."
)
DEFAULT_LEVEL_OPT = typer.Option(
    0.95,
    "--default-service-level",
    help="Target for items with neither service_level nor stockout_cost.",
)
REVIEW_OPT = typer.Option(
    7.0, "--review-days", max=3_660.0, help="Review period in days (> 0, ten years at most)."
)
AS_OF_OPT = typer.Option(
    None, "--as-of", help="Order date YYYY-MM-DD (default: the day before the forecast starts)."
)
BUDGET_OPT = typer.Option(None, "--budget", help="Limit on total purchase spend (unit_cost).")
STORAGE_OPT = typer.Option(None, "--storage", help="Limit on total volume after ordering.")
OUT_OPT = output_option("-o", "--output", help="Orders Parquet file (default stdout).", stdout=True)
POLICY_OUT_OPT = output_option("--policy-out", help="Write the policy table here too.")


def plan_buy(
    forecast: str = FORECAST_ARG,
    items: Path = ITEMS_OPT,
    inventory: Path = INVENTORY_OPT,
    network: Path | None = NODES_OPT,
    lanes: Path | None = LANES_OPT,
    policy: str = "auto",
    distribution: str = "auto",
    service_level: float | None = LEVEL_OPT,
    service_type: str = "cycle",
    default_service_level: float = DEFAULT_LEVEL_OPT,
    review_days: float = REVIEW_OPT,
    as_of: str | None = AS_OF_OPT,
    budget: float | None = BUDGET_OPT,
    storage: float | None = STORAGE_OPT,
    solver: str = "highs",
    out: str | None = OUT_OPT,
    policy_out: str | None = POLICY_OUT_OPT,
) -> None:
    """Decide what to buy, how much and when, from quantile forecasts."""
    from scot_cli.buy.plan import BuyOptions, check_options
    from scot_cli.buy.plan import plan_buy as plan
    from scot_cli.buy.schema import BUY_ORDERS, BUY_POLICY
    from scot_cli.forecast.schema import FORECAST
    from scot_cli.io import Run

    options = BuyOptions(
        policy=policy,
        distribution=distribution,
        service_level=service_level,
        service_type=service_type,
        default_service_level=default_service_level,
        review_days=review_days,
        as_of=_date(as_of),
        budget=budget,
        storage=storage,
        solver=solver,
    )
    check_options(options)
    run = Run("plan-buy", params=options.params())
    fc = run.read(forecast, FORECAST, role="forecast")
    items_df = run.read(str(items), ITEMS, role="items")
    inv = run.read(str(inventory), INVENTORY, role="inventory")
    nodes_df = run.read_optional(str(network) if network else None, NODES, role="nodes")
    lanes_df = run.read_optional(str(lanes) if lanes else None, LANES, role="lanes")
    with progress("planning") as bar:
        result = plan(
            fc, items_df, inv, nodes=nodes_df, lanes=lanes_df, options=options, progress=bar
        )
    if policy_out is not None:
        run.write(result.policy, policy_out, BUY_POLICY)
    run.write(result.orders, out, BUY_ORDERS)
    info(_summary(result.orders, result.policy))


def _date(text: str | None) -> dt.date | None:
    from scot_cli.validate import DATE_MAX, DATE_MIN

    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--as-of: expected a date YYYY-MM-DD, got {text!r}") from exc
    # a year of room for arrivals after the order date, inside the dates every table accepts
    latest = DATE_MAX.replace(year=DATE_MAX.year - 1)
    if not DATE_MIN <= day <= latest:
        raise UsageError(f"--as-of: expected a date from {DATE_MIN} to {latest}, got {text}")
    return day


def _summary(orders: Any, policy: Any) -> str:
    placed = orders.filter(orders["status"] == "order")
    unplanned = int((orders["status"] == "unplanned").sum())
    line = (
        f"plan-buy: {orders.height:,} sku rows: {placed.height:,} orders "
        f"({placed['qty'].sum():,.0f} units), {unplanned:,} unplanned"
    )
    bound = policy["binding_constraint"].drop_nulls()
    if bound.len():
        price = policy["shadow_price"].drop_nulls()[0]
        line += f"; {bound[0]!s} binds (shadow price {float(price):.4g} per unit)"
    return line


def _choice_options(fn: Callable[..., None]) -> None:
    """Give the registry-backed options their choices and help (the registry is imported
    only when commands register, and is plain data)."""
    from scot_cli.buy.registry import (
        DISTRIBUTIONS,
        POLICIES,
        SERVICE_TYPES,
        SOLVERS,
        choices_help,
    )

    specs = {
        "policy": ("--policy", POLICIES, "auto"),
        "distribution": ("--distribution", DISTRIBUTIONS, "auto"),
        "service_type": ("--service-type", SERVICE_TYPES, "cycle"),
        "solver": ("--solver", SOLVERS, "highs"),
    }
    sig = inspect.signature(fn)
    params = []
    for param in sig.parameters.values():
        spec = specs.get(param.name)
        if spec is not None:
            flag, registry, default = spec
            opt = typer.Option(
                default, flag, metavar="|".join(registry), help=f"{choices_help(registry)}."
            )
            param = param.replace(default=opt)  # noqa: PLW2901
        params.append(param)
    fn.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]


def register(app: typer.Typer) -> None:
    from scot_cli.buy.registry import models_help
    from scot_cli.forecast.schema import FORECAST

    _choice_options(plan_buy)
    more = f"{MORE}\n\nModels (library functions, Snyder & Shen 2nd ed.):\n\n{models_help()}"
    app.command(
        "plan-buy",
        help="Decide what to buy, how much and when, from quantile forecasts.",
        epilog=epilog(EXAMPLE, [FORECAST, ITEMS, INVENTORY, NODES, LANES], more=more),
    )(plan_buy)
