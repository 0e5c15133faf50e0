"""Delivery promises: the earliest date per order line that is met with a stated probability.

Public API: :func:`promise` (tables or paths in, a :class:`PromiseResult` out),
:class:`PromiseOptions`, the registries :data:`MODES` and :data:`SPLITS`, and
:func:`decide_from_inputs` (the same from inputs by role and recorded parameters, for
``scot explain``). Exports resolve lazily so the command's help (which reads the options and
the registries) does not load polars.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from scot_cli.promise.options import PromiseOptions
from scot_cli.promise.registry import MODES, SPLITS

if TYPE_CHECKING:
    from scot_cli.promise.api import (
        PromiseResult,
        PromiseSummary,
        TableInput,
        decide_from_inputs,
        promise,
    )

__all__ = [
    "MODES",
    "SPLITS",
    "PromiseOptions",
    "PromiseResult",
    "PromiseSummary",
    "TableInput",
    "decide_from_inputs",
    "promise",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'scot_cli.promise' has no attribute {name!r}")
    value = getattr(importlib.import_module("scot_cli.promise.api"), name)
    globals()[name] = value
    return value
