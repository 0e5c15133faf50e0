"""docs/schemas.md is generated from the declarations and must not drift."""

from __future__ import annotations

from pathlib import Path

from scot_cli.schema import all_tables, render_markdown

REPO = Path(__file__).resolve().parents[2]


def test_schemas_doc_is_up_to_date() -> None:
    doc = (REPO / "docs" / "schemas.md").read_text()
    assert doc == render_markdown(), "docs/schemas.md is stale: run `make schemas`"


def test_table_names_are_unique() -> None:
    names = [t.name for t in all_tables()]
    assert len(names) == len(set(names))


def test_every_key_is_a_declared_column() -> None:
    for t in all_tables():
        declared = {c.name for c in t.columns}
        assert set(t.keys) <= declared, t.name
