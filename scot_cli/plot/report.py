"""``report``: one self-contained HTML page for a folder of scot outputs (a demo or a
pipeline's output folder): a picture per output and the runs' summary tables."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scot_cli.errors import InputDataError, ScotError

from .api import draw
from .inputs import KINDS, Table, gather, load
from .options import PlotOptions
from .render import Chart, html_page, render, style

__all__ = ["ReportResult", "ReportSummary", "report"]

#: Tables drawn together with a main table of the same folder (kind -> roles).
_COMPANIONS = {
    "placement": ("coverage",),
    "route": ("routes",),
    "forecast": ("evaluate",),
    "simulate": ("sim_summary",),
}


@dataclass(frozen=True)
class ReportSummary:
    """What the page shows: its charts and the files left out (with why)."""

    charts: tuple[str, ...]
    skipped: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = [f"report: {len(self.charts)} charts ({', '.join(self.charts) or 'none'})"]
        return out + [f"not drawn: {s}" for s in self.skipped]

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True)
class ReportResult:
    """The page (HTML text) and its summary."""

    html: str
    summary: ReportSummary


def report(
    folder: str | Path, *, title: str = "", options: PlotOptions | None = None
) -> ReportResult:
    """One HTML page for the scot outputs in ``folder`` and its sub-folders (one level).

    Parameters
    ----------
    folder
        A folder holding scot outputs (Parquet files with scot provenance).
    title
        The page title (default: ``scot report: <folder name>``).
    options
        What each chart shows (``top`` series, explain ``metric``/``subject``); the format is
        always SVG inside the page.

    Raises
    ------
    InputDataError
        ``folder`` is missing, or holds nothing scot plot draws.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputDataError(f"{folder}: no such folder; give a scot output folder")
    options = (options or PlotOptions()).replace(format="svg", kind=None)
    tables, unread = _tables(root)
    charts, skipped = _charts(root, tables, options)
    if not charts:
        raise InputDataError(
            f"{folder}: no scot output here that scot plot draws "
            f"({', '.join(KINDS)}); run scot demo --out {folder} first"
        )
    blocks = [("Runs", _runs_table(root, tables)), *_summary_blocks(root, tables)]
    page = html_page(
        title or f"scot report: {root.resolve().name}",
        charts,
        subtitle=f"{len(charts)} pictures of the scot outputs in {root.resolve().name}/",
        blocks=blocks,
    )
    return ReportResult(page, ReportSummary(tuple(c.title for c in charts), (*unread, *skipped)))


def _tables(root: Path) -> tuple[list[Table], list[str]]:
    files = sorted(root.glob("*.parquet")) + sorted(root.glob("*/*.parquet"))
    tables, unread = [], []
    for path in files:
        try:
            tables.append(load(path))
        except InputDataError as exc:
            unread.append(exc.message)
    return tables, unread


def _charts(
    root: Path, tables: Sequence[Table], options: PlotOptions
) -> tuple[list[Chart], list[str]]:
    charts: list[Chart] = []
    skipped: list[str] = []
    used: set[int] = set()
    for kind, spec in KINDS.items():
        mains = [t for role in spec.main for t in tables if t.role == role and _scot(t)]
        for main in mains:
            if id(main) in used:
                continue
            group = [main, *_companions(kind, main, tables)]
            used.update(id(t) for t in group)
            name = _relative(root, main)
            try:
                inputs = gather(kind, group)
                fig, lines = draw(inputs, options.replace(kind=kind))
                with style():
                    svg = render(fig, "svg")
            except ScotError as exc:
                skipped.append(f"{name}: {exc.message}")
                continue
            others = ", ".join(_relative(root, t) for t in group[1:])
            caption = "; ".join([*lines, *inputs.notes]) + (f" (with {others})" if others else "")
            charts.append(Chart(f"{kind}: {name}", svg, caption))
    return charts, skipped


def _scot(table: Table) -> bool:
    """A scot output that a kind draws (files without provenance are left out)."""
    return any(table.command in k.commands for k in KINDS.values())


def _companions(kind: str, main: Table, tables: Sequence[Table]) -> list[Table]:
    """Tables of the same folder drawn with ``main`` (a placement's coverage)."""
    folder = Path(main.path or "").parent
    roles = _COMPANIONS.get(kind, ())
    return [
        t
        for t in tables
        if t.role in roles and t is not main and Path(t.path or "").parent == folder
    ][: len(roles)]


def _relative(root: Path, table: Table) -> str:
    try:
        return str(Path(table.path or table.name).relative_to(root))
    except ValueError:
        return table.name


def _runs_table(root: Path, tables: Sequence[Table]) -> str:
    rows = []
    for t in tables:
        prov = t.provenance
        command = f"scot {t.command}" if t.command else "(no provenance)"
        created = str(prov.get("created", ""))
        rows.append(
            (_relative(root, t), command, f"{t.frame.height:,}", str(t.frame.width), created)
        )
    return _html_table(("file", "written by", "rows", "columns", "created"), rows)


def _summary_blocks(root: Path, tables: Sequence[Table]) -> list[tuple[str, str]]:
    """The summary a run recorded in its provenance, one block per run."""
    blocks = []
    seen: set[str] = set()
    for t in tables:
        summary = t.provenance.get("summary")
        if not isinstance(summary, Mapping) or not summary:
            continue
        key = repr(sorted(summary.items(), key=lambda kv: kv[0]))
        if key in seen:
            continue
        seen.add(key)
        rows = [(str(k), _value(v)) for k, v in sorted(summary.items())]
        heading = f"Summary of scot {t.command}: {_relative(root, t)}"
        blocks.append((heading, _html_table(("figure", "value"), rows)))
    return blocks


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, Mapping):
        return "; ".join(f"{k} {_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return str(value)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
