"""``scot_cli.simulate.simulate`` on a small generated network."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from conftest import forecast_from_sales
from scot_cli.errors import InputDataError
from scot_cli.options import OptionError
from scot_cli.simulate import SimulateOptions, SimulateResult, simulate


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    from scot_cli.fixtures import FixtureSpec, generate

    tb = generate(FixtureSpec(skus=12, days=120, orders=80, seed=3))
    tb["forecast"] = forecast_from_sales(tb["sales"], days=120)
    return tb


def run(tables: dict[str, pl.DataFrame], **fields: Any) -> SimulateResult:
    return simulate(
        tables["sales"],
        items=tables["items"],
        nodes=tables["nodes"],
        lanes=tables["lanes"],
        inventory=tables["inventory"],
        forecast=tables["forecast"],
        **fields,
    )


def test_same_seed_same_output_and_units_balance(tables: dict[str, pl.DataFrame]) -> None:
    a = run(tables, days=5, replications=2, policies=("baseline",), seed=5)
    b = run(tables, days=5, replications=2, policies=("baseline",), seed=5)
    assert a.daily.equals(b.daily)
    assert a.summary_table.equals(b.summary_table)
    t = a.totals
    assert (t["bought"] == t["received"] + t["in_transit"]).all()
    assert (t["demand"] == t["served"] + t["lost"] + t["backordered"]).all()


@pytest.mark.slow
def test_policies_and_scenarios_share_the_demand_streams(tables: dict[str, pl.DataFrame]) -> None:
    """Common random numbers: within a replication every policy faces the same demand;
    demand +20% never lowers any day's demand."""
    r = run(
        tables,
        days=4,
        replications=2,
        policies=("baseline", {"name": "lean", "policy": "baseline"}),
        what_ifs=("demand=+20%",),
        baseline_weeks=6.0,
    )
    demand = (
        r.daily.filter(pl.col("demand").is_not_null())
        .group_by("scenario", "policy", "replication")
        .agg(pl.col("demand").sum())
    )
    per = {
        (s, p, i): d
        for s, p, i, d in demand.select("scenario", "policy", "replication", "demand").rows()
    }
    for i in range(2):
        assert per[("base", "baseline", i)] == per[("base", "lean", i)]
        assert per[("demand=+20%", "baseline", i)] > per[("base", "baseline", i)]
    assert per[("base", "baseline", 0)] != per[("base", "baseline", 1)]


@pytest.mark.slow
def test_summary_has_intervals_and_paired_differences(tables: dict[str, pl.DataFrame]) -> None:
    r = run(tables, days=5, replications=3, policies=("baseline",), what_ifs=("lead-time=x2",))
    s = r.summary_table
    ref = s.filter((pl.col("scenario") == "base") & (pl.col("kpi") == "in_stock_rate")).row(
        0, named=True
    )
    assert ref["diff"] == 0.0 and ref["replications"] == 3
    assert ref["ci_low"] <= ref["mean"] <= ref["ci_high"] <= 1.0
    other = s.filter(pl.col("scenario") == "lead-time=x2")
    assert set(other["kpi"]) >= {"in_stock_rate", "share_1day", "promises_kept", "total_cost"}
    assert other["reference"].unique().to_list() == ["baseline (base)"]
    lost = s.filter(pl.col("kpi") == "lost_units").sort("scenario")
    assert lost["diff"][1] == pytest.approx(lost["mean"][1] - lost["mean"][0])
    assert "in_stock_rate" in str(r.summary)


def test_scot_policy_calls_the_decisions(tables: dict[str, pl.DataFrame]) -> None:
    r = run(tables, days=3, policies=("scot",))
    bought = r.totals["bought"][0]
    start_transit = float(tables["inventory"]["in_transit"].fill_null(0.0).sum())
    assert bought > start_transit  # plan-buy ordered at the first review
    assert r.options.params()["policies"] == ["scot"]


def test_closing_an_fc_moves_its_demand_elsewhere(tables: dict[str, pl.DataFrame]) -> None:
    fc = sorted(tables["nodes"].filter(pl.col("kind") == "fc")["node"])[0]
    r = run(tables, days=4, policies=("baseline",), what_ifs=(f"close={fc}",))
    closed = r.daily.filter((pl.col("scenario") == f"close={fc}") & (pl.col("node") == fc))
    assert closed["shipped"].sum() == 0.0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"policies": ("magic",)}, "policy"),
        ({"what_ifs": ("weather=rain",)}, "what_if"),
        ({"what_ifs": ("lead-time",)}, "what_if"),
        ({"days": 0}, "days"),
    ],
)
def test_bad_options_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(OptionError) as err:
        SimulateOptions(**fields)  # type: ignore[arg-type]
    assert err.value.field == field


def test_unknown_policy_names_the_valid_ones() -> None:
    with pytest.raises(OptionError, match="choose from scot, baseline"):
        SimulateOptions(policies=("magic",))


def test_bad_what_if_values(tables: dict[str, pl.DataFrame]) -> None:
    with pytest.raises(OptionError, match="close: 'FC-XXX' is not an FC"):
        run(tables, days=7, policies=("baseline",), what_ifs=("close=FC-XXX",))
    with pytest.raises(OptionError, match="expected xF"):
        run(tables, days=7, policies=("baseline",), what_ifs=("lead-time=1.5",))


def test_max_cells_refuses_before_any_work(tables: dict[str, pl.DataFrame]) -> None:
    with pytest.raises(InputDataError, match="exceed max_cells 1,000"):
        run(tables, days=365, replications=5, max_cells=1_000)


def test_a_region_out_of_reach_is_a_warning_not_an_error(tables: dict[str, pl.DataFrame]) -> None:
    r = run(tables, days=3, policies=("baseline",), max_promise_days=0)
    assert any("their demand is lost" in w for w in r.summary.warnings)
    lost = r.kpis.filter(pl.col("kpi") == "in_stock_rate")["value"]
    assert lost.to_list() == [0.0]


@pytest.mark.slow
def test_reforecast_at_each_review_runs_the_forecast_again(
    tables: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    from scot_cli.simulate import policies

    calls: list[int] = []
    real = policies.decide_forecast  # type: ignore[attr-defined]

    def counted(*args: Any, **kw: Any) -> pl.DataFrame:
        calls.append(kw["horizon"])
        return real(*args, **kw)

    monkeypatch.setattr(policies, "decide_forecast", counted)
    r = run(tables, days=8, policies=("scot",), reforecast="review")
    assert len(calls) == 1  # the review on day 7 (day 0 plans on the given forecast)
    assert calls[0] < 120
    t = r.totals
    assert (t["demand"] == t["served"] + t["lost"]).all()


def test_every_day_is_promised_and_routed_by_the_decisions(
    tables: dict[str, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No second implementation: each simulated day calls scot promise's decision
    (snapshot) and scot route, with the policy's route method (the baseline's: the myopic
    rule)."""
    import scot_cli.promise.core
    import scot_cli.route

    promised: list[str] = []
    routed: list[str] = []
    real_promise, real_route = scot_cli.promise.core.decide_lines, scot_cli.route.route_lines

    def promise(*args: Any, **kw: Any) -> Any:
        promised.append(kw["options"].mode)
        return real_promise(*args, **kw)

    def route(*args: Any, **kw: Any) -> Any:
        routed.append(kw["options"].method)
        return real_route(*args, **kw)

    monkeypatch.setattr(scot_cli.promise.core, "decide_lines", promise)
    monkeypatch.setattr(scot_cli.route, "route_lines", route)
    fast = {"name": "fast", "policy": "baseline", "route": {"method": "lp-round"}}
    r = run(tables, days=3, policies=("baseline", fast))
    assert routed == ["myopic"] * 3 + ["lp-round"] * 3
    assert len(promised) >= 6 and set(promised) == {"snapshot"}
    t = r.totals
    assert (t["demand"] == t["served"] + t["lost"]).all()


@pytest.mark.parametrize(
    ("role", "change", "named"),
    [
        ("items", lambda df: df.drop("lead_time_days"), "lead_time_days"),
        ("inventory", lambda df: df.with_columns(pl.lit(-5.0).alias("on_hand")), "on_hand"),
        ("lanes", lambda df: df.with_columns(pl.lit("nowhere").alias("destination")), "nowhere"),
        ("forecast", lambda df: df.with_columns(pl.col("mean").cast(pl.String)), "mean"),
    ],
)
def test_frames_given_to_the_library_are_validated_like_files(
    tables: dict[str, pl.DataFrame], role: str, change: Any, named: str
) -> None:
    """A frame that breaks its table's schema (or names an unknown node) is refused before
    any work, naming the table and the column or key, as the command refuses a file."""
    bad = {**tables, role: change(tables[role])}
    with pytest.raises(InputDataError, match=named) as err:
        run(bad, days=2, policies=("baseline",))
    assert role in str(err.value)
