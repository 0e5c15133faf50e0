"""The readable report: headline change, the drivers that sum to it, top movers, flags.

:func:`build_report` picks the pieces from an :class:`Explanation`; the command
renders them with rich, and :func:`to_markdown` / :func:`to_json` render them as
text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl

from scot_cli.explain.compare import Explanation
from scot_cli.explain.engine import ALL, NOT_REPRODUCED

_PLURAL = {"sku": "skus", "category": "categories", "node": "nodes", "order": "orders"}
#: A contribution this small relative to the subject's values is shown as none.
_ZERO = 1e-9


@dataclass(frozen=True)
class Report:
    """Report pieces as small frames, plus sentences."""

    title: str
    headline: pl.DataFrame
    drivers: pl.DataFrame
    movers: pl.DataFrame
    flags: pl.DataFrame
    sentences: tuple[str, ...]
    notes: tuple[str, ...]


def _negligible() -> pl.Expr:
    scale = pl.max_horizontal(pl.col("before").abs(), pl.col("after").abs(), pl.lit(1.0))
    return pl.col("contribution").abs() <= _ZERO * scale


def _signed(x: float) -> str:
    return f"{x:+,.6g}"


def _num(x: float) -> str:
    return f"{x:,.6g}"


def build_report(expl: Explanation, *, top: int = 10) -> Report:
    """Assemble the report of an explanation.

    Parameters
    ----------
    expl
        Result of :func:`~scot_cli.explain.compare.explain_runs`.
    top
        Subjects listed among the top movers, per metric.
    """
    t = expl.attribution
    total = t.filter(pl.col("subject") == ALL)
    headline = total.group_by("metric", maintain_order=True).agg(
        pl.col("before").first(), pl.col("after").first(), pl.col("delta").first()
    )
    drivers = (
        total.filter(~(_negligible() & (pl.col("driver") == NOT_REPRODUCED)))
        .select(
            "metric", "driver", "contribution", (pl.col("share") * 100).round(1).alias("share %")
        )
        .sort(["metric", pl.col("contribution").abs()], descending=[False, True])
    )
    movers = _movers(t.filter(pl.col("subject") != ALL), top)
    title = (
        f"scot explain: {expl.command}, by {expl.by} "
        f"({len(expl.groups)} changed driver groups, {expl.mixes} mixes, "
        f"{expl.evaluations} evaluations of the decision)"
    )
    notes = list(expl.notes)
    gap = t.filter((pl.col("driver") == NOT_REPRODUCED) & ~_negligible())
    if gap.height:
        metrics = ", ".join(gap["metric"].unique(maintain_order=True))
        notes.append(
            f"re-running {expl.command} on the recorded inputs does not reproduce the files "
            f"({metrics}; {gap['subject'].n_unique()} subject(s)): the command changed since "
            "they were written, it is not deterministic, or an optimisation has ties (equally "
            "good solutions); the gap is the driver 'not reproduced by re-run'."
        )
    return Report(
        title=title,
        headline=headline,
        drivers=drivers,
        movers=movers,
        flags=expl.flags,
        sentences=tuple(
            _sentence(h, drivers, expl.by, rate=h["metric"] in expl.rates)
            for h in headline.iter_rows(named=True)
        ),
        notes=tuple(notes),
    )


def _movers(t: pl.DataFrame, top: int) -> pl.DataFrame:
    ranked = t.filter(~_negligible()).sort(
        ["metric", "subject", pl.col("contribution").abs()], descending=[False, False, True]
    )
    text = pl.concat_str(
        pl.col("driver"),
        pl.lit(" "),
        pl.col("contribution").map_elements(_signed, return_dtype=pl.String),
    )
    top_drivers = ranked.group_by("metric", "subject").agg(
        text.head(3).str.join("; ").alias("main drivers")
    )
    subjects = t.group_by("metric", "subject").agg(
        pl.col("before").first(), pl.col("after").first(), pl.col("delta").first()
    )
    scale = pl.max_horizontal(pl.col("before").abs(), pl.col("after").abs(), pl.lit(1.0))
    return (
        subjects.filter(pl.col("delta").abs() > _ZERO * scale)
        .join(top_drivers, on=["metric", "subject"], how="left")
        .sort(["metric", pl.col("delta").abs(), "subject"], descending=[False, True, False])
        .group_by("metric", maintain_order=True)
        .head(top)
        .select("metric", "subject", "before", "after", "delta", "main drivers")
    )


def _sentence(
    h: dict[str, float | str], drivers: pl.DataFrame, by: str, *, rate: bool = False
) -> str:
    """One headline sentence; a rate's change reads in percentage points."""
    metric = str(h["metric"])
    before, after, delta = float(h["before"]), float(h["after"]), float(h["delta"])
    if delta == 0:
        return f"{metric} (all {_PLURAL.get(by, by)}) did not change: {_num(before)}."
    verb = "rose" if delta > 0 else "fell"
    pct = f", {100 * delta:+.2f} points" if rate else (f", {delta / before:+.1%}" if before else "")
    parts = [
        f"{d} {_signed(c)}"
        for d, c in drivers.filter(pl.col("metric") == metric)
        .select("driver", "contribution")
        .iter_rows()
        if c != 0
    ]
    return (
        f"{metric} (all {_PLURAL.get(by, by)}) {verb} from {_num(before)} to {_num(after)} "
        f"({_signed(delta)}{pct}); drivers: {', '.join(parts) or 'none'}."
    )


def _md_table(df: pl.DataFrame) -> list[str]:
    if df.height == 0:
        return ["(none)"]
    head = "| " + " | ".join(df.columns) + " |"
    rule = "|" + "---|" * df.width
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in df.iter_rows()]
    return [head, rule, *rows]


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return _num(v)
    return str(v).replace("|", "\\|")


def to_markdown(report: Report) -> str:
    """The report as Markdown."""
    lines = [f"# {report.title}", "", *(f"- {s}" for s in report.sentences), ""]
    lines += ["## Top movers", "", *_md_table(report.movers), ""]
    lines += ["## Drivers of the total change", "", *_md_table(report.drivers), ""]
    lines += ["## Data-quality flags", "", *_md_table(report.flags), ""]
    if report.notes:
        lines += ["## Notes", "", *(f"- {n}" for n in report.notes), ""]
    return "\n".join(lines)


def to_json(report: Report) -> str:
    """The report as one JSON document."""
    doc = {
        "title": report.title,
        "summary": list(report.sentences),
        "headline": report.headline.to_dicts(),
        "drivers": report.drivers.to_dicts(),
        "top_movers": report.movers.to_dicts(),
        "flags": report.flags.to_dicts(),
        "notes": list(report.notes),
    }
    return json.dumps(doc, indent=2, default=str) + "\n"
