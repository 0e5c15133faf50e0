"""``scot merge``: the outputs of ``--shard 0/N .. N-1/N`` joined into the whole run's table.

Every part must come from the same command with the same parameters, seed and inputs
(SHA-256), and the parts must be the shards 0..N-1 of one N, each once: otherwise the
merge is refused naming the part and what differs. Shards are contiguous sku ranges, so
the parts in shard order are the whole table in key order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from scot_cli.errors import InputDataError
from scot_cli.io import Run, Source, read_metadata
from scot_cli.io.dataset import dataset_sha256, is_dataset, read_manifest, scan_dataset

__all__ = ["Part", "merge_parts", "read_part"]

#: Provenance entries that may differ between the shards of one run.
_PER_PART = {"shard", "created", "part"}


@dataclass(frozen=True)
class Part:
    """One shard's output: its path, provenance, shard index and count, and its hash."""

    path: str
    provenance: dict[str, Any]
    index: int
    of: int
    sha256: str
    #: The hive column of a dataset written with --partition-by (dropped when read).
    partition_by: str | None = None

    def schema(self) -> dict[str, pl.DataType]:
        """The part's columns and dtypes (the hive column of a dataset dropped)."""
        try:
            if is_dataset(self.path):
                schema = dict(scan_dataset(self.path).collect_schema())
                schema.pop(self.partition_by or "", None)
                return schema
            return dict(pl.read_parquet_schema(self.path))
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise InputDataError(f"{self.path}: cannot read its columns ({exc})") from None

    def frame(self) -> pl.DataFrame:
        if is_dataset(self.path):
            df = scan_dataset(self.path).collect()
            return df.drop(self.partition_by) if self.partition_by else df
        return pl.read_parquet(self.path)


def read_part(path: str) -> Part:
    """A shard output's provenance.

    Raises
    ------
    InputDataError
        A file or folder without scot provenance, or not written with ``--shard``.
    """
    by = None
    if is_dataset(path):
        manifest = read_manifest(path)
        prov = manifest.get("provenance", {})
        by = manifest.get("partition_by")
        sha = dataset_sha256(path)
    else:
        prov = read_metadata(path)
        from scot_cli.io import hash_file

        sha = hash_file(path)
    if not prov:
        raise InputDataError(f"{path}: no scot provenance; merge joins the outputs of --shard runs")
    shard = str(prov.get("shard", ""))
    i, _, n = shard.partition("/")
    if not (i.isdigit() and n.isdigit()):
        raise InputDataError(f"{path}: not written with --shard i/N; nothing to merge")
    return Part(path, prov, int(i), int(n), sha, by)


def _common(prov: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in prov.items() if k not in _PER_PART}


def merge_parts(paths: Sequence[str]) -> tuple[Run, dict[str, Any], Iterator[pl.DataFrame]]:
    """Check the parts and return the merged run's provenance (a :class:`Run` and its extra
    entries) and the parts' frames in shard order.

    Raises
    ------
    InputDataError
        Parts of different runs (naming the differing entry), a shard missing or given twice.
    """
    parts = [read_part(p) for p in paths]
    first = parts[0]
    base = _common(first.provenance)
    for part in parts[1:]:
        other = _common(part.provenance)
        for key in sorted(set(base) | set(other)):
            if base.get(key) != other.get(key):
                raise InputDataError(
                    f"{part.path}: not a shard of the same run as {first.path} "
                    f"(its {key} differs); merge the shards of one run"
                )
    n = first.of
    seen: dict[int, str] = {}
    for part in parts:
        if part.of != n:
            raise InputDataError(f"{part.path}: shard {part.index}/{part.of}, the others of {n}")
        if part.index in seen:
            raise InputDataError(
                f"{part.path}: shard {part.index}/{n} is also {seen[part.index]}; give each once"
            )
        seen[part.index] = part.path
    missing = [i for i in range(n) if i not in seen]
    if missing:
        raise InputDataError(
            f"merge: shard(s) {', '.join(f'{i}/{n}' for i in missing)} missing; give all {n} parts"
        )
    parts.sort(key=lambda p: p.index)
    _same_columns(parts)
    run = Run(
        str(base.get("command", "merge")),
        params=base.get("params") or {},
        seed=base.get("seed"),
        sources=[Source(s["role"], s["path"], s["sha256"]) for s in base.get("inputs", [])],
    )
    known = {"command", "params", "seed", "inputs", "scot_version"}
    extra = {k: v for k, v in base.items() if k not in known}
    extra["merged"] = [
        {"path": str(Path(p.path)), "shard": f"{p.index}/{n}", "sha256": p.sha256} for p in parts
    ]
    return run, extra, (p.frame() for p in parts)


def _same_columns(parts: Sequence[Part]) -> None:
    """Every part has the first part's columns, in its order and with its dtypes."""
    first = parts[0].schema()
    for part in parts[1:]:
        schema = part.schema()
        if list(schema) != list(first):
            odd = sorted(set(schema) ^ set(first)) or list(schema)
            raise InputDataError(
                f"{part.path}: column(s) {', '.join(repr(c) for c in odd)} differ from "
                f"{parts[0].path}'s; merge the unchanged outputs of one run"
            )
        for name, dtype in schema.items():
            if dtype != first[name]:
                raise InputDataError(
                    f"{part.path}: column {name!r} is {dtype}, {first[name]} in "
                    f"{parts[0].path}; merge the unchanged outputs of one run"
                )
