"""Compare two runs of one command: check they are comparable, then attribute the change."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from scot_cli.errors import InputDataError, UsageError
from scot_cli.explain.drivers import BY, COMMANDS, CommandSpec, view_for
from scot_cli.explain.engine import Decide, Progress, attribute
from scot_cli.explain.flags import quality_flags
from scot_cli.explain.mixing import Group, Scenario
from scot_cli.options import OptionError
from scot_cli.schema import (
    CALENDAR,
    EVENTS,
    INVENTORY,
    ITEMS,
    LANES,
    NODES,
    ORDERS,
    SALES,
    Table,
)

if TYPE_CHECKING:
    from scot_cli.engine.base import Engine


def role_tables(spec: CommandSpec | None = None) -> dict[str, Table]:
    """Input role -> declared table the command read it with (validation and row keys)."""
    tables = {t.name: t for t in (SALES, ITEMS, EVENTS, NODES, LANES, INVENTORY, ORDERS, CALENDAR)}
    refs = {"forecast": "scot_cli.forecast.schema:FORECAST", **(spec.tables if spec else {})}
    for role, ref in refs.items():
        module, _, name = ref.partition(":")
        try:
            tables[role] = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            tables.pop(role, None)
    return tables


def role_keys(roles: Sequence[str], spec: CommandSpec | None = None) -> dict[str, tuple[str, ...]]:
    """Row keys of the roles explain knows; other roles can only change as a whole."""
    tables = role_tables(spec)
    return {r: tables[r].keys for r in roles if r in tables and tables[r].keys}


@dataclass(frozen=True)
class RunData:
    """One run: its command, parameters, input frames by role and (optionally) its output."""

    name: str
    command: str
    params: Mapping[str, Any]
    inputs: Mapping[str, pl.DataFrame]
    output: pl.DataFrame | None = None
    #: Input role -> the file it was read from (for error messages).
    sources: Mapping[str, str] = field(default_factory=dict)

    def scenario(self) -> Scenario:
        return Scenario(dict(self.inputs), dict(self.params))


@dataclass(frozen=True)
class Explanation:
    """What :func:`explain_runs` found."""

    command: str
    by: str
    metrics: tuple[str, ...]
    attribution: pl.DataFrame
    flags: pl.DataFrame
    groups: tuple[Group, ...]
    evaluations: int
    mixes: int
    observed: bool
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: Metrics explained as rates (weighted means): their change reads in points.
    rates: tuple[str, ...] = ()


def check_comparable(
    before: Mapping[str, Any], after: Mapping[str, Any], *, before_name: str, after_name: str
) -> CommandSpec:
    """The command spec of two runs' provenance, or an error naming what is wrong.

    Raises
    ------
    InputDataError
        When a file carries no scot provenance.
    UsageError
        When the runs come from different commands or from a command explain does not know.
    """
    for meta, name in ((before, before_name), (after, after_name)):
        if not meta.get("command"):
            raise InputDataError(
                f"{name}: has no scot provenance (not written by a scot command); pass an "
                f"output of {', '.join(COMMANDS)}"
            )
    b, a = before["command"], after["command"]
    if b != a:
        raise UsageError(
            f"{before_name} was written by {b} and {after_name} by {a}; pass two outputs of "
            "the same command"
        )
    spec = COMMANDS.get(b)
    if spec is None:
        raise UsageError(
            f"{before_name}: explain cannot re-run outputs of {b}; it explains "
            f"{', '.join(COMMANDS)}"
        )
    return spec


def check_same_columns(before: RunData, after: RunData) -> None:
    """Both runs' inputs of a role have the same columns (a mix of the two runs takes some
    rows from each, so a column only one side has cannot be compared).

    Raises
    ------
    InputDataError
        Naming the file that lacks a column the other run's file has.
    """
    for role in sorted(set(before.inputs) & set(after.inputs)):
        for this, other in ((after, before), (before, after)):
            missing = [c for c in other.inputs[role].columns if c not in this.inputs[role]]
            if missing:
                name = this.sources.get(role, f"{this.name}'s {role} input")
                theirs = other.sources.get(role, f"{other.name}'s {role} input")
                raise InputDataError(
                    f"{name}: {role} lacks column {', '.join(repr(c) for c in missing)} "
                    f"that {theirs} has; explain compares inputs with the same columns: add "
                    "it (null where unknown) or drop it from the other file"
                )


def decision_function(spec: CommandSpec) -> Decide:
    """The ``decide_from_inputs`` of the command's package (or the spec's own adapter)."""
    module_name, _, name = (spec.decide or f"{spec.package}:decide_from_inputs").partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UsageError(f"{spec.command} is not available in this build of scot") from exc
    decide = getattr(module, name, None)
    if decide is None:
        raise UsageError(f"{spec.command} does not expose decide_from_inputs; cannot re-run it")
    return decide  # type: ignore[no-any-return]


def _numeric(frame: pl.DataFrame) -> list[str]:
    return [c for c, t in frame.schema.items() if t.is_numeric()]


def choose_metrics(
    spec: CommandSpec,
    frame: pl.DataFrame,
    wanted: Sequence[str] | None,
    files: Sequence[pl.DataFrame] = (),
) -> tuple[str, ...]:
    """The metrics to explain: ``wanted`` (checked) or the command's defaults present.

    Defaults are restricted to the columns of the files compared (``files``) when
    they hold any, so orders files explain quantities and policy files their levels.
    """
    numeric = _numeric(frame)
    if wanted:
        unknown = [m for m in wanted if m not in numeric]
        if unknown:
            raise OptionError(
                "metrics",
                f"{unknown[0]}: not a numeric column of {spec.command} output "
                f"(choose from {', '.join(numeric)})",
            )
        return tuple(wanted)
    chosen = tuple(m for m in spec.metrics if m in numeric)
    in_files = tuple(m for m in chosen if all(m in f.columns for f in files))
    return in_files or chosen or tuple(numeric[:1])


def subject_expr(
    spec: CommandSpec, frame: pl.DataFrame, by: str, items: pl.DataFrame | None
) -> pl.Expr:
    """Expression naming each output row's subject for ``--by``."""
    BY.check(by)
    column = spec.subject_column(by, frame.columns)
    if column is None:
        others = " or ".join(b for b in spec.subjects if b != by)
        raise OptionError("by", f"{by}: {spec.command} output has no {by} column; use {others}")
    if by != "category":
        return pl.col(column)
    if items is None or "category" not in items.columns:
        raise OptionError("by", f"category: the {spec.command} runs did not read an items table")
    return pl.col(column).replace_strict(
        items["sku"], items["category"], default="(no category)", return_dtype=pl.String
    )


def sample_units(
    inputs: Mapping[str, pl.DataFrame],
    unit: str | None,
    size: int = 20,
    units: Sequence[str] | None = None,
) -> Mapping[str, pl.DataFrame]:
    """The rows of a few units (``units``, else the first ``size``) of every role.

    Enough to learn a separable decision's columns, or to re-run one unit's decision.
    """
    if unit is None:
        return inputs
    having = [f for f in inputs.values() if unit in f.columns]
    if not having:
        return inputs
    if units is None:
        units = having[0][unit].unique(maintain_order=True).head(size).to_list()
    chosen = pl.Series(list(units), dtype=pl.String).implode()
    return {
        r: f.filter(pl.col(unit).cast(pl.String).is_in(chosen)) if unit in f.columns else f
        for r, f in inputs.items()
    }


def _items(before: RunData, after: RunData) -> pl.DataFrame | None:
    frames = [r.inputs["items"] for r in (after, before) if "items" in r.inputs]
    if not frames:
        return None
    return pl.concat(frames, how="diagonal_relaxed").unique("sku", keep="first")


def explain_runs(
    before: RunData,
    after: RunData,
    *,
    by: str | None = "sku",
    metrics: Sequence[str] | None = None,
    decide: Decide | None = None,
    partition: bool = True,
    progress: Progress | None = None,
    engine: Engine | None = None,
) -> Explanation:
    """Explain why ``after``'s decisions differ from ``before``'s.

    Re-runs the command's decision on every mix of the two runs' driver groups and
    attributes each subject's change exactly (Shapley values over driver groups).

    Parameters
    ----------
    before, after
        The two runs (same command).
    by
        Subject of the attribution: ``sku``, ``category``, ``node`` or ``order``; None for
        the output's first (``sku``, or ``node`` for place's coverage and simulate).
    metrics
        Output columns to explain (default: the command's main decision columns).
    decide
        Decision function; default the command package's ``decide_from_inputs``.
    partition
        Evaluate a separable decision per partition of units (same result, fewer
        evaluations); False evaluates every mix on all units.
    progress
        ``(done, total)`` callback over the decision evaluations.
    engine
        Where the evaluations run (:mod:`scot_cli.engine`); the same table on any engine.
    """
    spec = check_comparable(
        {"command": before.command},
        {"command": after.command},
        before_name=before.name,
        after_name=after.name,
    )
    check_same_columns(before, after)
    outputs = [r.output for r in (before, after) if r.output is not None]
    spec = view_for(spec, [f.columns for f in outputs], metrics or ())
    keep = _rows_function(spec)
    of_view = not spec.marker or all(spec.marker in f.columns for f in outputs)
    files = [keep(f) for f in outputs] if of_view else []
    decide = decide or _kept(decision_function(spec), keep)
    roles = set(before.inputs) | set(after.inputs)
    unit = spec.separable_by(before.params, after.params, roles=roles) if partition else None
    probe = decide(sample_units(before.inputs, unit), before.params)
    chosen = choose_metrics(spec, probe, metrics, files)
    by = by or next(iter(spec.subjects))
    subject = subject_expr(spec, probe, by, _items(before, after))
    observed, notes = _observed(spec, probe, chosen, files)
    if outputs and not files:
        notes = (_recomputed(spec),)
    keys = role_keys(sorted(set(before.inputs) | set(after.inputs)), spec)
    result = attribute(
        old=before.scenario(),
        new=after.scenario(),
        decide=decide,
        drivers=spec.drivers,
        keys=keys,
        subject=lambda _frame: subject,
        metrics=chosen,
        agg=spec.agg,
        rates=spec.rates,
        splits=spec.splits,
        observed=observed,
        separable=unit,
        progress=progress,
        engine=engine,
    )
    return Explanation(
        command=spec.command,
        by=by,
        metrics=chosen,
        attribution=result.table,
        flags=quality_flags(
            before.scenario(), after.scenario(), keys=keys, declared=set(role_tables(spec))
        ),
        groups=result.groups,
        evaluations=result.evaluations,
        mixes=result.mixes,
        observed=observed is not None,
        notes=notes,
        rates=tuple(m for m in chosen if m in spec.rates),
    )


def _rows_function(spec: CommandSpec) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """The spec's selection of the rows explained (every row by default)."""
    if not spec.rows:
        return lambda frame: frame
    module, _, name = spec.rows.partition(":")
    keep: Callable[[pl.DataFrame], pl.DataFrame] = getattr(importlib.import_module(module), name)
    return keep


def _kept(decide: Decide, keep: Callable[[pl.DataFrame], pl.DataFrame]) -> Decide:
    return lambda inputs, params: keep(decide(inputs, params))


def _observed(
    spec: CommandSpec,
    probe: pl.DataFrame,
    metrics: Sequence[str],
    files: Sequence[pl.DataFrame],
) -> tuple[tuple[pl.DataFrame, pl.DataFrame] | None, tuple[str, ...]]:
    if len(files) != 2:
        return None, ()
    weights = {c for m in metrics if m in spec.rates for c in spec.rates[m].columns()}
    subjects = {c for cols in spec.subjects.values() for c in cols if c in probe}
    needed = {*metrics, *weights, *subjects}
    if all(needed <= set(f.columns) for f in files):
        return (files[0], files[1]), ()
    return None, (_recomputed(spec),)


def _recomputed(spec: CommandSpec) -> str:
    return (
        f"the files are not the {spec.command} output explained ({spec.description}); before "
        "and after are the decisions re-computed from their recorded inputs"
    )
