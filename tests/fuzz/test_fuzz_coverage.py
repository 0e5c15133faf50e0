"""The fuzz strategies come from the table declarations, so every table is covered."""

from __future__ import annotations

import pytest
from fuzz.fuzzkit import Mutation, declared_tables, frame_mutation, specs
from hypothesis import given, settings
from hypothesis import strategies as st

from scot_cli import schema


def test_every_input_table_is_checked_and_read_by_a_command() -> None:
    by_spec = {s.name: s for s in specs()}
    for t in schema.INPUT_TABLES:
        assert f"check {t.name}" in by_spec
        readers = [
            s.name
            for s in by_spec.values()
            if s.family != "check" and any(declared_tables()[r] is t for r, _ in s.roles.values())
        ]
        assert readers, f"no command spec reads the {t.name} table"


def test_every_command_is_driven() -> None:
    import typer

    from scot_cli.commands.main import app

    names = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    driven = {s.argv[0] for s in specs()}
    assert names - driven == {"demo"}


@pytest.mark.parametrize("ref", sorted(declared_tables()))
def test_mutations_derive_from_each_declared_table(ref: str) -> None:
    t = declared_tables()[ref]
    names = {c.name for c in t.columns}

    @settings(max_examples=25, database=None, deadline=None)
    @given(frame_mutation(t), st.just(t))
    def check(m: Mutation, _t: object) -> None:
        if m.kind in {"value", "null", "dtype", "drop", "rename"}:
            assert m.column in names

    check()
