"""Fast fuzz profile (default suite): every command unchanged, then a few dozen drawn cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz.fuzzkit import Base, Case, build_base, draw_cases, failure_text, run_cases, specs


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return build_base(tmp_path_factory.mktemp("fuzz-base"))


def test_every_command_passes_unchanged_inputs(base: Base, tmp_path: Path) -> None:
    families = {s.family: s for s in specs()}
    outcomes = run_cases(
        [Case(s.name) for s in families.values()], base, tmp_path, timeout=120, jobs=2
    )
    assert {o.case.spec for o in outcomes} == {s.name for s in families.values()}
    assert [failure_text(o) for o in outcomes if o.code != 0] == []
    assert [failure_text(o) for o in outcomes if o.failures] == []


def test_fuzz_fast_profile(base: Base, tmp_path: Path) -> None:
    cases = draw_cases(24, seed=20261202)
    assert len({c.spec for c in cases}) >= 8
    outcomes = run_cases(cases, base, tmp_path, timeout=120, jobs=2)
    assert len(outcomes) == 24
    assert [failure_text(o) for o in outcomes if o.failures] == []
