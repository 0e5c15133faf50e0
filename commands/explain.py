"""``scot explain``: why did a decision change between two runs, and how was one made?"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from scot_cli.errors import UsageError
from scot_cli.explain.drivers import BY, COMMANDS, FORMATS

from ._common import (
    ENGINE_OPT,
    SCHEDULER_OPT,
    WORKERS_OPT,
    epilog,
    output_option,
    progress,
    renamed,
    rich_table,
    stdout_console,
)

if TYPE_CHECKING:
    import polars as pl

    from scot_cli.explain.report import Report

_DRIVERS_HELP = "Drivers per command: scot explain --help-models; docs/commands/explain.md."


def _show_drivers(value: bool) -> None:
    """``--help-models``: each command's drivers with their descriptions."""
    if not value:
        return
    con = stdout_console()
    for name, spec in COMMANDS.items():
        con.print(f"{name}:", markup=False)
        for d in spec.drivers:
            con.print(f"  {d.name}: {d.description}", markup=False, soft_wrap=True)
    raise typer.Exit()


def explain(
    runs: list[str] = typer.Argument(
        ...,
        help="BEFORE AFTER: two outputs of one command; or RUN with --sku/--order.",
        metavar="BEFORE [AFTER]",
    ),
    by: str | None = typer.Option(
        None, "--by", metavar=BY.synopsis(), help="Subject (default: sku, else node)."
    ),
    metric: list[str] = typer.Option(
        None, "--metric", metavar="NAME", help="Output column to explain (repeatable)."
    ),
    top: int = typer.Option(10, "--top", min=1, help="Top movers in the report."),
    out: str = output_option("-o", "--output", help="Attribution table Parquet (- for stdout)."),
    fmt: str = typer.Option(
        "table", "--format", "-f", metavar=FORMATS.synopsis(), help="Report format."
    ),
    report: Path = output_option("--report", help="Write the report to this file."),
    flags_out: str = output_option("--flags-out", help="Data-quality flags Parquet."),
    before_input: list[str] = typer.Option(
        None, "--before-input", metavar="ROLE=PATH", help="An input of BEFORE's run."
    ),
    after_input: list[str] = typer.Option(
        None, "--after-input", metavar="ROLE=PATH", help="An input of AFTER's run."
    ),
    sku: str = typer.Option(None, "--sku", help="With one RUN: the sku of the decision."),
    node: str = typer.Option(None, "--node", help="With one RUN and --sku: the node."),
    order: str = typer.Option(None, "--order", help="With one RUN: the order id."),
    engine: str = ENGINE_OPT,
    scheduler: str | None = SCHEDULER_OPT,
    workers: int | None = WORKERS_OPT,
    _models: bool = typer.Option(
        False,
        "--help-models",
        callback=_show_drivers,
        is_eager=True,
        expose_value=False,
        help="List each command's drivers and exit.",
    ),
) -> None:
    """Why did a decision change between two runs? Exact driver attribution, or one decision
    taken apart in sentences."""
    from scot_cli.explain.api import ExplainOptions
    from scot_cli.explain.api import explain as run_explain
    from scot_cli.explain.schema import ATTRIBUTION, FLAGS
    from scot_cli.io import Run

    if len(runs) > 2:
        raise UsageError(f"expected BEFORE AFTER or one RUN, got {len(runs)} files")
    FORMATS.check(fmt)
    opt = ExplainOptions(
        by=by,
        metrics=tuple(metric or ()),
        top=top,
        sku=sku,
        node=node,
        order=order,
        before_inputs=_overrides(before_input),
        after_inputs=_overrides(after_input),
    )
    from scot_cli.engine import open_engine, parse_engine

    spec = parse_engine(engine, scheduler=scheduler, workers=workers)
    run = Run("explain", params=opt.params())
    if spec.is_local:
        with progress("explain") as bar:
            result = run_explain(*runs, options=opt, progress=bar)
    else:  # each re-run of the decision a task (docs/scale-out.md)
        eng = open_engine(spec)
        try:
            result = run_explain(*runs, options=opt, engine=eng)
        finally:
            eng.close()
    run.sources.extend(result.sources)
    if result.report is None:
        con = stdout_console()
        for line in [*result.summary.sentences, *result.summary.notes]:
            con.print(line, markup=False, highlight=False)
        return
    if out is not None:
        run.write(result.attribution, out, ATTRIBUTION)
    if flags_out is not None:
        run.write(result.flags, flags_out, FLAGS)
    fmt_name = "md" if report is not None and fmt == "table" else fmt
    if report is not None:
        from scot_cli.io import write_text_file

        write_text_file(report, _render(fmt_name, result.report, result.attribution))
        return
    _emit(result.report, result.attribution, fmt_name, to_stderr=out == "-")


explain.scot_flags = {  # type: ignore[attr-defined]
    "metrics": "--metric",
    "before_inputs": "--before-input",
    "after_inputs": "--after-input",
}


def _render(fmt: str, report: Report, table: pl.DataFrame) -> str:
    from scot_cli.explain.report import to_json, to_markdown

    if fmt == "json":
        return to_json(report)
    if fmt == "csv":
        return table.write_csv()
    return to_markdown(report)


def _emit(report: Report, table: pl.DataFrame, fmt: str, *, to_stderr: bool) -> None:
    con = stdout_console(stderr=to_stderr)
    if fmt != "table":
        text = _render(fmt, report, table)
        con.print(text, markup=False, highlight=False, end="", soft_wrap=True)
        return
    con.print(f"[bold]{report.title}[/]")
    for s in report.sentences:
        con.print(f"- {s}", markup=False, highlight=False)
    con.print(rich_table(_shown(report.movers), "top movers"))
    con.print(rich_table(_shown(report.drivers), "drivers of the total change"))
    con.print(rich_table(_shown(report.flags), "data-quality flags"))
    for n in report.notes:
        con.print(f"note: {n}", markup=False, highlight=False)


def _shown(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with numbers as a person reads them, and one ``(none)`` row when empty."""
    import polars as pl

    if df.height == 0:
        return pl.DataFrame({c: ["(none)" if i == 0 else ""] for i, c in enumerate(df.columns)})
    floats = [c for c, t in df.schema.items() if t.is_float()]
    return df.with_columns(
        pl.col(c).map_elements(lambda v: f"{v:,.6g}", return_dtype=pl.String) for c in floats
    )


def _overrides(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        role, sep, path = item.partition("=")
        if not sep or not role or not path:
            raise UsageError(f"expected ROLE=PATH, got {item!r} (e.g. items=old/items.parquet)")
        out[role] = path
    return out


def register(app: typer.Typer) -> None:
    app.command(
        "explain",
        help=(explain.__doc__ or "").strip(),
        epilog=epilog(
            "scot explain before/policy.parquet after/policy.parquet --format md",
            more=_DRIVERS_HELP,
        ),
    )(explain)
    renamed("explain", {"-m": "--metric"})
