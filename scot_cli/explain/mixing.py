"""Driver groups and the mixing of old and new inputs at column level.

A decision's inputs are frames keyed by role (``forecast``, ``items``,
``inventory``, ...) plus a parameter dict. A :class:`Driver` names cells of those
inputs (``"items.lead_time_days"``, patterns allowed), whole roles (``"inventory"``)
or parameters. :func:`resolve_groups` keeps the drivers whose cells actually
changed and adds explicit groups for changes no driver claims (rows present in
only one run, unclaimed columns, unclaimed parameters), so the groups partition
every difference between the two runs. :class:`Mixer` then builds the inputs
of any mix: rows aligned by the role's keys, each column taken from the run
its group selects.

A :class:`Split` lets two groups share one column: a quantile ``pXX`` is read as
``p50 + (pXX - p50)`` so that the forecast level (``p50``) and spread
(``pXX - p50``) can come from different runs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from scot_cli.explain.drivers import Driver, Split

#: Cell name of a role's row set (rows present in only one run) in a driver map.
ROWS = "+rows"
#: Suffix of the new run's columns in an aligned frame.
_NEW = "__new"


@dataclass(frozen=True)
class Scenario:
    """One run's decision inputs: frames by role and parameters."""

    inputs: Mapping[str, pl.DataFrame]
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    """A resolved driver group: exactly the changed cells, roles, row sets and parameters."""

    name: str
    cells: tuple[tuple[str, str], ...] = ()
    roles: tuple[str, ...] = ()
    rows: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    description: str = ""


@dataclass
class RoleAlignment:
    """Precomputed alignment of one role's two frames."""

    keys: list[str]
    common: pl.DataFrame
    only_old: pl.DataFrame
    only_new: pl.DataFrame
    columns: list[str]

    def restrict(self, unit: str, units: pl.Series) -> RoleAlignment:
        """The rows of ``units`` only (a partition of a separable decision)."""
        keep = pl.col(unit).is_in(units.implode())
        return RoleAlignment(
            self.keys,
            self.common.filter(keep),
            self.only_old.filter(keep),
            self.only_new.filter(keep),
            self.columns,
        )

    def changed(self, columns: Sequence[str], base: Mapping[str, str]) -> pl.Expr:
        """True on common rows where any of ``columns`` differs (spreads for split ones)."""
        exprs = []
        for c in columns:
            old, new = pl.col(c), pl.col(c + _NEW)
            if c in base:
                old, new = old - pl.col(base[c]), new - pl.col(base[c] + _NEW)
            exprs.append(old.ne_missing(new))
        return pl.any_horizontal(exprs) if exprs else pl.lit(False)


#: Role -> its two frames aligned by key (see :func:`align_inputs`).
Aligned = dict[str, RoleAlignment]


def split_base(
    splits: Sequence[Split], role: str, column: str, columns: Sequence[str]
) -> str | None:
    """The base column ``column`` is split on, or None when it is read as it is."""
    for s in splits:
        base = next((b for b in s.bases if b in columns), None)
        if s.role == role and base not in (None, column) and fnmatch.fnmatchcase(column, s.pattern):
            return base
    return None


def align_inputs(old: Scenario, new: Scenario, keys: Mapping[str, Sequence[str]]) -> Aligned:
    """Align, by key, every role that differs between the runs and can be mixed by column.

    A role qualifies when both runs have it with the same schema and it has keys;
    the alignment is computed once and shared by group resolution, the per-unit
    partition and the mixer.
    """
    out: Aligned = {}
    for role in sorted(set(old.inputs) & set(new.inputs)):
        o, n, k = old.inputs[role], new.inputs[role], list(keys.get(role, ()))
        if k and o.schema == n.schema and not o.equals(n):
            out[role] = _align(o, n, k)
    return out


def _align(old: pl.DataFrame, new: pl.DataFrame, keys: list[str]) -> RoleAlignment:
    cols = [c for c in old.columns if c not in keys]
    renamed = new.select(*keys, *(pl.col(c).alias(c + _NEW) for c in cols))
    if old.select(keys).equals(new.select(keys)):
        # Same keys in the same order (an edited copy of a file): no join needed.
        return RoleAlignment(
            keys=keys,
            common=old.hstack(renamed.drop(keys).get_columns()),
            only_old=old.select(*keys, *cols).clear(),
            only_new=old.select(*keys, *cols).clear(),
            columns=cols,
        )
    common = old.join(renamed, on=keys, how="inner", nulls_equal=True)
    return RoleAlignment(
        keys=keys,
        common=common,
        only_old=old.select(*keys, *cols).join(
            new.select(keys), on=keys, how="anti", nulls_equal=True
        ),
        only_new=new.select(*keys, *cols).join(
            old.select(keys), on=keys, how="anti", nulls_equal=True
        ),
        columns=cols,
    )


def split_bases(
    splits: Sequence[Split], role: str, columns: Sequence[str], all_columns: Sequence[str]
) -> dict[str, str]:
    """Column -> its base, for the split ones among ``columns``."""
    found = {c: split_base(splits, role, c, all_columns) for c in columns}
    return {c: b for c, b in found.items() if b is not None}


def _changed_cells(
    role: str, aligned: RoleAlignment, splits: Sequence[Split]
) -> list[tuple[str, str]]:
    if not aligned.columns or aligned.common.height == 0:
        return []
    base = split_bases(splits, role, aligned.columns, aligned.columns)
    exprs = [aligned.changed([c], base).any().alias(c) for c in aligned.columns]
    flags = aligned.common.select(exprs).row(0, named=True)
    return [(role, c) for c, changed in flags.items() if changed]


def _claims(driver: Driver, role: str, column: str | None) -> bool:
    """Whether ``driver`` names ``column`` of ``role``, or the whole role (column None)."""
    for cell in driver.cells:
        r, dot, pattern = cell.partition(".")
        if r != role:
            continue
        if column is None or not dot:
            return not dot
        if pattern == ROWS:
            continue
        if fnmatch.fnmatchcase(column, pattern):
            return True
    return False


def _claims_rows(driver: Driver, role: str) -> bool:
    return f"{role}.{ROWS}" in driver.cells


def _param_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if (k in old) != (k in new) or old[k] != new[k])


@dataclass
class _Builder:
    """Accumulates resolved groups in driver order, then the unclaimed extras."""

    drivers: Sequence[Driver]
    cells: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, list[str]] = field(default_factory=dict)
    params: dict[str, list[str]] = field(default_factory=dict)

    def owner(self, role: str, column: str | None) -> str | None:
        return next((d.name for d in self.drivers if _claims(d, role, column)), None)

    def rows_owner(self, role: str) -> str:
        found = next((d.name for d in self.drivers if _claims_rows(d, role)), None)
        return found or f"{role} rows added or dropped"

    def add(self, kind: dict[str, list[Any]], name: str, item: Any) -> None:
        kind.setdefault(name, []).append(item)

    def groups(self) -> list[Group]:
        described = {d.name: d.description for d in self.drivers}
        order = [d.name for d in self.drivers]
        names = set(self.cells) | set(self.roles) | set(self.rows) | set(self.params)
        extras = sorted(n for n in names if n not in described)
        return [
            Group(
                name=n,
                cells=tuple(self.cells.get(n, ())),
                roles=tuple(self.roles.get(n, ())),
                rows=tuple(self.rows.get(n, ())),
                params=tuple(self.params.get(n, ())),
                description=described.get(n, "changes no driver of this command claims"),
            )
            for n in [*order, *extras]
            if n in names
        ]


def resolve_groups(
    drivers: Sequence[Driver],
    old: Scenario,
    new: Scenario,
    *,
    keys: Mapping[str, Sequence[str]],
    splits: Sequence[Split] = (),
    aligned: Aligned | None = None,
) -> list[Group]:
    """The changed driver groups, in driver order, then groups for unclaimed changes.

    Parameters
    ----------
    drivers
        The command's driver map.
    old, new
        The two runs' inputs.
    keys
        Row keys per role; a role without keys can only change as a whole.
    splits
        Columns read as a base plus a spread (see :class:`Split`).
    aligned
        The roles aligned by :func:`align_inputs` (computed when not given).

    Returns
    -------
    list of Group
        Only groups with at least one difference; together they cover every
        difference between ``old`` and ``new``.
    """
    b = _Builder(drivers)
    aligned = align_inputs(old, new, keys) if aligned is None else aligned
    for role in sorted(set(old.inputs) | set(new.inputs)):
        _resolve_role(b, role, old, new, aligned.get(role), splits)
    for p in _param_changed(old.params, new.params):
        owner = next((d.name for d in drivers if _matches_any(p, d.params)), None)
        b.add(b.params, owner or "other parameters", p)
    return b.groups()


def _matches_any(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _resolve_role(
    b: _Builder,
    role: str,
    old: Scenario,
    new: Scenario,
    aligned: RoleAlignment | None,
    splits: Sequence[Split],
) -> None:
    o, n = old.inputs.get(role), new.inputs.get(role)
    whole = b.owner(role, None)
    if o is None or n is None:
        b.add(b.roles, whole or f"{role} (given in one run only)", role)
        return
    if o.equals(n):
        return
    if aligned is None:
        b.add(b.roles, whole or f"{role} (whole table)", role)
        return
    rows = aligned.only_old.height > 0 or aligned.only_new.height > 0
    cells = _changed_cells(role, aligned, splits)
    if whole is not None and (rows or cells):
        b.add(b.roles, whole, role)
        return
    if rows:
        b.add(b.rows, b.rows_owner(role), role)
    for r, c in cells:
        b.add(b.cells, b.owner(r, c) or f"other {role} columns", (r, c))


class Mixer:
    """Builds the inputs of any mix of old and new driver groups.

    Bit ``i`` of a mask set means group ``i`` takes the new run's values.
    """

    def __init__(
        self,
        old: Scenario,
        new: Scenario,
        groups: Sequence[Group],
        *,
        keys: Mapping[str, Sequence[str]],
        splits: Sequence[Split] = (),
        aligned: Aligned | None = None,
    ) -> None:
        self.old, self.new, self.groups, self.splits = old, new, list(groups), list(splits)
        self._whole: dict[str, int] = {}
        self._rows: dict[str, int] = {}
        self._cells: dict[tuple[str, str], int] = {}
        for i, g in enumerate(self.groups):
            self._whole.update(dict.fromkeys(g.roles, i))
            self._rows.update(dict.fromkeys(g.rows, i))
            self._cells.update(dict.fromkeys(g.cells, i))
        mixed = {r for r, _ in self._cells} | set(self._rows)
        known = aligned or {}
        self._aligned = {
            r: known[r] if r in known else _align(old.inputs[r], new.inputs[r], list(keys[r]))
            for r in sorted(mixed)
        }

    def scenario(self, mask: int) -> Scenario:
        """The inputs and parameters of mix ``mask``."""
        inputs: dict[str, pl.DataFrame] = {}
        for role in sorted(set(self.old.inputs) | set(self.new.inputs)):
            frame = self._role(role, mask)
            if frame is not None:
                inputs[role] = frame
        return Scenario(inputs, self._params(mask))

    def _new(self, index: int | None, mask: int) -> bool:
        return index is not None and bool(mask >> index & 1)

    def _role(self, role: str, mask: int) -> pl.DataFrame | None:
        if role in self._whole:
            side = self.new if self._new(self._whole[role], mask) else self.old
            return side.inputs.get(role)
        if role not in self._aligned:
            return self.old.inputs[role]
        a = self._aligned[role]
        common = a.common.select(
            *a.keys, *(self._column(role, c, mask).alias(c) for c in a.columns)
        )
        extra = a.only_new if self._new(self._rows.get(role), mask) else a.only_old
        return pl.concat([common, extra], how="vertical_relaxed")

    def _column(self, role: str, column: str, mask: int) -> pl.Expr:
        new = self._new(self._cells.get((role, column)), mask)
        name = split_base(self.splits, role, column, self._aligned[role].columns)
        if name is None:
            return pl.col(column + _NEW if new else column)
        base_new = self._new(self._cells.get((role, name)), mask)
        if base_new == new:
            return pl.col(column + _NEW if new else column)
        base = pl.col(name + _NEW if base_new else name)
        spread = pl.col(column + _NEW) - pl.col(name + _NEW)
        if not new:
            spread = pl.col(column) - pl.col(name)
        # A spread moved onto a lower level may cross zero; demand quantiles stay >= 0.
        return pl.max_horizontal(base + spread, pl.lit(0.0))

    def _params(self, mask: int) -> dict[str, Any]:
        params = dict(self.old.params)
        for i, g in enumerate(self.groups):
            if not g.params or not mask >> i & 1:
                continue
            for p in g.params:
                if p in self.new.params:
                    params[p] = self.new.params[p]
                else:
                    params.pop(p, None)
        return params
