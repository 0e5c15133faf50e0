"""Parquet datasets: a folder of Parquet files read as one table, and written as one.

An input table may be a single Parquet file or a *dataset*: a folder (local, or an
``s3://`` / ``gs://`` / ``hdfs://`` URI through :mod:`pyarrow.fs`) whose ``*.parquet`` files,
at any depth, hold the rows; ``key=value`` folders (hive partitioning) add their column.
Files whose name starts with ``_`` or ``.`` are not data (``_scot.json``, temporaries).
A dataset's provenance hash is the SHA-256 of its files' paths and SHA-256s, in order.

An output dataset (``-o out/``) is written into a temporary folder beside ``out`` (one
file per partition of skus, ``part-00000.parquet``..., or under ``COL=value/`` folders with
``--partition-by``), each file with the run's provenance, plus a ``_scot.json`` manifest
(provenance, files, rows, SHA-256s); the folder is then renamed into place, so a reader
sees the previous dataset or the complete new one. polars
(``pl.read_parquet('out/**/*.parquet')``), DuckDB (``'out/**/*.parquet'``) and Dask
(``dd.read_parquet('out/')``) read it as one table.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from scot_cli.errors import InputDataError, UsageError
from scot_cli.io.parquet import PROVENANCE_KEY

__all__ = [
    "MANIFEST",
    "SKU_HASH",
    "SKU_HASH_BUCKETS",
    "DatasetWriter",
    "PartWriter",
    "dataset_files",
    "dataset_sha256",
    "is_dataset",
    "is_dataset_output",
    "read_dataset",
    "read_manifest",
    "scan_dataset",
    "sku_buckets",
]

#: The manifest of an output dataset.
MANIFEST = "_scot.json"
#: The virtual ``--partition-by`` column: a stable bucket of the sku.
SKU_HASH = "sku_hash"
#: Buckets of :data:`SKU_HASH`.
SKU_HASH_BUCKETS = 32

_REMOTE = ("s3://", "gs://", "gcs://", "hdfs://", "abfs://", "az://", "file://")


def _is_remote(path: str) -> bool:
    return path.startswith(_REMOTE)


def is_dataset(path: str) -> bool:
    """Whether ``path`` names a dataset: a local folder, or a remote URI that is not a file."""
    if path == "-":
        return False
    if _is_remote(path):
        import pyarrow.fs as pafs

        fs, root = pafs.FileSystem.from_uri(path)
        return bool(fs.get_file_info(root).type == pafs.FileType.Directory)
    return Path(path).is_dir()


def is_dataset_output(path: str | None, partition_by: str | None = None) -> bool:
    """Whether an output names a dataset folder: ``--partition-by``, a trailing ``/`` or
    an existing folder."""
    if path is None or path == "-":
        return False
    return partition_by is not None or path.endswith("/") or Path(path).is_dir()


def _data_name(name: str) -> bool:
    return name.endswith(".parquet") and not name.startswith(("_", "."))


def dataset_files(path: str) -> list[str]:
    """The dataset's Parquet files (paths or URIs), sorted by their path in the folder.

    Raises
    ------
    InputDataError
        A folder without Parquet files.
    """
    if _is_remote(path):
        import pyarrow.fs as pafs

        fs, root = pafs.FileSystem.from_uri(path)
        infos = fs.get_file_info(pafs.FileSelector(root, recursive=True))
        scheme = path.split("://", 1)[0]
        rels = sorted(
            i.path[len(root) :].lstrip("/")
            for i in infos
            if i.type == pafs.FileType.File and _data_name(i.base_name)
        )
        files = [f"{scheme}://{root.rstrip('/')}/{r}" for r in rels]
    else:
        base = Path(path)
        files = sorted(
            str(p)
            for p in base.rglob("*.parquet")
            if p.is_file()
            and _data_name(p.name)
            and not any(part.startswith(("_", ".")) for part in p.relative_to(base).parts[:-1])
        )
    if not files:
        raise InputDataError(f"{path}: a folder without Parquet files (*.parquet)")
    return files


def _open(file: str) -> Any:
    if _is_remote(file):
        import pyarrow.fs as pafs

        fs, inner = pafs.FileSystem.from_uri(file)
        return fs.open_input_stream(inner)
    return open(file, "rb")


def dataset_sha256(path: str, files: Iterable[str] | None = None) -> str:
    """SHA-256 of ``name sha256`` lines of the dataset's files (names relative to it)."""
    outer = hashlib.sha256()
    root = path.rstrip("/")
    for file in files if files is not None else dataset_files(path):
        inner = hashlib.sha256()
        with _open(file) as f:
            while chunk := f.read(1 << 22):
                inner.update(chunk)
        outer.update(f"{file[len(root) :].lstrip('/')} {inner.hexdigest()}\n".encode())
    return outer.hexdigest()


def scan_dataset(path: str) -> pl.LazyFrame:
    """The dataset as one lazy frame (hive columns added)."""
    files = dataset_files(path)
    try:
        lazy = pl.scan_parquet(files, hive_partitioning=True, missing_columns="insert")
        lazy.collect_schema()
    except Exception as exc:
        raise InputDataError(f"{path}: cannot be read as a Parquet dataset ({exc})") from exc
    return lazy


def read_dataset(path: str) -> tuple[pl.DataFrame, str]:
    """The dataset read whole, and its SHA-256 (:func:`dataset_sha256`)."""
    files = dataset_files(path)
    try:
        df = scan_dataset(path).collect()
    except InputDataError:
        raise
    except Exception as exc:
        raise InputDataError(f"{path}: cannot be read as a Parquet dataset ({exc})") from exc
    return df, dataset_sha256(path, files)


def read_manifest(path: str) -> dict[str, Any]:
    """The ``_scot.json`` of a dataset written by scot ({} when it has none)."""
    p = Path(path) / MANIFEST
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise InputDataError(f"{p}: not a readable manifest ({exc})") from exc
    return data if isinstance(data, dict) else {}


class PartWriter:
    """Writes one partition's files into a dataset's temporary folder and returns their
    manifest entries: what :class:`DatasetWriter` does per part, picklable so that the
    worker that made a partition writes it (the folder must be visible to it)."""

    def __init__(
        self, folder: Path, provenance: Mapping[str, Any], partition_by: str | None
    ) -> None:
        self.folder = folder
        self.provenance = dict(provenance)
        self.partition_by = partition_by

    def __call__(self, index: int, frame: pl.DataFrame) -> list[dict[str, Any]]:
        """Write partition ``index`` (one file, or one per value of the partition column)."""
        if self.partition_by is None:
            return [self._file(f"part-{index:05d}.parquet", frame, index)]
        col = self.partition_by
        if col == SKU_HASH:
            frame = frame.with_columns(sku_buckets(frame["sku"], SKU_HASH_BUCKETS))
        if col not in frame.columns:
            raise UsageError(
                f"--partition-by {col}: not a column of the output ({', '.join(frame.columns)})"
            )
        return [
            self._file(f"{col}={value}/part-{index:05d}.parquet", group.drop(col), index)
            for (value,), group in frame.group_by(col, maintain_order=True)
        ]

    def _file(self, rel: str, frame: pl.DataFrame, index: int) -> dict[str, Any]:
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        arrow = frame.to_arrow()
        prov = {**self.provenance, "part": index}
        meta = {
            **(arrow.schema.metadata or {}),
            PROVENANCE_KEY: json.dumps(prov, sort_keys=True).encode(),
        }
        table = arrow.replace_schema_metadata(meta)
        pq.write_table(table, path, compression="zstd")
        return {"path": rel, "rows": frame.height, "sha256": _sha(path)}


class DatasetWriter:
    """Writes an output dataset part by part into a temporary folder beside ``out`` and
    renames it into place on :meth:`commit` (:meth:`abort`, or an exception inside a
    ``with`` block, removes it).

    Parameters
    ----------
    provenance
        The run's provenance (a dict): stored in every file, with the file's part number,
        and in the manifest.
    partition_by
        A column of the frames, or :data:`SKU_HASH`, whose values become ``COL=value``
        folders (the column is not stored in the files: hive readers add it back).
    """

    def __init__(
        self, out: str, provenance: Mapping[str, Any], *, partition_by: str | None = None
    ) -> None:
        self.out = Path(out.rstrip("/") or ".")
        if self.out.exists() and not self.out.is_dir():
            raise UsageError(f"-o {out}: is a file; a dataset output is a folder")
        parent = self.out.parent
        if not parent.is_dir():
            raise UsageError(f"-o {out}: folder {parent} does not exist; create it first")
        self.provenance = dict(provenance)
        self.partition_by = partition_by
        self.tmp = Path(
            tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".scot-tmp", dir=parent)
        )
        self.files: list[dict[str, Any]] = []
        self.rows = 0

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is not None:
            self.abort()

    def part_writer(self) -> PartWriter:
        """The writer of one partition's files, for a worker; :meth:`add` its entries."""
        return PartWriter(self.tmp, self.provenance, self.partition_by)

    def write(self, index: int, frame: pl.DataFrame) -> None:
        """Write partition ``index`` (one file, or one per value of the partition column)."""
        self.add(self.part_writer()(index, frame))

    def add(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Record files written into the temporary folder (by :class:`PartWriter`)."""
        for entry in entries:
            self.files.append(dict(entry))
            self.rows += int(entry["rows"])

    def commit(self) -> None:
        """Write the manifest and rename the folder into place (replacing an old one)."""
        manifest = {
            "format": "scot-dataset/1",
            "provenance": self.provenance,
            "partition_by": self.partition_by,
            "rows": self.rows,
            "files": sorted(self.files, key=lambda f: f["path"]),
        }
        (self.tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        os.chmod(self.tmp, 0o777 & ~_umask())
        old = None
        if self.out.exists():
            old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}.scot-tmp")
            os.replace(self.out, old)
        os.replace(self.tmp, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            shutil.rmtree(self.tmp)


def sku_buckets(skus: pl.Series, buckets: int) -> pl.Series:
    """A stable bucket 0..buckets-1 per sku (CRC-32 of its UTF-8 bytes), the same on every
    machine and version: the ``sku_hash`` of a partitioned output."""
    unique = skus.unique()
    codes = np.fromiter(
        (zlib.crc32(s.encode()) for s in unique.cast(pl.String).to_list()),
        dtype=np.uint32,
        count=unique.len(),
    )
    lookup = pl.DataFrame({"sku": unique, "b": (codes % buckets).astype(np.int32)})
    return (
        pl.DataFrame({"sku": skus})
        .join(lookup, on="sku", how="left", maintain_order="left")["b"]
        .alias("sku_hash")
    )


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
