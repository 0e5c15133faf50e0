"""The options of one promise run, checked by field.

Plain data (no numpy, no polars) so ``scot promise --help`` stays fast.
"""

from __future__ import annotations

import dataclasses

from scot_cli.options import Options, probability
from scot_cli.promise.registry import MODES, SPLITS

__all__ = ["PromiseOptions"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class PromiseOptions(Options):
    """Options of :func:`scot_cli.promise.promise`.

    Attributes
    ----------
    confidence
        Probability ``c`` in (0, 1) with which every promised date must be met.
    mode
        A name of :data:`scot_cli.promise.registry.MODES`: ``snapshot`` (every line against
        the same stock) or ``commit`` (lines in order-time sequence consume stock and FC
        capacity).
    split
        A name of :data:`scot_cli.promise.registry.SPLITS`: ``allow`` (each line from its
        best FC) or ``avoid`` (one box from one FC when any FC holds every line).
    """

    confidence: float = 0.95
    mode: str = "snapshot"
    split: str = "allow"

    def check(self) -> None:
        probability("confidence", self.confidence)
        MODES.check(self.mode)
        SPLITS.check(self.split)
