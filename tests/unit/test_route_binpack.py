"""Truck loading: the L2 bound, the heuristics and the exact model against brute force."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from scot_cli.route import binpack as bp


def optimum(sizes: list[float], cap: float) -> int:
    """Fewest bins by dynamic programming over subsets (the bin holding the lowest item)."""
    n = len(sizes)
    total = [sum(sizes[i] for i in range(n) if m >> i & 1) for m in range(1 << n)]

    @cache
    def bins(m: int) -> int:
        if m == 0:
            return 0
        low, best, sub = m & -m, n, m
        while sub:
            if sub & low and total[sub] <= cap + 1e-9:
                best = min(best, 1 + bins(m ^ sub))
            sub = (sub - 1) & m
        return best

    return bins((1 << n) - 1)


def valid(assign: np.ndarray, sizes: np.ndarray, cap: float) -> bool:
    """Every item in a bin, bins numbered 0.., no bin over capacity."""
    used = np.unique(assign)
    loads = np.bincount(assign, weights=sizes)
    return bool((used == np.arange(used.shape[0])).all() and (loads <= cap + 1e-9).all())


def test_l2_known_answer() -> None:
    """Martello & Toth (1990), section 8.3.1, worked by hand: three items of 60 with three of
    30 beside them fill three bins (L2 = L1 = 3); four items of 60 each need a bin of their
    own and no 45 fits beside them, so two 45s need a fifth: L2 = 5 where L1 = 4."""
    assert bp.l2_bound(np.array([60.0, 60.0, 60.0, 30.0, 30.0, 30.0]), 100.0) == 3
    sizes = np.array([60.0, 60.0, 60.0, 60.0, 45.0, 45.0])
    assert bp.l2_bound(sizes, 100.0) == 5
    assert optimum(sizes.tolist(), 100.0) == 5


@pytest.mark.parametrize("seed", range(2))
def test_bound_heuristics_and_exact_against_brute_force(seed: int) -> None:
    """On random small loads: L2 <= optimum <= pack <= FFD, pack reaches the optimum, the
    exact model too, and every packing is within capacity."""
    rng = np.random.default_rng(seed)
    for _ in range(30):
        n = int(rng.integers(4, 9))
        sizes = rng.integers(15, 61, n).astype(float)
        best = optimum(sizes.tolist(), 100.0)
        ffd = bp.first_fit_decreasing(sizes, 100.0)
        got = bp.pack(sizes, 100.0, time_limit=30.0)
        assert valid(got, sizes, 100.0) and valid(ffd, sizes, 100.0)
        assert bp.l2_bound(sizes, 100.0) <= best == bp.n_bins(got) <= bp.n_bins(ffd)
        if bp.n_bins(ffd) > best:
            exact = bp.exact_packing(sizes, 100.0, bins=bp.n_bins(ffd), lower=0, time_limit=30.0)
            assert exact is not None and valid(exact, sizes, 100.0)
            assert bp.n_bins(exact) == best


def test_first_fit_decreasing_kept_where_it_meets_the_bound() -> None:
    """Outputs do not change where the old loader was already optimal."""
    rng = np.random.default_rng(7)
    kept = 0
    for _ in range(50):
        sizes = rng.uniform(1.0, 40.0, int(rng.integers(5, 60)))
        ffd = bp.first_fit_decreasing(sizes, 100.0)
        if bp.n_bins(ffd) == bp.l2_bound(sizes, 100.0):
            kept += 1
            assert bp.pack(sizes, 100.0).tolist() == ffd.tolist()
    assert kept > 10


def test_local_search_on_a_large_load_is_valid_deterministic_and_better() -> None:
    """Falkenauer-style uniform sizes (20..100 into 150): fewer bins than FFD, the same
    packing twice with the same seed."""
    rng = np.random.default_rng(3)
    found = False
    for _ in range(10):
        sizes = rng.integers(20, 101, 120).astype(float)
        ffd = bp.first_fit_decreasing(sizes, 150.0)
        if bp.n_bins(ffd) == bp.l2_bound(sizes, 150.0):
            continue
        found = True
        a = bp.pack(sizes, 150.0, time_limit=60.0, seed=1)
        b = bp.pack(sizes, 150.0, time_limit=60.0, seed=1)
        assert valid(a, sizes, 150.0) and a.tolist() == b.tolist()
        assert bp.n_bins(a) < bp.n_bins(ffd)
        break
    assert found


def test_search_with_many_lines_per_truck_is_valid_and_deterministic() -> None:
    """Small lines, two dozen to a truck (single lines move, not pairs, beyond 16 a truck):
    every packing within capacity, never more trucks than first-fit decreasing, the same
    twice with the same seed, and the improvement step never adds a truck."""
    rng = np.random.default_rng(11)
    for _ in range(5):
        sizes = rng.uniform(0.2, 1.5, 400)
        ffd = bp.first_fit_decreasing(sizes, 20.0)
        a = bp.pack(sizes, 20.0, time_limit=60.0, seed=2)
        b = bp.pack(sizes, 20.0, time_limit=60.0, seed=2)
        assert valid(a, sizes, 20.0) and a.tolist() == b.tolist()
        assert bp.l2_bound(sizes, 20.0) <= bp.n_bins(a) <= bp.n_bins(ffd)
        budget = bp.Budget(steps=500, deadline=float("inf"))
        better = bp.improve(sizes, 20.0, ffd, target=0, budget=budget, seed=0)
        assert valid(better, sizes, 20.0) and bp.n_bins(better) <= bp.n_bins(ffd)
