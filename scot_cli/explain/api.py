"""The public call of ``scot explain``: :func:`explain` over two runs, or one decision.

A run is the path of an output a scot command wrote (its provenance names the inputs and
parameters to re-run) or a :class:`~scot_cli.explain.compare.RunData` of frames built in a
notebook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from scot_cli.errors import InputDataError
from scot_cli.explain.compare import Explanation, RunData, check_comparable, explain_runs
from scot_cli.explain.drivers import BY
from scot_cli.explain.report import Report, build_report
from scot_cli.explain.runs import (
    complete_rows,
    load_run,
    read_output,
    sibling_constraints,
)
from scot_cli.explain.single import explain_decision, select_rows
from scot_cli.io import Run, Source
from scot_cli.options import OptionError, Options, at_least

if TYPE_CHECKING:
    from scot_cli.engine.base import Engine

#: A run: the path of a scot output, or its frames.
RunArg = str | Path | RunData
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True, kw_only=True)
class ExplainOptions(Options):
    """What to explain and how.

    Attributes
    ----------
    by
        Subject of the attribution, a key of :data:`scot_cli.explain.drivers.BY`; None for
        the output's first (``sku``, or ``node`` for place's coverage and simulate).
    metrics
        Output columns to explain (empty: the command's main ones).
    top
        Subjects listed among the top movers, per metric.
    sku, node, order
        One decision of one run: the sku (and node), or the order.
    before_inputs, after_inputs
        Role -> path of an input to read instead of the one the run recorded (the file
        that run read, when it has changed or moved since).
    """

    by: str | None = None
    metrics: tuple[str, ...] = ()
    top: int = 10
    sku: str | None = None
    node: str | None = None
    order: str | None = None
    before_inputs: Mapping[str, str] = field(default_factory=dict)
    after_inputs: Mapping[str, str] = field(default_factory=dict)

    def check(self) -> None:
        if self.by is not None:
            BY.check(self.by)
        at_least("top", self.top, 1)


@dataclass(frozen=True)
class ExplainSummary:
    """The report's headline: a title, one sentence per metric (or per fact of one
    decision) and notes."""

    title: str
    sentences: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The summary as lines a person reads."""
        return [self.title, *(f"- {s}" for s in self.sentences), *self.notes]

    def __str__(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True)
class ExplainResult:
    """Result of :func:`explain`.

    Comparing two runs fills ``attribution`` (subject, metric, before, after, delta,
    driver, contribution, share; contributions add up to delta), ``flags``, ``report`` and
    ``explanation``; one decision fills ``summary.sentences`` only (the frames are empty).
    ``sources`` are the files read, for the provenance of what is written from it.
    """

    attribution: pl.DataFrame
    flags: pl.DataFrame
    summary: ExplainSummary
    report: Report | None = None
    explanation: Explanation | None = None
    sources: tuple[Source, ...] = ()


def explain(
    before: RunArg,
    after: RunArg | None = None,
    *,
    options: ExplainOptions | None = None,
    progress: ProgressFn | None = None,
    engine: Engine | None = None,
    **option_fields: Any,
) -> ExplainResult:
    """Why did a decision change between two runs, or how was one decision made?

    Parameters
    ----------
    before, after
        Two runs of one command (paths of their outputs, or :class:`RunData`). Without
        ``after``, ``before`` is one run and ``sku`` (with ``node``) or ``order`` names the
        decision to take apart.
    options
        :class:`ExplainOptions`; ``option_fields`` replace some of its fields
        (``explain(a, b, by="node", metrics=("qty",))``).
    progress
        Optional ``(done, total)`` callback over the decision's re-runs.
    engine
        Where the re-runs go (:func:`scot_cli.engine.open_engine`): each one a task on a
        Dask cluster gives the same table as this process. None: this process.

    Raises
    ------
    OptionError
        For an option outside its domain (an unknown metric or subject).
    InputDataError
        When a run has no provenance, or an input it read is gone or changed.
    UsageError
        When the runs come from different commands, or one explain cannot re-run.
    """
    opt = (options or ExplainOptions()).replace(**option_fields)
    reader = Run("explain")
    if after is None:
        return _one_decision(before, opt, reader)
    for name in ("sku", "node", "order"):
        if getattr(opt, name) is not None:
            raise OptionError(name, "takes one run; to compare two runs, choose the subject by")
    b_out, a_out = _output(before, "before", reader), _output(after, "after", reader)
    check_comparable(b_out[1], a_out[1], before_name=_name(before), after_name=_name(after))
    b = _load(before, "before", b_out, opt.before_inputs, reader)
    a = _load(after, "after", a_out, opt.after_inputs, reader)
    expl = explain_runs(
        b, a, by=opt.by, metrics=opt.metrics or None, progress=progress, engine=engine
    )
    report = build_report(expl, top=opt.top)
    return ExplainResult(
        attribution=expl.attribution,
        flags=expl.flags,
        summary=ExplainSummary(report.title, report.sentences, report.notes),
        report=report,
        explanation=expl,
        sources=tuple(reader.sources),
    )


def _name(value: RunArg) -> str:
    return value.name if isinstance(value, RunData) else str(value)


def _output(value: RunArg, label: str, reader: Run) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The output frame and provenance of a run (a run of frames has its command only)."""
    if isinstance(value, RunData):
        return pl.DataFrame(), {"command": value.command}
    return read_output(str(value), label, reader)


def _load(
    value: RunArg,
    label: str,
    output: tuple[pl.DataFrame, dict[str, Any]],
    overrides: Mapping[str, str],
    reader: Run,
) -> RunData:
    if isinstance(value, RunData):
        return value
    return load_run(str(value), label, output[1], output[0], overrides, reader)


def _one_decision(value: RunArg, opt: ExplainOptions, reader: Run) -> ExplainResult:
    if isinstance(value, RunData):
        if value.output is None:
            raise InputDataError(f"{value.name}: the run has no output frame to explain")
        path, frame = value.name, value.output
        meta: dict[str, Any] = {"command": value.command, "params": dict(value.params)}
    else:
        path = str(value)
        frame, meta = read_output(path, "run", reader)
        if not meta.get("command"):
            raise InputDataError(f"{path}: has no scot provenance (not written by a scot command)")
    rows = select_rows(frame, name=path, sku=opt.sku, node=opt.node, order=opt.order)
    note = ""
    if not isinstance(value, RunData):
        rows, note = complete_rows(path, meta, rows, opt.sku, reader)
    constraints = None if isinstance(value, RunData) else sibling_constraints(path, meta, reader)
    lines = explain_decision(str(meta["command"]), rows, meta, constraints=constraints)
    title = f"scot explain: one {meta['command']} decision of {path}"
    empty = pl.DataFrame()
    summary = ExplainSummary(title, tuple(lines), (note,) if note else ())
    return ExplainResult(empty, empty, summary, sources=tuple(reader.sources))
