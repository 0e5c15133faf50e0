"""explain on place's LP: a forecast rise and a storage cut, attributed exactly."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from scot_cli.explain.compare import RunData, explain_runs


def _forecast(sales: pl.DataFrame) -> pl.DataFrame:
    last = sales["date"].max()
    assert isinstance(last, dt.date)
    days = pl.DataFrame({"h": list(range(1, 8))})
    return (
        sales.filter(pl.col("date") > last - dt.timedelta(days=28))
        .group_by("sku", "location")
        .agg(pl.col("units").mean().alias("mean"))
        .join(days, how="cross")
        .with_columns(
            (pl.lit(last) + pl.duration(days=pl.col("h"))).cast(pl.Date).alias("date"),
            (pl.col("mean") * 0.5).alias("p10"),
            (pl.col("mean") * 1.6).alias("p90"),
        )
        .drop("h")
    )


def test_place_change_adds_up(small_tables: dict[str, pl.DataFrame]) -> None:
    t = small_tables
    base = {
        "forecast": _forecast(t["sales"]),
        "items": t["items"],
        "inventory": t["inventory"],
        "nodes": t["nodes"],
        "lanes": t["lanes"],
    }
    more = base["forecast"].with_columns(pl.col("mean", "p10", "p90") * 1.5)
    fcs = pl.col("kind") == "fc"
    tight = t["nodes"].with_columns(
        pl.when(fcs).then(pl.col("storage_capacity") * 0.3).otherwise(pl.col("storage_capacity"))
    )
    expl = explain_runs(
        RunData("before", "place", {}, base),
        RunData("after", "place", {}, {**base, "forecast": more, "nodes": tight}),
        by="node",
    )
    assert [g.name for g in expl.groups] == ["forecast level", "forecast spread", "capacity"]
    assert expl.metrics == ("target_units",)
    t2 = expl.attribution
    sums = t2.group_by("subject").agg(pl.col("contribution").sum(), pl.col("delta").first())
    for row in sums.iter_rows(named=True):
        assert row["contribution"] == pytest.approx(row["delta"], abs=1e-9)
    fc_nodes = set(t["nodes"].filter(fcs)["node"])
    assert set(t2["subject"]) - {"(all)"} <= fc_nodes


def test_coverage_share_is_explained_as_a_rate(small_tables: dict[str, pl.DataFrame]) -> None:
    """Issue 15: place's coverage shares could not be explained (``share_after`` was
    refused); the network's share is the regions' shares weighted by expected demand."""
    from scot_cli.explain import explain
    from scot_cli.explain.engine import ALL
    from scot_cli.place import place

    t = small_tables
    base = {
        "forecast": _forecast(t["sales"]),
        "items": t["items"],
        "inventory": t["inventory"],
        "nodes": t["nodes"],
        "lanes": t["lanes"],
    }
    less = base["inventory"].with_columns(pl.col("on_hand") * 0.3)
    after = {**base, "inventory": less}
    result = explain(
        RunData("before", "place", {}, base),
        RunData("after", "place", {}, after),
        metrics=("share_after",),
    )
    assert result.explanation is not None and result.explanation.by == "node"  # the default
    table = result.attribution
    assert set(table["metric"]) == {"share_after"}
    total = table.filter(pl.col("subject") == ALL).row(0, named=True)
    coverage = place(**after).coverage  # type: ignore[arg-type]
    network = coverage.filter((pl.col("region") == "ALL") & (pl.col("days") == 1))
    assert total["after"] == pytest.approx(network["share_after"][0], abs=1e-9)
    assert 0 <= total["before"] <= 1 and 0 <= total["after"] <= 1
    sums = table.group_by("subject").agg(pl.col("contribution").sum(), pl.col("delta").first())
    for row in sums.iter_rows(named=True):
        assert row["contribution"] == pytest.approx(row["delta"], abs=1e-12)
    assert set(table["subject"]) - {ALL} <= set(coverage["region"])
