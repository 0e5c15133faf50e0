"""PromiseOptions checks itself by field and round-trips through the recorded params;
``promise`` takes frames or paths, validated on entry as the command validates its files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from scot_cli.errors import InputDataError
from scot_cli.options import OptionError
from scot_cli.promise import (
    MODES,
    SPLITS,
    PromiseOptions,
    PromiseResult,
    PromiseSummary,
    decide_from_inputs,
    promise,
)

ROLES = ("inventory", "nodes", "lanes", "calendar")


def _frames(fixture_dir: Path) -> dict[str, Any]:
    return {r: pl.read_parquet(fixture_dir / f"{r}.parquet") for r in ROLES}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"confidence": 1.0}, "confidence"),
        ({"confidence": 0.0}, "confidence"),
        ({"confidence": float("nan")}, "confidence"),
        ({"mode": "batch"}, "mode"),
        ({"split": "never"}, "split"),
    ],
)
def test_an_option_outside_its_domain_names_its_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(OptionError) as info:
        PromiseOptions(**changes)  # type: ignore[arg-type]
    assert info.value.field == field
    assert "--" not in str(info.value)


def test_the_registries_name_their_fields() -> None:
    assert (MODES.field, list(MODES)) == ("mode", ["snapshot", "commit"])
    assert (SPLITS.field, list(SPLITS)) == ("split", ["allow", "avoid"])


@pytest.mark.parametrize(
    "options",
    [PromiseOptions(), PromiseOptions(confidence=0.8, mode="commit", split="avoid")],
)
def test_params_round_trip_through_json(options: PromiseOptions) -> None:
    params = json.loads(json.dumps(options.params()))
    assert params == {
        "confidence": options.confidence,
        "mode": options.mode,
        "split": options.split,
    }
    assert PromiseOptions.from_params(params) == options


def test_frames_and_paths_give_the_same_promises(fixture_dir: Path, tmp_path: Path) -> None:
    frames = _frames(fixture_dir)
    orders = pl.read_parquet(fixture_dir / "orders.parquet").head(300)
    from_frames = promise(orders, **frames, mode="commit")
    orders_path = tmp_path / "orders.parquet"
    orders.write_parquet(orders_path)
    paths = {r: fixture_dir / f"{r}.parquet" for r in ROLES}
    from_paths = promise(
        orders_path,
        inventory=paths["inventory"],
        nodes=str(paths["nodes"]),
        lanes=paths["lanes"],
        calendar=paths["calendar"],
        options=PromiseOptions(mode="commit"),
    )
    assert isinstance(from_frames, PromiseResult)
    assert from_frames.sources == ()
    assert [s.role for s in from_paths.sources] == [
        "orders",
        "inventory",
        "nodes",
        "lanes",
        "calendar",
    ]
    assert from_paths.options == from_frames.options == PromiseOptions(mode="commit")
    assert from_paths.promises.equals(from_frames.promises)
    assert from_frames.promises.schema["status"] == pl.String
    assert from_frames.table.schema["status"] != pl.String


def test_summary_counts_lines_by_status(fixture_dir: Path) -> None:
    frames = _frames(fixture_dir)
    orders = pl.read_parquet(fixture_dir / "orders.parquet").head(200)
    result = promise(orders, **frames)
    counts = dict(result.promises["status"].value_counts().iter_rows())
    assert result.summary.lines == orders.height
    assert {k: v for k, v in result.summary.by_status.items() if v} == counts
    assert str(result.summary).startswith(
        f"promised {orders.height:,} lines (snapshot, split allow): "
    )
    empty = PromiseSummary(0, "commit", "avoid", 0.95, {"promised": 0})
    assert str(empty) == "promised 0 lines (commit, split avoid)"


def test_a_frame_is_validated_on_entry(fixture_dir: Path) -> None:
    frames = _frames(fixture_dir)
    orders = pl.read_parquet(fixture_dir / "orders.parquet").head(5)
    with pytest.raises(InputDataError, match=r"^orders: missing required column 'destination'"):
        promise(orders.drop("destination"), **frames)
    unknown = orders.with_columns(pl.lit("R-NOWHERE").alias("destination"))
    with pytest.raises(InputDataError, match=r"^orders: node 'R-NOWHERE' in column destination"):
        promise(unknown, **frames)


def test_decide_from_inputs_repeats_the_call(fixture_dir: Path) -> None:
    frames = _frames(fixture_dir)
    orders = pl.read_parquet(fixture_dir / "orders.parquet").head(100)
    params = PromiseOptions(confidence=0.9, split="avoid").params()
    again = decide_from_inputs({"orders": orders, **frames}, params)
    assert again.equals(promise(orders, **frames, confidence=0.9, split="avoid").promises)
