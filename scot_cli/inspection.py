"""Summaries of a table for ``scot inspect``: schema, head, per-column statistics."""

from __future__ import annotations

import polars as pl


def column_summary(df: pl.DataFrame) -> pl.DataFrame:
    """One row per column: dtype, nulls, distinct values, min, max and mean (numeric only)."""
    rows = []
    for name, dtype in df.schema.items():
        s = df.get_column(name)
        numeric = dtype.is_numeric()
        orderable = numeric or dtype.is_temporal() or isinstance(dtype, pl.String)
        rows.append(
            {
                "column": name,
                "dtype": str(dtype),
                "nulls": s.null_count(),
                "distinct": s.n_unique() if not isinstance(dtype, pl.List) else None,
                "min": _str(s.min()) if orderable else None,
                "max": _str(s.max()) if orderable else None,
                "mean": _mean(s) if numeric else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "column": pl.String,
            "dtype": pl.String,
            "nulls": pl.Int64,
            "distinct": pl.Int64,
            "min": pl.String,
            "max": pl.String,
            "mean": pl.Float64,
        },
    )


def _mean(s: pl.Series) -> float | None:
    value = s.cast(pl.Float64).mean()
    return round(float(value), 4) if isinstance(value, int | float) else None


def _str(value: object) -> str | None:
    return None if value is None else str(value)
