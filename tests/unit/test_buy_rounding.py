"""Pack and MOQ rounding: properties that must hold for every quantity."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scot_cli.buy.rounding import round_orders

rows = st.lists(
    st.tuples(st.floats(-50, 5000, allow_nan=False), st.integers(1, 48), st.integers(0, 500)),
    min_size=1,
    max_size=40,
)


def _arrays(data: list[tuple[float, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    raw, pack, moq = zip(*data, strict=True)
    return np.array(raw, dtype=float), np.array(pack), np.array(moq)


@settings(max_examples=200, deadline=None)
@given(rows)
def test_rounded_up_orders_are_packs_at_least_moq_and_cover_the_need(
    data: list[tuple[float, int, int]],
) -> None:
    raw, pack, moq = _arrays(data)
    qty, label = round_orders(raw, case_pack=pack, moq=moq)
    assert (qty >= 0).all()
    assert np.allclose(qty % pack, 0)
    assert ((qty == 0) | (qty >= moq)).all()
    assert (qty >= np.maximum(raw, 0) - 1e-6).all()
    assert (qty[raw <= 0] == 0).all()
    assert (qty < np.maximum(raw, 0) + pack + np.ceil(moq / pack) * pack + 1e-6).all()
    assert set(label) <= {"none", "case_pack", "moq", "moq+case_pack"}


@settings(max_examples=200, deadline=None)
@given(rows)
def test_rounded_down_orders_never_exceed_the_allocation(
    data: list[tuple[float, int, int]],
) -> None:
    raw, pack, moq = _arrays(data)
    qty, _ = round_orders(raw, case_pack=pack, moq=moq, down=True)
    assert (qty >= 0).all()
    assert np.allclose(qty % pack, 0)
    assert ((qty == 0) | (qty >= moq)).all()
    assert (qty <= np.maximum(raw, 0) + 1e-6).all()


def test_labels_name_the_rule_that_changed_the_quantity() -> None:
    qty, label = round_orders(
        np.array([12.0, 7.0, 3.0, 30.0, 0.0]),
        case_pack=np.array([6, 6, 1, 6, 6]),
        moq=np.array([0, 0, 10, 24, 10]),
    )
    assert qty.tolist() == [12.0, 12.0, 10.0, 30.0, 0.0]
    assert label.tolist() == ["none", "case_pack", "moq", "none", "none"]
