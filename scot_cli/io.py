"""The only module that touches files and standard streams.

It reads Parquet (and Arrow IPC) from paths or stdin, validates against the
declared schema, writes atomically (temporary file in the target folder, fsync,
rename) with provenance in the Parquet key-value metadata, and refuses to write
binary to a terminal or over one of the run's inputs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from scot_cli import __version__
from scot_cli.errors import InputDataError, UsageError
from scot_cli.schema import Table

PROVENANCE_KEY = b"scot"
_PARQUET_MAGIC = b"PAR1"
_IPC_FILE_MAGIC = b"ARROW1"
_IPC_STREAM_CONTINUATION = b"\xff\xff\xff\xff"


@dataclass(frozen=True)
class Source:
    """Where an input came from and the SHA-256 of its bytes."""

    role: str
    path: str
    sha256: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "path": self.path, "sha256": self.sha256}


def _display(path: str) -> str:
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
    return dict(json.loads(raw)) if raw else {}


@dataclass
class Run:
    """One command invocation: reads inputs, remembers them, writes outputs with provenance.

    Parameters
    ----------
    command
        Command name recorded in the output's metadata (e.g. ``"plan-buy"``).
    params
        Parameters recorded in the output's metadata (JSON-serialisable).
    seed
        Random seed recorded in the output's metadata.
    """

    command: str
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    sources: list[Source] = field(default_factory=list)
    _stdin_used: bool = False

    def read(self, path: str, table: Table | None, *, role: str | None = None) -> pl.DataFrame:
        """Read and validate one input. ``-`` reads stdin (once per run)."""
        if path == "-":
            if self._stdin_used:
                raise UsageError("only one input can come from stdin ('-')")
            self._stdin_used = True
        data = read_input_bytes(path)
        name = _display(path) if path == "-" else path
        df = parse_frame(data, name=name)
        if table is not None:
            df = table.validate(df, source=name)
        label = role or (table.name if table else "input")
        self.sources.append(Source(label, path, hashlib.sha256(data).hexdigest()))
        return df

    def read_optional(
        self, path: str | None, table: Table, *, role: str | None = None
    ) -> pl.DataFrame | None:
        return None if path is None else self.read(path, table, role=role)

    def provenance(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        prov: dict[str, Any] = {
            "command": self.command,
            "scot_version": __version__,
            "params": _jsonable(dict(self.params)),
            "seed": self.seed,
            "inputs": [s.as_dict() for s in self.sources],
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        if extra:
            prov.update(_jsonable(dict(extra)))
        return prov

    def write(
        self,
        df: pl.DataFrame,
        out: str | None,
        table: Table | None,
        *,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Validate, sort by key and write ``df`` to ``out`` (stdout when None or ``-``)."""
        if table is not None:
            df = table.validate(df, source=f"{self.command} output {table.name}")
            keys = [k for k in table.keys if k in df.columns]
            if keys:
                df = df.sort(keys, maintain_order=True)
        arrow = df.to_arrow()
        meta = dict(arrow.schema.metadata or {})
        meta[PROVENANCE_KEY] = json.dumps(self.provenance(extra), sort_keys=True).encode()
        arrow = arrow.replace_schema_metadata(meta)
        if out is None or out == "-":
            write_stdout_parquet(arrow)
            return
        self._refuse_input_overwrite(out)
        atomic_write(Path(out), lambda f: pq.write_table(arrow, f, compression="zstd"))

    def _refuse_input_overwrite(self, out: str) -> None:
        target = Path(out).resolve()
        for s in self.sources:
            if s.path != "-" and Path(s.path).resolve() == target:
                raise UsageError(
                    f"{out}: is an input of this run ({s.role}); write the output elsewhere"
                )


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, dt.date | dt.datetime | Path):
        return str(obj)
    if isinstance(obj, float | int | str | bool) or obj is None:
        return obj
    return str(obj)


def atomic_write(path: Path, write: Any) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, fsync, then rename over it."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise UsageError(f"{path}: folder {folder} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def write_stdout_parquet(arrow: pa.Table) -> None:
    """Write Parquet to stdout; refuse when stdout is a terminal."""
    if stdout_is_terminal():
        raise UsageError(
            "refusing to write binary Parquet to a terminal; pass -o FILE or pipe into "
            "another command (e.g. '| scot inspect -')"
        )
    buf = io.BytesIO()
    pq.write_table(arrow, buf, compression="zstd")
    sys.stdout.buffer.write(buf.getvalue())
    sys.stdout.buffer.flush()


def write_text_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def write_frame_as(df: pl.DataFrame, out: str | None, fmt: str) -> None:
    """Write a frame as csv, json or parquet to ``out`` (stdout when None); for scot sql."""
    if fmt == "parquet":
        arrow = df.to_arrow()
        if out is None or out == "-":
            write_stdout_parquet(arrow)
        else:
            atomic_write(Path(out), lambda f: pq.write_table(arrow, f, compression="zstd"))
        return
    text = df.write_csv() if fmt == "csv" else df.write_ndjson()
    if out is None or out == "-":
        write_text_stdout(text)
    else:
        atomic_write(Path(out), lambda f: f.write(text.encode()))


def write_tables(
    folder: Path, frames: Mapping[str, pl.DataFrame], run: Run, tables: Mapping[str, Table]
) -> None:
    """Write several named tables into ``folder`` (created when missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        run.write(df, str(folder / f"{name}.parquet"), tables.get(name))


def write_text_file(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode()))


def sql_query(query: str) -> pl.DataFrame:
    """Run ``query`` in an in-memory DuckDB (which reads Parquet paths directly)."""
    import duckdb

    try:
        con = duckdb.connect()
        try:
            result: pl.DataFrame = con.sql(query).pl()
            return result
        finally:
            con.close()
    except duckdb.Error as exc:
        msg = str(exc).splitlines()[0]
        raise InputDataError(f"sql: {msg}") from exc
