"""``scot explain``: why did a decision change between two runs, and how was one made?"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table as RichTable

from scot_cli.errors import InputDataError, UsageError
from scot_cli.explain.drivers import BY_CHOICES, COMMANDS, FORMATS

from ._common import epilog, output_option, progress, stdout_console

if TYPE_CHECKING:
    import polars as pl

    from scot_cli.explain.compare import RunData
    from scot_cli.explain.report import Report
    from scot_cli.io import Run

By = StrEnum("By", {b: b for b in BY_CHOICES})  # type: ignore[misc]
Format = StrEnum("Format", {f: f for f in FORMATS})  # type: ignore[misc]

_DRIVERS_HELP = "Drivers per command:\n\n" + "\n\n".join(
    f"  {name}: {', '.join(d.name for d in spec.drivers)}" for name, spec in COMMANDS.items()
)


def explain(
    runs: list[str] = typer.Argument(
        ...,
        help="BEFORE AFTER: two outputs of one command; or RUN with --sku/--order.",
        metavar="BEFORE [AFTER]",
    ),
    by: By = typer.Option("sku", "--by", help="Subject of the attribution."),
    metric: list[str] = typer.Option(
        None, "--metric", "-m", help="Output column to explain (repeatable; default: main ones)."
    ),
    top: int = typer.Option(10, "--top", min=1, help="Top movers listed in the report."),
    out: str = output_option(
        "-o", "--output", help="Write the attribution table (Parquet) here; - for stdout."
    ),
    fmt: Format = typer.Option("table", "--format", "-f", help="Report format."),
    report: Path = output_option(
        "--report", help="Write the report to this file (Markdown unless --format)."
    ),
    flags_out: str = output_option(
        "--flags-out", help="Write the data-quality flags table (Parquet) here."
    ),
    before_input: list[str] = typer.Option(
        None, "--before-input", help="ROLE=PATH: the file BEFORE's run read as ROLE."
    ),
    after_input: list[str] = typer.Option(
        None, "--after-input", help="ROLE=PATH: the file AFTER's run read as ROLE."
    ),
    sku: str = typer.Option(None, "--sku", help="With one RUN: the sku of the decision."),
    node: str = typer.Option(None, "--node", help="With one RUN and --sku: the node."),
    order: str = typer.Option(None, "--order", help="With one RUN: the order id."),
) -> None:
    """Decompose the change between two runs into its drivers, or take one decision apart."""
    from scot_cli.io import Run

    params = {
        "runs": runs,
        "by": by.value,
        "metric": metric or [],
        "top": top,
        "format": fmt.value,
        "report": str(report) if report else None,
        "flags_out": flags_out,
        "before_input": before_input or [],
        "after_input": after_input or [],
        "sku": sku,
        "node": node,
        "order": order,
    }
    run = Run("explain", params=params)
    if len(runs) == 1:
        _explain_one(run, runs[0], sku=sku, node=node, order=order)
        return
    if len(runs) != 2:
        raise UsageError(f"expected BEFORE AFTER or one RUN, got {len(runs)} files")
    if sku is not None or order is not None or node is not None:
        raise UsageError("--sku, --node and --order take one RUN; to compare, pass --by instead")
    fmt_name = "md" if report is not None and fmt.value == "table" else fmt.value
    outputs = {"table": out, "report": report, "flags": flags_out}
    _compare(run, runs, by.value, metric, top, outputs, fmt_name, before_input, after_input)


def _compare(
    run: Run,
    runs: list[str],
    by: str,
    metric: list[str] | None,
    top: int,
    outputs: dict[str, Any],
    fmt: str,
    before_input: list[str] | None,
    after_input: list[str] | None,
) -> None:
    from scot_cli.explain.compare import check_comparable, explain_runs
    from scot_cli.explain.report import build_report
    from scot_cli.explain.schema import ATTRIBUTION, FLAGS

    (before, b_meta), (after, a_meta) = (
        _read_output(run, runs[0], "before"),
        _read_output(run, runs[1], "after"),
    )
    check_comparable(b_meta, a_meta, before_name=runs[0], after_name=runs[1])
    before_run = _load_run(run, runs[0], "before", b_meta, before, _overrides(before_input))
    after_run = _load_run(run, runs[1], "after", a_meta, after, _overrides(after_input))
    with progress("explain") as bar:
        expl = explain_runs(before_run, after_run, by=by, metrics=metric, progress=bar)
    out, report = outputs["table"], outputs["report"]
    if out is not None:
        run.write(expl.attribution, out, ATTRIBUTION)
    if outputs["flags"] is not None:
        run.write(expl.flags, outputs["flags"], FLAGS)
    rep = build_report(expl, top=top)
    if report is not None:
        from scot_cli.io import write_text_file

        write_text_file(report, _render(fmt, rep, expl.attribution))
        return
    _emit(rep, expl.attribution, fmt, to_stderr=out == "-")


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
    con.print(_rich(report.movers, "top movers"))
    con.print(_rich(report.drivers, "drivers of the total change"))
    con.print(_rich(report.flags, "data-quality flags"))
    for n in report.notes:
        con.print(f"note: {n}", markup=False, highlight=False)


def _rich(df: pl.DataFrame, title: str) -> RichTable:
    t = RichTable(title=title, title_justify="left")
    for c in df.columns:
        t.add_column(c, overflow="fold", justify="right" if df.schema[c].is_numeric() else "left")
    for row in df.iter_rows():
        t.add_row(*(_cell(v) for v in row))
    if df.height == 0:
        t.add_row(*(["(none)"] + [""] * (df.width - 1)))
    return t


def _cell(v: object) -> str:
    if v is None:
        return ""
    return f"{v:,.6g}" if isinstance(v, float) else str(v)


def _overrides(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        role, sep, path = item.partition("=")
        if not sep or not role or not path:
            raise UsageError(f"expected ROLE=PATH, got {item!r} (e.g. items=old/items.parquet)")
        out[role] = path
    return out


def _read_output(run: Run, path: str, label: str) -> tuple[pl.DataFrame, dict[str, Any]]:
    from scot_cli.explain.provenance import check_params, check_provenance
    from scot_cli.io import read_metadata

    if path == "-":
        raise UsageError(f"{label.upper()} must be a file: explain reads its provenance twice")
    frame = run.read(path, None, role=label)
    meta = check_provenance(read_metadata(path), source=path)
    check_params(str(meta.get("command") or ""), meta.get("params", {}), source=path)
    return frame, meta


def _locate(recorded: str, run_path: str, sha256: str | None) -> tuple[Path | None, bool]:
    """The file a run read: the recorded path, else beside the output (same SHA-256).

    Returns the path (None when no candidate matches) and whether any candidate existed,
    to tell a changed input from a missing one.
    """
    import hashlib

    from scot_cli.io import read_input_bytes

    if recorded == "-":
        return None, False
    p, folder = Path(recorded), Path(run_path).parent
    seen = False
    for candidate in dict.fromkeys((p, folder / p, folder / p.name)):
        if not candidate.is_file():
            continue
        seen = True
        if hashlib.sha256(read_input_bytes(str(candidate))).hexdigest() == sha256:
            return candidate, True
    return None, seen


def _load_run(
    run: Run,
    path: str,
    label: str,
    meta: dict[str, Any],
    output: pl.DataFrame,
    overrides: dict[str, str],
) -> RunData:
    from scot_cli.explain.compare import RunData, role_tables
    from scot_cli.explain.drivers import spec_for

    tables = role_tables(spec_for(str(meta["command"])))
    known = {i["role"] for i in meta.get("inputs", [])}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise UsageError(
            f"--{label}-input {unknown[0]}=...: {path} has no input with that role "
            f"(roles: {', '.join(sorted(known))})"
        )
    inputs, sources = {}, {}
    for item in meta.get("inputs", []):
        role, recorded = item["role"], item["path"]
        given = overrides.get(role)
        where, seen = (Path(given), True) if given else _locate(recorded, path, item.get("sha256"))
        hint = f"pass --{label}-input {role}=PATH with the file that run read"
        if where is None and seen:
            raise InputDataError(
                f"{path}: its {role} input {recorded} changed since that run (SHA-256 differs); "
                f"{hint}"
            )
        if where is None:
            what = "came from stdin" if recorded == "-" else f"{recorded} is no longer on disk"
            raise InputDataError(f"{path}: its {role} input {what}; {hint}")
        inputs[role] = run.read(str(where), tables.get(role), role=f"{label}.{role}")
        sources[role] = str(where)
    return RunData(path, meta["command"], meta.get("params", {}), inputs, output, sources)


def _explain_one(
    run: Run, path: str, *, sku: str | None, node: str | None, order: str | None
) -> None:
    from scot_cli.explain.single import explain_decision, select_rows

    frame, meta = _read_output(run, path, "run")
    if not meta.get("command"):
        raise InputDataError(f"{path}: has no scot provenance (not written by a scot command)")
    rows = select_rows(frame, name=path, sku=sku, node=node, order=order)
    rows, note = _complete(run, path, meta, rows, sku)
    lines = explain_decision(
        str(meta["command"]), rows, meta, constraints=_sibling_constraints(path, meta)
    )
    con = stdout_console()
    for line in [*lines, *([note] if note else [])]:
        con.print(line, markup=False, highlight=False)


def _complete(
    run: Run, path: str, meta: dict[str, Any], rows: pl.DataFrame, sku: str | None
) -> tuple[pl.DataFrame, str]:
    """Add the columns of the full decision (plan-buy: orders and policy) by re-running it.

    The re-run takes that sku's rows only when the decision is separable by sku (no
    shared budget or storage limit); when the run's inputs are gone the row is explained
    as it is, with a note.
    """
    import polars as pl

    from scot_cli.explain.compare import decision_function, sample_units
    from scot_cli.explain.drivers import spec_for

    spec = spec_for(str(meta["command"]))
    if spec is None or not spec.separable or sku is None:
        return rows, ""
    try:
        data = _load_run(run, path, "run", meta, rows, {})
    except InputDataError as exc:
        return rows, f"(explained from the row only: {exc.message})"
    # A coupled decision (a budget shared by all skus) must be re-run on every sku.
    unit = spec.separable_by(data.params)
    inputs = sample_units(data.inputs, unit, units=[sku]) if unit else data.inputs
    full = decision_function(spec)(inputs, data.params)
    keys = [k for k in ("sku", "node") if k in rows.columns and k in full.columns]
    extra = [c for c in full.columns if c not in rows.columns]
    if not keys or not extra:
        return rows, ""
    added = full.select(*keys, *extra).with_columns(pl.col(keys).cast(pl.String))
    return rows.with_columns(pl.col(keys).cast(pl.String)).join(added, on=keys, how="left"), ""


def _sibling_constraints(path: str, meta: dict[str, Any]) -> pl.DataFrame | None:
    """place's constraints table written by the same run, beside the placement file."""
    import polars as pl

    from scot_cli.io import read_metadata

    if meta.get("command") != "place":
        return None
    sibling = Path(path).parent / "constraints.parquet"
    if not sibling.is_file():
        return None
    other = read_metadata(str(sibling))
    same = all(other.get(k) == meta.get(k) for k in ("command", "created", "inputs", "params"))
    return pl.read_parquet(sibling) if same else None


def register(app: typer.Typer) -> None:
    app.command(
        "explain",
        help="Why did a decision change between two runs? Exact driver attribution, or one "
        "decision taken apart in sentences.",
        epilog=epilog(
            "scot explain out/demo/policy.parquet out/demo/scenario/policy.parquet --format md"
            "   (one decision: scot explain out/demo/policy.parquet --sku SKU-00001)",
            more=_DRIVERS_HELP,
        ),
    )(explain)
