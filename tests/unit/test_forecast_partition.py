"""A forecast in partitions of skus: same rows as one frame, deterministic, streamed I/O."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from scot_cli.forecast import forecast, partition
from scot_cli.forecast.partition import forecast_partitions, partitions, sample_skus
from scot_cli.forecast.schema import FORECAST
from scot_cli.io import Run, SpillFile, hash_file, scan_input
from scot_cli.schema import SALES
from scot_cli.validate import validate


def _run(tables: dict[str, pl.DataFrame], batch_size: int | None, **kw: object) -> pl.DataFrame:
    out = forecast(
        tables["sales"],
        items=tables["items"],
        events=tables["events"],
        horizon=14,
        batch_size=batch_size,
        **kw,  # type: ignore[arg-type]
    ).forecast
    assert out is not None
    return out


def _assert_same_rows(a: pl.DataFrame, b: pl.DataFrame) -> None:
    """Same keys, labels and dates; numbers equal up to the order of floating-point sums
    (event lifts summed per partition differ in the last bits, and the ETS likelihood
    search carries a difference of 1e-14 in the data to about 1e-9 in its forecasts)."""
    floats = [c for c, t in a.schema.items() if t == pl.Float64]
    assert a.columns == b.columns
    assert a.drop(floats).equals(b.drop(floats))
    for c in floats:
        np.testing.assert_allclose(a[c].to_numpy(), b[c].to_numpy(), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("batch_size", [5, 23])
def test_partitioned_forecast_equals_one_frame(
    small_tables: dict[str, pl.DataFrame], batch_size: int
) -> None:
    """Lifts, the global model, the pooled score quantile and cold-start peers are learned
    on the whole catalogue, so small partitions change nothing but rounding."""
    whole = _run(small_tables, None)
    parts = _run(small_tables, batch_size)
    assert len(partitions(small_tables["sales"].select("sku", "location").unique(), 5)) > 2
    assert whole["model"].str.starts_with("cold_start").any()
    _assert_same_rows(whole, parts)


def test_partitioned_forecast_equals_one_frame_on_the_committed_fixtures(
    fixture_dir: Path,
) -> None:
    tables = {
        name: pl.read_parquet(fixture_dir / f"{name}.parquet")
        for name in ("sales", "items", "events")
    }
    _assert_same_rows(_run(tables, None), _run(tables, 150))


def test_sample_smaller_than_the_catalogue_gives_the_same_rows_in_any_partitioning(
    small_tables: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a training sample of a few skus, its rows are spliced into their partitions."""
    monkeypatch.setattr(partition, "TRAIN_SERIES", 10)
    whole = _run(small_tables, None)
    _assert_same_rows(whole, _run(small_tables, 7))
    _assert_same_rows(whole, _run(small_tables, 40))


def test_partitioned_forecast_is_deterministic(small_tables: dict[str, pl.DataFrame]) -> None:
    first = _run(small_tables, 6, seed=4)
    assert first.equals(_run(small_tables, 6, seed=4))


def test_one_partition_is_exactly_the_in_memory_forecast(
    small_tables: dict[str, pl.DataFrame],
) -> None:
    n = small_tables["sales"].select("sku", "location").n_unique()
    assert _run(small_tables, None).equals(_run(small_tables, n))


def test_partitions_keep_skus_whole_and_in_order() -> None:
    keys = pl.DataFrame(
        {
            "sku": ["a", "a", "a", "b", "c", "c", "d"],
            "location": ["1", "2", "3", "1", "1", "2", "1"],
        }
    )
    parts = partitions(keys, 2)
    assert [s for p in parts for s in p.to_list()] == ["a", "b", "c", "d"]
    sizes = [keys.filter(pl.col("sku").is_in(p.implode())).height for p in parts]
    assert len(parts) == 3 and max(sizes) <= 2 + 3 - 1  # one sku's other locations at most
    assert [p.to_list() for p in partitions(keys, None)] == [["a", "b", "c", "d"]]


def test_sample_is_seeded_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = pl.DataFrame({"sku": [f"s{i:03d}" for i in range(200)], "location": "R"})
    monkeypatch.setattr(partition, "TRAIN_SERIES", 30)
    a, b = sample_skus(keys, 1), sample_skus(keys, 1)
    assert a.equals(b) and a.len() == 30 and a.is_sorted()
    assert not a.equals(sample_skus(keys, 2))


def test_scan_input_hashes_by_streaming_and_loads_validated_partitions(
    small_dir: Path, tmp_path: Path
) -> None:
    path = str(small_dir / "sales.parquet")
    run = Run("forecast")
    scanned = scan_input(run, path, SALES, role="sales", key="sku")
    assert run.sources[0].sha256 == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert hash_file(path) == run.sources[0].sha256
    skus = scanned.lazy.select("sku").unique().sort("sku").collect()["sku"]
    part = scanned.load(skus.slice(2, 3))
    assert sorted(part["sku"].unique()) == skus.slice(2, 3).to_list()
    whole = pl.read_parquet(path)
    assert part.height == whole.filter(pl.col("sku").is_in(skus.slice(2, 3).implode())).height


def test_streamed_partitions_match_the_frame_path(small_dir: Path) -> None:
    path = str(small_dir / "sales.parquet")
    run = Run("forecast")
    scanned = scan_input(run, path, SALES, role="sales", key="sku")
    items = pl.read_parquet(small_dir / "items.parquet")
    events = pl.read_parquet(small_dir / "events.parquet")
    with SpillFile() as spill:
        frames = list(
            forecast_partitions(
                scanned.lazy,
                scanned.load,
                horizon=14,
                quantiles=[0.1, 0.5, 0.9],
                items=items,
                events=events,
                windows=4,
                batch_size=5,
                spill=spill,
            )
        )
        assert spill.path.exists()
    assert not spill.path.exists()
    assert len(frames) > 2
    streamed = pl.concat(frames)
    validate(FORECAST, streamed, source="streamed")
    expected = forecast(pl.read_parquet(path), items=items, events=events, horizon=14).forecast
    assert expected is not None
    _assert_same_rows(expected, streamed)


def test_spill_file_gives_back_its_frames_in_order(tmp_path: Path) -> None:
    frames = [pl.DataFrame({"a": [i, i + 1], "b": ["x", None]}) for i in range(3)]
    with SpillFile(tmp_path) as spill:
        for f in frames:
            spill.put(f)
        back = list(spill.frames())
    assert [f.to_dicts() for f in back] == [f.to_dicts() for f in frames]
    assert list(tmp_path.iterdir()) == []


def test_own_end_partitions_equal_one_frame(small_tables: dict[str, pl.DataFrame]) -> None:
    """Series cut short (their last 20 days dropped) are moved to the grid's end the same
    way in every partition, events with them."""
    sales = small_tables["sales"]
    short = sales["sku"].unique().sort().head(6).implode()
    last = sales["date"].max()
    assert last is not None
    cut = sales.filter(
        ~pl.col("sku").is_in(short) | (pl.col("date") <= pl.lit(last).dt.offset_by("-20d"))
    )
    tables = {**small_tables, "sales": cut}
    whole = _run(tables, None, align="own-end")
    _assert_same_rows(whole, _run(tables, 5, align="own-end"))
    moved = whole.filter(pl.col("sku").is_in(short) & (pl.col("horizon") == 1))
    assert moved.height and (moved["date"] < last).all()
