"""Delivery promises: the earliest date per order line that is met with a stated probability.

``promise`` is the library call behind ``scot promise``; ``decide_from_inputs`` recomputes it
from inputs by role and recorded parameters (for ``scot explain``). Imports are lazy so the
command's help (which reads :mod:`.registry`) does not load polars.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .registry import MODES, SPLITS

if TYPE_CHECKING:
    import polars as pl

__all__ = ["MODES", "SPLITS", "decide_for_output", "decide_from_inputs", "promise"]


def decide_from_inputs(
    inputs: Mapping[str, pl.DataFrame],
    params: Mapping[str, Any],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> pl.DataFrame:
    """Recompute the promises table from inputs by role and the recorded parameters.

    Roles: ``orders``, ``inventory``, ``nodes``, ``lanes`` (required), ``calendar`` and
    ``receipts`` (optional). Parameters: ``confidence``, ``mode``, ``split`` (defaults as the
    command's).
    """
    import polars as pl

    table, _ = decide_for_output(inputs, params, progress=progress)
    return table.with_columns(pl.col(pl.Enum).cast(pl.String))


def decide_for_output(
    inputs: Mapping[str, pl.DataFrame],
    params: Mapping[str, Any],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pl.DataFrame, bool]:
    """:func:`decide_from_inputs` for ``scot promise``: the table as
    :func:`scot_cli.promise.core.promise_table` gives it (Enum columns, sequence order) and
    whether it is in key order."""
    from .core import promise_table

    return promise_table(
        inputs["orders"],
        inventory=inputs["inventory"],
        nodes=inputs["nodes"],
        lanes=inputs["lanes"],
        calendar=inputs.get("calendar"),
        receipts=inputs.get("receipts"),
        confidence=float(params.get("confidence", 0.95)),
        mode=str(params.get("mode", "snapshot")),
        split=str(params.get("split", "allow")),
        progress=progress,
    )


def __getattr__(name: str) -> Any:
    if name == "promise":
        from .core import promise

        return promise
    raise AttributeError(f"module 'scot_cli.promise' has no attribute {name!r}")
