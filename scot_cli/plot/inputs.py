"""What a picture is drawn from: tables recognised by their columns, kinds of picture, and
the inputs a scot output's provenance names (a forecast's sales history, a placement's
nodes).

Plain data and polars: importing this module does not import matplotlib.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from scot_cli.errors import InputDataError

from .kinds import KINDS, ROLE_WORDS, ROLES, Kind

__all__ = ["KINDS", "ROLES", "Inputs", "Kind", "Table", "gather", "kind_of", "load", "role_of"]

#: Provenance input role of a scot output -> the table role it is here.
_PROVENANCE_ROLES = {
    "sales": "sales",
    "events": "events",
    "nodes": "nodes",
    "stations": "nodes",
    "stops": "stops",
}


@dataclass(frozen=True)
class Table:
    """One input table: its frame, name for messages, role and scot provenance."""

    frame: pl.DataFrame
    name: str
    role: str | None
    provenance: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None

    @property
    def command(self) -> str | None:
        command = self.provenance.get("command")
        return command if isinstance(command, str) else None

    def describe(self) -> str:
        """``written by scot promise`` or the role's words, for messages."""
        if self.command:
            return f"an output of scot {self.command}"
        return ROLE_WORDS.get(self.role or "", "a table scot plot does not know")


@dataclass(frozen=True)
class Inputs:
    """The tables of one picture by role, and notes on inputs left out."""

    kind: str
    tables: Mapping[str, Table]
    notes: tuple[str, ...] = ()

    def get(self, role: str) -> pl.DataFrame | None:
        table = self.tables.get(role)
        return None if table is None else table.frame

    def need(self, role: str) -> pl.DataFrame:
        table = self.tables.get(role)
        if table is None:
            raise InputDataError(f"scot plot {self.kind}: needs {ROLE_WORDS[role]}")
        return table.frame

    def params(self, role: str) -> Mapping[str, Any]:
        table = self.tables.get(role)
        params = table.provenance.get("params") if table else None
        return params if isinstance(params, Mapping) else {}


def role_of(columns: Sequence[str]) -> str | None:
    """The role of a table with these columns, or None when none fits."""
    have = set(columns)
    return next((role for role, cols in ROLES.items() if cols <= have), None)


def load(source: pl.DataFrame | str | Path, *, name: str | None = None) -> Table:
    """A table from a frame or a file (Parquet or Arrow IPC, ``-`` for stdin), with its
    role and, for a file, its scot provenance."""
    if isinstance(source, pl.DataFrame):
        return Table(source, name or "<frame>", role_of(source.columns))
    from scot_cli.io import parse_frame, provenance_of, read_input_bytes

    path = str(source)
    data = read_input_bytes(path)
    label = "<stdin>" if path == "-" else path
    frame = parse_frame(data, name=label)
    prov = provenance_of(data, name=label)
    return Table(frame, label, role_of(frame.columns), prov, None if path == "-" else path)


def kind_of(table: Table) -> str:
    """The kind of picture that draws ``table``: from the command that wrote it, else from
    its columns.

    Raises
    ------
    InputDataError
        When no kind draws it.
    """
    for name, kind in KINDS.items():
        if table.command in kind.commands and table.role in (*kind.main, *kind.extra):
            return name
    for name, kind in KINDS.items():
        if table.role in kind.main:
            return name
    raise InputDataError(
        f"{table.name}: is {table.describe()}, which scot plot does not draw; "
        f"it draws outputs of {', '.join(KINDS)}"
    )


def gather(kind: str, tables: Sequence[Table]) -> Inputs:
    """The inputs of one picture of ``kind``: the given tables by role, plus the inputs
    their provenance names (when the file is still there, unchanged).

    Raises
    ------
    InputDataError
        A table the kind does not draw (naming the kind that does), or no main table.
    """
    spec = KINDS.check(kind)
    by_role: dict[str, Table] = {}
    for table in tables:
        if table.role is None or not spec.uses(table.role) or table.role in by_role:
            raise InputDataError(_misfit(kind, table, repeated=table.role in by_role))
        _check(table)
        by_role[table.role] = table
    if not any(role in by_role for role in spec.main):
        raise InputDataError(_misfit(kind, tables[0]))
    notes = _follow_provenance(spec, by_role)
    return Inputs(kind, by_role, tuple(notes))


#: Roles whose table has a schema, checked as the command that reads it checks it.
_SCHEMAS = {
    "forecast": ("scot_cli.forecast.schema", "FORECAST"),
    "promises": ("scot_cli.promise.schema", "PROMISES"),
}


def _check(table: Table) -> None:
    """A table with rows and, where its role has a schema, valid against it.

    Raises
    ------
    InputDataError
        No rows, or a column missing, mistyped or out of range (naming file and column).
    """
    import importlib

    if table.frame.height == 0:
        raise InputDataError(f"{table.name}: no rows; nothing to draw")
    found = _SCHEMAS.get(table.role or "")
    if found is not None:
        from scot_cli.validate import validate

        full = getattr(importlib.import_module(found[0]), found[1])
        # a picture needs its role's columns; the others are checked only when present
        used = ROLES[table.role or ""]
        columns = tuple(
            replace(c, required=c.name in used)
            for c in full.columns
            if c.name in used or c.name in table.frame.columns
        )
        schema = replace(full, columns=columns, keys=(), defaults={})
        validate(
            schema,
            table.frame.select([c.name for c in columns if c.name in table.frame.columns]),
            source=table.name,
        )


def _misfit(kind: str, table: Table, *, repeated: bool = False) -> str:
    if repeated:
        return f"{table.name}: a second {ROLE_WORDS[table.role or '']}; give one"
    hint = ""
    try:
        other = kind_of(table)
        hint = f"; draw it with scot plot {other} {table.name}" if other != kind else ""
    except InputDataError:
        pass
    wants = " or ".join(ROLE_WORDS[r] for r in KINDS[kind].main)
    return f"{table.name}: is {table.describe()}, not {wants} (scot plot {kind}){hint}"


def _follow_provenance(spec: Kind, by_role: dict[str, Table]) -> list[str]:
    notes: list[str] = []
    for table in list(by_role.values()):
        entries = table.provenance.get("inputs")
        for entry in entries if isinstance(entries, list) else []:
            role = _PROVENANCE_ROLES.get(str(entry.get("role")))
            if role is None or not spec.uses(role) or role in by_role:
                continue
            found = _recorded_input(entry)
            if found is None:
                notes.append(f"{role}: {entry.get('path')} is gone or changed; not drawn")
            else:
                by_role[role] = found
    return notes


def _recorded_input(entry: Mapping[str, Any]) -> Table | None:
    """The file a provenance entry names, when it still has the recorded hash."""
    from scot_cli.io import hash_file

    path = str(entry.get("path") or "")
    if not path or path == "-" or not Path(path).is_file():
        return None
    if hash_file(path) != entry.get("sha256"):
        return None
    return load(path)
