"""``codes``: the hashed look-up of many values gives the Enum cast's positions exactly."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from scot_cli.promise import grid


def _enum_codes(values: pl.Series, categories: list[str]) -> np.ndarray:
    found = values.cast(pl.String).cast(pl.Enum(categories), strict=False).to_physical()
    return found.fill_null(len(categories)).to_numpy().astype(np.int64)


@pytest.mark.parametrize("n_cat", [1, 7, 5000])
def test_hashed_codes_equal_the_enum_cast(monkeypatch: pytest.MonkeyPatch, n_cat: int) -> None:
    monkeypatch.setattr(grid, "HASHED_CODES", 1)
    monkeypatch.setattr(grid, "HASHED_CATEGORIES", 1)
    rng = np.random.default_rng(n_cat)
    categories = sorted({f"S{i:05d}" for i in rng.integers(0, 10 * n_cat, n_cat)})
    # values: categories, strings absent from them (a prefix, an extension, the empty
    # string) and nulls
    pool = [*categories, "S", categories[0] + "x", "", "ZZZ"]
    values = pl.Series([pool[i] for i in rng.integers(0, len(pool), 20_000)]).set(
        pl.Series(rng.random(20_000) < 0.01), None
    )
    got = grid.codes(values, categories)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, _enum_codes(values, categories))
    # with 5,000 categories some share a slot of the table: that path is exercised too
    assert (got == len(categories)).any() and (got < len(categories)).any()
