"""The I/O package's public surface: what ``from scot_cli.io import X`` gives, and
``table_input`` (a frame or a path, validated as the command line validates it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import scot_cli.io
from scot_cli.errors import InputDataError
from scot_cli.schema import SALES

#: Every name callers imported from the single-module ``scot_cli/io.py`` before the split.
BEFORE_THE_SPLIT = [
    "Run",
    "Source",
    "SpillFile",
    "ScannedInput",
    "PROVENANCE_KEY",
    "TEMP_SUFFIX",
    "LEGACY_AGE",
    "atomic_write",
    "check_output",
    "check_output_folder",
    "forget_temp",
    "hash_file",
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
    "write_frame_as",
    "write_parquet",
    "write_stdout_parquet",
    "write_stream",
    "write_tables",
    "write_text_file",
    "write_text_stdout",
]


@pytest.mark.parametrize("name", BEFORE_THE_SPLIT)
def test_every_name_of_the_old_module_is_still_importable(name: str) -> None:
    assert name in scot_cli.io.__all__
    assert getattr(scot_cli.io, name) is not None


def test_all_lists_only_public_names_that_exist() -> None:
    for name in scot_cli.io.__all__:
        assert not name.startswith("_")
        assert hasattr(scot_cli.io, name), name


def _sales() -> pl.DataFrame:
    return pl.DataFrame(
        {"sku": ["A", "A"], "date": [dt.date(2026, 1, 1), dt.date(2026, 1, 2)], "units": [1, 2]}
    )


def test_table_input_fills_defaults_and_canonical_dtypes_for_a_frame_and_a_path(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sales.parquet"
    _sales().write_parquet(path)
    from_frame = scot_cli.io.table_input(_sales(), SALES, role="sales")
    from_path = scot_cli.io.table_input(path, SALES, role="sales")
    assert from_frame.equals(from_path)
    assert from_frame["location"].to_list() == ["ALL", "ALL"]
    assert from_frame.schema["units"] == pl.Float64


def test_table_input_names_the_role_of_a_bad_frame() -> None:
    with pytest.raises(InputDataError, match=r"^sales: .*units"):
        scot_cli.io.table_input(_sales().drop("units"), SALES, role="sales")
