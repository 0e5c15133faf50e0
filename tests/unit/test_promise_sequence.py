"""The sequence checks of promise's orders: the compare of slices of numpy and of one chunk
(``_steps``) gives what the polars expressions give, on frames of many chunks too."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from scot_cli.promise.core import in_order, sequence, sequenced


def _orders(rng: np.random.Generator, n: int, *, shuffled: bool, dup: bool) -> pl.DataFrame:
    order = np.sort(rng.integers(0, max(n // 2, 1), n))
    line = np.arange(n) - np.searchsorted(order, order) + 1
    if dup:
        line[rng.integers(0, n, 2)] = 1
    start = dt.datetime(2026, 11, 2)
    seconds = np.sort(rng.integers(0, 3 * 86_400, order.max() + 1))[order]
    df = pl.DataFrame(
        {
            "order_id": pl.Series(order).cast(pl.String).str.zfill(6),
            "line": line.astype(np.int64),
            "order_time": [start + dt.timedelta(seconds=int(s)) for s in seconds],
        }
    )
    if shuffled:
        df = df.sample(fraction=1.0, shuffle=True, seed=int(rng.integers(1 << 30)))
    # several chunks, as a Parquet file of several row groups reads
    parts = [df.slice(i, 97) for i in range(0, n, 97)]
    return pl.concat(parts, rechunk=False)


@pytest.mark.parametrize("shuffled", [False, True])
@pytest.mark.parametrize("dup", [False, True])
def test_sequenced_agrees_with_the_expressions(shuffled: bool, dup: bool) -> None:
    rng = np.random.default_rng(7 + 2 * shuffled + dup)
    for n in (1, 2, 3, 50, 1000):
        df = _orders(rng, n, shuffled=shuffled, dup=dup)
        assert n < 97 or df.n_chunks() > 1
        seq, key_ok, starts = sequenced(df)
        assert seq.equals(sequence(df))
        assert key_ok == in_order(seq, ("order_id", "line"), strict=True)
        oid = pl.col("order_id")
        expected = seq.select((oid != oid.shift(1)).fill_null(True))["order_id"].to_numpy()
        assert starts is not None and np.array_equal(starts, expected)


def test_sequenced_falls_back_on_other_types() -> None:
    df = pl.DataFrame(
        {
            "order_id": ["b", "a", "a"],
            "line": pl.Series([1, 2, 1], dtype=pl.Int32),
            "order_time": [dt.datetime(2026, 1, 1)] * 3,
        }
    )
    seq, key_ok, starts = sequenced(df)
    assert seq["order_id"].to_list() == ["a", "a", "b"]
    assert seq["line"].to_list() == [1, 2, 1]
    assert key_ok and starts is None
