"""``scot explain``: why did a decision change between two runs, and how was one made?

The public call is :func:`explain` (:mod:`~scot_cli.explain.api`): two runs (output
paths or :class:`RunData` frames) or one decision, options :class:`ExplainOptions`,
result :class:`ExplainResult`. The engine (:mod:`~scot_cli.explain.engine`) evaluates
a command's decision on every mix of old and new driver groups and attributes each change exactly by
Shapley values; :mod:`~scot_cli.explain.drivers` holds the per-command driver
maps; :mod:`~scot_cli.explain.single` takes one decision apart in sentences.
Exports are resolved lazily so that the command's help stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "explain": "scot_cli.explain.api",
    "ExplainOptions": "scot_cli.explain.api",
    "ExplainResult": "scot_cli.explain.api",
    "ExplainSummary": "scot_cli.explain.api",
    "BY": "scot_cli.explain.drivers",
    "FORMATS": "scot_cli.explain.drivers",
    "attribute": "scot_cli.explain.engine",
    "Attribution": "scot_cli.explain.engine",
    "shapley": "scot_cli.explain.shapley",
    "Driver": "scot_cli.explain.drivers",
    "Split": "scot_cli.explain.drivers",
    "COMMANDS": "scot_cli.explain.drivers",
    "Scenario": "scot_cli.explain.mixing",
    "RunData": "scot_cli.explain.compare",
    "Explanation": "scot_cli.explain.compare",
    "explain_runs": "scot_cli.explain.compare",
    "check_comparable": "scot_cli.explain.compare",
    "quality_flags": "scot_cli.explain.flags",
    "build_report": "scot_cli.explain.report",
    "to_markdown": "scot_cli.explain.report",
    "to_json": "scot_cli.explain.report",
    "explain_decision": "scot_cli.explain.single",
}

__all__ = [
    "BY",
    "COMMANDS",
    "FORMATS",
    "Attribution",
    "Driver",
    "ExplainOptions",
    "ExplainResult",
    "ExplainSummary",
    "Explanation",
    "RunData",
    "Scenario",
    "Split",
    "attribute",
    "build_report",
    "check_comparable",
    "explain",
    "explain_decision",
    "explain_runs",
    "quality_flags",
    "shapley",
    "to_json",
    "to_markdown",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scot_cli.explain' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
