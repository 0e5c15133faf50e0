"""Cases the long fuzz profile found in scot plot."""

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


def _promises(**cols: object) -> pl.DataFrame:
    base: dict[str, object] = {
        "order_id": ["a", "b"],
        "destination": ["R1", "R2"],
        "promise_days": [1, 2],
        "on_time_prob": [0.9, 0.8],
    }
    return pl.DataFrame({**base, **cols})


def test_a_mistyped_or_empty_table_is_an_input_error_not_a_crash() -> None:
    import pytest

    from scot_cli.errors import InputDataError
    from scot_cli.plot.inputs import gather, load

    assert gather("promise", [load(_promises())]).kind == "promise"  # a valid table draws
    with pytest.raises(InputDataError, match="'on_time_prob' has dtype String"):
        gather("promise", [load(_promises(on_time_prob=["x", "y"]))])
    with pytest.raises(InputDataError, match="'promise_days' has dtype Boolean"):
        gather("promise", [load(_promises(promise_days=[True, False]))])
    with pytest.raises(InputDataError, match="no rows"):
        gather("promise", [load(_promises().clear())])
