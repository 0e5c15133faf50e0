"""What every command shares: consoles, progress, help text, output options, default
subcommands."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from scot_cli.schema import Table

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console
    from rich.table import Table as RichTable


@dataclass
class State:
    """Global options, set once by the top-level callback."""

    quiet: bool = False
    debug: bool = False
    #: A command run inside another (the demo's steps): its errors go up to the caller.
    nested: bool = False


STATE = State()

#: Renamed options, kept one release as hidden aliases: command path -> {old: new}.
#: A command module registers its own with :func:`renamed`.
RENAMED: dict[str, dict[str, str]] = {}


def renamed(command: str, mapping: dict[str, str]) -> None:
    """Accept the old option names of ``command`` (``"plan-buy"``, ``"route last-mile"``)
    for one release: they are rewritten to the new names with a deprecation warning."""
    RENAMED.setdefault(command, {}).update(mapping)


# rich is imported when a console is first wanted: a quiet run writing a file (a cron job,
# each step of a pipeline) prints nothing and does not pay for its import.


def console() -> Console:
    """A console on stderr; rich honours NO_COLOR and plain output when not a terminal."""
    from rich.console import Console

    return Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")), highlight=False)


def stdout_console(*, stderr: bool = False) -> Console:
    """A console for a report: stdout (stderr when ``stderr``), ``NO_COLOR`` honoured.

    rich answers a closed stdout by exiting 1; ``scot ... | head`` is no failure, so this
    console's error goes up to the entry point, which ends quietly with exit 0.
    """
    from rich.console import Console

    class _StdoutConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _StdoutConsole(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")), highlight=False)


def rich_table(df: pl.DataFrame, title: str) -> RichTable:
    """``df`` as a table for a person to read: every value as text, nulls blank."""
    from rich.table import Table as RichTable

    table = RichTable(title=title, title_justify="left")
    for c in df.columns:
        table.add_column(c, overflow="fold")
    for row in df.iter_rows():
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


def info(message: str) -> None:
    """A message for a person, on stderr; silenced by --quiet."""
    if not STATE.quiet:
        console().print(message, markup=False, soft_wrap=True)


def warn(message: str) -> None:
    """A warning on stderr; shown even with --quiet."""
    console().print(f"scot: warning: {message}", markup=False, style="yellow", soft_wrap=True)


ProgressFn = Callable[[int, int], None]


@contextlib.contextmanager
def progress(description: str) -> Iterator[ProgressFn | None]:
    """Yield a ``(done, total)`` callback drawing a bar, or None off a terminal or with --quiet."""
    if STATE.quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(console=console(), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def epilog(example: str, tables: Sequence[Table] = (), *, more: str = "") -> str:
    """Help epilog: required input columns from the schema, then a runnable example."""
    parts = []
    if tables:
        cols = "\n\n".join(f"  {t.help_columns()}" for t in tables)
        parts.append(f"Input columns (optional in brackets):\n\n{cols}")
    if more:
        parts.append(more)
    parts.append(f"Example:\n\n  {example}")
    return "\n\n".join(parts)


def output_option(*decls: str, help: str, stdout: bool = False) -> Any:
    """An output file option, checked as it is parsed, before any work: its folder exists
    and it is not a folder; ``-`` (and no value, when ``stdout``) means stdout, refused on
    a terminal for binary output."""

    def check(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
        from scot_cli.io import check_output

        if not ctx.resilient_parsing:
            path = None if value is None else str(value)
            check_output(path, option=param.opts[0] if param.opts else "-o", stdout=stdout)
        return value

    check.scot_output = True  # type: ignore[attr-defined]  # found by the entry point's guard
    return typer.Option(None, *decls, help=help, callback=check)


def folder_option(default: Any, *decls: str, help: str) -> Any:
    """An output folder option (created when missing), refused at parse time when it names
    a file."""

    def check(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
        from scot_cli.io import check_output_folder

        if not ctx.resilient_parsing and value is not None:
            check_output_folder(str(value), option=param.opts[0] if param.opts else "--out")
        return value

    check.scot_folder = True  # type: ignore[attr-defined]  # shown as DIR in the docs
    return typer.Option(default, *decls, help=help, callback=check)


def parse_floats(text: str, *, option: str) -> list[float]:
    """Parse a comma-separated list of numbers for an option, or fail as a usage error."""
    from scot_cli.errors import UsageError

    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise UsageError(f"{option}: expected comma-separated numbers, got {text!r}") from exc


class DefaultGroup(TyperGroup):
    """A group that runs its default command when the first argument is not a subcommand.

    ``scot forecast SALES ...`` runs the default command while ``scot forecast evaluate ...``
    runs the subcommand. ``scot forecast --help`` shows the default command's help under
    the group's name (``Usage: scot forecast ...``) with the other subcommands listed.
    """

    default_command = "run"

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and _asks_help(ctx, args):
            args = [a for a in args if a in ctx.help_option_names][:1]
        elif not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = [self.default_command, *args]
        return list(super().parse_args(ctx, args))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        cmd = self.commands[self.default_command]
        with ctx.scope(cleanup=False):
            sub = cmd.make_context(ctx.info_name, [], parent=ctx.parent, resilient_parsing=True)
            cmd.format_usage(sub, formatter)
            cmd.format_help_text(sub, formatter)
            cmd.format_options(sub, formatter)
            others = [
                (name, c.get_short_help_str(limit=formatter.width))
                for name, c in self.commands.items()
                if name != self.default_command and not c.hidden
            ]
            if others:
                with formatter.section("Commands"):
                    formatter.write_dl(others)
            cmd.format_epilog(sub, formatter)


def _asks_help(ctx: Any, args: list[str]) -> bool:
    """Whether ``args`` (before any ``--``) hold a help flag."""
    before = args[: args.index("--")] if "--" in args else args
    return any(a in ctx.help_option_names for a in before)


def default_group(name: str, help_text: str) -> typer.Typer:
    """A typer sub-app whose default command is ``run``."""
    return typer.Typer(
        name=name, help=help_text, cls=DefaultGroup, no_args_is_help=False, add_completion=False
    )


# Options every command declares the same way: one name per input, one help text.

#: Input table -> help text of its option (``--nodes``, ``--lanes``, ...).
TABLE_HELP: dict[str, str] = {
    "items": "Item master Parquet (lead times, costs, service levels).",
    "inventory": "Stock per sku and node Parquet.",
    "nodes": "Network nodes Parquet (FCs, stations, regions).",
    "lanes": "Lanes Parquet (transit, cost, trucks, schedules).",
    "receipts": "Open purchase orders Parquet (scot plan-buy's output): sku, arrival_date, qty.",
    "calendar": "Node calendar Parquet (closed days, capacity changes).",
    "events": "Events Parquet (promotions, holidays) for event lifts.",
    "orders": "Customer order lines Parquet.",
}


def table_option(table: str, *, required: bool = False, help: str | None = None) -> Any:
    """The option of an input table, named after it (``--nodes``) in every command."""
    text = help or TABLE_HELP[table]
    return typer.Option(... if required else None, f"--{table}", help=text)


def seed_option(help: str = "Random seed (same seed, same output).", *, default: int = 0) -> Any:
    """``--seed``: 0 by default, checked to 0..2^32-1 by the entry point."""
    return typer.Option(default, "--seed", help=help)


def time_limit_option(default: float, help: str = "Seconds for the solver.") -> Any:
    """``--time-limit`` in seconds (at most a day)."""
    return typer.Option(default, "--time-limit", min=0.0, max=86_400.0, help=help)


def choice_option(registry: Any, default: str | None, *decls: str, help: str) -> Any:
    """An option choosing one name of a :class:`scot_cli.registry.Registry`: its names are
    the metavar, its descriptions are in ``--help-models`` (the value is checked by the
    options object, which names the field)."""
    metavar = registry.synopsis() if len(registry) <= 6 else "NAME"
    more = "" if len(registry) <= 6 else f" One of {', '.join(registry)}."
    return typer.Option(default, *decls, metavar=metavar, help=f"{help}{more} See --help-models.")


def help_models_option(*registries: Any) -> Any:
    """``--help-models``: print each registry's choices with their descriptions and exit."""

    def show(value: bool) -> None:
        if not value:
            return
        con = stdout_console()
        for i, registry in enumerate(registries):
            if i:
                con.print()
            con.print(f"--{registry.field.replace('_', '-')}:", markup=False)
            for line in registry.describe().splitlines():
                con.print(f"  {line}", markup=False, soft_wrap=True)
        raise typer.Exit()

    return typer.Option(
        False,
        "--help-models",
        callback=show,
        is_eager=True,
        expose_value=False,
        help="Describe every model, policy or method choice and exit.",
    )


# Scale-out (docs/scale-out.md): where partitions run, and which shard of the skus this run
# computes. --scheduler, --workers and --partition-by work but stay out of --help.

ENGINE_OPT: Any = typer.Option(
    "local", "--engine", metavar="ENGINE", help="local|dask|dask:N|tcp://ADDRESS (scale-out)."
)
SHARD_OPT: Any = typer.Option(
    None, "--shard", metavar="i/N", help="Compute shard i of N only; join with scot merge."
)
SCHEDULER_OPT: Any = typer.Option(None, "--scheduler", hidden=True, help="Dask scheduler.")
WORKERS_OPT: Any = typer.Option(None, "--workers", hidden=True, help="Local Dask workers.")
PARTITION_BY_OPT: Any = typer.Option(
    None, "--partition-by", hidden=True, help="Dataset output: COL=value folders (sku_hash)."
)


@dataclass(frozen=True)
class Scale:
    """The parsed scale-out options of a command."""

    engine: Any
    shard: Any
    partition_by: str | None
    #: The output is a dataset folder (``-o out/``, an existing folder or --partition-by).
    dataset: bool = False

    @property
    def active(self) -> bool:
        """Whether the command leaves its plain local path."""
        return not self.engine.is_local or self.shard is not None or self.dataset


def scale(
    engine: str,
    shard: str | None,
    scheduler: str | None,
    workers: int | None,
    partition_by: str | None,
    out: str | None = None,
) -> Scale:
    """Parse the scale-out options (a usage error names the option)."""
    from scot_cli.engine import parse_engine, parse_shard
    from scot_cli.io.dataset import is_dataset_output

    spec = parse_engine(engine, scheduler=scheduler, workers=workers)
    dataset = is_dataset_output(out, partition_by)
    return Scale(spec, parse_shard(shard), partition_by, dataset)
