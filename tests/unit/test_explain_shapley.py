"""Exact Shapley attribution: known answers, axioms against a brute-force reference."""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scot_cli.explain.shapley import MAX_PLAYERS, mask_sizes, shapley, weights


def brute_force(values: np.ndarray) -> np.ndarray:
    """Shapley (1953) by the permutation definition: average marginal contribution."""
    k = values.shape[0].bit_length() - 1
    phi = np.zeros((k, values.shape[1]))
    for order in itertools.permutations(range(k)):
        mask = 0
        for i in order:
            phi[i] += values[mask | 1 << i] - values[mask]
            mask |= 1 << i
    return phi / factorial(k)


def test_glove_game_roth_1988() -> None:
    """Glove game (Roth 1988, ch. 1): players L, R1, R2; a pair is worth 1; phi = 2/3, 1/6, 1/6."""
    v = np.array([[0.0], [0.0], [0.0], [1.0], [0.0], [1.0], [0.0], [1.0]])
    assert shapley(v).ravel() == pytest.approx([2 / 3, 1 / 6, 1 / 6])


def test_weights_sum_to_one_per_player() -> None:
    for k in range(1, 8):
        w = weights(k)
        counts = [len(list(itertools.combinations(range(k - 1), s))) for s in range(k)]
        assert float(np.dot(w, counts)) == pytest.approx(1.0)


def test_mask_sizes() -> None:
    assert mask_sizes(3).tolist() == [0, 1, 1, 2, 1, 2, 2, 3]


def test_rejects_rows_not_a_power_of_two() -> None:
    with pytest.raises(ValueError, match="2\\*\\*k rows"):
        shapley(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="between 1 and"):
        weights(MAX_PLAYERS + 1)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=5).flatmap(
        lambda k: arrays(
            np.float64,
            (1 << k, 4),
            elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
        )
    )
)
def test_matches_brute_force_and_is_efficient(values: np.ndarray) -> None:
    phi = shapley(values)
    np.testing.assert_allclose(phi, brute_force(values), rtol=1e-9, atol=1e-6)
    delta = values[-1] - values[0]
    scale = np.maximum(np.abs(values).max(axis=0), 1.0)
    assert np.all(np.abs(phi.sum(axis=0) - delta) <= 1e-9 * scale)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, (8, 3), elements=st.floats(-100, 100, allow_nan=False)),
)
def test_dummy_player_gets_exactly_zero(base: np.ndarray) -> None:
    """Player 2 (bit 2) never changes the value: v(S | {2}) = v(S)."""
    values = np.vstack([base[:4], base[:4]])  # masks 4..7 repeat masks 0..3
    assert np.all(shapley(values)[2] == 0.0)


def test_symmetric_players_get_equal_shares() -> None:
    # v depends on the number of players present only: players are interchangeable.
    sizes = mask_sizes(3).astype(float)
    values = (sizes**2)[:, None]
    phi = shapley(values).ravel()
    assert phi == pytest.approx([3.0, 3.0, 3.0])
