"""Parquet datasets: folders read as one table, written whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from scot_cli.errors import InputDataError
from scot_cli.io import Run
from scot_cli.io.dataset import (
    MANIFEST,
    DatasetWriter,
    dataset_files,
    dataset_sha256,
    is_dataset_output,
    read_dataset,
)


def _frame(lo: int, hi: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"sku": [f"S{i:03d}" for i in range(lo, hi)], "x": [float(i) for i in range(lo, hi)]}
    )


def test_a_folder_reads_as_one_table_without_its_manifest_or_temporaries(tmp_path: Path) -> None:
    (tmp_path / "region=N").mkdir()
    (tmp_path / "region=S").mkdir()
    _frame(0, 3).write_parquet(tmp_path / "region=N" / "a.parquet")
    _frame(3, 5).write_parquet(tmp_path / "region=S" / "b.parquet")
    (tmp_path / MANIFEST).write_text("{}")
    (tmp_path / ".half.parquet").write_bytes(b"not parquet")
    (tmp_path / "_tmp").mkdir()
    (tmp_path / "_tmp" / "c.parquet").write_bytes(b"not parquet")
    assert [Path(f).name for f in dataset_files(str(tmp_path))] == ["a.parquet", "b.parquet"]
    df, sha = read_dataset(str(tmp_path))
    assert df.sort("sku")["region"].to_list() == ["N", "N", "N", "S", "S"]
    assert sha == dataset_sha256(str(tmp_path))
    _frame(3, 6).write_parquet(tmp_path / "region=S" / "b.parquet")
    assert dataset_sha256(str(tmp_path)) != sha  # the hash follows the bytes


def test_run_read_takes_a_folder_and_records_its_hash(tmp_path: Path) -> None:
    _frame(0, 4).write_parquet(tmp_path / "p.parquet")
    run = Run("test")
    assert run.read(str(tmp_path), None, role="t").height == 4
    assert run.sources[0].sha256 == dataset_sha256(str(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputDataError, match="without Parquet files"):
        run.read(str(empty), None)


def test_a_failed_write_leaves_the_old_dataset_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with DatasetWriter(f"{out}/", {"command": "t"}) as w:
        w.write(0, _frame(0, 2))
        w.write(1, _frame(2, 5))
        w.commit()
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["rows"] == 5
    assert [f["path"] for f in manifest["files"]] == ["part-00000.parquet", "part-00001.parquet"]
    with pytest.raises(RuntimeError), DatasetWriter(str(out), {"command": "t"}) as w:
        w.write(0, _frame(0, 1))
        raise RuntimeError("a partition failed")
    assert json.loads((out / MANIFEST).read_text()) == manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert pl.read_parquet(f"{out}/**/*.parquet").equals(_frame(0, 5))


def test_dataset_outputs_are_named_by_a_slash_or_a_partition_column() -> None:
    assert is_dataset_output("out/")
    assert is_dataset_output("out", "sku_hash")
    assert not is_dataset_output("out.parquet")
    assert not is_dataset_output("-", None)
    assert not is_dataset_output(None)


@pytest.mark.parametrize("typo", ["6958-01-03", "1850-01-03"])
def test_a_scanned_input_with_a_date_typo_is_refused_before_any_partition(
    tmp_path: Path, typo: str
) -> None:
    """A scanned sales file is checked at its first and last date, as a read one is."""
    import datetime as dt

    from scot_cli.io import scan_input
    from scot_cli.schema import SALES

    dates = [dt.date(2026, 1, d) for d in (1, 2)] + [dt.date.fromisoformat(typo)]
    sales = pl.DataFrame({"sku": ["A", "A", "B"], "date": dates, "units": [1.0, 2.0, 3.0]})
    sales.write_parquet(tmp_path / "sales.parquet")
    with pytest.raises(InputDataError, match="date"):
        scan_input(Run("t"), str(tmp_path / "sales.parquet"), SALES, role="sales", key="sku")
    sales.head(2).write_parquet(tmp_path / "ok.parquet")
    scanned = scan_input(Run("t"), str(tmp_path / "ok.parquet"), SALES, role="sales", key="sku")
    assert scanned.lazy.collect().height == 2
