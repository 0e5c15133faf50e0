"""``scot fixtures``: generate a believable retailer's tables as Parquet files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from ._common import epilog, folder_option, info, seed_option

#: Range of ``--end``: up to ten years of history before it, and the orders, launches,
#: calendar and events after it, stay within the dates every table accepts (1900 to 2199).
EARLIEST_END = dt.date(1911, 1, 1)
LATEST_END = dt.date(2199, 6, 30)


def fixtures(
    out: Path = folder_option(..., "--out", "-o", help="Folder to write the tables into."),
    skus: int = typer.Option(
        80, "--skus", min=2, max=1_000_000, help="Number of SKUs (about 5% are new)."
    ),
    days: int = typer.Option(730, "--days", min=28, max=3_660, help="Days of sales history."),
    orders: int = typer.Option(
        1200, "--orders", min=1, max=10_000_000, help="Orders on the day after history."
    ),
    seed: int = seed_option("Random seed (same seed, same tables).", default=7),
    end: str = typer.Option("2026-10-31", "--end", help="Last day of sales history."),
) -> None:
    """Generate sales, items, events, nodes, lanes, inventory, orders and calendar tables."""
    from scot_cli.errors import UsageError
    from scot_cli.fixtures import FixtureSpec, generate
    from scot_cli.io import Run, write_tables
    from scot_cli.schema import INPUT_TABLES

    try:
        end_date = dt.date.fromisoformat(end)
    except ValueError as exc:
        raise UsageError(f"--end: expected a date like 2026-10-31, got {end!r}") from exc
    if not EARLIEST_END <= end_date <= LATEST_END:
        raise UsageError(
            f"--end: expected a date from {EARLIEST_END} to {LATEST_END} (the history, events "
            f"and orders around it must be real dates), got {end}"
        )
    spec = FixtureSpec(skus=skus, days=days, seed=seed, end=end_date, orders=orders)
    frames = generate(spec)
    run = Run(
        "fixtures", params={"skus": skus, "days": days, "orders": orders, "end": end}, seed=seed
    )
    write_tables(out, frames, run, {t.name: t for t in INPUT_TABLES})
    sizes = ", ".join(f"{k}: {v.height:,} rows" for k, v in frames.items())
    info(f"wrote {len(frames)} tables to {out} ({sizes})")


def register(app: typer.Typer) -> None:
    app.command(
        "fixtures",
        help="Generate a believable retailer's tables (deterministic from --seed).",
        epilog=epilog("scot fixtures --out f --skus 80 --days 730 --seed 7"),
    )(fixtures)
