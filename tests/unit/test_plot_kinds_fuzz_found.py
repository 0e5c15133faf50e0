"""A case the long fuzz profile found in scot plot promise."""

from __future__ import annotations

import polars as pl

from scot_cli.plot.promise import days_by_region


def test_an_all_null_destination_column_is_drawn_not_a_crash() -> None:
    df = pl.DataFrame(
        {
            "order_id": ["a", "b"],
            "destination": [None, None],
            "promise_days": [1, 2],
            "on_time_prob": [0.9, 0.8],
        }
    )
    table = days_by_region(df)
    assert table.schema["destination"] == pl.String
    assert table.height == 0  # no named region to draw
