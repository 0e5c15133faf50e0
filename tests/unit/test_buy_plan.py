"""plan_buy on inline frames: levels, bad-input status rows, limits, network, explain hook."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scot_cli.buy import BuyOptions, decide_from_inputs, plan_buy
from scot_cli.errors import InputDataError
from scot_cli.options import OptionError

Z90 = 1.2815515655446004
START = dt.date(2026, 3, 2)


def forecast(
    skus: dict[str, tuple[float, float]], *, days: int = 40, locations: tuple[str, ...] = ("ALL",)
) -> pl.DataFrame:
    """Daily normal forecasts: sku -> (mean, sd) per location and day."""
    rows = []
    for sku, (mean, sd) in skus.items():
        for loc in locations:
            for i in range(days):
                rows.append(
                    {
                        "sku": sku,
                        "location": loc,
                        "date": START + dt.timedelta(days=i),
                        "horizon": i + 1,
                        "mean": mean,
                        "p10": max(mean - Z90 * sd, 0.0),
                        "p50": mean,
                        "p90": mean + Z90 * sd,
                        "model": "test",
                    }
                )
    return pl.DataFrame(rows)


def items(**overrides: Sequence[object]) -> pl.DataFrame:
    n = len(next(iter(overrides.values()))) if overrides else 1
    base: dict[str, list[object]] = {
        "sku": [f"S{i}" for i in range(n)],
        "category": ["c"] * n,
        "unit_cost": [10.0] * n,
        "price": [20.0] * n,
        "holding_cost_rate": [0.365] * n,  # h = 0.01 per unit per day
        "stockout_cost": [None] * n,
        "service_level": [0.95] * n,
        "order_cost": [0.0] * n,
        "lead_time_days": [5.0] * n,
        "lead_time_sd": [0.0] * n,
        "moq": [0] * n,
        "case_pack": [1] * n,
        "vendor": ["V1"] * n,
        "unit_volume": [1.0] * n,
    }
    base.update({k: list(v) for k, v in overrides.items()})
    return pl.DataFrame(
        base, schema_overrides={"stockout_cost": pl.Float64, "service_level": pl.Float64}
    )


def inventory(stock: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"sku": list(stock), "node": ["FC1"] * len(stock), "on_hand": list(stock.values())}
    )


def test_base_stock_level_is_the_critical_fractile_of_lead_time_plus_review() -> None:
    """L = 5, R = 7, N(20, 4^2) per day: S = 240 + 4 sqrt(12) z_0.95, order S - position."""
    plan = plan_buy(
        forecast({"S0": (20.0, 5.0)}),
        items=items(),
        inventory=inventory({"S0": 50.0}),
        options=BuyOptions(policy="base_stock", distribution="normal"),
    )
    pol = plan.policy.row(0, named=True)
    s = 240 + 5 * math.sqrt(12) * 1.6448536269514722
    assert pol["order_up_to"] == pytest.approx(s, rel=1e-6)
    assert pol["demand_sd"] == pytest.approx(5 * math.sqrt(12), rel=1e-9)
    assert pol["in_stock_prob"] == pytest.approx(0.95, rel=1e-6)
    order = plan.orders.row(0, named=True)
    assert order["qty"] == math.ceil(s - 50)
    assert order["status"] == "order"
    assert order["order_date"] == START - dt.timedelta(days=1)
    assert order["arrival_date"] == START + dt.timedelta(days=4)


def test_demand_is_summed_across_locations_with_variances_not_quantiles() -> None:
    one = plan_buy(
        forecast({"S0": (5.0, 3.0)}, locations=("R1", "R2", "R3", "R4")),
        items=items(),
        inventory=inventory({"S0": 0.0}),
        options=BuyOptions(policy="base_stock"),
    )
    pol = one.policy.row(0, named=True)
    assert pol["demand_mean"] == pytest.approx(4 * 5.0 * 12)
    assert pol["demand_sd"] == pytest.approx(math.sqrt(4 * 12 * 9.0), rel=1e-9)


def test_lead_time_spread_adds_mean_demand_squared_times_its_variance() -> None:
    plan = plan_buy(
        forecast({"S0": (20.0, 5.0)}),
        items=items(lead_time_sd=[2.0]),
        inventory=inventory({"S0": 0.0}),
        options=BuyOptions(policy="base_stock"),
    )
    sd = plan.policy["demand_sd"][0]
    assert sd == pytest.approx(math.sqrt(12 * 25 + (20 * 2.0) ** 2), rel=1e-9)


def test_bad_items_and_missing_forecasts_become_status_rows() -> None:
    it = items(
        sku=["ok", "free", "sure", "nopenalty", "noforecast"],
        unit_cost=[10.0, 0.0, 10.0, 10.0, 10.0],
        service_level=[0.9, 0.9, 1.0, None, 0.9],
        stockout_cost=[None, None, None, 0.0, None],
    )
    fc = forecast({k: (3.0, 1.0) for k in ("ok", "free", "sure", "nopenalty", "ghost")})
    plan = plan_buy(fc, items=it, inventory=inventory({"ok": 1.0}))
    status = dict(zip(plan.orders["sku"], plan.orders["status"], strict=True))
    reason = dict(zip(plan.orders["sku"], plan.orders["reason"], strict=True))
    assert status["ok"] == "order"
    for sku in ("free", "sure", "nopenalty", "noforecast", "ghost"):
        assert status[sku] == "unplanned"
    assert reason["free"] == "unit_cost must be > 0 (it sets the holding cost)"
    assert reason["sure"] == "service_level must be strictly between 0 and 1"
    assert reason["nopenalty"] == "stockout_cost must be > 0 (or give a service_level)"
    assert reason["ghost"] == "sku is not in items.parquet; add it to items to plan it"
    assert reason["noforecast"].startswith("no forecast for this sku")
    assert plan.orders.filter(pl.col("status") == "unplanned")["qty"].sum() == 0


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"service_level": 1.2}, "service_level", "must be strictly between 0 and 1, got 1.2"),
        ({"policy": "sS"}, "policy", "unknown value 'sS' (choose from auto, base_stock"),
        ({"budget": -5}, "budget", "must be positive, got -5"),
        ({"review_days": 0.0}, "review_days", "must be positive, got 0"),
    ],
)
def test_options_outside_their_domain_name_the_field(
    fields: dict[str, object], field: str, reason: str
) -> None:
    with pytest.raises(OptionError) as info:
        BuyOptions(**fields)  # type: ignore[arg-type]
    assert info.value.field == field
    assert info.value.reason.startswith(reason)
    fc, it, inv = forecast({"S0": (1.0, 1.0)}), items(), inventory({"S0": 0.0})
    with pytest.raises(OptionError):
        plan_buy(fc, items=it, inventory=inv, **fields)  # type: ignore[arg-type]


def test_options_round_trip_through_params() -> None:
    opts = BuyOptions(policy="ss", as_of=dt.date(2026, 5, 1), budget=100.0, review_days=3)
    params = opts.params()
    assert params["as_of"] == "2026-05-01"
    assert BuyOptions.from_params(params) == opts


def test_tables_may_be_paths_and_a_forecast_without_location_is_one_location(
    tmp_path: Path,
) -> None:
    fc = forecast({"S0": (20.0, 5.0)})
    paths = {"items": tmp_path / "items.parquet", "inventory": tmp_path / "inv.parquet"}
    items().write_parquet(paths["items"])
    inventory({"S0": 50.0}).write_parquet(paths["inventory"])
    by_path = plan_buy(fc.drop("location"), items=paths["items"], inventory=str(paths["inventory"]))
    by_frame = plan_buy(fc, items=items(), inventory=inventory({"S0": 50.0}))
    assert by_path.orders.equals(by_frame.orders)
    assert "None" not in str(by_path.summary)
    assert str(by_path.summary).startswith("plan-buy: 1 sku rows: 1 orders")


def test_frames_are_validated_on_entry() -> None:
    bad = items(lead_time_days=[-1.0])
    with pytest.raises(InputDataError, match=r"items: column 'lead_time_days' has value -1\.0"):
        plan_buy(forecast({"S0": (1.0, 1.0)}), items=bad, inventory=inventory({"S0": 0.0}))


def test_fill_rate_target_is_met() -> None:
    plan = plan_buy(
        forecast({"S0": (20.0, 6.0)}),
        items=items(service_level=[0.98]),
        inventory=inventory({"S0": 0.0}),
        options=BuyOptions(policy="base_stock", service_type="fill"),
    )
    assert plan.policy["fill_rate"][0] == pytest.approx(0.98, abs=1e-6)


def _three() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    it = items(
        sku=["A", "B", "C"],
        unit_cost=[10.0, 20.0, 5.0],
        stockout_cost=[30.0, 4.0, 15.0],
        service_level=[None, None, None],
    )
    fc = forecast({"A": (10.0, 4.0), "B": (8.0, 3.0), "C": (30.0, 8.0)})
    return fc, it, inventory({"A": 0.0, "B": 0.0, "C": 0.0})


def test_budget_is_respected_and_reports_a_shadow_price() -> None:
    fc, it, inv = _three()
    free = plan_buy(fc, items=it, inventory=inv, options=BuyOptions(policy="base_stock"))
    spend_free = float(
        free.orders.join(it, on="sku").select(pl.col("qty") * pl.col("unit_cost")).sum().item()
    )
    budget = 0.6 * spend_free
    tight = plan_buy(
        fc, items=it, inventory=inv, options=BuyOptions(policy="base_stock", budget=budget)
    )
    spend = float(
        tight.orders.join(it, on="sku").select(pl.col("qty") * pl.col("unit_cost")).sum().item()
    )
    assert spend <= budget + 1e-6
    assert spend >= 0.9 * budget
    assert set(tight.policy["binding_constraint"]) == {"budget"}
    assert tight.policy["shadow_price"][0] > 0
    loose = plan_buy(
        fc, items=it, inventory=inv, options=BuyOptions(policy="base_stock", budget=10 * spend_free)
    )
    assert loose.policy["binding_constraint"].null_count() == 3
    assert loose.orders["qty"].to_list() == free.orders["qty"].to_list()


def test_solvers_agree_on_the_shadow_price() -> None:
    fc, it, inv = _three()
    prices = {
        solver: plan_buy(
            fc,
            items=it,
            inventory=inv,
            options=BuyOptions(policy="base_stock", budget=3000, solver=solver),
        ).policy["shadow_price"][0]
        for solver in ("highs", "clarabel", "scs")
    }
    assert prices["clarabel"] == pytest.approx(prices["highs"], rel=1e-4)
    assert prices["scs"] == pytest.approx(prices["highs"], rel=5e-2)


def test_storage_below_the_stock_held_names_the_field() -> None:
    fc, it, _ = _three()
    inv = inventory({"A": 100.0, "B": 100.0, "C": 100.0})
    with pytest.raises(OptionError, match=r"^storage: 250 is below the 300\.0 volume units"):
        plan_buy(fc, items=it, inventory=inv, options=BuyOptions(storage=250))


def _network() -> tuple[pl.DataFrame, pl.DataFrame]:
    nodes = pl.DataFrame(
        {
            "node": ["V1", "FC1", "FC2", "R1", "R2"],
            "kind": ["vendor", "fc", "fc", "region", "region"],
            "region": ["V", "R1", "R2", "R1", "R2"],
            "storage_capacity": [None, 1e6, 1e6, None, None],
            "daily_capacity": [None, 1e5, 1e5, None, None],
            "cutoff_hour": [None, 14, 14, None, None],
            "processing_days": [None, 0, 0, None, None],
            "lat": [0.0] * 5,
            "lon": [0.0] * 5,
        },
        schema_overrides={
            "storage_capacity": pl.Float64,
            "daily_capacity": pl.Float64,
            "cutoff_hour": pl.Int64,
            "processing_days": pl.Int64,
        },
    )
    lanes = pl.DataFrame(
        {
            "origin": ["V1", "V1", "FC1", "FC2", "FC1"],
            "destination": ["FC1", "FC2", "R1", "R2", "R2"],
            "mode": ["ground"] * 5,
            "transit_days": [3.0, 6.0, 1.0, 1.0, 4.0],
            "transit_sd": [1.0, 2.0, 0.2, 0.2, 0.5],
            "cost_per_unit": [0.1] * 5,
            "truck_capacity": [100.0] * 5,
            "cost_per_truck": [50.0] * 5,
            "departure_hour": [10] * 5,
        }
    )
    return nodes, lanes


def test_network_buys_per_fastest_fc_with_the_vendor_lane_in_the_lead_time() -> None:
    nodes, lanes = _network()
    fc = forecast({"S0": (10.0, 4.0)}, locations=("R1", "R2"))
    inv = pl.DataFrame({"sku": ["S0", "S0"], "node": ["FC1", "FC2"], "on_hand": [5.0, 7.0]})
    plan = plan_buy(
        fc,
        items=items(),
        inventory=inv,
        nodes=nodes,
        lanes=lanes,
        options=BuyOptions(policy="base_stock"),
    )
    pol = {r["node"]: r for r in plan.policy.iter_rows(named=True)}
    assert set(pol) == {"FC1", "FC2"}
    assert pol["FC1"]["protection_days"] == pytest.approx(5 + 3 + 7)
    assert pol["FC2"]["protection_days"] == pytest.approx(5 + 6 + 7)
    assert pol["FC1"]["inventory_position"] == 5.0
    sd = math.sqrt(15 * 16 + (10 * 1.0) ** 2)
    assert pol["FC1"]["demand_sd"] == pytest.approx(sd, rel=1e-9)


def test_decide_from_inputs_repeats_the_decision() -> None:
    fc, it, inv = _three()
    opts = BuyOptions(policy="ss", budget=2500)
    direct = plan_buy(fc, items=it, inventory=inv, options=opts).orders
    again = decide_from_inputs({"forecast": fc, "items": it, "inventory": inv}, opts.params())
    assert again.equals(direct)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 50.0),
            st.integers(1, 24),
            st.integers(0, 100),
            st.floats(0.0, 400.0),
            st.sampled_from(["base_stock", "ss", "rq"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_quantities_are_non_negative_packs_and_at_least_the_moq(
    spec: list[tuple[float, int, int, float, str]],
) -> None:
    n = len(spec)
    skus = [f"S{i}" for i in range(n)]
    it = items(
        sku=skus, case_pack=[s[1] for s in spec], moq=[s[2] for s in spec], order_cost=[25.0] * n
    )
    fc = forecast(
        {sku: (s[0], 0.5 * s[0] + 0.1) for sku, s in zip(skus, spec, strict=True)}, days=30
    )
    inv = inventory({sku: s[3] for sku, s in zip(skus, spec, strict=True)})
    for policy in {s[4] for s in spec}:
        orders = plan_buy(fc, items=it, inventory=inv, options=BuyOptions(policy=policy)).orders
        merged = orders.join(it.select("sku", "case_pack", "moq"), on="sku")
        q = merged["qty"].to_numpy()
        assert (q >= 0).all()
        assert np.allclose(q % merged["case_pack"].to_numpy(), 0)
        assert ((q == 0) | (q >= merged["moq"].to_numpy())).all()


@pytest.mark.parametrize("policy", ["base_stock", "ss", "rq", "rq_eil", "newsvendor"])
def test_a_sku_without_expected_demand_orders_nothing(policy: str) -> None:
    fc = forecast({"S0": (0.0, 0.0), "S1": (5.0, 2.0)})
    it = items(sku=["S0", "S1"], order_cost=[30.0, 30.0])
    plan = plan_buy(
        fc, items=it, inventory=inventory({"S0": 0.0, "S1": 0.0}), options=BuyOptions(policy=policy)
    )
    row = plan.orders.row(0, named=True)
    assert (row["status"], row["qty"]) == ("no_order", 0.0)
    assert plan.orders["status"][1] == "order"


def test_row_order_of_the_forecast_does_not_matter() -> None:
    fc = forecast({"A": (10.0, 4.0), "B": (8.0, 3.0)}, locations=("R1", "R2"))
    shuffled = fc.sample(fraction=1.0, shuffle=True, seed=5)
    it, inv = items(sku=["A", "B"]), inventory({"A": 3.0, "B": 40.0})
    a = plan_buy(fc, items=it, inventory=inv).policy
    b = plan_buy(shuffled, items=it, inventory=inv).policy
    assert a.equals(b)


def test_non_finite_levels_become_a_reason_not_a_crash() -> None:
    from scot_cli.buy.plan import guard_levels

    frame = pl.DataFrame(
        {
            "_idx": [0, 1],
            "reorder_point": [5.0, float("nan")],
            "order_up_to": [9.0, 3.0],
            "raw_qty": [4.0, 1.0],
            "demand_mean": [3.0, 3.0],
            "demand_sd": [1.0, 1.0],
            "fill_rate": [float("inf"), 0.9],
        }
    )
    out = guard_levels(frame)
    assert out["level_reason"].to_list() == [
        None,
        "no finite policy levels for this sku; check its costs and forecast",
    ]
    assert out["raw_qty"].to_list() == [4.0, 0.0]
    assert out["fill_rate"].to_list() == [None, None]
