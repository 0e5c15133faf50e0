"""``scot plan-buy``: purchase orders and inventory policies from a quantile forecast."""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import sys
import threading
from pathlib import Path
from typing import Any

import typer

from scot_cli.buy.registry import DISTRIBUTIONS, POLICIES, SERVICE_TYPES, SOLVERS, SPREAD_FLOORS
from scot_cli.errors import UsageError
from scot_cli.registry import Registry

from ._common import (
    ENGINE_OPT,
    PARTITION_BY_OPT,
    SCHEDULER_OPT,
    SHARD_OPT,
    WORKERS_OPT,
    choice_option,
    epilog,
    help_models_option,
    info,
    output_option,
    progress,
    renamed,
    scale,
    table_option,
)

EXAMPLE = (
    "scot plan-buy forecast.parquet --items fixtures/items.parquet "
    "--inventory fixtures/inventory.parquet -o orders.parquet --policy-out policy.parquet"
)


def _choice(registry: Registry[str], default: str, flag: str, *, help: str) -> Any:
    """A registry choice (:func:`choice_option`) whose default is in its help, not a line
    of its own (the help stays one screen)."""
    option = choice_option(registry, default, flag, help=help)
    option.show_default = False
    return option


FORECAST_ARG = typer.Argument(..., help="Forecast Parquet (scot forecast), - for stdin.")
LEVEL_OPT = typer.Option(None, "--service-level", help="Target in (0,1) for every sku.")
DEFAULT_LEVEL_OPT = typer.Option(
    0.95, "--default-service-level", help="Target of items without one.", show_default=False
)
REVIEW_OPT = typer.Option(7.0, "--review-days", help="Review period, days.", show_default=False)
AS_OF_OPT = typer.Option(None, "--as-of", help="Order date (default: eve of the forecast).")
BUDGET_OPT = typer.Option(None, "--budget", help="Limit on purchase spend.")
STORAGE_OPT = typer.Option(None, "--storage", help="Limit on volume after ordering.")
OUT_OPT = output_option("-o", "--output", help="Orders Parquet (default stdout).", stdout=True)
POLICY_OUT_OPT = output_option("--policy-out", help="Policy table Parquet.")


def plan_buy(
    forecast: str = FORECAST_ARG,
    items: Path = table_option("items", required=True, help="Items Parquet."),
    inventory: Path = table_option("inventory", required=True, help="Stock per sku and node."),
    nodes: Path | None = table_option("nodes", help="Nodes: buy per FC (with --lanes)."),
    lanes: Path | None = table_option("lanes", help="Lanes: regions and vendor legs."),
    seller_limits: Path | None = typer.Option(
        None, "--seller-limits", metavar="FILE", help="Storage limit per seller Parquet."
    ),
    price_breaks: Path | None = typer.Option(
        None, "--price-breaks", metavar="FILE", help="Quantity discounts Parquet."
    ),
    policy: str = _choice(POLICIES, "auto", "--policy", help="Policy."),
    distribution: str = _choice(DISTRIBUTIONS, "auto", "--distribution", help="Demand model."),
    spread_floor: str = _choice(
        SPREAD_FLOORS, "auto", "--spread-floor", help="Poisson spread floor."
    ),
    service_level: float | None = LEVEL_OPT,
    service_type: str = _choice(SERVICE_TYPES, "cycle", "--service-type", help="Target kind."),
    default_service_level: float = DEFAULT_LEVEL_OPT,
    review_days: float = REVIEW_OPT,
    as_of: str | None = AS_OF_OPT,
    budget: float | None = BUDGET_OPT,
    storage: float | None = STORAGE_OPT,
    solver: str = _choice(SOLVERS, "highs", "--solver", help="LP solver of the limits."),
    out: str | None = OUT_OPT,
    policy_out: str | None = POLICY_OUT_OPT,
    engine: str = ENGINE_OPT,
    shard: str | None = SHARD_OPT,
    scheduler: str | None = SCHEDULER_OPT,
    workers: int | None = WORKERS_OPT,
    partition_by: str | None = PARTITION_BY_OPT,
    help_models: bool = help_models_option(
        POLICIES, DISTRIBUTIONS, SPREAD_FLOORS, SERVICE_TYPES, SOLVERS
    ),
) -> None:
    """Decide what to buy, how much and when, from quantile forecasts."""
    from scot_cli.buy import BuyOptions
    from scot_cli.buy import plan_buy as decide
    from scot_cli.buy.schema import BUY_ORDERS, BUY_POLICY, PRICE_BREAKS, SELLER_LIMITS
    from scot_cli.forecast.schema import FORECAST
    from scot_cli.io import Run
    from scot_cli.schema import INVENTORY, ITEMS, LANES, NODES

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
        spread_floor=spread_floor,
    )
    _reuse_freed_memory()
    _preload(forecast)
    run = Run("plan-buy", params=options.params())
    plan = scale(engine, shard, scheduler, workers, partition_by, out)
    if plan.active:  # batches of skus on an engine, a shard, a dataset (docs/scale-out.md)
        from scot_cli.engine.buy import plan_buy_to

        if seller_limits is not None:
            raise UsageError("--seller-limits with --engine or --shard: plan in one process")
        summary = plan_buy_to(
            out, policy_out, engine=plan.engine, shard=plan.shard,
            partition_by=plan.partition_by, run=run, forecast=forecast, items=str(items),
            inventory=str(inventory), nodes=str(nodes) if nodes else None,
            lanes=str(lanes) if lanes else None,
            price_breaks=str(price_breaks) if price_breaks else None, options=options,
        )  # fmt: skip
        info(str(summary))
        return

    def path(value: Path | None) -> str | None:
        return None if value is None else str(value)

    with progress("planning") as bar:
        # the inputs are read and validated at once, one thread each (Run.read_all)
        frames = run.read_all(
            [
                (forecast, FORECAST, "forecast"),
                (str(items), ITEMS, "items"),
                (str(inventory), INVENTORY, "inventory"),
                (path(nodes), NODES, "nodes"),
                (path(lanes), LANES, "lanes"),
                (path(seller_limits), SELLER_LIMITS, "seller_limits"),
                (path(price_breaks), PRICE_BREAKS, "price_breaks"),
            ]
        )
        forecast_df, items_df, inventory_df, nodes_df, lanes_df, limits_df, breaks_df = frames
        assert forecast_df is not None and items_df is not None and inventory_df is not None
        result = decide(
            forecast_df,
            items=items_df,
            inventory=inventory_df,
            nodes=nodes_df,
            lanes=lanes_df,
            seller_limits=limits_df,
            price_breaks=breaks_df,
            options=options,
            progress=bar,
        )
    policy_table = [(result.policy, policy_out, BUY_POLICY)] if policy_out is not None else []
    run.write_all([*policy_table, (result.orders, out, BUY_ORDERS)])
    info(str(result.summary))


def _preload(forecast: str) -> None:
    """Import what the plan needs on a second thread while the inputs are read (polars
    reads and validates without holding the GIL): ``scipy.special`` (0.3-0.9 s: the normal
    quantiles) always, numba and its registries when the forecast is large enough for the
    compiled passes (its Parquet footer gives the rows; the plan would load them itself
    later, on the critical path)."""
    if os.environ.get("SCOT_NO_PRELOAD"):
        return
    from scot_cli.buy.demand import COMPILED_FROM

    rows = 0
    if forecast != "-" and Path(forecast).is_file():
        try:
            import pyarrow.parquet as pq

            rows = pq.ParquetFile(forecast).metadata.num_rows
        except Exception:  # not Parquet (or unreadable): the read reports it
            rows = 0

    def load() -> None:
        import scipy.special  # noqa: F401

        if rows >= COMPILED_FROM:
            from scot_cli.buy.kernel import warm

            warm()

    threading.Thread(target=load, name="scot-buy-preload", daemon=True).start()


def _reuse_freed_memory() -> None:
    """Have glibc's malloc keep the memory numpy frees and hand it out again.

    The plan makes many short-lived arrays of a million rows; by default glibc maps each
    large one afresh and unmaps it when freed, so the kernel zeroes its pages every time
    (on 1M skus about half of the process's system CPU time, 12 s to 6 s under load). From
    the heap, with trimming above 2 GiB only, the same pages are reused. Allocation policy
    only: every value is the same. Nothing happens off glibc.

    numpy's own advice to the kernel is turned off too: it asks for transparent huge pages
    on every array of 4 MiB or more, and where the kernel then compacts memory to find one
    (its ``defrag`` setting ``madvise``, a common default) page faults stall; on 1M skus the
    plan's system CPU time went from 2.4-2.9 s to 0.6-0.9 s (the same values).
    """
    if not sys.platform.startswith("linux"):
        return
    _no_huge_page_advice()
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_MAX, 0)
    mallopt(M_TRIM_THRESHOLD, 2**31 - 1)


def _no_huge_page_advice() -> None:
    """Stop numpy's ``madvise(MADV_HUGEPAGE)`` on large arrays (as ``NUMPY_MADVISE_HUGEPAGE=0``
    would at import), unless the user set that variable."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    import numpy as np

    setter = getattr(getattr(np, "_core", None), "multiarray", None)
    advise = getattr(setter, "_set_madvise_hugepage", None)
    if callable(advise):
        advise(False)


#: glibc ``mallopt`` parameters (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4


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


def register(app: typer.Typer) -> None:
    renamed("plan-buy", {"--network": "--nodes"})
    app.command(
        "plan-buy",
        help="Decide what to buy, how much and when, from quantile forecasts.",
        epilog=epilog(EXAMPLE),
    )(plan_buy)
