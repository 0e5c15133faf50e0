"""Terminal sparklines: the histogram's shape in block characters."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from scot_cli.plot.spark import BLOCKS, column_sparklines, sparkline


def test_tallest_bin_is_full_and_any_nonempty_bin_shows() -> None:
    # bins of [0, 10] in 5: counts 4, 0, 1, 0, 2
    values = np.array([0, 0.5, 1, 1.5, 5, 9, 10])
    assert sparkline(values, width=5) == "█ ▂ ▄"


def test_constant_and_empty_columns() -> None:
    assert sparkline(np.array([3.0, 3.0])) == "█"
    assert sparkline(np.array([np.nan, np.inf])) == ""


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=200), st.integers(1, 40)
)
def test_width_and_alphabet(values: list[float], width: int) -> None:
    line = sparkline(np.array(values), width=width)
    assert len(line) in (1, width)
    assert set(line) <= set(BLOCKS)
    assert BLOCKS[-1] in line


def test_column_sparklines_numeric_columns_with_their_range() -> None:
    df = pl.DataFrame({"sku": ["a", "b", "c"], "qty": [1.0, None, 3.0], "n": [None, None, None]})
    assert column_sparklines(df.with_columns(pl.col("n").cast(pl.Int64)), width=2) == [
        ("qty", "1 ██ 3")
    ]
