"""A frame validate() returned is recognised as checked; anything else is checked again."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from scot_cli.errors import InputDataError
from scot_cli.schema import INVENTORY, SALES
from scot_cli.validate import already_validated, validate


def _sales() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A", "A", "B"],
            "date": [dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 1)],
            "units": [1.0, 2.0, 3.0],
        }
    )


def test_validated_frame_is_recognised_for_its_table_only() -> None:
    raw = _sales()
    checked = validate(SALES, raw, source="sales")
    assert already_validated(SALES, checked)
    assert not already_validated(INVENTORY, checked)
    # a derived frame (a new object) is not the checked one
    assert not already_validated(SALES, checked.with_columns(pl.col("units") * -1))


def test_trusted_check_is_not_remembered() -> None:
    checked = validate(SALES, _sales(), source="sales", trusted=True)
    assert not already_validated(SALES, checked)


def test_changed_shape_is_checked_again() -> None:
    checked = validate(SALES, _sales(), source="sales")
    bad = pl.DataFrame(
        {"sku": ["A"], "date": [dt.date(2026, 1, 9)], "location": ["ALL"], "units": [-1.0]}
    )
    checked.extend(bad.select(checked.columns))  # in place: the same object, one more row
    assert not already_validated(SALES, checked)
    with pytest.raises(InputDataError, match="units"):
        validate(SALES, checked, source="sales")
