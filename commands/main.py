"""The ``scot`` entry point: global options, error handling and command registration."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from scot_cli import __version__
from scot_cli.errors import EXIT_RUNTIME, ScotError

from ._common import STATE, console

#: Command modules in help order; each defines ``register(app)``.
COMMAND_MODULES = (
    "fixtures",
    "forecast",
    "plan_buy",
    "place",
    "promise",
    "route",
    "explain",
    "demo",
    "check",
    "inspect_cmd",
    "sql",
)


class ScotGroup(TyperGroup):
    """Top-level group: turns scot errors into one stderr line and an exit code."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ScotError as exc:
            if STATE.debug:
                traceback.print_exc()
            console().print(f"scot: error: {exc.message}", markup=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from exc
        except BrokenPipeError as exc:
            _silence_stdout()
            raise typer.Exit(0) from exc
        except (typer.Exit, typer.Abort, TyperException):
            # The parser's own errors (bad option values, exit 2) and explicit exits.
            raise
        except Exception as exc:
            if STATE.debug:
                raise
            console().print(
                f"scot: internal error: {type(exc).__name__}: {exc} (rerun with --debug for "
                "the traceback)",
                markup=False,
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_RUNTIME) from exc


def _silence_stdout() -> None:
    """After a closed pipe (``scot ... | head``), send further output to /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


app = typer.Typer(
    name="scot",
    cls=ScotGroup,
    help="Composable supply-chain decision tools over Parquet: forecast, buy, place, promise, "
    "route, explain.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"scot {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors and warnings."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Composable supply-chain decision tools over Parquet."""
    STATE.quiet = quiet
    STATE.debug = debug


def _register() -> None:
    for name in COMMAND_MODULES:
        full = f"{__package__}.{name}"
        try:
            mod = importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:
                raise
            continue
        mod.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(0)
