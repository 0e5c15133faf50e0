"""Fewer evaluations for separable decisions: only the groups that changed for each unit.

When a decision is separable by a unit column (plan-buy's sku: each sku's order
depends on its own rows and the parameters only), a group whose cells did not
change for a unit is a dummy player for it. Units are partitioned by the set
``A`` of groups active for them; each partition is evaluated on its ``2**|A|``
mixes only, restricted to its own rows, and the output of any full mix is the
concatenation of each partition's output under the projection of that mix onto
its groups. The Shapley values are unchanged (dummy axiom), the cost falls from
``2**k * n`` to ``sum_A 2**|A| * n_A`` unit evaluations. The evaluations are independent,
so an engine (:mod:`scot_cli.engine`) runs them as tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from scot_cli.engine.base import describe_skus
from scot_cli.explain.drivers import Split
from scot_cli.explain.mixing import Aligned, Group, Mixer, RoleAlignment, Scenario, split_bases

Decide = Callable[[Mapping[str, pl.DataFrame], Mapping[str, Any]], pl.DataFrame]
Progress = Callable[[int, int], None]

if TYPE_CHECKING:
    from scot_cli.engine.base import Engine

_ALL = "__all_units__"
#: Most units a separable decision is evaluated on at once: a partition of more is cut
#: into runs of its sorted units (the tasks of ``scot explain --engine``).
BATCH_UNITS = 20_000


def _changed_units(
    old: pl.DataFrame | None, new: pl.DataFrame | None, unit: str
) -> pl.Series | None:
    """Units with a row in only one run (whole rows compared); None means every unit."""
    frames = [f for f in (old, new) if f is not None]
    if not frames or any(unit not in f.columns for f in frames):
        return None
    if old is None or new is None:
        return pl.concat([f[unit] for f in frames]).cast(pl.String).unique()
    left = old.join(new, on=old.columns, how="anti", nulls_equal=True)[unit]
    right = new.join(old, on=old.columns, how="anti", nulls_equal=True)[unit]
    return pl.concat([left, right]).cast(pl.String).unique()


def _aligned_units(
    a: RoleAlignment, unit: str, columns: Sequence[str] | None, base: Mapping[str, str]
) -> pl.Series | None:
    """Units of ``a`` whose rows differ in ``columns`` (all when None) or exist on one side."""
    if unit not in a.keys and unit not in a.columns:
        return None
    found = [a.only_old[unit], a.only_new[unit]]
    cols = a.columns if columns is None else [c for c in columns if c != unit]
    if cols:
        found.append(a.common.filter(a.changed(cols, base))[unit])
    return pl.concat(found).cast(pl.String).unique()


def _group_units(
    g: Group,
    old: Scenario,
    new: Scenario,
    *,
    unit: str,
    aligned: Aligned,
    splits: Sequence[Split],
) -> pl.Series | None:
    """Units for which group ``g`` changed anything; None when it changed for all."""
    if g.params:
        return None
    by_role: dict[str, list[str] | None] = {r: None for r in g.roles}
    for role, column in g.cells:
        cols = by_role.setdefault(role, [])
        if cols is not None:
            cols.append(column)
    for role in g.rows:
        by_role.setdefault(role, [])
    found: list[pl.Series] = []
    for role, cols in by_role.items():
        a = aligned.get(role)
        if a is None:
            changed = _changed_units(old.inputs.get(role), new.inputs.get(role), unit)
        else:
            base = split_bases(splits, role, a.columns if cols is None else cols, a.columns)
            changed = _aligned_units(a, unit, cols, base)
        if changed is None:
            return None
        found.append(changed)
    return pl.concat(found).unique() if found else pl.Series(unit, [], pl.String)


def unit_masks(
    old: Scenario,
    new: Scenario,
    groups: Sequence[Group],
    *,
    unit: str,
    aligned: Aligned,
    splits: Sequence[Split] = (),
) -> pl.DataFrame:
    """One row per unit: the bit mask of the groups active for it (column ``mask``)."""
    frames = [
        f.select(pl.col(unit).cast(pl.String))
        for s in (old, new)
        for f in s.inputs.values()
        if unit in f.columns
    ]
    units = pl.concat(frames).unique() if frames else pl.DataFrame(schema={unit: pl.String})
    mask = pl.lit(0, pl.Int64)
    for i, g in enumerate(groups):
        changed = _group_units(g, old, new, unit=unit, aligned=aligned, splits=splits)
        hit = (
            pl.lit(True)
            if changed is None
            else pl.col(unit).is_in(changed.cast(pl.String).implode())
        )
        mask = mask + pl.when(hit).then(pl.lit(1 << i, pl.Int64)).otherwise(0)
    return units.with_columns(mask.alias("mask"))


def _restrict(s: Scenario, unit: str, units: pl.Series) -> Scenario:
    inputs = {
        r: (
            f.filter(pl.col(unit).cast(pl.String).is_in(units.implode()))
            if unit in f.columns
            else f
        )
        for r, f in s.inputs.items()
    }
    return Scenario(inputs, s.params)


def _bits(mask: int) -> list[int]:
    return [i for i in range(mask.bit_length()) if mask >> i & 1]


def partitioned_outputs(
    old: Scenario,
    new: Scenario,
    groups: Sequence[Group],
    *,
    decide: Decide,
    unit: str,
    keys: Mapping[str, Sequence[str]],
    aligned: Aligned,
    splits: Sequence[Split] = (),
    progress: Progress | None = None,
    engine: Engine | None = None,
) -> Iterator[tuple[int, pl.DataFrame]]:
    """The decision output of every full mix ``0 .. 2**k - 1``, evaluated per partition.

    A partition's units (sorted) are evaluated in runs of at most :data:`BATCH_UNITS`, on
    ``engine`` when given (the same evaluations, so the same outputs). Yields
    ``(mask, output)`` in mask order; ``output`` concatenates the partitions' outputs under
    the mix projected onto each partition's active groups.
    """
    masks = unit_masks(old, new, groups, unit=unit, aligned=aligned, splits=splits)
    parts = masks.group_by("mask").agg(pl.col(unit)).sort("mask")
    spans: list[tuple[list[int], int]] = []  # per run of units: active groups, first job
    runs: list[tuple[list[int], pl.Series]] = []
    jobs = 0
    for active, units in parts.iter_rows():
        bits = _bits(active)
        everyone = pl.Series(unit, units, dtype=pl.String).sort()
        for start in range(0, everyone.len(), BATCH_UNITS):
            runs.append((bits, everyone.slice(start, BATCH_UNITS)))
            spans.append((bits, jobs))
            jobs += 1 << len(bits)

    def mixers() -> Iterator[tuple[Mixer, int, str]]:
        for bits, members in runs:
            sub_aligned = {
                r: a.restrict(unit, members) if unit in a.common.columns else a
                for r, a in aligned.items()
            }
            mixer = Mixer(
                _restrict(old, unit, members),
                _restrict(new, unit, members),
                [groups[i] for i in bits],
                keys=keys,
                splits=splits,
                aligned=sub_aligned,
            )
            yield mixer, 1 << len(bits), describe_skus(members).replace("sku", unit)

    outs = list(evaluate_mixes(mixers(), decide, total=jobs, progress=progress, engine=engine))
    for full in range(1 << len(groups)):
        pieces = []
        for bits, first in spans:
            sub = sum(1 << j for j, i in enumerate(bits) if full >> i & 1)
            pieces.append(outs[first + sub])
        yield full, pl.concat(pieces, how="diagonal_relaxed")


def evaluate_mixes(
    mixers: Iterable[tuple[Mixer, int, str]],
    decide: Decide,
    *,
    total: int,
    progress: Progress | None = None,
    engine: Engine | None = None,
) -> Iterator[pl.DataFrame]:
    """``decide`` on mixes ``0 .. n - 1`` of each ``(mixer, n, label)``, in that order: in
    this process one after another, or as tasks on ``engine`` (a failure on bad data
    names the ``label``, the units evaluated)."""
    done = 0
    if engine is None:
        for mixer, n, _ in mixers:
            for sub in range(n):
                mix = mixer.scenario(sub)
                yield decide(mix.inputs, mix.params)
                done += 1
                if progress is not None:
                    progress(done, total)
        return
    shared = engine.share(decide)
    items: list[tuple[Any, int]] = []
    labels: list[str] = []
    for mixer, n, label in mixers:
        handle = engine.share(mixer)
        items += [(handle, sub) for sub in range(n)]
        labels += [label] * n
    for out in engine.results(engine.map(_decide_mix, items, shared, labels=labels)):
        yield out
        done += 1
        if progress is not None:
            progress(done, total)


def _decide_mix(item: tuple[Mixer, int], decide: Decide) -> pl.DataFrame:
    mixer, sub = item
    mix = mixer.scenario(sub)
    return decide(mix.inputs, mix.params)
