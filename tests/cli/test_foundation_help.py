"""Every command has help with an example and is documented in the README or docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from scot_cli.commands.main import app

REPO = Path(__file__).resolve().parents[2]
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_top_level_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_command_help_ends_with_an_example(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout
    assert f"scot {name}" in result.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_documented(name: str) -> None:
    docs = (REPO / "README.md").read_text() + "".join(
        p.read_text() for p in (REPO / "docs").rglob("*.md")
    )
    assert f"scot {name}" in docs


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("scot ")


def test_help_shows_optional_columns_in_brackets() -> None:
    """Help is plain text: markup would swallow ``[location]``."""
    result = CliRunner().invoke(app, ["forecast", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert "units [location]" in result.stdout


def test_unknown_option_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["promise", "x.parquet", "--nope"])
    assert result.exit_code == 2
    assert "No such option" in result.output
