"""``scot sql``'s engine: a DuckDB query over Parquet files as a polars frame."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl

from scot_cli.errors import InputDataError, UsageError


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
