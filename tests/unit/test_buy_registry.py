"""The plan-buy registry: every name points at a real library function."""

from __future__ import annotations


def test_every_registered_model_is_a_library_function() -> None:
    import importlib

    from scot_cli.buy.registry import MODELS, POLICIES

    for target, _ in MODELS.values():
        module, name = target.split(":")
        assert callable(getattr(importlib.import_module(module), name))
    assert set(POLICIES) - {"auto"} <= set(MODELS)
