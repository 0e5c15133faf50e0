"""``scot simulate``: step a network day by day under scot's decisions or a baseline.

Exports load lazily so that importing the registries (for ``--help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .options import POLICIES, WHAT_IFS, PolicySpec, SimulateOptions

if TYPE_CHECKING:
    from .api import SimulateResult, SimulateSummary, simulate

__all__ = [
    "POLICIES",
    "WHAT_IFS",
    "PolicySpec",
    "SimulateOptions",
    "SimulateResult",
    "SimulateSummary",
    "simulate",
]


def __getattr__(name: str) -> Any:
    if name in ("SimulateResult", "SimulateSummary", "simulate"):
        from . import api

        return getattr(api, name)
    raise AttributeError(name)
