"""Sparklines for the terminal: a numeric column's distribution in one line of block
characters (``scot inspect``). numpy only: no matplotlib."""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["BLOCKS", "column_sparklines", "sparkline"]

#: Eighths of a character cell, from empty to full.
BLOCKS = " ▁▂▃▄▅▆▇█"


def sparkline(values: np.ndarray | pl.Series, *, width: int = 24) -> str:
    """A histogram of ``values`` in ``width`` bins as block characters, the tallest bin a
    full block and any non-empty bin at least the lowest; "" when no value is finite.

    >>> sparkline(np.array([1, 1, 1, 2, 3]), width=3)
    '█▃▃'
    """
    data = np.asarray(values.to_numpy() if isinstance(values, pl.Series) else values, float)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return ""
    lo, hi = float(data.min()), float(data.max())
    if lo == hi:
        return BLOCKS[-1]
    counts, _ = np.histogram(data, bins=width, range=(lo, hi))
    levels = np.ceil(counts / counts.max() * (len(BLOCKS) - 1)).astype(int)
    return "".join(BLOCKS[i] for i in levels)


def column_sparklines(df: pl.DataFrame, *, width: int = 24) -> list[tuple[str, str]]:
    """(column, ``min sparkline max``) for each numeric column with a finite value."""
    out = []
    for name in df.columns:
        column = df[name]
        if not column.dtype.is_numeric():
            continue
        line = sparkline(column, width=width)
        if line:
            data = column.cast(pl.Float64).to_numpy()
            data = data[np.isfinite(data)]
            out.append((name, f"{data.min():g} {line} {data.max():g}"))
    return out
