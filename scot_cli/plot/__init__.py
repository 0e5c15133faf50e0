"""Pictures of scot outputs: ``scot plot`` (one chart) and ``scot report`` (one HTML page).

:func:`plot` draws one kind of picture (:data:`KINDS`) from scot outputs, frames or files,
as PNG, SVG or self-contained HTML; :func:`report` makes one HTML page of a folder of
outputs. matplotlib is imported only when a picture is drawn, and the exports are resolved
lazily, so that ``scot --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "plot": "scot_cli.plot.api",
    "PlotResult": "scot_cli.plot.api",
    "PlotSummary": "scot_cli.plot.api",
    "PlotOptions": "scot_cli.plot.options",
    "KINDS": "scot_cli.plot.kinds",
    "FORMATS": "scot_cli.plot.render",
    "report": "scot_cli.plot.report",
    "ReportResult": "scot_cli.plot.report",
    "ReportSummary": "scot_cli.plot.report",
}

__all__ = [
    "FORMATS",
    "KINDS",
    "PlotOptions",
    "PlotResult",
    "PlotSummary",
    "ReportResult",
    "ReportSummary",
    "plot",
    "report",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scot_cli.plot' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
