"""The attribution engine on a toy newsvendor-like decision q = mu + z*sigma - on_hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scot_cli.errors import UsageError
from scot_cli.explain.drivers import Driver, Split
from scot_cli.explain.engine import ALL, NOT_REPRODUCED, attribute
from scot_cli.explain.mixing import Mixer, Scenario, resolve_groups

KEYS = {"forecast": ("sku", "date"), "items": ("sku",), "inventory": ("sku",)}
DRIVERS = (
    Driver("forecast level", ("forecast.p50",)),
    Driver("forecast spread", ("forecast.p*",)),
    Driver("lead time", ("items.lead_time_days",)),
    Driver("on hand", ("inventory",)),
    Driver("service", params=("z",)),
)
SPLITS = (Split("forecast", bases=("p50",)),)


def toy_decide(inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]) -> pl.DataFrame:
    """q = max(mu * L/7 + z * sigma - on_hand, 0); sigma from the p10..p90 width."""
    f = (
        inputs["forecast"]
        .group_by("sku")
        .agg(pl.col("p50").sum().alias("mu"), (pl.col("p90") - pl.col("p10")).sum().alias("sigma"))
    )
    z = float(params.get("z", 1.0))
    q = pl.col("mu") * pl.col("lead_time_days") / 7 + z * pl.col("sigma")
    return (
        f.join(inputs["items"], on="sku")
        .join(inputs["inventory"], on="sku", how="left")
        .with_columns((q - pl.col("on_hand").fill_null(0.0)).clip(0.0).alias("q"))
    )


def forecast(rows: list[tuple[str, int, float, float, float]]) -> pl.DataFrame:
    schema = {"sku": pl.String, "date": pl.Int64, "p10": pl.Float64, "p50": pl.Float64}
    return pl.DataFrame(rows, schema={**schema, "p90": pl.Float64}, orient="row")


OLD = Scenario(
    {
        "forecast": forecast([("a", 1, 1, 2, 4), ("a", 2, 2, 3, 5), ("b", 1, 3, 5, 9)]),
        "items": pl.DataFrame({"sku": ["a", "b"], "lead_time_days": [7.0, 14.0]}),
        "inventory": pl.DataFrame({"sku": ["a", "b"], "on_hand": [1.0, 2.0]}),
    },
    {"z": 1.0},
)
NEW = Scenario(
    {
        "forecast": forecast([("a", 1, 0.5, 1.5, 4), ("a", 2, 1, 2, 5), ("b", 1, 4, 6, 10)]),
        "items": pl.DataFrame({"sku": ["a", "b"], "lead_time_days": [7.0, 70.0]}),
        "inventory": pl.DataFrame({"sku": ["a", "b"], "on_hand": [1.0, 5.0]}),
    },
    {"z": 1.5},
)


def run(old: Scenario = OLD, new: Scenario = NEW, **kw: Any) -> pl.DataFrame:
    return attribute(
        old=old,
        new=new,
        decide=toy_decide,
        drivers=DRIVERS,
        keys=KEYS,
        subject=lambda _f: pl.col("sku"),
        metrics=["q"],
        splits=SPLITS,
        **kw,
    ).table


def contributions(table: pl.DataFrame, subject: str) -> dict[str, float]:
    rows = table.filter(pl.col("subject") == subject)
    return dict(zip(rows["driver"], rows["contribution"], strict=True))


def test_contributions_add_up_to_delta() -> None:
    t = run()
    sums = t.group_by("subject").agg(pl.col("contribution").sum(), pl.col("delta").first())
    assert np.allclose(sums["contribution"], sums["delta"], rtol=0, atol=1e-12)
    total = t.filter(pl.col("subject") == ALL)
    assert total["delta"][0] == pytest.approx(77.75 - 24.0)


def test_known_answer_sku_b_by_hand() -> None:
    """Sku b: q = 5 L/7 + 6 z - on_hand -> 6*70/7 + 6*1.5 - 5; level/lead time interact.

    Level (5 -> 6) and lead time (2 -> 10 weeks) interact: their joint term
    1 * 8 = 8 is split evenly, so level = 1*2 + 4 = 6 and lead time = 5*8 + 4 = 44
    (the Shapley split of a product: each factor's change times the mean of the other).
    """
    c = contributions(run(), "b")
    assert c["forecast level"] == pytest.approx(6.0)
    assert c["lead time"] == pytest.approx(44.0)
    assert c["on hand"] == pytest.approx(-3.0)
    # spread 6 -> 6 (p90-p10 unchanged) but z 1 -> 1.5: service gets 0.5 * 6 = 3.
    assert c["service"] == pytest.approx(3.0)
    assert c["forecast spread"] == pytest.approx(0.0)


def test_unchanged_driver_is_not_a_group() -> None:
    groups = resolve_groups(DRIVERS, OLD, NEW, keys=KEYS, splits=SPLITS)
    names = [g.name for g in groups]
    assert names == ["forecast level", "forecast spread", "lead time", "on hand", "service"]
    same = resolve_groups(DRIVERS, OLD, OLD, keys=KEYS, splits=SPLITS)
    assert same == []


def test_level_shift_is_not_spread() -> None:
    """A forecast shifted by a constant changes the median only, not the widths."""
    shifted = OLD.inputs["forecast"].with_columns(pl.col("p10", "p50", "p90") + 1.0)
    new = Scenario({**OLD.inputs, "forecast": shifted}, OLD.params)
    groups = resolve_groups(DRIVERS, OLD, new, keys=KEYS, splits=SPLITS)
    assert [g.name for g in groups] == ["forecast level"]


def test_mixed_quantiles_are_level_plus_spread() -> None:
    groups = resolve_groups(DRIVERS, OLD, NEW, keys=KEYS, splits=SPLITS)
    mixer = Mixer(OLD, NEW, groups, keys=KEYS, splits=SPLITS)
    level_only = mixer.scenario(1).inputs["forecast"].sort("sku", "date")
    # new median 1.5, old spreads (-1, +2) for a/1.
    assert level_only.row(0) == ("a", 1, 0.5, 1.5, 3.5)
    assert mixer.scenario(0).inputs["forecast"].sort("sku", "date").equals(OLD.inputs["forecast"])
    everything = mixer.scenario((1 << len(groups)) - 1)
    assert everything.inputs["forecast"].sort("sku", "date").equals(NEW.inputs["forecast"])
    assert everything.params == NEW.params


def test_spread_on_lower_level_is_clipped_at_zero() -> None:
    old = Scenario({**OLD.inputs, "forecast": forecast([("a", 1, 0, 10, 20)])}, OLD.params)
    new = Scenario({**OLD.inputs, "forecast": forecast([("a", 1, 0.5, 1, 2)])}, OLD.params)
    groups = resolve_groups(DRIVERS, old, new, keys=KEYS, splits=SPLITS)
    mixer = Mixer(old, new, groups, keys=KEYS, splits=SPLITS)
    assert mixer.scenario(1).inputs["forecast"].row(0) == ("a", 1, 0.0, 1.0, 11.0)


def test_new_sku_rows_are_their_own_driver() -> None:
    items = pl.concat([NEW.inputs["items"], pl.DataFrame({"sku": ["c"], "lead_time_days": [7.0]})])
    fc = pl.concat([NEW.inputs["forecast"], forecast([("c", 1, 1, 2, 3)])])
    new = Scenario({**NEW.inputs, "items": items, "forecast": fc}, NEW.params)
    t = run(new=new)
    c = contributions(t, "c")
    row = t.filter(pl.col("subject") == "c").row(0, named=True)
    assert (row["before"], row["after"]) == (0.0, pytest.approx(2 + 1.5 * 2))
    assert sum(c.values()) == pytest.approx(row["delta"])
    # c exists only when both its items and forecast rows are new: they share its q.
    assert c["forecast rows added or dropped"] == pytest.approx(c["items rows added or dropped"])
    assert c["lead time"] == 0.0


def test_unclaimed_column_and_parameter_get_their_own_group() -> None:
    items_old = OLD.inputs["items"].with_columns(pl.lit("v1").alias("vendor"))
    items_new = items_old.with_columns(pl.lit("v2").alias("vendor"))
    old = Scenario({**OLD.inputs, "items": items_old}, {"z": 1.0, "horizon": 7})
    new = Scenario({**OLD.inputs, "items": items_new}, {"z": 1.0, "horizon": 14})
    names = [g.name for g in resolve_groups(DRIVERS, old, new, keys=KEYS)]
    assert names == ["other items columns", "other parameters"]


def test_observed_gap_is_reported_as_not_reproduced() -> None:
    before = toy_decide(OLD.inputs, OLD.params)
    after = toy_decide(NEW.inputs, NEW.params).with_columns(
        pl.when(pl.col("sku") == "a").then(pl.col("q") + 0.5).otherwise(pl.col("q"))
    )
    t = run(observed=(before, after))
    assert contributions(t, "a")[NOT_REPRODUCED] == pytest.approx(0.5)
    assert contributions(t, "b")[NOT_REPRODUCED] == pytest.approx(0.0)
    a = t.filter(pl.col("subject") == "a")
    assert a["contribution"].sum() == pytest.approx(a["delta"][0])


def test_too_many_groups_is_a_usage_error() -> None:
    n = 13
    old = Scenario({}, {f"p{i}": 0 for i in range(n)})
    new = Scenario({}, {f"p{i}": 1 for i in range(n)})
    drivers = tuple(Driver(f"d{i}", params=(f"p{i}",)) for i in range(n))
    with pytest.raises(UsageError, match="13 driver groups changed"):
        attribute(
            old=old,
            new=new,
            decide=toy_decide,
            drivers=drivers,
            keys={},
            subject=lambda _f: pl.col("sku"),
            metrics=["q"],
        )


def test_progress_reports_every_evaluation() -> None:
    seen: list[tuple[int, int]] = []
    run(progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (32, 32)
    assert len(seen) == 32


values = st.floats(0.0, 50.0, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(values, values, values, values, values, values), min_size=1, max_size=6),
    st.floats(0.0, 3.0),
    st.floats(0.0, 3.0),
)
def test_efficiency_property(rows: list[tuple[float, ...]], z_old: float, z_new: float) -> None:
    """For every subject |sum of contributions - delta| <= 1e-9 relative (issue 8)."""
    skus = [f"s{i}" for i in range(len(rows))]
    old_fc = forecast([(s, 1, 0.0, r[0], r[0] + r[1]) for s, r in zip(skus, rows, strict=True)])
    new_fc = forecast([(s, 1, 0.0, r[2], r[2] + r[3]) for s, r in zip(skus, rows, strict=True)])
    items_old = pl.DataFrame({"sku": skus, "lead_time_days": [r[4] + 1 for r in rows]})
    items_new = pl.DataFrame({"sku": skus, "lead_time_days": [r[5] + 1 for r in rows]})
    inv = pl.DataFrame({"sku": skus, "on_hand": [r[0] for r in rows]})
    old = Scenario({"forecast": old_fc, "items": items_old, "inventory": inv}, {"z": z_old})
    new = Scenario({"forecast": new_fc, "items": items_new, "inventory": inv}, {"z": z_new})
    t = run(old, new)
    if t.height == 0:  # identical runs: no driver changed, nothing to attribute
        assert toy_decide(old.inputs, old.params).equals(toy_decide(new.inputs, new.params))
        return
    sums = t.group_by("subject").agg(
        pl.col("contribution").sum(),
        pl.col("delta").first(),
        pl.max_horizontal(pl.col("before").abs(), pl.col("after").abs(), pl.lit(1.0))
        .first()
        .alias("scale"),
    )
    err = (sums["contribution"] - sums["delta"]).abs() / sums["scale"]
    assert err.max() <= 1e-9  # type: ignore[operator]


def test_partitioned_evaluation_matches_full() -> None:
    """Separable by sku: only groups that changed per sku are mixed; same attribution."""
    full = attribute(
        old=OLD,
        new=NEW,
        decide=toy_decide,
        drivers=DRIVERS,
        keys=KEYS,
        subject=lambda _f: pl.col("sku"),
        metrics=["q"],
        splits=SPLITS,
    )
    part = attribute(
        old=OLD,
        new=NEW,
        decide=toy_decide,
        drivers=DRIVERS,
        keys=KEYS,
        subject=lambda _f: pl.col("sku"),
        metrics=["q"],
        splits=SPLITS,
        separable="sku",
    )
    cols = ["subject", "metric", "driver"]
    a, b = full.table.sort(cols), part.table.sort(cols)
    assert a.select(cols).equals(b.select(cols))
    np.testing.assert_allclose(a["contribution"], b["contribution"], rtol=0, atol=1e-12)
    # a: level, spread, service changed -> 8 mixes; b: all but the spread -> 16.
    assert (full.evaluations, part.evaluations) == (32, 8 + 16)


def test_unit_masks_name_the_groups_changed_per_sku() -> None:
    from scot_cli.explain.mixing import align_inputs
    from scot_cli.explain.partition import unit_masks

    aligned = align_inputs(OLD, NEW, KEYS)
    groups = resolve_groups(DRIVERS, OLD, NEW, keys=KEYS, splits=SPLITS, aligned=aligned)
    found = unit_masks(OLD, NEW, groups, unit="sku", aligned=aligned, splits=SPLITS)
    masks = dict(found.iter_rows())
    names = [g.name for g in groups]
    bit = {n: 1 << i for i, n in enumerate(names)}
    assert masks["a"] == bit["forecast level"] | bit["forecast spread"] | bit["service"]
    # b's quantiles moved with its median: its spread did not change.
    assert masks["b"] == (1 << len(names)) - 1 - bit["forecast spread"]


@settings(max_examples=40, deadline=None)
@given(
    st.sets(st.sampled_from(["a", "b", "c", "d"]), min_size=1),
    st.sets(st.sampled_from(["a", "b", "c", "d"]), min_size=1),
    st.lists(values, min_size=4, max_size=4),
    st.lists(values, min_size=4, max_size=4),
)
def test_mixer_endpoints_reproduce_each_run(
    old_skus: set[str], new_skus: set[str], old_lt: list[float], new_lt: list[float]
) -> None:
    """Mix 0 is the old inputs and the full mix the new ones, rows added or dropped included."""

    def items(skus: set[str], lt: list[float]) -> pl.DataFrame:
        rows = sorted(skus)
        return pl.DataFrame(
            {
                "sku": rows,
                "lead_time_days": [lt["abcd".index(s)] for s in rows],
                "vendor": [f"v{s}" for s in rows],
            }
        )

    old = Scenario({"items": items(old_skus, old_lt)}, {"z": 1.0})
    new = Scenario({"items": items(new_skus, new_lt)}, {"z": 2.0})
    groups = resolve_groups(DRIVERS, old, new, keys=KEYS)
    mixer = Mixer(old, new, groups, keys=KEYS)
    first = mixer.scenario(0)
    last = mixer.scenario((1 << len(groups)) - 1)
    assert first.inputs["items"].sort("sku").equals(old.inputs["items"])
    assert last.inputs["items"].sort("sku").equals(new.inputs["items"])
    assert (first.params, last.params) == (old.params, new.params)


def test_partition_with_a_changed_role_without_the_unit_column() -> None:
    """A keyed role without a sku column (lanes) changes for every sku."""
    lanes_old = pl.DataFrame({"origin": ["V"], "destination": ["F"], "transit_days": [2.0]})
    lanes_new = lanes_old.with_columns(pl.col("transit_days") * 2)
    old = Scenario({**OLD.inputs, "lanes": lanes_old}, OLD.params)
    new = Scenario({**NEW.inputs, "lanes": lanes_new}, NEW.params)
    keys = {**KEYS, "lanes": ("origin", "destination")}
    drivers = (*DRIVERS, Driver("transit", ("lanes.transit_days",)))
    common = {
        "decide": toy_decide,
        "drivers": drivers,
        "keys": keys,
        "metrics": ["q"],
        "subject": lambda _f: pl.col("sku"),
        "splits": SPLITS,
    }
    full = attribute(old=old, new=new, **common)  # type: ignore[arg-type]
    part = attribute(old=old, new=new, separable="sku", **common)  # type: ignore[arg-type]
    cols = ["subject", "metric", "driver"]
    a, b = full.table.sort(cols), part.table.sort(cols)
    np.testing.assert_allclose(a["contribution"], b["contribution"], rtol=0, atol=1e-12)
    assert a.filter(pl.col("driver") == "transit")["contribution"].abs().max() == 0.0
