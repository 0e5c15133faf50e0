"""plan_buy's compiled paths for large batches give the numpy paths' numbers, bit for bit.

The quantile-shaped mean (:func:`scot_cli.buy.distributions.shaped_mean`) runs compiled from
:data:`scot_cli.buy.distributions.COMPILED_FROM` rows; here it is forced on and off on small
inputs, including the awkward rows (flat segments, knots at zero, negative knots, NaN).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from conftest import buy_tables
from scot_cli.buy import BuyOptions, distributions, plan_buy
from scot_cli.buy.distributions import QuantileShaped, norm_ppf, shaped_loss, shaped_mean


def _knots(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """Non-decreasing knots with every awkward case in some rows."""
    mean = rng.gamma(1.0, 5.0, n) * (rng.random(n) < 0.9)
    offsets = np.sort(rng.normal(0, 1, (n, width)), axis=1) * rng.gamma(1.0, 3.0, n)[:, None]
    offsets[rng.random(n) < 0.05] = 0.0  # no spread
    x = np.maximum.accumulate(mean[:, None] + offsets, axis=1)
    x[rng.random(n) < 0.02, 0] = -0.0
    x[rng.random(n) < 0.02] = 0.0
    x[rng.random(n) < 0.02, : width // 2] = 0.0  # flat at zero, then rising
    x[:3] = np.nan
    return x


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).view(np.int64)


@pytest.mark.parametrize("width", [2, 3, 4, 5, 6, 9])
def test_the_compiled_shaped_mean_is_the_loss_at_zero_bit_for_bit(width: int) -> None:
    rng = np.random.default_rng(width)
    levels = np.sort(rng.choice(np.arange(1, 100), width, replace=False)) / 100
    z = norm_ppf(levels)
    x = _knots(rng, 20_000, width)
    idx = np.sort(rng.choice(x.shape[0], 7_000, replace=False))
    whole = QuantileShaped(z, x).numpy_loss(np.zeros(x.shape[0]))
    some = QuantileShaped(z, x[idx]).numpy_loss(np.zeros(idx.size))
    assert np.isfinite(whole[3:]).all() and (whole[3:] >= 0).all() and whole[3:].max() > 1
    for compiled in (True, False):
        assert (_bits(shaped_mean(z, x, compiled=compiled)) == _bits(whole)).all()
        assert (_bits(shaped_mean(z, x, idx, compiled=compiled)) == _bits(some)).all()


@pytest.mark.parametrize("width", [2, 3, 5, 6])
def test_the_compiled_shaped_loss_is_numpys_bit_for_bit(width: int) -> None:
    rng = np.random.default_rng(100 + width)
    z = norm_ppf(np.linspace(0.1, 0.9, width))
    x = _knots(rng, 20_000, width)
    # at the knots themselves, between them, below zero, at zero (either sign) and NaN
    y = np.where(
        rng.random(x.shape[0]) < 0.3, x[:, rng.integers(width)], rng.normal(8, 8, x.shape[0])
    )
    y[rng.random(y.size) < 0.02] = -0.0
    y[rng.random(y.size) < 0.02] = 0.0
    y[rng.random(y.size) < 0.01] = np.nan
    expected = QuantileShaped(z, x).numpy_loss(y)
    assert np.nanmax(expected) > 1
    assert (_bits(shaped_loss(z, x, y, compiled=True)) == _bits(expected)).all()
    assert (
        _bits(shaped_loss(z, x, 3.5, compiled=True))
        == _bits(QuantileShaped(z, x).numpy_loss(np.full(x.shape[0], 3.5)))
    ).all()


def test_the_shaped_mean_of_a_normal_shape_is_its_partial_expectation() -> None:
    """Knots on a line (a normal forecast): E[max(D, 0)] in closed form."""
    from scipy.stats import norm

    z = norm_ppf(np.array([0.1, 0.5, 0.9]))
    mu = np.array([10.0, 1.0, -2.0, 0.0])
    sd = np.array([2.0, 3.0, 1.5, 1.0])
    x = mu[:, None] + sd[:, None] * z[None, :]
    expected = mu * norm.cdf(mu / sd) + sd * norm.pdf(mu / sd)
    for compiled in (True, False):
        assert np.allclose(shaped_mean(z, x, compiled=compiled), expected, rtol=1e-12)


OPTIONS = [
    {},
    {"policy": "ss"},
    {"policy": "newsvendor"},
    {"review_days": 30.0},
    {"service_type": "fill", "distribution": "empirical"},
]


@pytest.mark.parametrize("options", OPTIONS)
def test_the_compiled_shaped_means_plan_exactly_like_numpy(
    monkeypatch: pytest.MonkeyPatch, options: dict[str, object]
) -> None:
    fc, items, inv = buy_tables(400)

    def plan() -> tuple[pl.DataFrame, pl.DataFrame]:
        result = plan_buy(fc, items=items, inventory=inv, options=BuyOptions(**options))  # type: ignore[arg-type]
        return result.orders, result.policy

    monkeypatch.setattr(distributions, "COMPILED_FROM", 1 << 40)
    numpy_plan = plan()
    monkeypatch.setattr(distributions, "COMPILED_FROM", 0)
    compiled_plan = plan()
    assert (numpy_plan[1].get_column("distribution") == "empirical").sum() > 100
    for a, b in zip(numpy_plan, compiled_plan, strict=True):
        assert a.equals(b), (a, b)


def test_the_auto_policys_windows_are_reused_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact (s,S) rows of the auto policy are priced on the windows choose_policy found;
    finding them again gives the same plan."""
    from scot_cli.buy import levels

    fc, items, inv = buy_tables(2000, seed=11)

    def plan() -> tuple[pl.DataFrame, pl.DataFrame]:
        result = plan_buy(fc, items=items, inventory=inv, options=BuyOptions())
        return result.orders, result.policy

    reused = plan()
    assert (reused[1].get_column("policy") == "ss").sum() >= 5
    monkeypatch.setattr(levels, "_keep_windows", lambda rows, idx, found: None)
    again = plan()
    for a, b in zip(reused, again, strict=True):
        assert a.equals(b), (a, b)


def test_one_key_runs_by_run_lengths_match_the_neighbour_comparison() -> None:
    """A single key without nulls takes polars' run lengths; with a constant second key the
    general comparison of neighbours must find the same runs."""
    from scot_cli.buy.demand import key_runs

    rng = np.random.default_rng(3)
    skus = pl.Series("sku", [f"S{i:03d}" for i in rng.integers(0, 40, 5000)]).sort()
    skus = pl.concat([skus, pl.Series("sku", ["S000", "S000", "S999", "S000"])])
    frame = pl.DataFrame({"sku": skus, "node": ["ALL"] * skus.len()})
    one, two = key_runs(frame, ["sku"]), key_runs(frame, ["sku", "node"])
    assert one.starts.dtype == np.int64 and one.starts.tolist() == two.starts.tolist()
    assert one.keys.get_column("sku").equals(two.keys.get_column("sku"))
    assert one.starts[-3:].tolist() == [5000, 5002, 5003]  # S000 after the sorted run, S999
    with_null = pl.DataFrame({"sku": ["a", None, None, "b"]})
    assert key_runs(with_null, ["sku"]).starts.tolist() == [0, 1, 3]
