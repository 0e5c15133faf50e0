"""Stock placement across fulfillment centers for delivery speed and cost (``scot place``).

Public API: :func:`place` (frames or paths in, a :class:`PlaceResult` out),
:class:`PlaceOptions`, :data:`SOLVERS`, and :func:`decide_from_inputs` (the same from
inputs by role and recorded parameters, for ``scot explain``). Exports resolve lazily so
that the command line (which reads the options and the solver registry) starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from scot_cli.place.options import PlaceOptions, parse_speed_target
from scot_cli.place.registry import SOLVERS

if TYPE_CHECKING:
    from scot_cli.place.api import (
        COST_PARTS,
        PlaceProblem,
        PlaceResult,
        PlaceSummary,
        TableInput,
        build_problem,
        check_servable,
        decide_from_inputs,
        place,
    )

__all__ = [
    "COST_PARTS",
    "SOLVERS",
    "PlaceOptions",
    "PlaceProblem",
    "PlaceResult",
    "PlaceSummary",
    "TableInput",
    "build_problem",
    "check_servable",
    "decide_from_inputs",
    "parse_speed_target",
    "place",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'scot_cli.place' has no attribute {name!r}")
    value = getattr(importlib.import_module("scot_cli.place.api"), name)
    globals()[name] = value
    return value
