"""The only module that touches files and standard streams.

It reads Parquet (and Arrow IPC) from paths or stdin, validates against the
declared schema, writes atomically (temporary file in the target folder, fsync,
rename) with provenance in the Parquet key-value metadata, and refuses to write
binary to a terminal or over one of the run's inputs.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime as dt
import errno
import hashlib
import io
import json
import os
import re
import socket
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from scot_cli import __version__
from scot_cli.errors import InputDataError, ScotError, UsageError
from scot_cli.schema import Table
from scot_cli.validate import validate

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
            df = validate(table, df, source=name)
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
        trusted: bool = False,
        presorted: bool = False,
    ) -> None:
        """Validate, sort by key and write ``df`` to ``out`` (stdout when None or ``-``).

        ``trusted``: ``df`` was built from validated inputs whose keys it keeps, so its keys
        are not checked again (:func:`scot_cli.validate.validate`). ``presorted``: ``df`` is
        already in key order (the caller has checked), so it is not sorted again.
        """
        df = self.prepare(df, table, trusted=trusted, presorted=presorted)
        arrow, meta = parquet_arrow(df, {PROVENANCE_KEY: self.provenance_bytes(extra)})
        if out is None or out == "-":
            write_stdout_parquet(arrow, meta)
            return
        self._refuse_input_overwrite(out)
        atomic_write(Path(out), lambda f: write_parquet(arrow, f, meta))

    def prepare(
        self,
        df: pl.DataFrame,
        table: Table | None,
        *,
        trusted: bool = False,
        presorted: bool = False,
    ) -> pl.DataFrame:
        """``df`` validated against ``table`` as this command's output, sorted by key."""
        if table is None:
            return df
        df = validate(table, df, source=f"{self.command} output {table.name}", trusted=trusted)
        keys = [k for k in table.keys if k in df.columns]
        return df if not keys or presorted else df.sort(keys, maintain_order=True)

    def provenance_bytes(self, extra: Mapping[str, Any] | None = None) -> bytes:
        """The provenance as stored under :data:`PROVENANCE_KEY`."""
        return json.dumps(self.provenance(extra), sort_keys=True).encode()

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


#: Suffix of every temporary file scot makes; never ``.parquet``, so that a glob over a
#: folder's outputs (``'dir/*.parquet'``) never sees half-written or spilled data.
TEMP_SUFFIX = ".scot-tmp"
_TEMP_NAME = re.compile(r"^\.(?P<stem>.*)\.(?P<host>[0-9a-f]{6})-(?P<pid>\d+)\.[^.]+\.scot-tmp$")
_LIVE_TEMPS: set[str] = set()


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def make_temp(folder: Path | None, stem: str) -> Path:
    """Create an empty temporary file ``.<stem>.<host>-<pid>.<random>.scot-tmp`` in ``folder``
    (the system's temporary folder when None), after removing the stale temporaries that
    dead scot processes of this machine left there; it is removed at exit or on SIGTERM or
    SIGINT (see :func:`remove_live_temps`) unless :func:`forget_temp` is called first."""
    remove_stale_temps(folder)
    fd, name = tempfile.mkstemp(
        prefix=f".{stem}.{_host_tag()}-{os.getpid()}.", suffix=TEMP_SUFFIX, dir=folder
    )
    os.close(fd)
    _LIVE_TEMPS.add(name)
    return Path(name)


def forget_temp(path: Path) -> None:
    """``path`` was renamed into place or removed: no longer ours to clean."""
    _LIVE_TEMPS.discard(str(path))


def remove_live_temps() -> None:
    """Remove this process's temporary files (at exit, or when a signal ends the run)."""
    for name in list(_LIVE_TEMPS):
        with contextlib.suppress(OSError):
            os.unlink(name)
        _LIVE_TEMPS.discard(name)


atexit.register(remove_live_temps)


def remove_stale_temps(folder: Path | None) -> list[Path]:
    """Remove the temporaries in ``folder`` whose process (on this machine) has ended, as a
    ``kill -9`` or a power cut leaves them; returns the paths removed."""
    where = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    host, removed = _host_tag(), list[Path]()
    try:
        entries = list(os.scandir(where))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if m is None:
            if not _LEGACY_TEMP.match(entry.name) or not _older_than(entry, LEGACY_AGE):
                continue
        elif m["host"] != host or _alive(int(m["pid"])):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


#: Temporaries of scot versions before the ``.scot-tmp`` names (the spill file matched
#: ``*.parquet``); they carry no process id, so only old ones are removed.
_LEGACY_TEMP = re.compile(r"^\.(scot-spill\.[a-z0-9_]{8}\.parquet|.+\.parquet\.[a-z0-9_]{8}\.tmp)$")
LEGACY_AGE = 86_400.0


def _older_than(entry: os.DirEntry[str], seconds: float) -> bool:
    try:
        return time.time() - entry.stat().st_mtime > seconds
    except OSError:
        return False


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def check_output(path: str | None, *, option: str, stdout: bool = False) -> None:
    """Refuse an output before any work: a folder, a missing or unwritable folder, or binary
    output to a terminal (``-``, or no path when ``stdout``).

    Raises
    ------
    UsageError
        Naming the option and what to do.
    """
    if path is None or path == "-":
        if stdout or path == "-":
            refuse_binary_to_terminal()
        return
    p = Path(path)
    if p.is_dir():
        raise UsageError(
            f"{option} {path}: is a folder; give a file name, e.g. {p / 'out.parquet'}"
        )
    folder = p.parent
    if not folder.exists():
        raise UsageError(
            f"{option} {path}: folder {folder} does not exist; create it first (mkdir -p {folder})"
        )
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: cannot write into folder {folder} (permission denied)")


def check_output_folder(path: str, *, option: str) -> None:
    """Refuse an output folder that is a file, or that cannot be created, before any work."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(f"{option} {path}: is a file; give a folder (it is created when missing)")
    parent = next((a for a in p.absolute().parents if a.exists()), None)
    if not p.exists() and parent is not None and not parent.is_dir():
        raise UsageError(f"{option} {path}: {parent} is a file, not a folder")


def atomic_write(path: Path, write: Any) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, fsync, then rename over it.

    The temporary's name never matches ``*.parquet`` (:func:`make_temp`); it is removed when
    the write fails or the run is interrupted, so ``path`` is either the previous file or the
    complete new one.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise UsageError(f"{path}: folder {folder} does not exist; create it first")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name")
    tmp = make_temp(folder, path.name)
    try:
        fd = os.open(tmp, os.O_WRONLY)
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        forget_temp(tmp)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        forget_temp(tmp)
        reason = storage_failure(exc)
        if reason:
            raise ScotError(
                f"{path}: cannot write ({reason}); the previous file is unchanged; free space "
                "or write elsewhere"
            ) from exc
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO}


def storage_failure(exc: BaseException) -> str | None:
    """What went wrong when ``exc`` is the storage refusing a write (disk or quota full, a
    read-only file system, an I/O error), else None. pyarrow reports these without an errno,
    by message only."""
    if not isinstance(exc, OSError):
        return None
    if exc.errno in _STORAGE_ERRNOS:
        return os.strerror(exc.errno)
    text = str(exc)
    known = (os.strerror(e) for e in _STORAGE_ERRNOS)
    return next((m for m in known if m in text), None)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def refuse_binary_to_terminal() -> None:
    """Raise the usage error for binary output when stdout is a terminal."""
    if stdout_is_terminal():
        raise UsageError(
            "refusing to write binary Parquet to a terminal; pass -o FILE or pipe into "
            "another command (e.g. '| scot inspect -')"
        )


def write_stdout_parquet(arrow: pa.Table, meta: Mapping[bytes, bytes] | None = None) -> None:
    """Write Parquet to stdout; refuse when stdout is a terminal.

    With ``meta`` (from :func:`parquet_arrow`), ``arrow`` is written by :func:`write_parquet`.
    """
    refuse_binary_to_terminal()
    buf = io.BytesIO()
    if meta is None:
        pq.write_table(arrow, buf, compression="zstd")
    else:
        write_parquet(arrow, buf, meta)
    sys.stdout.buffer.write(buf.getvalue())
    sys.stdout.buffer.flush()


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
    columns are views and dictionaries).
    """
    with pq.ParquetWriter(sink, arrow.schema, compression="zstd", store_schema=False) as writer:
        writer.write_table(arrow)
        writer.add_key_value_metadata(dict(meta))


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


def refuse_query_overwrite(query: str, out: str | None) -> None:
    """Refuse ``out`` when it is one of the files ``query`` reads (a quoted path or glob).

    Raises
    ------
    UsageError
        Naming the output and the quoted path that reads it.
    """
    import glob

    if out is None or out == "-" or not Path(out).exists():
        return
    target = Path(out).resolve()
    for quoted in re.findall(r"'((?:[^']|'')*)'", query):
        text = quoted.replace("''", "'")
        for name in glob.glob(text) if glob.has_magic(text) else [text]:
            if Path(name).exists() and Path(name).resolve() == target:
                raise UsageError(
                    f"-o {out}: is an input of this run (the query reads '{text}'); write "
                    "the output elsewhere"
                )


#: DuckDB types polars cannot hold: their values are given as text.
_AS_TEXT = ("INTERVAL", "UNION", "VARINT", "BIGNUM")
#: Binary types JSON and text formats cannot hold.
_BINARY = ("BLOB", "BIT")
#: Nested types (and ``X[]`` lists) a text format (csv, a printed table) cannot show.
_NESTED = ("STRUCT", "MAP")


def sql_query(query: str, *, fmt: str = "parquet") -> pl.DataFrame:
    """Run ``query`` in an in-memory DuckDB (which reads Parquet paths directly).

    Columns of types polars cannot hold (intervals, unions, big integers) come back as text;
    so do binary columns unless ``fmt`` is parquet, and nested ones when it is csv or table.

    Raises
    ------
    UsageError
        When the query gives no result (empty, or not a SELECT).
    InputDataError
        When DuckDB refuses the query or a file it reads.
    """
    import duckdb

    try:
        con = duckdb.connect()
        try:
            rel = con.sql(query)
            if rel is None:
                raise UsageError(
                    "sql: the query gives no result (empty, or not a SELECT); give a SELECT"
                )
            return _as_frame(rel, fmt=fmt)
        finally:
            con.close()
    except duckdb.OutOfMemoryException as exc:
        raise MemoryError(str(exc)) from exc
    except duckdb.Error as exc:
        msg = str(exc).splitlines()[0]
        raise InputDataError(f"sql: {msg}") from exc


def _as_frame(rel: Any, *, fmt: str) -> pl.DataFrame:
    def shown_as_text(kind: str) -> bool:
        if kind.startswith(_AS_TEXT) or (fmt != "parquet" and kind.startswith(_BINARY)):
            return True
        return fmt in ("csv", "table") and (kind.endswith("]") or kind.startswith(_NESTED))

    kinds = [str(t) for t in rel.types]
    if any(shown_as_text(k) for k in kinds):
        cols = [c.replace('"', '""') for c in rel.columns]
        rel = rel.project(
            ", ".join(
                f'CAST("{c}" AS VARCHAR) AS "{c}"' if shown_as_text(k) else f'"{c}"'
                for c, k in zip(cols, kinds, strict=True)
            )
        )
    result: pl.DataFrame = rel.pl()
    return result


# Streamed inputs and outputs: a catalogue read in partitions and written as it is forecast,
# so that memory is bounded by a partition rather than by the file.


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


@dataclass(frozen=True)
class ScannedInput:
    """An input read lazily: a scan with the table's defaults and dtypes, and a reader of the
    validated rows of some keys.

    Attributes
    ----------
    lazy
        Lazy frame over the file with the declared columns only, defaults added and dtypes
        canonical; rows are not validated (``load`` validates what it reads).
    key
        Column that ``load`` selects on.
    """

    path: str
    table: Table
    lazy: pl.LazyFrame
    key: str

    def load(self, values: pl.Series) -> pl.DataFrame:
        """Validated rows whose ``key`` is in ``values`` (sorted), in file order. The range
        test lets Parquet statistics skip row groups of a file sorted by the key."""
        lo, hi = values.min(), values.max()
        col = pl.col(self.key)
        within = col.is_between(pl.lit(lo), pl.lit(hi)) & col.is_in(values.implode())
        df = self.lazy.filter(within).collect()
        return validate(self.table, df, source=self.path)


def scan_input(run: Run, path: str, table: Table, *, role: str, key: str) -> ScannedInput:
    """Open a Parquet input lazily: check its columns and dtypes now, hash it by streaming
    (recorded like :meth:`Run.read`), and refuse null keys (rows without a key would belong
    to no partition).

    Raises
    ------
    InputDataError
        As :meth:`Run.read` would for a missing column, a mistyped one or a null key.
    """
    if not is_parquet_file(path):
        raise InputDataError(f"{path}: not a Parquet file; scan_input reads Parquet files only")
    try:
        raw = pl.scan_parquet(path)
        schema = raw.collect_schema()
    except Exception as exc:
        raise InputDataError(f"{path}: cannot be read as Parquet ({exc})") from exc
    empty = validate(table, pl.DataFrame(schema=schema), source=path)
    declared = [c.name for c in table.columns if c.name in empty.columns]
    lazy = raw.with_columns(
        pl.lit(value).alias(name) for name, value in table.defaults.items() if name not in schema
    ).select(pl.col(c).cast(empty.schema[c]) for c in declared)
    nulls = lazy.filter(pl.col(key).is_null())
    if nulls.select(pl.len()).collect(engine="streaming").item():
        validate(table, nulls.collect(), source=path)
    _check_extreme_dates(lazy, table, path, empty.schema)
    run.sources.append(Source(role, path, hash_file(path)))
    return ScannedInput(path, table, lazy, key)


def _check_extreme_dates(
    lazy: pl.LazyFrame, table: Table, path: str, schema: Mapping[str, Any]
) -> None:
    """Validate the rows holding each date column's first and last date, so that a date
    typo (6958 for 2026) is refused before any partition is read, as :meth:`Run.read` does."""
    dates = [
        c for c, t in schema.items() if t in (pl.Date, pl.Datetime) or isinstance(t, pl.Datetime)
    ]
    if not dates:
        return
    ends = [
        lazy.filter(pl.col(c) == bound).head(1)
        for c in dates
        for bound in (pl.col(c).min(), pl.col(c).max())
    ]
    rows = pl.concat(ends).collect(engine="streaming").unique(maintain_order=True)
    if rows.height:
        validate(table, rows, source=path)


def write_stream(
    run: Run,
    frames: Iterable[pl.DataFrame],
    out: str | None,
    table: Table | None,
    *,
    extra: Mapping[str, Any] | None = None,
) -> int:
    """:meth:`Run.write` for a frame that comes in parts: validate and sort each part by
    key and write it as it comes (parts must arrive in key order), with the same provenance
    and the same atomic replacement of ``out`` (stdout when None or ``-``). Returns the rows
    written.
    """
    to_stdout = out is None or out == "-"
    if to_stdout:
        refuse_binary_to_terminal()
    else:
        run._refuse_input_overwrite(str(out))
    prov = run.provenance_bytes(extra)
    rows = 0

    def write(f: Any) -> None:
        nonlocal rows
        writer: pq.ParquetWriter | None = None
        schema: pa.Schema | None = None
        try:
            for part in frames:
                arrow = run.prepare(part, table).to_arrow()
                if schema is None:
                    meta = dict(arrow.schema.metadata or {})
                    meta[PROVENANCE_KEY] = prov
                    schema = arrow.schema.with_metadata(meta)
                    writer = pq.ParquetWriter(f, schema, compression="zstd")
                assert writer is not None
                writer.write_table(arrow.cast(schema))
                rows += arrow.num_rows
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise InputDataError(f"{run.command}: nothing to write")

    if to_stdout:
        write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        atomic_write(Path(str(out)), write)
    return rows


class SpillFile:
    """Frames set aside on disk and read back in order, one Parquet row group each; the
    temporary file (:func:`make_temp`, not named ``*.parquet``) lives in ``folder`` (the
    system's temporary folder when None) and is removed on exit."""

    def __init__(self, folder: Path | None = None) -> None:
        self.path = make_temp(folder, "spill")
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def __enter__(self) -> SpillFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        forget_temp(self.path)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def put(self, frame: pl.DataFrame) -> None:
        """Append ``frame`` as one row group."""
        arrow = frame.to_arrow()
        if self._writer is None:
            self._schema = arrow.schema
            self._writer = pq.ParquetWriter(self.path, arrow.schema, compression="lz4")
        self._writer.write_table(arrow.cast(self._schema), row_group_size=max(arrow.num_rows, 1))

    def frames(self) -> Iterator[pl.DataFrame]:
        """The frames put, in order, one at a time."""
        if self._writer is None:
            return
        self.close()
        source = pq.ParquetFile(self.path)
        for i in range(source.num_row_groups):
            yield pl.from_arrow(source.read_row_group(i))  # type: ignore[misc]
