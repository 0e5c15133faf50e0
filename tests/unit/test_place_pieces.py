"""Batch LPs solved as independent pieces: the same optimum as one model, one model when
rows couple skus."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_place_decompose import generated

from scot_cli.place import highs
from scot_cli.place.coordinate import make_batch
from scot_cli.place.decompose import solve_batched
from scot_cli.place.model import build_lp
from scot_cli.place.options import PlaceOptions
from scot_cli.place.plan import solve

SETTINGS = PlaceOptions(speed_target=(2, 0.6))


def _solve_all(models: list[tuple[np.ndarray, object]], n: int) -> np.ndarray:
    v = np.full(n, np.nan)
    for cols, h in models:
        v[cols] = highs.run(h, "test")
    return v


def test_pieces_of_a_batch_lp_reach_its_optimum() -> None:
    batch = make_batch(generated(45, seed=3), SETTINGS, False, 1)
    lp = replace(batch.lp, c=batch.lp.c + batch.shared.T @ np.full(batch.shared.shape[0], 0.2))
    parts = highs.pieces(lp, batch.sku, 10)
    assert len(parts) == 5
    assert np.array_equal(np.sort(np.concatenate([c for c, _ in parts])), np.arange(lp.c.size))
    v = _solve_all(parts, lp.c.size)
    whole = highs.run(highs.model(lp), "test")
    assert float(lp.c @ v) == pytest.approx(float(lp.c @ whole), rel=1e-9, abs=1e-7)
    # a feasible point of the whole LP: every row of it holds
    assert np.all(lp.a_ub @ v <= lp.b_ub + 1e-7)
    assert np.allclose(lp.a_eq @ v, lp.b_eq, atol=1e-7)
    assert np.all(v >= lp.lb - 1e-9) and np.all(v <= lp.ub + 1e-9)
    # warm re-solves at new costs keep matching the whole LP
    c2 = lp.c + batch.shared.T @ np.linspace(0.0, 0.5, batch.shared.shape[0])
    for cols, h in parts:
        highs.set_costs(h, c2[cols])
    h_whole = highs.model(replace(lp, c=c2))
    assert float(c2 @ _solve_all(parts, lp.c.size)) == pytest.approx(
        float(c2 @ highs.run(h_whole, "test")), rel=1e-9, abs=1e-7
    )


def test_coupled_lp_stays_one_model() -> None:
    prob = generated(30, seed=4)
    lp = build_lp(prob, SETTINGS)  # storage, throughput and speed rows couple the skus
    sku = np.concatenate([lp.index[k][0] for k in ("y", "z", "tin", "tout", "rec")])
    sku = np.concatenate([sku, np.zeros(lp.c.size - sku.size, dtype=sku.dtype)])
    parts = highs.pieces(lp, sku, 10)
    assert len(parts) == 1
    assert np.array_equal(parts[0][0], np.arange(lp.c.size))


def test_batched_solve_with_pieces_is_close_to_the_single_lp() -> None:
    prob = generated(120, seed=5)
    prob.eligible[:, 0] = True
    single = solve(prob, SETTINGS)
    batched = solve_batched(prob, SETTINGS, batch_size=60)
    assert batched.bound is not None
    assert batched.bound <= single.total_cost + 1e-6
    assert single.total_cost - 1e-6 <= batched.total_cost
    assert batched.total_cost == pytest.approx(single.total_cost, rel=0.02)


def test_sum_by_matches_add_at_bit_for_bit() -> None:
    from scot_cli.place.report import sum_by

    rng = np.random.default_rng(11)
    values = rng.lognormal(size=(37, 60)) * (rng.uniform(size=(37, 60)) < 0.6)
    index = rng.integers(0, 9, 60)
    expected = np.zeros((37, 9))
    np.add.at(expected.T, index, values.T)
    assert np.array_equal(sum_by(values, index, 9), expected)
    assert sum_by(values[:, :0], index[:0], 9).shape == (37, 9)
