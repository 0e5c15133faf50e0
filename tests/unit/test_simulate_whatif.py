"""What-if changes to a simulation's inputs."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest

from scot_cli.options import OptionError
from scot_cli.simulate.whatif import Scenario, apply

ITEMS = pl.DataFrame(
    {
        "sku": ["A", "B", "C"],
        "category": ["toys", "books", "toys"],
        "lead_time_days": [4.0, 10.0, 6.0],
        "lead_time_sd": [1.0, 2.0, 0.0],
    }
)
NODES = pl.DataFrame(
    {
        "node": ["F1", "F2", "R1"],
        "kind": ["fc", "fc", "region"],
        "storage_capacity": [10.0, 20.0, None],
    }
)
LANES = pl.DataFrame({"origin": ["F1", "F2"], "destination": ["R1", "R1"]})
BASE = Scenario(name="base", items=ITEMS, nodes=NODES, lanes=LANES)
KW = {"skus": ["A", "B", "C"], "fcs": ["F1", "F2"]}


def test_lead_time_scales_mean_and_spread() -> None:
    s, warnings = apply(BASE, "lead-time=x1.5", **KW)  # type: ignore[arg-type]
    assert s.items["lead_time_days"].to_list() == [6.0, 15.0, 9.0]
    assert s.items["lead_time_sd"].to_list() == [1.5, 3.0, 0.0]
    assert s.name == "lead-time=x1.5" and not warnings


def test_demand_change_for_one_category() -> None:
    s, _ = apply(BASE, "demand=+20%:category=toys", **KW)  # type: ignore[arg-type]
    assert s.demand_factor is not None
    assert np.allclose(s.demand_factor, [1.2, 1.0, 1.2])


def test_close_drops_the_fc_and_its_lanes() -> None:
    s, warnings = apply(BASE, "close=F1", **KW)  # type: ignore[arg-type]
    assert s.closed == ("F1",)
    assert "F1" not in s.nodes["node"].to_list()
    assert s.lanes["origin"].to_list() == ["F2"]
    assert not warnings
    _, warnings = apply(s, "close=F2", **KW)  # type: ignore[arg-type]
    assert warnings == ["close=F2: no FC is left open; every sale is lost"]


def test_storage_and_speed_target() -> None:
    s, _ = apply(BASE, "storage=x0.5", **KW)  # type: ignore[arg-type]
    assert s.nodes["storage_capacity"].to_list()[:2] == [5.0, 10.0]
    s, _ = apply(BASE, "speed-target=1:0.8", **KW)  # type: ignore[arg-type]
    assert s.place == {"speed_target": "1:0.8"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("demand=lots", "demand: expected +P% or -P%"),
        ("demand=-100%", "above -100%"),
        ("demand=+5%:brand=x", "the filter is category=C or sku=S"),
        ("demand=+5%:category=food", "no sku has category=food (known: books, toys)"),
        ("storage=0.8", "storage: expected xF"),
        ("speed-target=fast", "expected DAYS:SHARE"),
        ("weather=rain", "choose from speed-target, lead-time, demand, close, storage"),
    ],
)
def test_bad_values_name_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(OptionError, match=re.escape(message)):
        apply(BASE, text, **KW)  # type: ignore[arg-type]
