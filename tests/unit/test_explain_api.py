"""The notebook call shape of ``scot explain``: options by field, runs of frames, a typed
result."""

from __future__ import annotations

import polars as pl
import pytest

from scot_cli.explain import ExplainOptions, ExplainResult, RunData, explain
from scot_cli.options import OptionError


def _promise_inputs(t: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return {r: t[r] for r in ("orders", "inventory", "nodes", "lanes")}


def test_options_check_by_field() -> None:
    with pytest.raises(OptionError) as err:
        ExplainOptions(by="region")
    assert err.value.field == "by"
    assert err.value.reason == "unknown value 'region' (choose from sku, category, node, order)"
    with pytest.raises(OptionError) as top:
        ExplainOptions(top=0)
    assert top.value.field == "top"
    opt = ExplainOptions(by="node", metrics=("qty",), after_inputs={"items": "old.parquet"})
    assert ExplainOptions.from_params(opt.params()) == opt


def test_explain_two_runs_of_frames(small_tables: dict[str, pl.DataFrame]) -> None:
    """Half the stock gone: the on-time probability moves, and only 'on hand' moves it."""
    base = _promise_inputs(small_tables)
    less = base["inventory"].with_columns(pl.col("on_hand") * 0.5)
    result = explain(
        RunData("before", "promise", {}, base),
        RunData("after", "promise", {}, {**base, "inventory": less}),
        by="node",
        metrics=("on_time_prob",),
    )
    assert isinstance(result, ExplainResult)
    assert result.report is not None and result.explanation is not None
    t = result.attribution
    assert set(t["driver"]) == {"on hand"}
    sums = t.group_by("subject").agg(pl.col("contribution").sum(), pl.col("delta").first())
    for row in sums.iter_rows(named=True):
        assert row["contribution"] == pytest.approx(row["delta"], abs=1e-9)
    assert result.summary.title.startswith("scot explain: promise, by node")
    assert "on_time_prob (all nodes)" in result.summary.sentences[0]
    assert result.sources == ()


def test_one_decision_of_frames(small_tables: dict[str, pl.DataFrame]) -> None:
    output = pl.DataFrame({"order_id": ["O1"], "line": [1], "sku": ["A"], "status": ["promised"]})
    run = RunData("run", "promise", {"mode": "snapshot"}, {}, output)
    result = explain(run, order="O1")
    assert result.attribution.height == 0
    assert "Status promised." in result.summary.sentences
    assert "Parameters: mode=snapshot." in result.summary.sentences


def test_one_decision_options_refused_when_comparing(
    small_tables: dict[str, pl.DataFrame],
) -> None:
    run = RunData("a", "promise", {}, _promise_inputs(small_tables))
    with pytest.raises(OptionError) as err:
        explain(run, run, sku="SKU-00001")
    assert err.value.field == "sku"


def test_one_decision_never_prints_none() -> None:
    output = pl.DataFrame({"sku": ["A"], "node": ["ALL"], "qty": [3.0]})
    run = RunData("run", "plan-buy", {"budget": None, "review_days": 7.0}, {}, output)
    sentences = explain(run, sku="A").summary.sentences
    assert "Parameters: review_days=7.0." in sentences
    assert not any("None" in s for s in sentences)
