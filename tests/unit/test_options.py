"""The shared options base, the choices registry and the command-line normaliser."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import typer

from scot_cli.options import OptionError, Options, at_least, choice, probability
from scot_cli.registry import Registry

KINDS = Registry("kind", {"a": "the first", "bb": "the second"})


@dataclass(frozen=True, kw_only=True)
class Demo(Options):
    kind: str = "a"
    level: float = 0.9
    days: int = 7
    as_of: dt.date | None = None
    quantiles: tuple[float, ...] = (0.1, 0.9)

    def check(self) -> None:
        KINDS.check(self.kind)
        probability("level", self.level)
        at_least("days", self.days, 1)


def test_options_check_themselves_and_name_the_field() -> None:
    with pytest.raises(OptionError) as err:
        Demo(level=1.5)
    assert err.value.field == "level"
    assert err.value.message == "level: must be strictly between 0 and 1, got 1.5"
    with pytest.raises(OptionError, match=r"kind: unknown value 'c' \(choose from a, bb\)"):
        Demo(kind="c")
    with pytest.raises(OptionError, match="days: must be >= 1, got 0"):
        Demo(days=0)
    with pytest.raises(TypeError):
        Demo("a")  # type: ignore[misc]  # keyword-only


def test_params_round_trip_through_json() -> None:
    import json

    o = Demo(kind="bb", as_of=dt.date(2026, 1, 2), quantiles=(0.2, 0.5), level=0.5)
    params = json.loads(json.dumps(o.params()))
    assert params["as_of"] == "2026-01-02"
    assert params["quantiles"] == [0.2, 0.5]
    assert Demo.from_params({**params, "unknown": 1}) == o
    assert Demo.from_params({}) == Demo()
    assert Demo.from_params({"days": 3}).replace(days=4).days == 4
    with pytest.raises(OptionError):
        Demo.from_params({"days": 0})


def test_registry_is_a_mapping_with_help() -> None:
    assert list(KINDS) == ["a", "bb"]
    assert KINDS.check("bb") == "the second"
    assert KINDS.synopsis() == "a|bb"
    assert KINDS.describe().splitlines() == ["a   the first", "bb  the second"]
    assert KINDS.one_line() == "a: the first; bb: the second."
    assert list(KINDS.subset(["bb"])) == ["bb"]
    with pytest.raises(OptionError) as err:
        KINDS.check("x", field="other")
    assert err.value.field == "other"
    choice("kind", "a", KINDS)


def test_global_flags_after_the_subcommand_and_renamed_options() -> None:
    from scot_cli.commands._common import RENAMED  # noqa: PLC2701  # the commands' shared module
    from scot_cli.commands.main import app, normalise_args

    group = typer.main.get_command(app)
    assert normalise_args(group, ["forecast", "s.parquet", "-q", "--horizon", "3"]) == [
        "-q",
        "forecast",
        "s.parquet",
        "--horizon",
        "3",
    ]
    # a flag after ``--`` or given as an option's value stays where it is
    assert normalise_args(group, ["sql", "--", "-q"]) == ["sql", "--", "-q"]
    RENAMED.setdefault("sql", {})["--old-name"] = "--output"
    try:
        assert normalise_args(group, ["sql", "x", "--old-name=o.parquet", "--debug"]) == [
            "--debug",
            "sql",
            "x",
            "--output=o.parquet",
        ]
    finally:
        del RENAMED["sql"]["--old-name"]
