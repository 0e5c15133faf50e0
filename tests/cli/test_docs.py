"""Generated docs match the code: docs/conventions.md and each command page's synopsis."""

from __future__ import annotations

from pathlib import Path

import pytest

from scot_cli.commands import docgen
from scot_cli.commands._common import RENAMED  # noqa: PLC2701  # the commands' shared module

ROOT = Path(__file__).resolve().parents[2]
GENERATED = docgen.generated(ROOT)


@pytest.mark.parametrize("path", sorted(GENERATED), ids=lambda p: p.name)
def test_generated_docs_are_up_to_date(path: Path) -> None:
    """Run ``make docs`` when this fails."""
    assert path.read_text() == GENERATED[path]


def test_every_command_page_has_a_synopsis() -> None:
    pages = {p for p in GENERATED if p.parent.name == "commands"}
    assert {p.stem for p in pages} == {p.stem for p in (ROOT / "docs/commands").glob("*.md")}
    for page in pages:
        assert GENERATED[page].count(docgen.START) == 1


def test_markers_go_after_the_first_paragraph_and_regenerating_changes_nothing() -> None:
    page = "# scot place\n\nFirst paragraph,\ntwo lines.\n\nMore text.\n"
    once = docgen.with_synopsis(page, "place")
    assert once.startswith("# scot place\n\nFirst paragraph,\ntwo lines.\n\n" + docgen.START)
    assert once.endswith(docgen.END + "\n\nMore text.\n")
    assert "scot place FORECAST" in once
    assert docgen.with_synopsis(once, "place") == once


def test_synopsis_keeps_an_option_and_its_value_on_one_line() -> None:
    for path, command in docgen.commands():
        for line in docgen.synopsis(path, command).splitlines():
            assert len(line) <= docgen.WIDTH
            assert not line.rstrip().endswith(("[--", "--items", "--nodes"))
            assert line.count("[") == line.count("]"), line


def test_one_name_per_input_and_old_names_hidden() -> None:
    inputs = [row for row in docgen.input_rows() if not row[0].endswith("(argument)")]
    tables = [row[1] for row in inputs]
    assert len(tables) == len(set(tables))
    for row in inputs:
        assert row[0] == f"`--{row[1]}`"
    visible = {
        (path, opt) for path, command in docgen.commands() for p in command.params for opt in p.opts
    }
    for command, mapping in RENAMED.items():
        for old in mapping:
            assert (command.removesuffix(" run"), old) not in visible
