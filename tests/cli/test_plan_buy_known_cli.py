"""Known answers through ``scot plan-buy``: each input built here, each figure derived in its
test (Snyder & Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., where it is a textbook
example), and read back from the command's policy table."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from scot_cli.commands.main import app

runner = CliRunner()
START = dt.date(2026, 5, 4)
Z90 = 1.2815515655446004


def forecast(mean: float, sd: float, *, periods: int = 1, step: int = 1) -> pl.DataFrame:
    """One sku ``A``, ``periods`` periods of ``step`` days, normal quantiles p10/p50/p90."""
    return pl.DataFrame(
        {
            "sku": ["A"] * periods,
            "location": ["ALL"] * periods,
            "date": [START + dt.timedelta(days=step * i) for i in range(periods)],
            "horizon": list(range(1, periods + 1)),
            "mean": [mean] * periods,
            "p10": [max(mean - Z90 * sd, 0.0)] * periods,
            "p50": [mean] * periods,
            "p90": [mean + Z90 * sd] * periods,
            "model": ["test"] * periods,
        }
    )


def items(**over: object) -> pl.DataFrame:
    """One item; ``unit_cost`` 365 and ``holding_cost_rate`` 1 make ``h`` = 1 per day."""
    row: dict[str, object] = {
        "sku": "A",
        "category": "c",
        "unit_cost": 365.0,
        "price": 500.0,
        "holding_cost_rate": 1.0,
        "stockout_cost": None,
        "service_level": None,
        "order_cost": 0.0,
        "lead_time_days": 0.0,
        "lead_time_sd": 0.0,
        "moq": 0,
        "case_pack": 1,
        "vendor": "V1",
        "unit_volume": 1.0,
    }
    row.update(over)
    return pl.DataFrame(
        [row], schema_overrides={"stockout_cost": pl.Float64, "service_level": pl.Float64}
    )


def run(
    tmp_path: Path, fc: pl.DataFrame, it: pl.DataFrame, *args: str, on_hand: float = 0.0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run the command on the tables; return (orders, policy)."""
    paths = {n: tmp_path / f"{n}.parquet" for n in ("fc", "items", "inv", "orders", "policy")}
    fc.write_parquet(paths["fc"])
    it.write_parquet(paths["items"])
    pl.DataFrame({"sku": ["A"], "node": ["FC1"], "on_hand": [on_hand]}).write_parquet(paths["inv"])
    cmd = ["plan-buy", str(paths["fc"]), "--items", str(paths["items"])]
    cmd += ["--inventory", str(paths["inv"]), "-o", str(paths["orders"])]
    result = runner.invoke(app, [*cmd, "--policy-out", str(paths["policy"]), *args])
    assert result.exit_code == 0, result.stderr
    return pl.read_parquet(paths["orders"]), pl.read_parquet(paths["policy"])


def test_a_part_period_adds_its_fraction_of_the_variance(tmp_path: Path) -> None:
    """Weekly N(350, (8 sqrt 7)^2), lead time 3 days, review 7: ten days are one week and
    3/7 of the next, var = 448 + (3/7) 448 = 640 (independent days), sd 25.30; the old
    w^2 weighting gave 448 + (3/7)^2 448, sd 23.03."""
    fc = forecast(350.0, 8 * math.sqrt(7), periods=4, step=7)
    it = items(lead_time_days=3.0, service_level=0.95)
    _, policy = run(tmp_path, fc, it, "--distribution", "normal", "--policy", "base_stock")
    assert policy["demand_sd"][0] == pytest.approx(math.sqrt(640.0), rel=1e-9)
    assert policy["demand_mean"][0] == pytest.approx(500.0, rel=1e-12)


@pytest.mark.parametrize(
    ("floor", "level", "floored"),
    [("auto", 120 + Z90 * 10, False), ("poisson", 120 + Z90 * math.sqrt(120), True)],
)
def test_the_poisson_floor_is_an_option_and_flagged(
    tmp_path: Path, floor: str, level: float, floored: bool
) -> None:
    """Newsvendor on N(120, 10^2) at a 0.9 target (Snyder & Shen eq. 4.16): 120 + z_0.9 10
    = 132.82 with the forecast's own spread; the sqrt(120) floor gives 134.04 and says so."""
    it = items(service_level=0.9)
    args = ("--policy", "newsvendor", "--distribution", "normal", "--spread-floor", floor)
    _, policy = run(tmp_path, forecast(120.0, 10.0), it, *args)
    row = policy.row(0, named=True)
    assert row["order_up_to"] == pytest.approx(level, rel=1e-9)
    assert row["spread_floored"] is floored


def test_rq_with_no_lead_time_reorders_at_zero_and_orders_the_eoq(tmp_path: Path) -> None:
    """Lead time 0, N(50, 8^2) a day, K = 20, h = 1, p = 4 per unit short: lead-time demand is
    0, so r = 0 and Q = EOQ = sqrt(2 K lam / h) = 44.72 (Snyder & Shen eq. 3.6); nothing on
    hand orders (the old code set r = -1.48 and ordered nothing)."""
    it = items(stockout_cost=4.0, order_cost=20.0)
    orders, policy = run(tmp_path, forecast(50.0, 8.0, periods=30), it, "--policy", "rq")
    row = policy.row(0, named=True)
    assert row["reorder_point"] == pytest.approx(0.0, abs=1e-6)
    assert row["order_up_to"] == pytest.approx(math.sqrt(2 * 20 * 50 / 1.0), rel=1e-6)
    assert orders["status"][0] == "order"
    assert orders["qty"][0] == 45.0


def test_rq_minimises_and_reports_the_cost_per_unit_short(tmp_path: Path) -> None:
    """Lead time 3 days of N(50, 8^2): the command's (r, Q) is no worse than any point of a
    grid under g(r,Q) = K lam/Q + h (r - mu + Q/2 + B) + p lam/Q [n(r) - n(r+Q)] (p per unit
    short, as every other policy reads stockout_cost), and its stockout_cost column is the
    last term."""
    from scipy.stats import norm

    mu, sd, lam, h, p, k = 150.0, 8.0 * math.sqrt(3), 50.0, 1.0, 4.0, 20.0

    def n1(y: float) -> float:
        z = (y - mu) / sd
        return float(sd * (norm.pdf(z) - z * norm.sf(z)))

    def n2(y: float) -> float:
        z = (y - mu) / sd
        return float(sd**2 * 0.5 * ((z * z + 1) * norm.sf(z) - z * norm.pdf(z)))

    def cost(r: float, q: float) -> tuple[float, float]:
        short = p * lam / q * (n1(r) - n1(r + q))
        hold = h * (r - mu + q / 2 + (n2(r) - n2(r + q)) / q)
        return k * lam / q + hold + short, short

    it = items(stockout_cost=p, order_cost=k, lead_time_days=3.0)
    _, policy = run(tmp_path, forecast(50.0, 8.0, periods=30), it, "--policy", "rq")
    row = policy.row(0, named=True)
    r, q = row["reorder_point"], row["order_up_to"] - row["reorder_point"]
    best, short = cost(r, q)
    assert row["stockout_cost"] == pytest.approx(short, rel=1e-6)
    total = row["holding_cost"] + row["stockout_cost"] + row["ordering_cost"]
    assert total == pytest.approx(best, rel=1e-6)
    grid = [cost(r + dr, q + dq)[0] for dr in range(-10, 11) for dq in range(-10, 11) if q + dq > 0]
    assert best <= min(grid) + 1e-9


@pytest.mark.parametrize(
    ("distribution", "expected"), [("poisson", (4.0, 10.0)), ("auto", (4.0, 10.0))]
)
def test_ss_is_optimal_snyder_shen_example_4_7(
    tmp_path: Path, distribution: str, expected: tuple[float, float]
) -> None:
    """Snyder & Shen Example 4.7 with K = 5: Poisson demand of mean 6 per period, h = 1,
    p = 4, zero lead time: the optimal (s, S) is (4, 10), cost 8.0341 per period (the old
    EOQ + safety stock heuristic gave s = 8, S = 15.75). One review period is one day."""
    it = items(stockout_cost=4.0, order_cost=5.0)
    fc = forecast(6.0, 0.0, periods=30).with_columns(
        pl.lit(6.0).alias("p10"), pl.lit(6.0).alias("p90")
    )
    args = ("--policy", "ss", "--distribution", distribution, "--review-days", "1")
    orders, policy = run(tmp_path, fc, it, *args, on_hand=4.0)
    row = policy.row(0, named=True)
    assert (row["reorder_point"], row["order_up_to"]) == expected
    assert orders["qty"][0] == expected[1] - 4.0  # at s: order up to S
    cost = row["holding_cost"] + row["stockout_cost"] + row["ordering_cost"]
    assert cost == pytest.approx(8.034111561463058, rel=1e-9)


def test_lot_size_is_wagner_whitin_snyder_shen_example_3_9(tmp_path: Path) -> None:
    """Snyder & Shen Example 3.9: K = 500, h = 2 per period, demand 90, 120, 80, 70 (one
    period a day, no lead time, nothing on hand): the optimal plan orders 210 now (periods 1
    and 2) and 150 in period 3, 1,380 over the four days."""
    fc = (
        forecast(0.0, 0.0, periods=4)
        .with_columns(pl.Series("mean", [90.0, 120, 80, 70]))
        .with_columns(
            pl.col("mean").alias("p10"), pl.col("mean").alias("p50"), pl.col("mean").alias("p90")
        )
    )
    it = items(unit_cost=730.0, order_cost=500.0, stockout_cost=10.0)
    orders, policy = run(tmp_path, fc, it, "--policy", "lot_size", "--review-days", "1")
    assert orders["qty"][0] == 210.0
    row = policy.row(0, named=True)
    assert row["ordering_cost"] + row["holding_cost"] == pytest.approx(1380.0 / 4, rel=1e-12)
    assert row["reorder_point"] == 90.0


def test_seller_limits_cut_the_tight_seller_and_price_its_storage(tmp_path: Path) -> None:
    """Two sellers of two skus each (N(40, 10^2) a day, 7-day review, nothing on hand); seller
    S1 may store 200 units, S2 10,000. S1's orders are cut to fit and report a positive
    shadow price (the expected cost per cycle one more unit of its limit saves); S2's orders
    are those of the run without limits."""
    skus = ["A", "B", "C", "D"]
    fc = pl.concat(
        [forecast(40.0, 10.0, periods=28).with_columns(pl.lit(s).alias("sku")) for s in skus]
    )
    it = pl.concat([items(sku=s, stockout_cost=5.0) for s in skus]).with_columns(
        pl.Series("seller", ["S1", "S1", "S2", "S2"])
    )
    inv = pl.DataFrame({"sku": skus, "node": ["FC1"] * 4, "on_hand": [0.0] * 4})
    paths = {n: tmp_path / f"{n}.parquet" for n in ("fc", "items", "inv", "lim", "o1", "o2", "pol")}
    fc.write_parquet(paths["fc"])
    it.write_parquet(paths["items"])
    inv.write_parquet(paths["inv"])
    pl.DataFrame({"seller": ["S1", "S2"], "max_volume": [200.0, 10_000.0]}).write_parquet(
        paths["lim"]
    )
    base = ["plan-buy", str(paths["fc"]), "--items", str(paths["items"])]
    base += ["--inventory", str(paths["inv"]), "--policy", "base_stock"]
    free = runner.invoke(app, [*base, "-o", str(paths["o1"])])
    assert free.exit_code == 0, free.stderr
    limited = runner.invoke(
        app,
        [
            *base,
            *("--seller-limits", str(paths["lim"])),
            *("-o", str(paths["o2"]), "--policy-out", str(paths["pol"])),
        ],
    )
    assert limited.exit_code == 0, limited.stderr
    before, after = pl.read_parquet(paths["o1"]), pl.read_parquet(paths["o2"])
    policy = pl.read_parquet(paths["pol"])
    s1 = policy.filter(pl.col("sku").is_in(["A", "B"]))
    assert s1["binding_constraint"].to_list() == ["seller", "seller"]
    assert (s1["shadow_price"] > 0).all() and s1["shadow_price"].n_unique() == 1
    assert after.filter(pl.col("sku").is_in(["A", "B"]))["qty"].sum() <= 200.0
    s2 = policy.filter(pl.col("sku").is_in(["C", "D"]))
    assert s2["shadow_price"].null_count() == 2
    kept = after.filter(pl.col("sku").is_in(["C", "D"]))["qty"].to_list()
    assert kept == before.filter(pl.col("sku").is_in(["C", "D"]))["qty"].to_list()


@pytest.mark.parametrize(("kind", "batch"), [("all_units", 800.0), ("incremental", 304.04678)])
def test_price_breaks_set_the_batch_snyder_shen_examples_3_6_and_3_7(
    tmp_path: Path, kind: str, batch: float
) -> None:
    """Snyder & Shen Examples 3.6 and 3.7 (K = 8, i = 0.3 a year, 1,300 a year, breaks at
    0, 400, 800 units for 0.75, 0.72, 0.68): the all-units optimum orders 800, the
    incremental one 304.05; the (s,S) heuristic's batch S - s is that quantity (the time
    unit, a day here, does not move the optimum)."""
    fc = forecast(1300 / 365, 1.0, periods=28)
    it = items(unit_cost=0.75, holding_cost_rate=0.3, order_cost=8.0, stockout_cost=2.0)
    breaks = pl.DataFrame(
        {
            "sku": ["A"] * 3,
            "min_qty": [0.0, 400.0, 800.0],
            "unit_cost": [0.75, 0.72, 0.68],
            "kind": [kind] * 3,
        }
    )
    path = tmp_path / "breaks.parquet"
    breaks.write_parquet(path)
    _, policy = run(tmp_path, fc, it, "--policy", "ss_heuristic", "--price-breaks", str(path))
    row = policy.row(0, named=True)
    assert row["order_up_to"] - row["reorder_point"] == pytest.approx(batch, rel=1e-6)


def test_rq_is_exact_for_poisson_demand(tmp_path: Path) -> None:
    """Poisson demand of 1.5 a day, lead time 2 days, h = 1, p = 20 per unit short, K = 10:
    integer (r, Q) minimising g(r,Q) = K lam/Q + h/Q sum_{y=r+1}^{r+Q} E[(y-D)^+] + p lam/Q
    [n(r) - n(r+Q)] (Snyder & Shen 5.5's model with the cost per unit short) by enumeration
    here, against the command's vectorised search."""
    from scipy.stats import poisson

    mu, lam, h, p, k = 3.0, 1.5, 1.0, 20.0, 10.0
    support = np.arange(200)
    pmf = poisson.pmf(support, mu)

    def n1(y: int) -> float:
        return float(np.sum(pmf * np.maximum(support - y, 0)))

    def g(r: int, q: int) -> float:
        held = sum(y - mu + n1(y) for y in range(r + 1, r + q + 1)) / q
        return k * lam / q + h * held + p * lam / q * (n1(r) - n1(r + q))

    best = min((g(r, q), r, q) for r in range(-3, 15) for q in range(1, 25))
    it = items(stockout_cost=p, order_cost=k, lead_time_days=2.0)
    fc = forecast(lam, 0.0, periods=30)
    _, policy = run(tmp_path, fc, it, "--policy", "rq", "--distribution", "poisson")
    row = policy.row(0, named=True)
    assert (row["reorder_point"], row["order_up_to"] - row["reorder_point"]) == best[1:]
    total = row["holding_cost"] + row["stockout_cost"] + row["ordering_cost"]
    assert total == pytest.approx(best[0], rel=1e-9)
    assert row["distribution"] == "poisson"


def test_auto_prices_example_4_7_exactly(tmp_path: Path) -> None:
    """Snyder & Shen Example 4.7 with K = 5 (Poisson mean 6, h = 1, p = 4): the auto policy
    chooses the exact (s,S) search for integer demand and finds s = 4, S = 10, although the
    EOQ (7.7) is below 1.5 periods of demand, where it would have bought to a base stock."""
    it = items(stockout_cost=4.0, order_cost=5.0)
    args = ("--distribution", "poisson", "--review-days", "1")
    _, policy = run(tmp_path, forecast(6.0, math.sqrt(6.0)), it, *args)
    assert policy["policy"][0] == "ss"
    assert (policy["reorder_point"][0], policy["order_up_to"][0]) == (4.0, 10.0)
