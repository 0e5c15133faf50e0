"""The options of one placement: policy knobs of the LP, checked by field.

Plain data (no numpy, no polars) so ``scot place --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Self

from scot_cli.options import OptionError, Options, at_least, between, positive, require
from scot_cli.place.registry import SOLVERS

__all__ = ["DEFAULT_LEVELS", "MAX_PERIOD_DAYS", "PlaceOptions", "parse_speed_target"]

#: Quantile levels of the expected-sales breakpoints (the last one caps the useful
#: allocation; :mod:`scot_cli.place.segments`).
DEFAULT_LEVELS = (0.1, 0.5, 0.9, 0.99)
#: Longest planning period (ten years of days, the longest forecast horizon).
MAX_PERIOD_DAYS = 3_660

#: Names a recorded run may carry from before the options were renamed: old -> new.
_RENAMED_PARAMS = {"late_penalty": "late_cost"}


def parse_speed_target(text: str | None) -> tuple[int, float] | None:
    """Parse ``DAYS:SHARE`` (e.g. ``1:0.8`` or ``2:80%``) into (days, share in [0, 1]).

    >>> parse_speed_target("1:0.8")
    (1, 0.8)
    >>> parse_speed_target("2:90%")
    (2, 0.9)
    """
    if text is None or text == "":
        return None
    try:
        days_text, share_text = text.split(":")
        days = int(days_text)
        share = float(share_text.rstrip("%")) / (100 if share_text.endswith("%") else 1)
    except ValueError as exc:
        raise OptionError(
            "speed_target", f"expected DAYS:SHARE such as 1:0.8, got {text!r}"
        ) from exc
    _check_speed(days, share)
    return days, share


def _check_speed(days: int, share: float) -> None:
    require(
        days >= 1 and 0 <= share <= 1,
        "speed_target",
        f"days must be >= 1 and share in [0, 1], got {days}:{share:g}",
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlaceOptions(Options):
    """Options of :func:`scot_cli.place.place`.

    Attributes
    ----------
    period_days
        Planning period: the first ``period_days`` days of the forecast.
    speed_target
        ``(days, share)``: at least ``share`` of each region's expected demand allocated
        from FCs within ``days`` delivery days (soft: missed units cost ``speed_penalty``).
        A string ``"DAYS:SHARE"`` (``"1:0.8"``, ``"2:80%"``) is parsed; None: no target.
    fair_share
        Receive scarce skus' arriving buys by equal days of cover, without transfers.
    solver
        A name of :data:`scot_cli.place.registry.SOLVERS`.
    transfer_cost
        Cost per unit moved between FCs.
    late_cost
        Cost per unit per day allocated slower than the speed target.
    speed_penalty
        Cost per unit the speed target is missed by (its penalised slack).
    overflow_penalty
        Cost per unit of storage volume or throughput above capacity (penalised slack).
    batch_size
        0 for one LP over all skus; otherwise skus per batch of the batched solve
        (:mod:`scot_cli.place.decompose`) when there are more skus than that.
    levels
        Quantile levels of the expected-sales breakpoints.
    """

    period_days: int = 7
    speed_target: tuple[int, float] | None = None
    fair_share: bool = False
    solver: str = "highs"
    transfer_cost: float = 0.5
    late_cost: float = 0.1
    speed_penalty: float = 5.0
    overflow_penalty: float = 1000.0
    batch_size: int = 0
    levels: tuple[float, ...] = DEFAULT_LEVELS

    def __post_init__(self) -> None:
        speed: Any = self.speed_target
        if isinstance(speed, str):
            object.__setattr__(self, "speed_target", parse_speed_target(speed))
        elif isinstance(speed, list):
            object.__setattr__(self, "speed_target", tuple(speed))
        super().__post_init__()

    def check(self) -> None:
        between("period_days", self.period_days, 1, MAX_PERIOD_DAYS)
        if self.speed_target is not None:
            require(
                len(self.speed_target) == 2,
                "speed_target",
                f"expected (days, share), got {self.speed_target!r}",
            )
            _check_speed(*self.speed_target)
        SOLVERS.check(self.solver)
        for name in ("transfer_cost", "late_cost", "speed_penalty"):
            at_least(name, getattr(self, name), 0)
        positive("overflow_penalty", self.overflow_penalty)
        at_least("batch_size", self.batch_size, 0)
        require(
            len(self.levels) > 0 and all(0 < q < 1 for q in self.levels),
            "levels",
            f"expected quantile levels in (0, 1), got {list(self.levels)}",
        )

    @property
    def speed_days(self) -> int | None:
        """Delivery days of the speed target (None: no target)."""
        return self.speed_target[0] if self.speed_target else None

    @property
    def speed_share(self) -> float:
        """Share of each region's demand the speed target asks for (0: no target)."""
        return self.speed_target[1] if self.speed_target else 0.0

    def params(self) -> dict[str, Any]:
        """As :meth:`Options.params`, the speed target written as the command takes it
        (``"2:0.8"``)."""
        out = super().params()
        if self.speed_target is not None:
            days, share = self.speed_target
            out["speed_target"] = f"{days}:{share!r}"
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Self:
        """Rebuild the options of a recorded run (also one recorded before the options
        object: ``late_penalty`` and a ``"DAYS:SHARE"`` speed target)."""
        p = dict(params)
        for old, new in _RENAMED_PARAMS.items():
            if old in p:
                p.setdefault(new, p.pop(old))
        return super().from_params(p)
