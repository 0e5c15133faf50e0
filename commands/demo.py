"""``scot demo``: the whole chain on the bundled fixtures, with a readable summary."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import typer
from rich.table import Table as RichTable

from scot_cli.errors import ScotError

from ._common import STATE, epilog, folder_option, stdout_console

#: Pipeline steps in order; each command module defines ``demo_step(fixtures, out, invoke)``.
STEPS = ("forecast", "plan_buy", "place", "promise", "route", "explain")


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
    """Run forecast, plan-buy, place, promise, route and explain on the fixtures."""
    if fixtures is not None:
        _check_fixtures(fixtures)
    out.mkdir(parents=True, exist_ok=True)
    src = fixtures or bundled_fixtures()
    if src is None:
        src = out / "fixtures"
        invoke(["fixtures", "--out", str(src)])
    con = stdout_console()
    con.print(f"[bold]scot demo[/]: inputs {src}, outputs {out}")
    table = RichTable("step", "seconds", "summary", title="pipeline", title_justify="left")
    for name in STEPS:
        _run_step(name, src, out, table)
    con.print(table)


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
    try:
        mod = importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.{name}":
            raise
        table.add_row(name.replace("_", "-"), "", "not available in this build")
        return
    start = time.perf_counter()
    lines = mod.demo_step(src, out, invoke)
    table.add_row(name.replace("_", "-"), f"{time.perf_counter() - start:.1f}", "\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command(
        "demo",
        help="Run the whole chain on the bundled fixtures and print a summary (the main job).",
        epilog=epilog("scot demo --out out/demo"),
    )(demo)
