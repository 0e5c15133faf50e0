"""The promises table in blocks: the same rows as the whole table, and the same file.

``scot promise`` assembles the table in blocks of whole orders and writes each block while
the next is made (``scot_cli.io.write_parts``); these tests hold that path to the whole-table
one on the committed fixtures, with blocks small enough that there are many.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from scot_cli.errors import InputDataError
from scot_cli.io import TEMP_SUFFIX, Run, write_parts
from scot_cli.promise import PromiseOptions
from scot_cli.promise.api import PromiseParts, promise_parts
from scot_cli.promise.schema import PROMISES


def _parts(fixture_dir: Path, mode: str = "snapshot", split: str = "allow") -> PromiseParts:
    return promise_parts(
        fixture_dir / "orders.parquet",
        inventory=fixture_dir / "inventory.parquet",
        nodes=fixture_dir / "nodes.parquet",
        lanes=fixture_dir / "lanes.parquet",
        calendar=fixture_dir / "calendar.parquet",
        options=PromiseOptions(mode=mode, split=split),
    )


def _plain(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col(pl.Enum).cast(pl.String))


@pytest.mark.parametrize(("mode", "split"), [("snapshot", "avoid"), ("commit", "allow")])
def test_blocks_are_the_table_in_order(fixture_dir: Path, mode: str, split: str) -> None:
    parts = _parts(fixture_dir, mode=mode, split=split)
    whole = parts.decision.table()
    blocks = list(parts.blocks(37))
    assert len(blocks) > 10
    # blocks hold whole orders: no order id is cut between two blocks
    ends = [(b["order_id"][0], b["order_id"][-1]) for b in blocks]
    assert all(prev[1] != nxt[0] for prev, nxt in itertools.pairwise(ends))
    assert pl.concat([_plain(b) for b in blocks]).equals(_plain(whole))


@pytest.mark.parametrize("split", ["allow", "avoid"])
def test_snapshot_blocks_decided_as_they_come_equal_the_whole(
    fixture_dir: Path, split: str
) -> None:
    """Snapshot units are decided block by block as the blocks are made (while the writer
    writes the block before); the rows depend neither on it nor on the block size, and a
    table asked for after a run of blocks, finished or not, is still whole."""
    whole = _parts(fixture_dir, split=split).decision.table()
    for size in (1, 37, 10**9):
        lazy = _parts(fixture_dir, split=split)
        assert lazy.decision.pending is not None
        blocks = [_plain(b) for b in lazy.blocks(size)]
        # each block was decided into arrays of its own lines, not kept: a table asked
        # for afterwards decides the units again
        assert lazy.decision.pending is not None
        assert lazy.decision.decided is not None and lazy.decision.decided.fc.size == 0
        assert pl.concat(blocks).equals(_plain(whole))
        assert _plain(lazy.decision.table()).equals(_plain(whole))
    stopped = _parts(fixture_dir, split=split)
    first = next(iter(stopped.blocks(37)))
    assert _plain(first).equals(_plain(whole).head(first.height))
    assert _plain(stopped.decision.table()).equals(_plain(whole))


def _schema_and_meta(path: Path) -> tuple[object, dict[bytes, bytes]]:
    schema = pq.read_schema(path)
    meta = {k: v for k, v in (schema.metadata or {}).items() if k != b"scot"}
    return schema.remove_metadata(), meta


def test_written_in_parts_equals_written_whole(fixture_dir: Path, tmp_path: Path) -> None:
    parts = _parts(fixture_dir, split="avoid")
    run = Run("promise", params={"split": "avoid"})
    whole, streamed = tmp_path / "whole.parquet", tmp_path / "parts.parquet"
    run.write(parts.decision.table(), str(whole), PROMISES, trusted=True, presorted=True)
    rows = write_parts(run, parts.blocks(100), str(streamed), PROMISES, trusted=True)
    a, b = pl.read_parquet(whole), pl.read_parquet(streamed)
    assert rows == a.height == b.height
    assert a.equals(b)
    assert _schema_and_meta(whole) == _schema_and_meta(streamed)
    assert pq.ParquetFile(streamed).metadata.num_row_groups > 1
    prov = pq.read_schema(streamed).metadata[b"scot"]
    assert b'"command": "promise"' in prov


def test_a_bad_part_leaves_nothing_behind(fixture_dir: Path, tmp_path: Path) -> None:
    parts = _parts(fixture_dir)
    blocks = list(parts.blocks(500))
    bad = blocks[1].with_columns(pl.lit(-1.0).alias("qty"))
    target = tmp_path / "out.parquet"
    with pytest.raises(InputDataError, match=r"column 'qty' has value -1\.0 below its minimum 0"):
        write_parts(Run("promise"), [blocks[0], bad, *blocks[2:]], str(target), PROMISES)
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(TEMP_SUFFIX)]


def test_no_part_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="nothing to write"):
        write_parts(Run("promise"), [], str(tmp_path / "out.parquet"), PROMISES)
    assert list(tmp_path.iterdir()) == []


def test_shuffled_orders_give_the_same_promises(fixture_dir: Path) -> None:
    orders = pl.read_parquet(fixture_dir / "orders.parquet")
    shuffled = orders.sample(fraction=1.0, shuffle=True, seed=3)
    tables = {
        r: pl.read_parquet(fixture_dir / f"{r}.parquet")
        for r in ("inventory", "nodes", "lanes", "calendar")
    }
    a = promise_parts(orders, **tables)  # type: ignore[arg-type]
    b = promise_parts(shuffled, **tables)  # type: ignore[arg-type]
    assert a.in_key_order == b.in_key_order
    assert _plain(b.decision.table()).equals(_plain(a.decision.table()))
    # order ids against order time: a table in time order is not in key order
    renamed = orders.with_columns(
        pl.col("order_time").rank("ordinal", descending=True).cast(pl.String).alias("order_id"),
        pl.lit(1).alias("line"),
    )
    assert not promise_parts(renamed, **tables).in_key_order  # type: ignore[arg-type]
