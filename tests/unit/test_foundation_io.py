"""I/O: atomic writes, provenance, stdin formats, schema round trips."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scot_cli.errors import InputDataError
from scot_cli.io import Run, atomic_write, parse_frame, read_metadata
from scot_cli.schema import INPUT_TABLES, SALES
from scot_cli.validate import empty_frame, validate


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {"sku": ["B", "A"], "date": [dt.date(2026, 1, 2), dt.date(2026, 1, 1)], "units": [2, 1]}
    )


def test_write_sorts_by_key_and_records_provenance(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    _frame().write_parquet(src)
    run = Run("unit", params={"horizon": 7}, seed=11)
    df = run.read(str(src), SALES, role="sales")
    out = tmp_path / "out.parquet"
    run.write(df, str(out), SALES)
    back = pl.read_parquet(out)
    assert back["sku"].to_list() == ["A", "B"]
    assert back["location"].to_list() == ["ALL", "ALL"]
    prov = read_metadata(str(out))
    assert prov["command"] == "unit"
    assert prov["params"] == {"horizon": 7}
    assert prov["seed"] == 11
    assert prov["inputs"] == [
        {"role": "sales", "path": str(src), "sha256": hashlib.sha256(src.read_bytes()).hexdigest()}
    ]


def test_atomic_write_keeps_previous_file_when_writer_crashes(tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    target.write_bytes(b"previous")

    def crash(f: io.BufferedWriter) -> None:
        f.write(b"half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(target, crash)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_arrow_ipc_stream_is_recognised() -> None:
    table = _frame().to_arrow()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    df = parse_frame(sink.getvalue().to_pybytes(), name="<stdin>")
    assert df.equals(_frame())


def test_arrow_ipc_file_is_recognised() -> None:
    buf = io.BytesIO()
    _frame().write_ipc(buf)
    assert parse_frame(buf.getvalue(), name="x").equals(_frame())


def test_truncated_parquet_is_an_input_error() -> None:
    buf = io.BytesIO()
    _frame().write_parquet(buf)
    with pytest.raises(InputDataError, match="not a Parquet or Arrow IPC file"):
        parse_frame(buf.getvalue()[:-10], name="x")


@pytest.mark.parametrize("table", INPUT_TABLES, ids=lambda t: t.name)
def test_every_input_table_survives_write_then_read(
    table: object, tmp_path: Path, small_tables: dict[str, pl.DataFrame]
) -> None:
    from scot_cli.schema import Table

    assert isinstance(table, Table)
    df = validate(table, small_tables[table.name], source="gen")
    run = Run("unit")
    out = tmp_path / "t.parquet"
    run.write(df, str(out), table)
    back = Run("unit").read(str(out), table)
    assert back.sort(list(table.keys) or back.columns).equals(
        df.sort(list(table.keys) or df.columns)
    )


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C"]),
            st.integers(0, 30),
            st.one_of(st.none(), st.floats(0, 1e6)),
        ),
        max_size=40,
        unique_by=lambda r: (r[0], r[1]),
    )
)
def test_sales_round_trip_property(rows: list[tuple[str, int, float | None]]) -> None:
    df = pl.DataFrame(
        {
            "sku": [r[0] for r in rows],
            "date": [dt.date(2026, 1, 1) + dt.timedelta(days=r[1]) for r in rows],
            "units": [r[2] for r in rows],
        },
        schema={"sku": pl.String, "date": pl.Date, "units": pl.Float64},
    )
    valid = validate(SALES, df, source="p")
    buf = io.BytesIO()
    valid.write_parquet(buf)
    assert validate(SALES, parse_frame(buf.getvalue(), name="p"), source="p").equals(valid)


def test_empty_frame_matches_declaration() -> None:
    assert empty_frame(SALES).columns == [c.name for c in SALES.columns]
