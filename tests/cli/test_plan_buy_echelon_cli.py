"""Central tiers through ``scot plan-buy``: Clark-Scarf and the guaranteed-service model on
the examples of Snyder & Shen, *Fundamentals of Supply Chain Theory* (2nd ed.), ch. 6, with
every table built here and the figures read back from the policy table."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from scot_cli.commands.main import app

runner = CliRunner()
START = dt.date(2026, 5, 4)
Z90 = 1.2815515655446004


def forecast(locations: dict[str, tuple[float, float]], days: int = 40) -> pl.DataFrame:
    """Daily normal forecasts of sku ``A`` per location: (mean, sd), quantiles p10/p50/p90."""
    rows = []
    for loc, (mean, sd) in locations.items():
        for i in range(days):
            rows.append(
                {
                    "sku": "A",
                    "location": loc,
                    "date": START + dt.timedelta(days=i),
                    "horizon": i + 1,
                    "mean": mean,
                    "p10": mean - Z90 * sd,
                    "p50": mean,
                    "p90": mean + Z90 * sd,
                    "model": "test",
                }
            )
    return pl.DataFrame(rows)


def items(**over: object) -> pl.DataFrame:
    """One item; ``holding_cost_rate`` 365 makes ``h`` = ``unit_cost`` per day."""
    row: dict[str, object] = {
        "sku": "A",
        "category": "c",
        "unit_cost": 1.0,
        "price": 500.0,
        "holding_cost_rate": 365.0,
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


def nodes(kinds: dict[str, str], processing: dict[str, int] | None = None) -> pl.DataFrame:
    proc = processing or {}
    return pl.DataFrame(
        {
            "node": list(kinds),
            "kind": list(kinds.values()),
            "region": ["R"] * len(kinds),
            "storage_capacity": [None] * len(kinds),
            "daily_capacity": [None] * len(kinds),
            "cutoff_hour": [None] * len(kinds),
            "processing_days": [proc.get(n, 0) for n in kinds],
            "lat": [40.0] * len(kinds),
            "lon": [-90.0] * len(kinds),
        },
        schema_overrides={
            "storage_capacity": pl.Float64,
            "daily_capacity": pl.Float64,
            "cutoff_hour": pl.Int64,
        },
    )


def lanes(legs: list[tuple[str, str, float, float]]) -> pl.DataFrame:
    """Legs (origin, destination, transit_days, cost_per_unit), no transit spread."""
    return pl.DataFrame(
        {
            "origin": [o for o, *_ in legs],
            "destination": [d for _, d, *_ in legs],
            "mode": ["ground"] * len(legs),
            "transit_days": [t for *_, t, _ in legs],
            "transit_sd": [0.0] * len(legs),
            "cost_per_unit": [c for *_, c in legs],
            "truck_capacity": [1000.0] * len(legs),
            "cost_per_truck": [0.0] * len(legs),
            "departure_hour": [10] * len(legs),
        }
    )


def run(
    tmp_path: Path,
    fc: pl.DataFrame,
    it: pl.DataFrame,
    nd: pl.DataFrame,
    ln: pl.DataFrame,
    stock: dict[str, float],
    *args: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    paths = {n: tmp_path / f"{n}.parquet" for n in ("fc", "it", "inv", "nd", "ln", "o", "p")}
    fc.write_parquet(paths["fc"])
    it.write_parquet(paths["it"])
    nd.write_parquet(paths["nd"])
    ln.write_parquet(paths["ln"])
    pl.DataFrame(
        {"sku": ["A"] * len(stock), "node": list(stock), "on_hand": list(stock.values())}
    ).write_parquet(paths["inv"])
    cmd = ["plan-buy", str(paths["fc"]), "--items", str(paths["it"])]
    cmd += ["--inventory", str(paths["inv"]), "--nodes", str(paths["nd"])]
    cmd += ["--lanes", str(paths["ln"]), "-o", str(paths["o"]), "--policy-out", str(paths["p"])]
    result = runner.invoke(app, [*cmd, *args])
    assert result.exit_code == 0, result.stderr
    return pl.read_parquet(paths["o"]), pl.read_parquet(paths["p"])


def by_node(policy: pl.DataFrame, column: str) -> dict[str, float]:
    return dict(zip(policy["node"], policy[column], strict=True))


def test_clark_scarf_snyder_shen_example_6_1(tmp_path: Path) -> None:
    """Example 6.1 (p. 186 in the 2nd ed.): three stages, echelon holding costs 3, 2, 2
    (stage 1 downstream), lead times 1, 1, 2, backorder cost 37.12, demand N(5, 1) per
    period. The book's local base-stock levels are 6.49, 5.53 and 10.69, echelon 6.49,
    12.02, 22.71. The chain here: V1 -> D2 (lead 2) -> D1 (1 day, lane cost 2) -> F1 (1
    day, lane cost 3); unit cost 2 at a daily rate of 1 makes the root's holding 2."""
    nd = nodes({"V1": "vendor", "D2": "dc", "D1": "dc", "F1": "fc"})
    ln = lanes([("V1", "D2", 2.0, 0.0), ("D2", "D1", 1.0, 2.0), ("D1", "F1", 1.0, 3.0)])
    it = items(unit_cost=2.0, stockout_cost=37.12)
    orders, policy = run(
        tmp_path, forecast({"F1": (5.0, 1.0)}), it, nd, ln, {"F1": 3.0, "D1": 4.0, "D2": 5.0}
    )
    assert set(policy["policy"]) == {"clark_scarf"}
    echelon = by_node(policy, "echelon_level")
    assert [round(echelon[n], 2) for n in ("F1", "D1", "D2")] == [6.49, 12.02, 22.71]
    local = by_node(policy, "order_up_to")
    assert [round(local[n], 2) for n in ("F1", "D1", "D2")] == [6.49, 5.53, 10.69]
    # each stage orders up to its echelon level against its echelon position
    assert by_node(policy, "echelon_position") == {"F1": 3.0, "D1": 7.0, "D2": 12.0}
    qty = dict(zip(orders["node"], orders["qty"], strict=True))
    assert qty == {
        "F1": math.ceil(echelon["F1"] - 3),
        "D1": math.ceil(echelon["D1"] - 7),
        "D2": math.ceil(echelon["D2"] - 12),
    }
    vendor = dict(zip(orders["node"], orders["vendor"], strict=True))
    assert vendor == {"F1": "D1", "D1": "D2", "D2": "V1"}


def test_gsm_tree_snyder_shen_example_6_5(tmp_path: Path) -> None:
    """Example 6.5 (Graves & Willems 2000's DP, Snyder & Shen 6.3): stage 1 (T = 2, h = 1,
    quoted 1 day by its supplier) feeds stage 3 (T = 1, h = 2) which feeds the demand stages
    2 and 4 (T = 1, h = 3, demand sd 1, maximum service times 0 and 1), z = 1. Optimal cost
    2 sqrt(2) + sqrt(6) + 3 with service times S = (0, 0, 0, 1)."""
    nd = nodes({"V1": "vendor", "1": "dc", "3": "dc", "2": "fc", "4": "fc"}, {"4": 1})
    ln = lanes(
        [("V1", "1", 2.0, 0.0), ("1", "3", 1.0, 1.0), ("3", "2", 1.0, 1.0), ("3", "4", 1.0, 1.0)]
    )
    it = items(lead_time_days=1.0, service_level=0.8413447460685429)  # Phi(1)
    _, policy = run(tmp_path, forecast({"2": (10.0, 1.0), "4": (10.0, 1.0)}), it, nd, ln, {})
    assert set(policy["policy"]) == {"gsm"}
    assert by_node(policy, "service_days") == {"1": 0.0, "2": 0.0, "3": 0.0, "4": 1.0}
    safety = by_node(policy, "safety_stock")
    expected = {"1": math.sqrt(6), "3": math.sqrt(2), "2": 1.0, "4": 0.0}
    assert safety == pytest.approx(expected, abs=1e-6)
    holding = float(policy["holding_cost"].sum())
    assert holding == pytest.approx(2 * math.sqrt(2) + math.sqrt(6) + 3, rel=1e-6)
    # base stock = mean demand over the net replenishment time plus safety stock
    nrt = by_node(policy, "replenishment_days")
    assert nrt == {"1": 3.0, "3": 1.0, "2": 1.0, "4": 0.0}
    level = by_node(policy, "order_up_to")
    assert level["1"] == pytest.approx(20 * 3 + math.sqrt(6), abs=1e-6)


def test_without_a_central_tier_the_fcs_plan_alone(tmp_path: Path) -> None:
    nd = nodes({"V1": "vendor", "F1": "fc"})
    ln = lanes([("V1", "F1", 2.0, 0.0)])
    _, policy = run(tmp_path, forecast({"F1": (5.0, 1.0)}), items(), nd, ln, {"F1": 1.0})
    assert policy["policy"].to_list() != ["clark_scarf"]
    assert policy["echelon_level"].null_count() == policy.height


def test_a_node_fed_by_two_central_nodes_is_exit_3(tmp_path: Path) -> None:
    nd = nodes({"V1": "vendor", "D1": "dc", "D2": "dc", "F1": "fc"})
    ln = lanes(
        [
            ("V1", "D1", 2.0, 0.0),
            ("V1", "D2", 2.0, 0.0),
            ("D1", "F1", 1.0, 1.0),
            ("D2", "F1", 1.0, 1.0),
        ]
    )
    paths = {n: tmp_path / f"{n}.parquet" for n in ("fc", "it", "inv", "nd", "ln")}
    forecast({"F1": (5.0, 1.0)}).write_parquet(paths["fc"])
    items().write_parquet(paths["it"])
    nd.write_parquet(paths["nd"])
    ln.write_parquet(paths["ln"])
    pl.DataFrame({"sku": ["A"], "node": ["F1"], "on_hand": [0.0]}).write_parquet(paths["inv"])
    result = runner.invoke(
        app,
        [
            "plan-buy",
            str(paths["fc"]),
            "--items",
            str(paths["it"]),
            "--inventory",
            str(paths["inv"]),
            "--nodes",
            str(paths["nd"]),
            "--lanes",
            str(paths["ln"]),
        ],
    )
    assert result.exit_code == 3
    assert "F1" in result.stderr and "D1, D2" in result.stderr


def test_a_budget_with_a_central_tier_is_a_usage_error(tmp_path: Path) -> None:
    nd = nodes({"V1": "vendor", "D1": "dc", "F1": "fc"})
    ln = lanes([("V1", "D1", 2.0, 0.0), ("D1", "F1", 1.0, 1.0)])
    paths = {n: tmp_path / f"{n}.parquet" for n in ("fc", "it", "inv", "nd", "ln")}
    forecast({"F1": (5.0, 1.0)}).write_parquet(paths["fc"])
    items().write_parquet(paths["it"])
    nd.write_parquet(paths["nd"])
    ln.write_parquet(paths["ln"])
    pl.DataFrame({"sku": ["A"], "node": ["F1"], "on_hand": [0.0]}).write_parquet(paths["inv"])
    args = ["plan-buy", str(paths["fc"]), "--items", str(paths["it"]), "--inventory"]
    args += [str(paths["inv"]), "--nodes", str(paths["nd"]), "--lanes", str(paths["ln"])]
    result = runner.invoke(app, [*args, "--budget", "100"])
    assert result.exit_code == 2
    assert "central tier" in result.stderr
