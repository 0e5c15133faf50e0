"""Provenance read back from an output: its shape, and the recorded parameters explain re-runs.

An output's provenance is data like any input: a file copied by hand, edited by a script or
written by another version can carry a provenance explain cannot use. Every problem is an
:class:`InputDataError` naming the file and what to do, raised before any decision is re-run.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from scot_cli.errors import InputDataError, ScotError
from scot_cli.options import Options

T = TypeVar("T", bound=Options)

_REWRITE = "rerun the command that wrote it to rewrite its provenance"


def check_provenance(meta: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """``meta`` (as :func:`scot_cli.io.read_metadata` gives it) with its shape checked.

    Raises
    ------
    InputDataError
        When ``command`` is not a string, ``params`` not an object, or ``inputs`` not a list
        of objects with string ``role`` and ``path``.
    """
    command = meta.get("command")
    if command is not None and not isinstance(command, str):
        raise InputDataError(f"{source}: provenance 'command' is not a string; {_REWRITE}")
    params = meta.get("params", {})
    if not isinstance(params, dict):
        raise InputDataError(f"{source}: provenance 'params' is not an object; {_REWRITE}")
    inputs = meta.get("inputs", [])
    if not isinstance(inputs, list) or not all(_is_input(i) for i in inputs):
        raise InputDataError(
            f"{source}: provenance 'inputs' is not a list of {{role, path, sha256}}; {_REWRITE}"
        )
    return dict(meta)


def _is_input(item: object) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("role"), str)
        and isinstance(item.get("path"), str)
        and isinstance(item.get("sha256", ""), str | None)
    )


def check_params(command: str, params: Mapping[str, Any], *, source: str) -> None:
    """Check the parameters recorded in ``source`` as the command itself checks its options.

    Raises
    ------
    InputDataError
        Naming the file and the parameter, when explain could not re-run the decision.
    """
    check = _CHECKS.get(command)
    if check is None:
        return
    try:
        check(params)
    except ScotError as exc:
        raise InputDataError(
            f"{source}: recorded parameters are not valid ({exc.message}); {_REWRITE}"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise InputDataError(
            f"{source}: recorded parameters are not valid ({exc}); {_REWRITE}"
        ) from exc


def _typed(params: Mapping[str, Any], types: Mapping[str, Any]) -> None:
    """Each known parameter has its declared type where JSON keeps it: a bool for a flag, a
    finite number for a number (an int where a float is expected is fine), text for a
    string or a date (recorded as text); None where the type allows it. Other types (tuples,
    mappings) are left to the options' own checks.

    ``types``: parameter -> type, or a ``X | None`` union."""
    for name, hint in types.items():
        if name not in params:
            continue
        union = get_origin(hint) in (Union, UnionType)
        value, allowed = params[name], set(get_args(hint)) if union else {hint}
        if value is None and type(None) in allowed:
            continue
        if bool in allowed:
            ok = isinstance(value, bool)
        elif int in allowed or float in allowed:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and (float in allowed or isinstance(value, int)) and math.isfinite(value)
        elif allowed - {type(None)} <= {str, dt.date}:
            ok = isinstance(value, str)
        else:
            continue
        if not ok:
            wanted = " or ".join(sorted(t.__name__ for t in allowed if t is not type(None)))
            raise ValueError(f"{name}={value!r}: expected {wanted}")


def _within_dates(name: str, day: dt.date) -> None:
    """A recorded date leaves a year of room inside the dates every table accepts."""
    from scot_cli.validate import DATE_MAX, DATE_MIN

    latest = DATE_MAX.replace(year=DATE_MAX.year - 1)
    if not DATE_MIN <= day <= latest:
        raise ValueError(f"{name}={day}: outside {DATE_MIN} .. {latest}")


def _rebuild(cls: type[T], params: Mapping[str, Any]) -> T:
    """The options of a recorded run, rebuilt (and so checked) as the command builds them."""
    _typed(params, get_type_hints(cls))
    return cls.from_params(params)


def _buy(params: Mapping[str, Any]) -> None:
    from scot_cli.buy import BuyOptions

    options = _rebuild(BuyOptions, params)
    if options.as_of is not None:
        _within_dates("as_of", options.as_of)


def _place(params: Mapping[str, Any]) -> None:
    from scot_cli.place import PlaceOptions

    speed = params.get("speed_target")
    if speed is not None and not isinstance(speed, str | list):
        raise ValueError(f"speed_target={speed!r}: expected DAYS:SHARE such as 1:0.8")
    _rebuild(PlaceOptions, params)


def _promise(params: Mapping[str, Any]) -> None:
    from scot_cli.promise.options import PromiseOptions

    _rebuild(PromiseOptions, params)


def _route(params: Mapping[str, Any]) -> None:
    from scot_cli.route.assign import RouteOptions

    _rebuild(RouteOptions, params)


def _simulate(params: Mapping[str, Any]) -> None:
    from scot_cli.simulate.options import SimulateOptions

    _rebuild(SimulateOptions, params)


#: Command (as recorded) -> check of its recorded parameters.
_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {
    "plan-buy": _buy,
    "place": _place,
    "promise": _promise,
    "route": _route,
    "simulate": _simulate,
}
