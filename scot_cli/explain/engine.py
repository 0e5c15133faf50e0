"""The attribution engine: evaluate a decision on every mix, then split each change exactly.

Independent of any command: it takes the two runs' inputs, a driver map, a
decision function and the metrics to explain, and returns the long attribution
table (subject, metric, before, after, delta, driver, contribution, share).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from scot_cli.errors import UsageError
from scot_cli.explain.drivers import Driver, Rate, Split
from scot_cli.explain.mixing import Group, Mixer, Scenario, align_inputs, resolve_groups
from scot_cli.explain.partition import evaluate_mixes, partitioned_outputs
from scot_cli.explain.shapley import MAX_PLAYERS, FloatArray, shapley

if TYPE_CHECKING:
    from scot_cli.engine.base import Engine

Decide = Callable[[Mapping[str, pl.DataFrame], Mapping[str, Any]], pl.DataFrame]
SubjectFn = Callable[[pl.DataFrame], pl.Expr]
Progress = Callable[[int, int], None]

#: Pseudo-subject holding the decision aggregated over all subjects (the headline).
ALL = "(all)"
#: Subject of output rows whose subject column is null (an unshipped line has no node).
NO_SUBJECT = "(none)"
#: Driver carrying the gap between a file and the decision re-run on its own inputs.
NOT_REPRODUCED = "not reproduced by re-run"
AGGREGATIONS = ("sum", "mean")


@dataclass(frozen=True)
class Attribution:
    """Result of :func:`attribute`."""

    table: pl.DataFrame
    groups: tuple[Group, ...]
    #: Calls of the decision function (fewer than ``mixes`` when separable).
    evaluations: int
    #: Mixes of old and new groups, ``2**k``.
    mixes: int


class _Index:
    """Subject -> column position of the value matrices; grows as new subjects appear."""

    def __init__(self) -> None:
        self.frame = pl.DataFrame(schema={"subject": pl.String, "idx": pl.Int64})

    def locate(self, subjects: pl.Series) -> np.ndarray:
        found = self._join(subjects)
        missing = found.filter(pl.col("idx").is_null())["subject"].unique(maintain_order=True)
        if missing.len():
            start = self.frame.height
            extra = pl.DataFrame(
                {"subject": missing, "idx": np.arange(start, start + missing.len())}
            )
            self.frame = pl.concat([self.frame, extra])
            found = self._join(subjects)
        return found["idx"].to_numpy()

    def _join(self, subjects: pl.Series) -> pl.DataFrame:
        # Row i of the result must be subject i: keep the left order explicitly.
        left = subjects.to_frame("subject")
        return left.join(self.frame, on="subject", how="left", maintain_order="left")


class _Values:
    """One ``(2**k, n)`` value matrix per metric, filled one mix at a time."""

    def __init__(self, rows: int, metrics: Sequence[str]) -> None:
        self.rows = rows
        self.index = _Index()
        self.data = {m: np.zeros((rows, 0)) for m in metrics}

    def widen(self) -> None:
        """Give every matrix one column per known subject (new subjects start at 0)."""
        width = self.index.frame.height
        for m, mat in self.data.items():
            if mat.shape[1] < width:
                self.data[m] = np.pad(mat, ((0, 0), (0, width - mat.shape[1])))

    def put(self, row: int, summary: pl.DataFrame) -> None:
        idx = self.index.locate(summary["subject"])
        self.widen()
        for m, mat in self.data.items():
            mat[row, idx] = summary[m].fill_null(0.0).to_numpy()


def rate_expr(metric: str, rate: Rate) -> pl.Expr:
    """``sum(value * w) / sum(w)`` over the rows aggregated (0 when no row weighs)."""
    value = pl.col(metric).cast(pl.Float64)
    if rate.missing is not None:
        value = value.fill_null(rate.missing)
    w = pl.lit(1.0) if rate.weight is None else pl.col(rate.weight).cast(pl.Float64)
    if rate.per is not None:
        w = w / pl.col(rate.per).cast(pl.Float64)
    w = pl.when(value.is_null()).then(0.0).otherwise(w.fill_null(0.0))
    total = w.sum()
    return pl.when(total > 0).then((value * w).sum() / total).otherwise(0.0).alias(metric)


def summarise(
    frame: pl.DataFrame,
    *,
    subject: SubjectFn,
    metrics: Sequence[str],
    agg: Mapping[str, str],
    rates: Mapping[str, Rate] | None = None,
) -> pl.DataFrame:
    """Aggregate a decision output to one row per subject plus the :data:`ALL` row.

    A metric is summed, averaged (``agg``) or, when it is one of ``rates``, aggregated as
    a rate (:func:`rate_expr`), so a subject's in-stock probability stays a probability.
    """
    bad = sorted(set(agg.values()) - set(AGGREGATIONS))
    if bad:
        raise ValueError(f"aggregation {bad[0]!r} is not one of {', '.join(AGGREGATIONS)}")
    rates = rates or {}
    exprs = [
        rate_expr(m, rates[m])
        if m in rates
        else getattr(pl.col(m).cast(pl.Float64), agg.get(m, "sum"))().alias(m)
        for m in metrics
    ]
    named = subject(frame).cast(pl.String).fill_null(NO_SUBJECT)
    keyed = frame.with_columns(named.alias("subject"))
    per = keyed.group_by("subject", maintain_order=True).agg(exprs)  # a stable row order
    total = keyed.select(pl.lit(ALL).alias("subject"), *exprs)
    return pl.concat([per, total], how="vertical_relaxed")


def attribute(
    *,
    old: Scenario,
    new: Scenario,
    decide: Decide,
    drivers: Sequence[Driver],
    keys: Mapping[str, Sequence[str]],
    subject: SubjectFn,
    metrics: Sequence[str],
    agg: Mapping[str, str] | None = None,
    rates: Mapping[str, Rate] | None = None,
    splits: Sequence[Split] = (),
    observed: tuple[pl.DataFrame, pl.DataFrame] | None = None,
    separable: str | None = None,
    progress: Progress | None = None,
    engine: Engine | None = None,
) -> Attribution:
    """Decompose the change of each subject's decision into driver contributions.

    The decision is evaluated on all ``2**k`` mixes of the ``k`` changed driver
    groups and each change is split by exact Shapley values (see
    :mod:`scot_cli.explain.shapley`), so per subject and metric the contributions
    add up to ``after - before``.

    Parameters
    ----------
    old, new
        Inputs and parameters of the two runs.
    decide
        The command's ``decide_from_inputs``.
    drivers
        Driver map (see :class:`~scot_cli.explain.mixing.Driver`).
    keys
        Row keys per input role, used to align the two runs' rows.
    subject
        Expression giving each output row's subject (sku, category, node, ...).
    metrics
        Numeric output columns to explain.
    agg
        ``"sum"`` (default) or ``"mean"`` per metric, over a subject's rows.
    rates
        Metrics aggregated as rates (weighted means with their denominator); the
        Shapley split of a rate still adds up to its change exactly.
    splits
        Columns read as base plus spread (forecast level and spread).
    observed
        The before and after files' own frames. When given, before and after are
        taken from them and any gap to the re-run decision is reported as the
        driver :data:`NOT_REPRODUCED`, so the contributions still add up.
    separable
        Column (e.g. ``sku``) the decision is separable by: each unit's output
        depends only on its own input rows and the parameters. Units are then
        evaluated only on the mixes of the groups that changed for them (see
        :mod:`scot_cli.explain.partition`); the result is the same, faster.
    progress
        Called with ``(done, total)`` after each evaluation.
    engine
        Where the evaluations run (:mod:`scot_cli.engine`): each one a task; the same
        evaluations as in this process, so the same table bit for bit. None: here.

    Returns
    -------
    Attribution
        The long table and the resolved groups.
    """
    agg = dict(agg or {})
    rates = dict(rates or {})
    weights = {c for m in metrics if m in rates for c in rates[m].columns()}
    aligned = align_inputs(old, new, keys)
    groups = resolve_groups(drivers, old, new, keys=keys, splits=splits, aligned=aligned)
    if len(groups) > MAX_PLAYERS:
        names = ", ".join(g.name for g in groups)
        raise UsageError(
            f"{len(groups)} driver groups changed ({names}); at most {MAX_PLAYERS} can be "
            "attributed exactly: compare runs that differ in fewer inputs"
        )
    total = 1 << len(groups)
    values = _Values(total, metrics)
    calls = 0

    def step(done: int, of: int) -> None:
        nonlocal calls
        calls = done
        if progress is not None:
            progress(done, of)

    # Keep only what the summary reads: the partitions' outputs are held until the end.
    kept = _Selected(decide, frozenset({*metrics, *weights}), subject)
    outputs: Iterable[tuple[int, pl.DataFrame]]
    if separable:
        outputs = partitioned_outputs(
            old,
            new,
            groups,
            decide=kept,
            unit=separable,
            keys=keys,
            aligned=aligned,
            splits=splits,
            progress=step,
            engine=engine,
        )
    else:
        mixer = Mixer(old, new, groups, keys=keys, splits=splits, aligned=aligned)
        whole = [(mixer, total, "every subject")]
        found = evaluate_mixes(whole, kept, total=total, progress=step, engine=engine)
        outputs = enumerate(found)
    for mask, out in outputs:
        values.put(mask, summarise(out, subject=subject, metrics=metrics, agg=agg, rates=rates))
    obs = None
    if observed is not None:
        obs = [
            summarise(f, subject=subject, metrics=metrics, agg=agg, rates=rates) for f in observed
        ]
        for o in obs:
            values.index.locate(o["subject"])
        values.widen()
    table = _long_table(values, [g.name for g in groups], metrics, obs)
    return Attribution(table=table, groups=tuple(groups), evaluations=calls, mixes=total)


@dataclass(frozen=True)
class _Selected:
    """``decide`` keeping the output columns the summary reads (picklable, for an engine)."""

    decide: Decide
    needed: frozenset[str]
    subject: SubjectFn

    def __call__(
        self, inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]
    ) -> pl.DataFrame:
        out = self.decide(inputs, params)
        needed = {*self.needed, *self.subject(out).meta.root_names()}
        return out.select(c for c in out.columns if c in needed)


def _observed(values: _Values, summary: pl.DataFrame, metric: str) -> FloatArray:
    out = np.zeros(values.index.frame.height)
    out[values.index.locate(summary["subject"])] = summary[metric].fill_null(0.0).to_numpy()
    return out


def _long_table(
    values: _Values,
    names: list[str],
    metrics: Sequence[str],
    observed: list[pl.DataFrame] | None,
) -> pl.DataFrame:
    subjects = values.index.frame["subject"]
    parts = []
    for m in metrics:
        v = values.data[m]
        phi = shapley(v) if names else np.zeros((0, v.shape[1]))
        before, after, drivers = v[0], v[-1], list(names)
        if observed is not None:
            before, after = _observed(values, observed[0], m), _observed(values, observed[1], m)
            gap = (after - v[-1]) - (before - v[0])
            phi = np.vstack([phi, gap[None, :]])
            drivers.append(NOT_REPRODUCED)
        parts.append(_metric_rows(subjects, m, before, after, drivers, phi))
    schema = {
        "subject": pl.String,
        "metric": pl.String,
        "before": pl.Float64,
        "after": pl.Float64,
        "delta": pl.Float64,
        "driver": pl.String,
        "contribution": pl.Float64,
        "share": pl.Float64,
    }
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def _metric_rows(
    subjects: pl.Series,
    metric: str,
    before: FloatArray,
    after: FloatArray,
    drivers: list[str],
    phi: FloatArray,
) -> pl.DataFrame:
    k, n = len(drivers), len(subjects)
    delta = after - before
    # Subject-major order: row j*k + i is subject j, driver i. Strings are gathered by
    # index so no Python string objects are created per row.
    rows = np.repeat(np.arange(n), k)
    frame = pl.DataFrame(
        {
            "subject": subjects.cast(pl.String).gather(rows),
            "metric": pl.Series([metric], dtype=pl.String).gather(np.zeros(n * k, np.int64)),
            "before": before[rows],
            "after": after[rows],
            "delta": delta[rows],
            "driver": pl.Series(drivers, dtype=pl.String).gather(np.tile(np.arange(k), n)),
            "contribution": phi.T.reshape(-1),
        }
    )
    share = pl.when(pl.col("delta") != 0).then(pl.col("contribution") / pl.col("delta"))
    return frame.with_columns(share.alias("share"))
