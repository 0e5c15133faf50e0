"""docs/python.md runs top to bottom: the notebook front end does what the page says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "python.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)


def test_the_page_has_code() -> None:
    assert len(_blocks()) >= 5


def test_python_page_runs_top_to_bottom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "python_md"}
    for i, block in enumerate(_blocks()):
        code = compile(block, f"{PAGE.name} block {i + 1}", "exec")
        exec(code, namespace)  # the page's own assertions check the results
    assert "why" in namespace


def test_api_exports_every_call_with_one_shape() -> None:
    import inspect

    from scot_cli import api

    calls = ["forecast", "evaluate_forecast", "plan_buy", "place", "promise", "route"]
    calls += ["last_mile", "simulate"]
    for name in calls:
        sig = inspect.signature(getattr(api, name))
        params = list(sig.parameters.values())
        # the main table positional, every other table and option by keyword
        assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, name
        kinds = {p.kind for p in params[1:]}
        assert kinds <= {inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD}, name
        assert "options" in sig.parameters, name
    for name in api.__all__:
        assert getattr(api, name) is not None


def test_a_decision_package_is_callable_however_it_was_imported() -> None:
    """``scot_cli.place`` is both the package and the call, even once a submodule of it
    was imported (which binds the package to the name)."""
    import importlib

    import scot_cli

    importlib.import_module("scot_cli.place.schema")
    importlib.import_module("scot_cli.forecast.registry")
    for name in ("forecast", "place", "promise", "route", "explain", "simulate"):
        package = getattr(scot_cli, name)
        assert callable(package), name
        assert getattr(package, name) is getattr(importlib.import_module("scot_cli.api"), name)
