"""What every decision's options object shares: self-validation, provenance, re-runs.

Each decision has one frozen, keyword-only dataclass of options (``ForecastOptions``,
``BuyOptions``, ...) derived from :class:`Options`. It checks itself when built and raises
:class:`OptionError` naming the *field*; the command layer maps the field to its flag
(``horizon`` -> ``--horizon``), so the library never names a flag::

    @dataclass(frozen=True, kw_only=True)
    class PlaceOptions(Options):
        period_days: int = 7

        def check(self) -> None:
            at_least("period_days", self.period_days, 1)

``options.params()`` is what a run records in its provenance (JSON-friendly), and
``PlaceOptions.from_params(params)`` rebuilds the options of a recorded run.

Plain data: importing this module costs nothing, so ``scot --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, Self

from scot_cli.errors import UsageError

__all__ = [
    "OptionError",
    "Options",
    "at_least",
    "between",
    "choice",
    "positive",
    "probability",
    "require",
]


class OptionError(UsageError):
    """An option value outside its domain (exit 2).

    ``field`` is the options field (``"horizon"``); ``reason`` says what is wrong. The
    message reads ``"horizon: must be >= 1, got 0"``; a command reports it under its flag
    (``"--horizon: must be >= 1, got 0"``).
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def require(ok: bool, field: str, reason: str) -> None:
    """Raise :class:`OptionError` for ``field`` unless ``ok``."""
    if not ok:
        raise OptionError(field, reason)


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def choice(field: str, value: str, names: Mapping[str, Any] | typing.Iterable[str]) -> None:
    """``value`` is one of ``names`` (a registry, a dict or a sequence of names)."""
    known = list(names)
    if value not in known:
        raise OptionError(field, f"unknown value {value!r} (choose from {', '.join(known)})")


def at_least(field: str, value: float | None, low: float) -> None:
    """``value`` (when given) is a finite number ``>= low``."""
    if value is not None and not (math.isfinite(value) and value >= low):
        raise OptionError(field, f"must be >= {_num(low)}, got {_num(value)}")


def positive(field: str, value: float | None) -> None:
    """``value`` (when given) is a finite number ``> 0``."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise OptionError(field, f"must be positive, got {_num(value)}")


def probability(field: str, value: float | None) -> None:
    """``value`` (when given) lies strictly between 0 and 1."""
    if value is not None and not 0 < value < 1:
        raise OptionError(field, f"must be strictly between 0 and 1, got {_num(value)}")


def between(field: str, value: float | None, low: float, high: float) -> None:
    """``value`` (when given) lies in the closed interval ``[low, high]``."""
    if value is not None and not (math.isfinite(value) and low <= value <= high):
        raise OptionError(field, f"must be from {_num(low)} to {_num(high)}, got {_num(value)}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    """Base of every decision's options: validated on construction, recorded as params.

    Subclasses are ``@dataclass(frozen=True, kw_only=True)`` and override :meth:`check`.
    """

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise :class:`OptionError` for a field outside its domain (override)."""

    def params(self) -> dict[str, Any]:
        """JSON-friendly parameters for the run's provenance (dates as ISO strings, tuples
        as lists, enums as their values)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Self:
        """Rebuild options from recorded parameters (keys that are not fields, from an
        older or newer run, are ignored; missing ones take their defaults)."""
        hints = typing.get_type_hints(cls)
        kw = {
            f.name: _typed(params[f.name], hints.get(f.name))
            for f in dataclasses.fields(cls)
            if f.name in params and f.init
        }
        return cls(**kw)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (and checked)."""
        return dataclasses.replace(self, **changes)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def _typed(value: Any, hint: Any) -> Any:
    """``value`` as read back from JSON, converted to the field's type where JSON lost it."""
    if value is None or hint is None:
        return value
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            if arg is type(None):
                continue
            converted = _typed(value, arg)
            if converted is not value or isinstance(value, arg if isinstance(arg, type) else ()):
                return converted
        return value
    if origin is tuple and isinstance(value, list):
        args = typing.get_args(hint)
        inner = args[0] if args else None
        return tuple(_typed(v, inner) for v in value)
    if hint is dt.date and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if hint is dt.datetime and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum) and not isinstance(value, hint):
        return hint(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
