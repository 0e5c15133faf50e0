"""Every public name of scot_cli resolves (the notebook API)."""

from __future__ import annotations

import pytest

import scot_cli


@pytest.mark.parametrize("name", sorted(scot_cli.__all__))
def test_export_resolves(name: str) -> None:
    assert getattr(scot_cli, name) is not None
