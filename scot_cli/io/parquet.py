"""The Parquet (and Arrow IPC) format: reading bytes from a path or stdin, parsing them,
scot's provenance in the key-value metadata, and writing Parquet without copying strings."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from scot_cli.errors import InputDataError

PROVENANCE_KEY = b"scot"
_PARQUET_MAGIC = b"PAR1"
_IPC_FILE_MAGIC = b"ARROW1"
_IPC_STREAM_CONTINUATION = b"\xff\xff\xff\xff"


def display_name(path: str) -> str:
    """How an input is named in messages: ``<stdin>`` for ``-``, else the file name."""
    return "<stdin>" if path == "-" else Path(path).name


def read_input_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    p = Path(path)
    if not p.exists():
        raise InputDataError(f"{path}: no such file; check the path")
    if p.is_dir():
        raise InputDataError(f"{path}: is a folder, expected a Parquet file")
    return p.read_bytes()


def parse_frame(data: bytes, *, name: str) -> pl.DataFrame:
    """Parse Parquet or Arrow IPC (file or stream) bytes into a frame."""
    if not data:
        raise InputDataError(f"{name}: file is empty; expected Parquet or Arrow IPC")
    try:
        if data[:4] == _PARQUET_MAGIC and data[-4:] == _PARQUET_MAGIC:
            return pl.read_parquet(io.BytesIO(data))
        if data[:6] == _IPC_FILE_MAGIC:
            return pl.read_ipc(io.BytesIO(data))
        if data[:4] == _IPC_STREAM_CONTINUATION:
            return pl.read_ipc_stream(io.BytesIO(data))
    except Exception as exc:
        raise InputDataError(f"{name}: cannot be read as Parquet ({exc})") from exc
    raise InputDataError(f"{name}: not a Parquet or Arrow IPC file; convert it with scot sql")


def read_metadata(path: str) -> dict[str, Any]:
    """Return the provenance dict a scot command stored in ``path`` ({} when absent)."""
    data = read_input_bytes(path)
    return provenance_of(data, name=path)


def provenance_of(data: bytes, *, name: str) -> dict[str, Any]:
    if data[:4] != _PARQUET_MAGIC:
        return {}
    try:
        meta = pq.read_schema(pa.BufferReader(data)).metadata or {}
    except Exception as exc:
        raise InputDataError(f"{name}: cannot be read as Parquet ({exc})") from exc
    raw = meta.get(PROVENANCE_KEY)
    if not raw:
        return {}
    try:
        prov = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputDataError(
            f"{name}: its scot provenance (Parquet metadata key 'scot') is not valid JSON "
            f"({exc}); rerun the command that wrote the file"
        ) from exc
    if not isinstance(prov, dict):
        raise InputDataError(
            f"{name}: its scot provenance (Parquet metadata key 'scot') is not a JSON object; "
            "rerun the command that wrote the file"
        )
    return prov


_ARROW_SCHEMA_KEY = b"ARROW:schema"
_STRINGS = (pl.String, pl.Enum, pl.Categorical)


def parquet_arrow(
    df: pl.DataFrame, meta: Mapping[bytes, bytes]
) -> tuple[pa.Table, dict[bytes, bytes]]:
    """``df`` as Arrow for :func:`write_parquet`, and the file's key-value metadata.

    Strings are handed over without a copy: String columns as string views, Enum and
    Categorical columns as dictionaries (the Parquet writer then takes each dictionary as
    it is instead of hashing every value). The Arrow schema stored in the file is the one
    ``df.to_arrow()`` gives with those columns as plain strings, with ``meta`` added, so
    every reader (polars, pyarrow, duckdb) sees the same types and metadata as always.
    """
    strings = [c for c, dt in df.schema.items() if isinstance(dt, _STRINGS)]
    plain = df.drop(strings).to_arrow()
    schema_df = df.head(0).with_columns(pl.col(strings).cast(pl.String))
    schema = schema_df.to_arrow().schema
    stored = dict(schema.metadata or {})
    stored.update(meta)
    schema = schema.with_metadata(stored)
    fast = df.select(strings).to_arrow(compat_level=pl.CompatLevel.newest())
    columns = []
    for name in df.columns:
        if name not in strings:
            columns.append(plain.column(name))
            continue
        col = fast.column(name)
        if pa.types.is_dictionary(col.type):
            col = pa.chunked_array(
                [
                    pa.DictionaryArray.from_arrays(
                        chunk.indices, chunk.dictionary.cast(pa.string())
                    )
                    for chunk in col.chunks
                ],
                type=pa.dictionary(col.type.index_type, pa.string()),
            )
        columns.append(col)
    kv = dict(stored)
    kv[_ARROW_SCHEMA_KEY] = base64.b64encode(schema.serialize().to_pybytes())
    return pa.table(columns, names=df.columns), kv


def write_parquet(arrow: pa.Table, sink: Any, meta: Mapping[bytes, bytes]) -> None:
    """Write ``arrow`` (from :func:`parquet_arrow`) as zstd Parquet with key-value ``meta``.

    The Arrow schema is stored from ``meta`` (not derived from ``arrow``, whose string
    columns are views and dictionaries). Float columns are written without a dictionary:
    their values are mostly distinct, so the writer would hash every value only to give
    the dictionary up (a 1M-row, 31-column policy table: 1.7 s to 1.0 s, 2% smaller).
    Statistics stay on every column (they cost nothing measurable and let readers prune).
    """
    with pq.ParquetWriter(
        sink,
        arrow.schema,
        compression="zstd",
        store_schema=False,
        use_dictionary=_dictionary_columns(arrow.schema),
    ) as writer:
        writer.write_table(arrow)
        writer.add_key_value_metadata(dict(meta))


def _dictionary_columns(schema: pa.Schema) -> list[str] | bool:
    """Columns written with a dictionary: all but the floats (every column when one is
    nested, whose leaves the writer names by path)."""
    if any(pa.types.is_nested(f.type) for f in schema):
        return True
    return [f.name for f in schema if not pa.types.is_floating(f.type)]


def hash_file(path: str, *, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file's bytes, read in chunks (never the whole file in memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def is_parquet_file(path: str) -> bool:
    """Whether ``path`` names a Parquet file (not stdin, not Arrow IPC), by its magic bytes."""
    if path == "-":
        return False
    p = Path(path)
    if not p.is_file() or p.stat().st_size < 8:
        return False
    with open(p, "rb") as f:
        head = f.read(4)
        f.seek(-4, os.SEEK_END)
        return head == _PARQUET_MAGIC and f.read(4) == _PARQUET_MAGIC
