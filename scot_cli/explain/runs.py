"""A recorded run read back: its output, its provenance and the inputs it read.

explain re-runs a decision from the files a scot command wrote. The output carries the
provenance (command, parameters, inputs with their SHA-256); each input is found again at
its recorded path, under the output's folder or beside the output, with the same bytes, or
given explicitly by role. Every file is read through :mod:`scot_cli.io`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from scot_cli.errors import InputDataError, UsageError
from scot_cli.explain.compare import RunData, decision_function, role_tables, sample_units
from scot_cli.explain.drivers import spec_for
from scot_cli.explain.provenance import check_params, check_provenance
from scot_cli.io import Run, hash_file, read_metadata
from scot_cli.options import OptionError

#: The file name of place's constraints output, read beside a placement (one decision).
CONSTRAINTS_FILE = "constraints.parquet"


def read_output(path: str, label: str, reader: Run) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The frame of a scot output and its checked provenance (``{}`` when it has none).

    Raises
    ------
    UsageError
        For stdin (``-``): the provenance is read after the frame.
    InputDataError
        When the provenance is malformed or its parameters are not valid.
    """
    if path == "-":
        raise UsageError(f"{label.upper()} must be a file: explain reads its provenance twice")
    frame = reader.read(path, None, role=label)
    meta = check_provenance(read_metadata(path), source=path)
    check_params(str(meta.get("command") or ""), meta.get("params", {}), source=path)
    return frame, meta


def _digest(path: Path) -> str | None:
    """SHA-256 of a file, or None when there is no such file."""
    try:
        return hash_file(str(path))
    except OSError:
        return None


def locate(recorded: str, run_path: str, sha256: str | None) -> tuple[Path | None, bool]:
    """The file a run read: the recorded path, else beside the output (same SHA-256).

    Returns the path (None when no candidate matches) and whether any candidate existed,
    to tell a changed input from a missing one.
    """
    if recorded == "-":
        return None, False
    p, folder = Path(recorded), Path(run_path).parent
    seen = False
    for candidate in dict.fromkeys((p, folder / p, folder / p.name)):
        digest = _digest(candidate)
        if digest is None:
            continue
        seen = True
        if digest == sha256:
            return candidate, True
    return None, seen


def load_run(
    path: str,
    label: str,
    meta: Mapping[str, Any],
    output: pl.DataFrame,
    overrides: Mapping[str, str],
    reader: Run,
) -> RunData:
    """The run that wrote ``path``: its inputs read again and validated as it read them.

    ``overrides`` (role -> path) replace recorded inputs; ``label`` (``before``, ``after``,
    ``run``) names the run in errors.

    Raises
    ------
    OptionError
        When an override names a role the run did not read.
    InputDataError
        When an input is gone, came from stdin or changed since the run.
    """
    tables = role_tables(spec_for(str(meta["command"])))
    inputs_meta = meta.get("inputs", [])
    known = {i["role"] for i in inputs_meta}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise OptionError(
            f"{label}_inputs",
            f"{unknown[0]}=...: {path} has no input with that role "
            f"(roles: {', '.join(sorted(known))})",
        )
    inputs, sources = {}, {}
    for item in inputs_meta:
        role, recorded = item["role"], item["path"]
        given = overrides.get(role)
        where, seen = (Path(given), True) if given else locate(recorded, path, item.get("sha256"))
        hint = f"pass --{label}-input {role}=PATH with the file that run read"
        if where is None and seen:
            raise InputDataError(
                f"{path}: its {role} input {recorded} changed since that run (SHA-256 differs); "
                f"{hint}"
            )
        if where is None:
            what = "came from stdin" if recorded == "-" else f"{recorded} is no longer on disk"
            raise InputDataError(f"{path}: its {role} input {what}; {hint}")
        inputs[role] = reader.read(str(where), tables.get(role), role=f"{label}.{role}")
        sources[role] = str(where)
    return RunData(path, str(meta["command"]), meta.get("params", {}), inputs, output, sources)


def complete_rows(
    path: str, meta: Mapping[str, Any], rows: pl.DataFrame, sku: str | None, reader: Run
) -> tuple[pl.DataFrame, str]:
    """Add the columns of the full decision (plan-buy: orders and policy) by re-running it.

    The re-run takes that sku's rows only when the decision is separable by sku (no
    shared budget or storage limit); when the run's inputs are gone the rows are explained
    as they are, with a note.
    """
    spec = spec_for(str(meta["command"]))
    if spec is None or not spec.separable or sku is None:
        return rows, ""
    try:
        data = load_run(path, "run", meta, rows, {}, reader)
    except InputDataError as exc:
        return rows, f"(explained from the row only: {exc.message})"
    # A coupled decision (a budget shared by all skus) must be re-run on every sku.
    unit = spec.separable_by(data.params, roles=data.inputs)
    inputs = sample_units(data.inputs, unit, units=[sku]) if unit else data.inputs
    full = decision_function(spec)(inputs, data.params)
    keys = [k for k in ("sku", "node") if k in rows.columns and k in full.columns]
    extra = [c for c in full.columns if c not in rows.columns]
    if not keys or not extra:
        return rows, ""
    added = full.select(*keys, *extra).with_columns(pl.col(keys).cast(pl.String))
    return rows.with_columns(pl.col(keys).cast(pl.String)).join(added, on=keys, how="left"), ""


def sibling_constraints(path: str, meta: Mapping[str, Any], reader: Run) -> pl.DataFrame | None:
    """place's constraints table written by the same run, beside the placement file."""
    if meta.get("command") != "place":
        return None
    sibling = str(Path(path).parent / CONSTRAINTS_FILE)
    try:
        other = read_metadata(sibling)
    except InputDataError:
        return None
    same = all(other.get(k) == meta.get(k) for k in ("command", "created", "inputs", "params"))
    return reader.read(sibling, None, role="constraints") if same else None
