"""The ``scot`` entry point: global options, error handling and command registration."""

from __future__ import annotations

import functools
import math
import os
import re
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import typer

# typer vendors its parser privately and exports none of its exception classes
from typer._click import exceptions as click_exc  # noqa: PLC2701
from typer.core import TyperGroup
from typer.exceptions import TyperException

import scot_cli
from scot_cli.errors import EXIT_OK, EXIT_RUNTIME, ScotError, UsageError
from scot_cli.options import OptionError

from ._common import RENAMED, STATE, DefaultGroup, console, warn

#: Command modules in help order; each defines ``register(app)``.
COMMAND_MODULES = (
    "fixtures",
    "forecast",
    "plan_buy",
    "place",
    "promise",
    "route",
    "simulate",
    "explain",
    "plot",
    "report",
    "demo",
    "check",
    "inspect_cmd",
    "sql",
    "merge",
)
#: The top-level command each module of :data:`COMMAND_MODULES` registers, where its name
#: differs from the module's (a test checks this against the registration).
COMMAND_NAMES = {"plan_buy": "plan-buy", "inspect_cmd": "inspect"}
#: Command modules whose commands run other commands in the same process: a command line
#: naming one of them registers every command.
DRIVERS = ("demo",)


class ScotGroup(TyperGroup):
    """Top-level group: turns every error into one stderr line and a documented exit code.

    Command errors (:class:`ScotError`) keep their code; the parser's own errors (a missing
    or mistyped option) become one ``scot: error:`` line with exit 2; a closed stdout
    (``scot ... | head``) ends quietly with exit 0.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for command in _leaf_commands(self):
            _guard_options(command)
            _name_arguments(command)
            for param in command.params:
                _plain_values(param)
        for command in [self, *_all_commands(self)]:
            _plain_help(command)

    def list_commands(self, ctx: Any) -> list[str]:
        """Commands in :data:`COMMAND_MODULES` order (groups would otherwise come last)."""
        return sorted(self.commands, key=lambda name: _rank(self.commands[name]))

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        args = normalise_args(self, list(sys.argv[1:] if args is None else args))
        run = functools.partial(super().main, args, prog_name, complete_var, **extra)
        if not standalone_mode:
            return run(standalone_mode=False)
        piped = _stdout_identity() != _devnull_identity()
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _show_warning
                code = run(standalone_mode=False)
        except click_exc.NoArgsIsHelpError:
            code = 2  # the help is already printed
        except click_exc.ClickException as exc:
            _error_line(f"scot: error: {usage_line(exc)}")
            code = exc.exit_code
        except typer.Abort:
            console().print("scot: error: aborted", markup=False)
            code = EXIT_RUNTIME
        except SystemExit as exc:
            # rich's answer to a closed stdout (help or a table piped into head): it points
            # stdout at the null device and exits 1; a closed reader is not a failure here.
            if exc.code == EXIT_RUNTIME and (
                (piped and _stdout_identity() == _devnull_identity()) or _click_saw_epipe()
            ):
                code = EXIT_OK
            else:
                raise
        sys.exit(code if isinstance(code, int) else EXIT_OK)

    def invoke(self, ctx: Any) -> Any:
        try:
            return self._invoke(ctx)
        except MemoryError:
            pass  # leaving the handler lets the failed work's memory go before printing
        sys.stderr.write(OUT_OF_MEMORY)
        sys.stderr.flush()
        raise typer.Exit(EXIT_RUNTIME)

    def _invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ScotError as exc:
            if STATE.nested:
                raise
            if STATE.debug:
                traceback.print_exc()
            _error_line(f"scot: error: {exc.message}")
            raise typer.Exit(exc.exit_code) from exc
        except BrokenPipeError as exc:
            _silence_stdout()
            raise typer.Exit(0) from exc
        except (typer.Exit, typer.Abort, TyperException, MemoryError):
            # The parser's own errors (bad option values, exit 2), explicit exits, and a
            # failed allocation (reported by invoke once its memory is freed).
            raise
        except Exception as exc:
            signalled = _interruption(exc)
            if signalled is not None:
                # a signal handled inside a native call (numba, a solver) comes back wrapped
                raise signalled from None
            if STATE.debug:
                raise
            _error_line(_unexpected(exc))
            raise typer.Exit(EXIT_RUNTIME) from exc


#: Global options, accepted after the subcommand too (``scot forecast ... -q``).
GLOBAL_FLAGS = ("-q", "--quiet", "--debug")


def normalise_args(group: Any, args: list[str]) -> list[str]:
    """The command line as the parser wants it: global flags given after the subcommand
    moved before it, and renamed options (kept one release as hidden aliases) replaced by
    their new names with a deprecation warning."""
    path, leaf, start = _find_command(group, args)
    if leaf is None:
        return args
    renamed = RENAMED.get(" ".join(path), {})
    takes_value = {
        opt
        for p in leaf.params
        if getattr(p, "param_type_name", "") == "option" and not getattr(p, "is_flag", False)
        for opt in p.opts
    }
    front: list[str] = []
    rest: list[str] = []
    i = start
    while i < len(args):
        token = args[i]
        if token == "--":
            rest += args[i:]
            break
        name, eq, value = token.partition("=")
        if name in renamed and name not in takes_value:
            warn(f"{name} is deprecated and will be removed; use {renamed[name]}")
            token = renamed[name] + eq + value
            name = renamed[name]
        if token in GLOBAL_FLAGS and token not in takes_value:
            front.append(token)
            i += 1
            continue
        rest.append(token)
        if name in takes_value and not eq and i + 1 < len(args):
            rest.append(args[i + 1])
            i += 1
        i += 1
    return [*front, *args[:start], *rest]


def _find_command(group: Any, args: list[str]) -> tuple[list[str], Any, int]:
    """The subcommand path named by ``args``, its leaf command and the index after it."""
    path: list[str] = []
    node = group
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += 1  # global options before the subcommand
    while hasattr(node, "commands") and i < len(args) and args[i] in node.commands:
        path.append(args[i])
        node = node.commands[args[i]]
        i += 1
    if hasattr(node, "commands"):  # a group run by its default subcommand
        default = getattr(node, "default_command", None)
        if default is None or default not in node.commands:
            return path, None, i
        node = node.commands[default]
    return path, (node if path else None), i


def _unexpected(exc: Exception) -> str:
    """The line for an exception no command raised on purpose: a full disk, or a bug."""
    from scot_cli.io import storage_failure

    reason = storage_failure(exc)
    if reason:
        where = getattr(exc, "filename", None) or "output"
        return f"scot: error: {where}: cannot write ({reason}); free space or write elsewhere"
    return (
        f"scot: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)"
    )


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """A library's warning (numpy's overflow, say) as one ``scot: warning:`` line; where it
    came from only with --debug."""
    where = f" ({filename}:{lineno})" if STATE.debug else ""
    _error_line(f"scot: warning: {category.__name__}: {message}{where}")


def _error_line(text: str) -> None:
    """``text`` on stderr as one line (messages from libraries may hold line breaks)."""
    console().print(" ".join(text.split()), markup=False, soft_wrap=True)


def _interruption(exc: BaseException) -> Interrupted | None:
    """The :class:`Interrupted` that ``exc`` was raised from, or one for a signal received
    while a library turned it into its own error (DuckDB's "Query interrupted")."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, Interrupted):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return Interrupted(RECEIVED[-1]) if RECEIVED else None


def usage_line(exc: click_exc.ClickException) -> str:
    """One line for a parser error: the command, what is wrong with which option, the fix."""
    ctx = getattr(exc, "ctx", None)
    path = _command_path(ctx)
    where = path.removeprefix("scot").strip()
    if isinstance(exc, click_exc.MissingParameter) and exc.param is not None:
        param = exc.param
        what = (
            f"missing option {' / '.join(param.opts)}"
            if param.param_type_name == "option"
            else f"missing argument {str(param.name).upper()}"
        )
        described = str(getattr(param, "help", "") or "").strip().rstrip(".")
        message = f"{what} ({described})" if described else what
        fix = f"add it (see '{path} --help')"
    else:
        message = exc.format_message().strip().rstrip(".").replace("Value error, ", "")
        message = " ".join(message.split())
        fix = f"see '{path} --help'"
    prefix = f"{where}: " if where else ""
    return f"{prefix}{message}; {fix}"


def _command_path(ctx: Any) -> str:
    """The command path a user typed: ``scot forecast``, not the hidden ``scot forecast run``."""
    if ctx is None:
        return "scot"
    parent = ctx.parent
    if (
        parent is not None
        and isinstance(parent.command, DefaultGroup)
        and ctx.info_name == parent.command.default_command
    ):
        return str(parent.command_path)
    return str(ctx.command_path)


def _rank(command: Any) -> int:
    """Where ``command`` (or a group's first command) comes in :data:`COMMAND_MODULES`."""
    leaf = next(iter(_leaf_commands(command)), None) if hasattr(command, "commands") else command
    module = getattr(getattr(leaf, "callback", None), "__module__", "").rpartition(".")[2]
    return COMMAND_MODULES.index(module) if module in COMMAND_MODULES else len(COMMAND_MODULES)


def _name_arguments(command: Any) -> None:
    """Show positional arguments by their upper-case name (``SALES``) in usage and help."""
    for param in command.params:
        if param.param_type_name == "argument" and param.metavar is None:
            param.metavar = str(param.name).upper()


#: A decimal integer as written, that any integer parser reads the same way.
PLAIN_INT = re.compile(r"0|[1-9][0-9]{0,17}")


class PlainValue:
    """The value of an option as the parser's own coercion gives it, for the values that need
    no checking beyond a bound: no value, a string as typed for a ``str`` option, a plain
    decimal integer within the option's ``min``/``max`` for an ``int`` one. Any other value
    (a path, a sign, spaces, a bound crossed: the cases with an error message) goes to the
    parser's coercion, built then.

    The parser builds a Pydantic type adapter per option as it reads the command line, which
    imports Pydantic: about a tenth of a second of a ``scot forecast`` run (issue 12's speed
    target), for values that are copied through.
    """

    def __init__(self, descriptor: Any) -> None:
        self.descriptor = descriptor
        self.full: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        info = self.descriptor.parameter_info
        kind = self.descriptor.annotation
        if value is None:
            return None
        if kind is str and type(value) is str:
            return value
        number = value if type(value) is int else None
        if kind is int and type(value) is str and PLAIN_INT.fullmatch(value):
            number = int(value)
        if (
            kind is int
            and number is not None
            and (info.min is None or number >= info.min)
            and (info.max is None or number <= info.max)
        ):
            return number
        if self.full is None:
            from typer._coercion import build_runtime_param  # noqa: PLC2701

            self.full = build_runtime_param(self.descriptor)
        return self.full.coerce(value, param=param, ctx=ctx)


def _plain_values(param: Any) -> None:
    """Give a single-valued parameter with no parser of its own the :class:`PlainValue`
    coercion (left as it is when the parser's internals differ)."""
    descriptor = getattr(param, "type_descriptor", None)
    info = getattr(descriptor, "parameter_info", None)
    if (
        info is None
        or getattr(param, "_runtime_param", False) is not None
        or param.multiple
        or param.nargs != 1
        or getattr(info, "parser", True) is not None
        or getattr(info, "clamp", True)
    ):
        return
    param._runtime_param = PlainValue(descriptor)


def _plain_help(command: Any) -> None:
    """Give ``command``'s help option (made when first asked for) :func:`_plain_values`."""
    made = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = made(ctx)
        if option is not None:
            _plain_values(option)
        return option

    command.get_help_option = get_help_option


def _all_commands(group: Any) -> Iterator[Any]:
    for command in group.commands.values():
        yield command
        if hasattr(command, "commands"):
            yield from _all_commands(command)


def _leaf_commands(group: Any) -> Iterator[Any]:
    for command in group.commands.values():
        if hasattr(command, "commands"):
            yield from _leaf_commands(command)
        else:
            yield command


#: Printed when memory runs out: built in advance, as formatting could fail too.
OUT_OF_MEMORY = (
    "scot: error: out of memory; split the input (fewer skus or dates), lower the options that "
    "size the work (--batch-size, --horizon), or use a machine with more memory\n"
)
#: Largest ``--seed`` (the random generators of every command take 32-bit seeds).
MAX_SEED = 2**32 - 1
#: Largest integer option (what a 64-bit integer holds).
MAX_INT = 2**63 - 1


def _guard_options(command: Any) -> None:
    """Check what every command shares before it runs: NaN and infinite values of every
    numeric option, integers beyond 64 bits, a ``--seed`` outside 0..MAX_SEED, and an output
    file that is one of the run's input files or another output of it.

    Ranges are declared on each option (``min=``/``max=``) or checked first thing in the
    command; the parser lets ``nan`` and ``inf`` through a float option, and no option of
    scot means them.
    """
    callback = command.callback
    if callback is None or getattr(callback, "_scot_guarded", False):
        return
    flags = {p.name: max(p.opts, key=len) if p.opts else str(p.name) for p in command.params}
    flags.update(getattr(callback, "scot_flags", {}))
    outputs = [p.name for p in command.params if getattr(p.callback, "scot_output", False)]

    @functools.wraps(callback)
    def guarded(**kwargs: Any) -> Any:
        for name, value in kwargs.items():
            flag = flags.get(name, name)
            if isinstance(value, float) and not math.isfinite(value):
                raise UsageError(f"{flag}: expected a finite number, got {value}")
            if name == "seed" and isinstance(value, int) and not 0 <= value <= MAX_SEED:
                raise UsageError(f"{flag}: expected an integer from 0 to {MAX_SEED}, got {value}")
            if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
                raise UsageError(f"{flag}: expected an integer of at most 2^63-1, got {value}")
        _check_distinct_files(kwargs, outputs, flags)
        try:
            return callback(**kwargs)
        except OptionError as exc:
            # the library names the options field; the user typed a flag
            flag = flags.get(exc.field) or "--" + exc.field.replace("_", "-")
            raise UsageError(f"{flag}: {exc.reason}") from exc

    guarded._scot_guarded = True  # type: ignore[attr-defined]
    command.callback = guarded


def _check_distinct_files(
    kwargs: dict[str, Any], outputs: list[str], flags: dict[str, str]
) -> None:
    """An output may not be one of the run's input files (it would be overwritten) nor
    another of its outputs (one would overwrite the other)."""
    written: list[tuple[str, Path]] = []
    for name in outputs:
        value = kwargs.get(name)
        if value is None or str(value) == "-":
            continue
        out = Path(str(value))
        for other, earlier in written:
            if _same_path(out, earlier):
                raise UsageError(
                    f"{flags[name]} {value}: also given to {flags[other]}; write each output "
                    "to its own file"
                )
        written.append((name, out))
        if not out.exists():
            continue
        for name_in, given in kwargs.items():
            if name_in in outputs:
                continue
            for path in _paths(given):
                if path.exists() and _same_path(path, out):
                    raise UsageError(
                        f"{flags[name]} {value}: is an input of this run "
                        f"({flags.get(name_in, name_in)}); write the output elsewhere"
                    )


def _paths(value: Any) -> list[Path]:
    """The file paths an option value names (``ROLE=PATH`` items give their path)."""
    items = value if isinstance(value, list | tuple) else [value]
    found = []
    for item in items:
        if isinstance(item, Path):
            found.append(item)
        elif isinstance(item, str) and item not in ("", "-"):
            found.append(Path(item.partition("=")[2] or item) if "=" in item else Path(item))
    return found


def _same_path(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _click_saw_epipe() -> bool:
    """The parser's answer to a closed stdout while printing help: it wraps stdout in its
    pacifier and exits 1."""
    from typer._click.utils import PacifyFlushWrapper  # noqa: PLC2701

    return isinstance(sys.stdout, PacifyFlushWrapper)


def _stdout_identity() -> tuple[int, int] | None:
    try:
        st = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return st.st_dev, st.st_ino


def _devnull_identity() -> tuple[int, int]:
    st = os.stat(os.devnull)
    return st.st_dev, st.st_ino


def _silence_stdout() -> None:
    """After a closed pipe (``scot ... | head``), send further output to /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


class ScotApp(typer.Typer):
    """The ``scot`` app, whose command modules are imported when its commands are first
    read: all of them, unless :func:`main` has registered the one its command line names
    (:meth:`register`), so that a run imports no other command's module."""

    def __init__(self, **kwargs: Any) -> None:
        self.pending = True
        super().__init__(**kwargs)

    @property  # type: ignore[override]
    def registered_commands(self) -> list[Any]:
        if self.pending:
            self.register(COMMAND_MODULES)
        return self._commands

    @registered_commands.setter
    def registered_commands(self, value: list[Any]) -> None:
        self._commands = value

    @property  # type: ignore[override]
    def registered_groups(self) -> list[Any]:
        if self.pending:
            self.register(COMMAND_MODULES)
        return self._groups

    @registered_groups.setter
    def registered_groups(self, value: list[Any]) -> None:
        self._groups = value

    def register(self, modules: Sequence[str]) -> None:
        """Import the command ``modules`` (names of :data:`COMMAND_MODULES`) and register
        their commands; the first call decides."""
        if not self.pending:
            return
        self.pending = False
        from scot_cli.registry import optional_module

        for name in modules:
            mod = optional_module(f"{__package__}.{name}")
            if mod is not None:
                mod.register(self)


def named_modules(args: Sequence[str]) -> tuple[str, ...]:
    """The command modules a command line needs: the one of the command it names (after
    the global options), every one when it names none, an unknown one, or a driver (or
    when an option such as ``--help`` comes before the command)."""
    i = 0
    while i < len(args) and args[i] in GLOBAL_FLAGS:
        i += 1
    if i < len(args):
        for module in COMMAND_MODULES:
            if COMMAND_NAMES.get(module, module) == args[i] and module not in DRIVERS:
                return (module,)
    return COMMAND_MODULES


app = ScotApp(
    name="scot",
    cls=ScotGroup,
    help="Composable supply-chain decision tools over Parquet: forecast, buy, place, promise, "
    "route, explain.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    # help fills a 100-column terminal (the parser's default stops at 80)
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"scot {scot_cli.__version__}")
        except BrokenPipeError:
            _silence_stdout()
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


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived: unwind (removing temporary files) and die of the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: Signals received by this process (a library may swallow the exception the handler raised).
RECEIVED: list[int] = []


def _interrupt(signum: int, _frame: Any) -> None:
    RECEIVED.append(signum)
    raise Interrupted(signum)


def install_signal_handlers() -> Callable[[], None]:
    """Turn SIGTERM and SIGINT into :class:`Interrupted`; returns a function restoring the
    previous handlers."""
    previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for s, handler in previous.items():
            signal.signal(s, handler)

    return restore


def die_of(signum: int) -> None:
    """Remove live temporaries, then end the process by ``signum`` with its default action,
    so that the caller sees the signal (exit status 128 + signum in a shell)."""
    from scot_cli.io import remove_live_temps

    remove_live_temps()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


#: OpenBLAS starts a thread per core when NumPy is imported (tens of ms of each command's
#: start-up) and splits long dot products between them, so their last bits depend on the
#: machine's core count. scot's BLAS calls are few and small; its parallel work runs in its
#: own threads (numba, polars, HiGHS) or worker processes. One BLAS thread, unless the user
#: chose otherwise: faster start-up, and the same bits on every machine.
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1"}


def main() -> None:
    """Console-script entry point."""
    for name, value in BLAS_THREADS.items():  # before anything imports NumPy
        os.environ.setdefault(name, value)
    install_signal_handlers()
    app.register(named_modules(sys.argv[1:]))
    try:
        app()
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(0)
    except Interrupted as exc:
        die_of(exc.signum)
