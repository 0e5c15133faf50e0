"""The only package that touches files and standard streams.

It reads Parquet (and Arrow IPC) from paths or stdin, validates against the declared schema,
writes atomically (temporary file in the target folder, fsync, rename) with provenance in the
Parquet key-value metadata, and refuses to write binary to a terminal or over one of the
run's inputs.

This module holds the run (:class:`Run`: inputs read and recorded, outputs written to a file
or stdout) and the checks of outputs and the terminal; :mod:`scot_cli.io.files` writes files
atomically and cleans temporaries, :mod:`scot_cli.io.parquet` knows the format and the
provenance bytes, :mod:`scot_cli.io.sql` runs ``scot sql``'s queries. Every public name is
importable from ``scot_cli.io``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from scot_cli import __version__
from scot_cli.errors import InputDataError, UsageError
from scot_cli.io.dataset import dataset_sha256, is_dataset, read_dataset, scan_dataset
from scot_cli.io.files import (
    LEGACY_AGE,
    TEMP_SUFFIX,
    SpillFile,
    atomic_write,
    forget_temp,
    host_tag,
    make_temp,
    remove_live_temps,
    remove_stale_temps,
    storage_failure,
    write_text_file,
)
from scot_cli.io.parquet import (
    PROVENANCE_KEY,
    display_name,
    hash_file,
    is_parquet_file,
    parquet_arrow,
    parse_frame,
    provenance_of,
    read_input_bytes,
    read_metadata,
    write_parquet,
)
from scot_cli.io.sql import refuse_query_overwrite, sql_query
from scot_cli.schema import Table
from scot_cli.validate import in_key_order, validate

__all__ = [
    "LEGACY_AGE",
    "PROVENANCE_KEY",
    "TEMP_SUFFIX",
    "Run",
    "ScannedInput",
    "Source",
    "SpillFile",
    "atomic_write",
    "check_output",
    "check_output_folder",
    "display_name",
    "forget_temp",
    "hash_file",
    "host_tag",
    "is_parquet_file",
    "make_temp",
    "parquet_arrow",
    "parse_frame",
    "provenance_of",
    "read_input_bytes",
    "read_metadata",
    "refuse_binary_to_terminal",
    "refuse_query_overwrite",
    "remove_live_temps",
    "remove_stale_temps",
    "scan_input",
    "sql_query",
    "stdout_is_terminal",
    "storage_failure",
    "table_input",
    "write_frame_as",
    "write_parquet",
    "write_parts",
    "write_stdout_parquet",
    "write_stream",
    "write_tables",
    "write_text_file",
    "write_text_stdout",
]

#: Deprecated spelling of :func:`host_tag`, kept while a test still calls it.
_host_tag = host_tag


@dataclass(frozen=True)
class Source:
    """Where an input came from and the SHA-256 of its bytes."""

    role: str
    path: str
    sha256: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "path": self.path, "sha256": self.sha256}


def _read_one(path: str, table: Table | None, role: str | None) -> tuple[pl.DataFrame, Source]:
    """One input read and validated, and its source (``-``: stdin)."""
    label = role or (table.name if table else "input")
    if path != "-" and is_dataset(path):  # a Parquet dataset folder (scot_cli.io.dataset)
        df, sha = read_dataset(path)
        df = validate(table, df, source=path) if table is not None else df
        return df, Source(label, path, sha)
    if path != "-" and is_parquet_file(path):
        read = _read_parquet_file(path, table)
        if read is not None:
            return read[0], Source(label, path, read[1])
    data = read_input_bytes(path)
    name = display_name(path) if path == "-" else path
    # the bytes are hashed on a second thread while they are parsed and validated
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(lambda: hashlib.sha256(data).hexdigest())
        df = parse_frame(data, name=name)
        if table is not None:
            df = validate(table, df, source=name)
        return df, Source(label, path, digest.result())


def _read_parquet_file(path: str, table: Table | None) -> tuple[pl.DataFrame, str] | None:
    """A Parquet file parsed from its path and validated, and its SHA-256, streamed on a
    second thread meanwhile; None when the file changed while it was read (the caller then
    reads its bytes once, parsed and hashed alike).

    From the path polars reads the column chunks it needs in parallel as it decodes them,
    instead of after a copy of the whole file into memory (the 1M-sku forecast: 0.2-0.4
    CPU s less, and the parse starts at once).
    """
    before = _identity(path)
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(hash_file, path)
        try:
            df = pl.read_parquet(path, memory_map=False)
        except Exception as exc:
            raise InputDataError(f"{path}: cannot be read as Parquet ({exc})") from exc
        if table is not None:
            df = validate(table, df, source=path)
        sha = digest.result()
    return (df, sha) if _identity(path) == before else None


def _identity(path: str) -> tuple[int, ...]:
    """What changes when a file is rewritten: device, inode, size and modification time."""
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _emit(df: pl.DataFrame, out: str | None, provenance: bytes) -> None:
    """Write a prepared ``df`` with its provenance to ``out`` (stdout when None or ``-``),
    atomically for a file."""
    arrow, meta = parquet_arrow(df, {PROVENANCE_KEY: provenance})
    if out is None or out == "-":
        write_stdout_parquet(arrow, meta)
        return
    atomic_write(Path(out), lambda f: write_parquet(arrow, f, meta))


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
        self._claim_stdin(path)
        df, source = _read_one(path, table, role)
        self.sources.append(source)
        return df

    def read_all(
        self, inputs: Sequence[tuple[str | None, Table | None, str]]
    ) -> list[pl.DataFrame | None]:
        """:meth:`read` of each ``(path, table, role)`` (None for an absent input), the
        files read and validated at once, one thread each (polars parses and checks without
        holding the GIL, so a small table is ready while a large one is parsed).

        As reading them in the order given: the sources are recorded in that order, and the
        first input (in that order) that fails raises its error once every read is over.
        """
        outcomes: list[Future[tuple[pl.DataFrame, Source]] | Exception | None] = []
        here: tuple[Future[tuple[pl.DataFrame, Source]], str, Table | None, str] | None = None
        with ThreadPoolExecutor(max_workers=max(1, len(inputs))) as pool:
            for path, table, role in inputs:
                if path is None:
                    outcomes.append(None)
                    continue
                try:
                    self._claim_stdin(path)
                except UsageError as exc:
                    outcomes.append(exc)
                    continue
                if here is None:  # the first input is read on this thread, below
                    here = (Future(), path, table, role)
                    outcomes.append(here[0])
                    continue
                outcomes.append(pool.submit(_read_one, path, table, role))
            if here is not None:
                # the first input (the largest, as a rule) on this thread: its buffers come
                # from the main heap, which the command's later allocations reuse
                done, path, table, role = here
                try:
                    done.set_result(_read_one(path, table, role))
                except Exception as exc:
                    done.set_exception(exc)
            for outcome in outcomes:  # every read done before the first failure is raised
                if isinstance(outcome, Future):
                    outcome.exception()
        frames: list[pl.DataFrame | None] = []
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome
            if outcome is None:
                frames.append(None)
                continue
            df, source = outcome.result()
            self.sources.append(source)
            frames.append(df)
        return frames

    def _claim_stdin(self, path: str) -> None:
        if path == "-":
            if self._stdin_used:
                raise UsageError("only one input can come from stdin ('-')")
            self._stdin_used = True

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
        if out is not None and out != "-":
            self._refuse_input_overwrite(out)
        _emit(df, out, self.provenance_bytes(extra))

    def write_all(self, outputs: Iterable[tuple[pl.DataFrame, str | None, Table | None]]) -> None:
        """:meth:`write` each ``(df, out, table)``: all validated first (an invalid output
        leaves every file as it was), then written at once, one thread per output file
        (pyarrow's writer releases the GIL; at most one output goes to stdout)."""
        ready = [
            (self.prepare(df, table), out, self.provenance_bytes()) for df, out, table in outputs
        ]
        for _, out, _ in ready:
            if out is not None and out != "-":
                self._refuse_input_overwrite(out)
        if len(ready) < 2:
            for item in ready:
                _emit(*item)
            return
        with ThreadPoolExecutor(max_workers=len(ready)) as pool:
            for done in [pool.submit(_emit, *item) for item in ready]:
                done.result()

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
        if not keys or presorted or df.height < 2:
            return df
        # often already in key order: checking costs a fraction of the sort
        if in_key_order(df, keys, strict=False):
            return df
        return df.sort(keys, maintain_order=True)

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


def table_input(value: pl.DataFrame | str | Path, table: Table, *, role: str) -> pl.DataFrame:
    """A notebook's table argument, validated as the command line validates it: a frame is
    checked against ``table`` (named ``role`` in errors), a path (``-`` for stdin) is read
    as :meth:`Run.read` reads it.

    Raises
    ------
    InputDataError
        As :meth:`Run.read` would: a missing or mistyped column, a bad key or value.
    """
    return read_input(value, table, role=role, reader=Run(role))[0]


def read_input(
    value: pl.DataFrame | str | Path, table: Table, *, role: str, reader: Run
) -> tuple[pl.DataFrame, str]:
    """A table argument as a validated frame and the name its errors use: a frame is checked
    against ``table`` (named ``role``); a path is read by ``reader`` (which records the file)
    and named by its path."""
    if isinstance(value, pl.DataFrame):
        return validate(table, value, source=role), role
    return reader.read(str(value), table, role=role), str(value)


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
    if path.endswith("/"):  # a dataset output (scot_cli.io.dataset)
        check_output_folder(path, option=option)
        return
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


# Streamed inputs and outputs: a catalogue read in partitions and written as it is forecast,
# so that memory is bounded by a partition rather than by the file.


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
    folder = is_dataset(path)
    if not folder and not is_parquet_file(path):
        raise InputDataError(f"{path}: not a Parquet file; scan_input reads Parquet files only")
    try:
        raw = scan_dataset(path) if folder else pl.scan_parquet(path)
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
    run.sources.append(Source(role, path, dataset_sha256(path) if folder else hash_file(path)))
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
    # the bounds first (a streaming aggregate), then a row at each: comparing with a
    # column's own min() in the filter would collect the whole table
    span = lazy.select(
        [pl.col(c).min().alias(f"{c}.min") for c in dates]
        + [pl.col(c).max().alias(f"{c}.max") for c in dates]
    ).collect(engine="streaming")
    ends = [
        lazy.filter(pl.col(c) == pl.lit(value, dtype=schema[c])).head(1)
        for c in dates
        for value in (span[f"{c}.min"][0], span[f"{c}.max"][0])
        if value is not None
    ]
    if not ends:
        return
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
                # cast only parts whose types differ (Table.cast imports pyarrow.compute);
                # the writer takes the file's metadata from the schema it was opened with
                same = arrow.schema.equals(schema, check_metadata=False)
                writer.write_table(arrow if same else arrow.cast(schema))
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


def write_parts(
    run: Run,
    parts: Iterable[pl.DataFrame],
    out: str | None,
    table: Table | None,
    *,
    trusted: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> int:
    """:meth:`Run.write` of a table that comes in consecutive parts already in key order:
    each part is validated, then written as row groups on a second thread while the next
    part is made (the caller's work and the zstd writer overlap on two cores). The file
    holds the same rows, types and provenance as :meth:`Run.write` of the whole table, with
    the same atomic replacement of ``out`` (stdout when None or ``-``). Returns the rows
    written.

    Raises
    ------
    InputDataError
        When no part comes, or a part fails validation (nothing is written then).
    """
    to_stdout = out is None or out == "-"
    if to_stdout:
        refuse_binary_to_terminal()
    else:
        run._refuse_input_overwrite(str(out))
    prov = {PROVENANCE_KEY: run.provenance_bytes(extra)}
    source = f"{run.command} output {table.name if table else 'table'}"
    keys = tuple(table.keys) if table else ()
    rows = 0

    def write(f: Any) -> None:
        nonlocal rows
        writer: pq.ParquetWriter | None = None
        meta: dict[bytes, bytes] = {}
        pending: Future[None] | None = None
        with ThreadPoolExecutor(max_workers=1) as pool:
            try:
                for part in parts:
                    df = (
                        part
                        if table is None
                        else validate(table, part, source=source, trusted=trusted)
                    )
                    arrow, meta = parquet_arrow(df, prov)
                    if writer is None:
                        schema = pa.schema(
                            [_wide_index(field) for field in arrow.schema],
                        )
                        writer = pq.ParquetWriter(
                            f,
                            schema,
                            compression="zstd",
                            store_schema=False,
                            write_statistics=_statistics_columns(schema, keys),
                        )
                    arrow = arrow.cast(writer.schema)
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(writer.write_table, arrow)
                    rows += arrow.num_rows
                if pending is not None:
                    pending.result()
            finally:
                if pending is not None:
                    pending.exception()  # the writer is idle before it is closed
                if writer is not None:
                    if meta:
                        writer.add_key_value_metadata(meta)
                    writer.close()
        if writer is None:
            raise InputDataError(f"{run.command}: nothing to write")

    if to_stdout:
        buf = io.BytesIO()
        write(buf)
        sys.stdout.buffer.write(buf.getvalue())
        sys.stdout.buffer.flush()
    else:
        atomic_write(Path(str(out)), write)
    return rows


def _wide_index(field: pa.Field) -> pa.Field:
    """``field`` with a dictionary's indices as int32: parts of one table may differ in
    how many categories a column uses, not in the file's types."""
    if pa.types.is_dictionary(field.type):
        return field.with_type(pa.dictionary(pa.int32(), field.type.value_type))
    return field


def _statistics_columns(schema: pa.Schema, keys: tuple[str, ...]) -> list[str]:
    """Columns whose row groups carry min/max statistics: the keys and every column but
    the other strings (computing string statistics costs a third of the writer's time, and
    row groups of mixed skus or nodes are never skipped by them)."""
    text = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)

    def is_text(t: pa.DataType) -> bool:
        value = t.value_type if pa.types.is_dictionary(t) else t
        return any(check(value) for check in text)

    return [f.name for f in schema if f.name in keys or not is_text(f.type)]
