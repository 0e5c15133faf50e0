"""What every engine shares: the engine protocol, failed partitions, retries."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import polars as pl

from scot_cli.errors import InputDataError

#: Engine names for the help and the docs.
ENGINES = "local|dask|dask:N|tcp://ADDRESS"
#: Retries of a task that failed for another reason than its data (a lost worker, a network
#: read that timed out).
RETRIES = 2


class PartitionError(InputDataError):
    """A partition failed on its data: the message names the partition and its skus."""


@dataclass(frozen=True)
class Failed:
    """What a task returns when its partition's data is bad (so the engine does not retry)."""

    index: int
    skus: str
    message: str

    def error(self) -> PartitionError:
        return PartitionError(f"partition {self.index + 1} ({self.skus}): {self.message}")


def describe_skus(skus: pl.Series) -> str:
    """``3 skus A..C`` for an error message."""
    n = skus.len()
    if n == 0:
        return "no skus"
    first, last = str(skus.min()), str(skus.max())
    return f"{n:,} sku{'s' if n != 1 else ''} {first}" + (f"..{last}" if n > 1 else "")


def call_partition(fn: Callable[..., Any], index: int, label: str, *args: Any) -> Any:
    """Run ``fn(*args)`` for partition ``index``: bad data becomes a :class:`Failed` value
    (not retried; reported with ``label``, the partition's skus), and a :class:`Failed`
    argument (an earlier step of the same partition) passes through."""
    for a in args:
        if isinstance(a, Failed):
            return a
    try:
        return fn(*args)
    except InputDataError as exc:
        return Failed(index, label, str(exc))


class Engine(Protocol):
    """Maps functions over partitions; see the module docstring."""

    name: str

    @property
    def workers(self) -> int:
        """Worker processes (1 for the local engine)."""
        ...

    def map(
        self, fn: Callable[..., Any], items: Sequence[Any], *shared: Any, labels: Sequence[str]
    ) -> list[Any]:
        """Handles of ``fn(item, *shared)`` per item (an item may be a handle)."""
        ...

    def submit(self, fn: Callable[..., Any], *args: Any, label: str = "") -> Any:
        """A handle of ``fn(*args)``."""
        ...

    def share(self, value: Any) -> Any:
        """``value`` sent once to every worker (a handle usable as a shared argument)."""
        ...

    def results(self, handles: Sequence[Any]) -> Iterator[Any]:
        """Each handle's value in order, released once yielded; a failed partition raises
        :class:`PartitionError`."""
        ...

    def close(self) -> None: ...
