"""in_key_order gives the verdict of the strictly_sorted expression on every kind of frame."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from scot_cli.errors import InputDataError
from scot_cli.forecast.schema import FORECAST
from scot_cli.validate import in_key_order, strictly_sorted, validate


def _expected(df: pl.DataFrame, keys: list[str], *, strict: bool) -> bool:
    if df.height < 2:
        return True
    return bool(
        df.select(strictly_sorted(keys, strict=strict).slice(0, df.height - 1).all()).item()
    )


def _frame(rng: np.random.Generator, n: int, *, nulls: bool) -> pl.DataFrame:
    """Few distinct values per column, so ties, repeats and reversals all occur."""
    day = dt.date(2026, 1, 1)
    df = pl.DataFrame(
        {
            "s": [f"S{v}" for v in rng.integers(0, 3, n)],
            "t": [["", "a", "ab", "b"][v] for v in rng.integers(0, 4, n)],
            "d": [day + dt.timedelta(days=int(v)) for v in rng.integers(0, 3, n)],
            "i": rng.integers(-2, 2, n),
            "b": rng.integers(0, 2, n).astype(bool),
            "f": rng.integers(0, 3, n).astype(float),
        }
    )
    if nulls and n:
        df = df.with_columns(
            pl.when(pl.Series(rng.random(n) < 0.1)).then(pl.col("s")).otherwise(None).alias("s")
        )
    return df


KEY_SETS = [["s"], ["d"], ["s", "d"], ["s", "t", "d"], ["t", "i"], ["i", "b", "s"], ["s", "f"]]


@pytest.mark.parametrize("keys", KEY_SETS)
@pytest.mark.parametrize("strict", [True, False])
def test_agrees_with_the_expression_on_random_frames(keys: list[str], strict: bool) -> None:
    rng = np.random.default_rng(7)
    seen = {True: 0, False: 0}
    for trial in range(300):
        n = int(rng.integers(0, 12))
        df = _frame(rng, n, nulls=trial % 5 == 0)
        if trial % 2:  # sorted (ties kept) or made unique: the cases near the verdict's edge
            df = df.sort(keys)
            if trial % 4 == 1:
                df = df.unique(keys, keep="first", maintain_order=True)
        want = _expected(df, keys, strict=strict)
        assert in_key_order(df, keys, strict=strict) == want, (keys, strict, df)
        seen[want] += 1
    assert seen[True] > 30 and seen[False] > 30


def test_long_sorted_forecast_keys_in_several_chunks() -> None:
    """Many rows in two chunks: sorted, then one duplicate and one swapped row."""
    skus = np.repeat([f"S{i:04d}" for i in range(500)], 10)
    days = np.tile(np.arange(10), 500)
    part = pl.DataFrame({"sku": skus, "location": "ALL", "day": days})
    df = pl.concat([part.slice(0, 2500), part.slice(2500)], rechunk=False)
    assert df.n_chunks() == 2
    keys = ["sku", "location", "day"]
    assert in_key_order(df, keys)
    dup = pl.concat([df.slice(0, 1234), df.slice(1233)])
    assert not in_key_order(dup, keys) and in_key_order(dup, keys, strict=False)
    swapped = df.with_columns(
        pl.when(pl.int_range(pl.len()) == 3000)
        .then(pl.lit("S0001"))
        .otherwise(pl.col("sku"))
        .alias("sku")
    )
    assert not in_key_order(swapped, keys) and not in_key_order(swapped, keys, strict=False)


def test_a_column_marked_sorted_is_still_compared() -> None:
    df = pl.DataFrame({"a": ["b", "a", "c"], "d": [1, 1, 2]})
    marked = df.with_columns(pl.col("a").set_sorted())
    assert not in_key_order(marked, ["a", "d"], strict=False)


def test_duplicate_forecast_key_is_still_refused() -> None:
    day = dt.date(2026, 1, 5)
    rows = {
        "sku": ["A", "A", "B"],
        "location": ["ALL", "ALL", "ALL"],
        "date": [day, day + dt.timedelta(days=1), day],
        "horizon": [1, 2, 1],
        "mean": [1.0, 1.0, 1.0],
        "p10": [0.0, 0.0, 0.0],
        "p50": [1.0, 1.0, 1.0],
        "p90": [2.0, 2.0, 2.0],
        "model": ["m", "m", "m"],
    }
    assert validate(FORECAST, pl.DataFrame(rows), source="f").height == 3
    rows["date"] = [day, day, day]
    with pytest.raises(InputDataError, match="duplicate key"):
        validate(FORECAST, pl.DataFrame(rows), source="f")
