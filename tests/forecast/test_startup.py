"""Start-up of ``scot forecast`` (issue 12's speed target): the command line registers only
the command it names, and options are read without Pydantic, with the values and errors of
the parser's own coercion."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import typer
from typer._click.exceptions import BadParameter  # noqa: PLC2701
from typer._coercion import build_runtime_param  # noqa: PLC2701
from typer.main import get_command

from scot_cli.commands import main


def test_command_names_match_registration() -> None:
    for module in main.COMMAND_MODULES:
        app = typer.Typer()
        app.callback()(lambda: None)
        __import__(f"scot_cli.commands.{module}", fromlist=["register"]).register(app)
        names = set(get_command(app).commands)  # type: ignore[attr-defined]
        assert names == {main.COMMAND_NAMES.get(module, module)}, module


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["forecast", "x.parquet"], ("forecast",)),
        (["-q", "--debug", "plan-buy"], ("plan_buy",)),
        (["inspect", "x"], ("inspect_cmd",)),
        (["demo"], main.COMMAND_MODULES),
        (["--help", "forecast"], main.COMMAND_MODULES),
        (["nosuch"], main.COMMAND_MODULES),
        ([], main.COMMAND_MODULES),
    ],
)
def test_named_modules(args: list[str], expected: tuple[str, ...]) -> None:
    assert main.named_modules(args) == expected


def _outcome(coercion: Any, value: object, param: Any) -> object:
    try:
        return ("value", coercion.coerce(value, param=param, ctx=None))
    except BadParameter as exc:
        return ("error", exc.format_message())


def test_plain_values_coerce_as_the_parser() -> None:
    command = get_command(main.app).commands["forecast"].commands["run"]  # type: ignore[attr-defined]
    values = [None, "8", "0", "08", " 8", "+8", "-1", "1_0", "8.0", "abc", "", 3, 0, -2, "x.pq"]
    checked = 0
    for param in command.params:
        plain = param._runtime_param
        if not isinstance(plain, main.PlainValue):
            continue
        full = build_runtime_param(param.type_descriptor)
        for value in values:
            assert _outcome(plain, value, param) == _outcome(full, value, param), (param, value)
            checked += 1
    assert checked >= 10 * len(values)


SCRIPT = """
import sys
from scot_cli.commands.main import main
sys.argv = ["scot", "-q", "forecast", sys.argv[1], "-H", "4", "--freq", "M", "-o", sys.argv[2]]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
names = [m for m in sys.modules if m.startswith(("pydantic", "scot_cli.commands."))]
print(sorted(names))
"""


def test_forecast_run_imports_only_its_command(tmp_path: Path) -> None:
    months = pl.date_range(pl.date(2020, 1, 1), pl.date(2022, 12, 1), "1mo", eager=True)
    sales = pl.DataFrame(
        {"sku": ["A"] * months.len(), "date": months, "units": [float(i % 5) for i in range(36)]}
    )
    sales.write_parquet(tmp_path / "sales.parquet")
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "sales.parquet"), str(tmp_path / "f.pq")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    assert out[0] == str(
        ["scot_cli.commands._common", "scot_cli.commands.forecast", "scot_cli.commands.main"]
    )
    assert pl.read_parquet(tmp_path / "f.pq").height == 4
