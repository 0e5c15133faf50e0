"""Execution engines: the local process (default) and Dask for scale-out.

An engine maps a function over partitions (of skus) and hands back one *handle* per
partition; handles feed further maps (a partition's forecast stays where it was made until
its cold-start fill) and :meth:`Engine.results` yields the values in partition order. The
local engine computes eagerly in this process and imports nothing; the Dask engine
(:mod:`scot_cli.engine.dask`, imported only when chosen) runs the same functions on a
``distributed`` cluster, so the reductions see the same values in the same order and the
frames are equal bit for bit.

A partition that fails on bad data (:class:`~scot_cli.errors.InputDataError`) is not retried
and stops the run with a :class:`PartitionError` naming its skus (exit 3); any other failure
of a task, or a lost worker, is retried by the engine.

Engine specs (``--engine``): ``local``; ``dask`` (a local cluster of one worker process per
core); ``dask:N`` (N worker processes); ``tcp://HOST:PORT`` (or ``tls://``, ``dask://``
aliases ``tcp://``): an existing cluster's scheduler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from scot_cli.engine.base import (
    ENGINES,
    RETRIES,
    Engine,
    Failed,
    PartitionError,
    call_partition,
    describe_skus,
)
from scot_cli.errors import UsageError

__all__ = [
    "ENGINES",
    "RETRIES",
    "Engine",
    "EngineSpec",
    "Failed",
    "LocalEngine",
    "PartitionError",
    "Shard",
    "call_partition",
    "describe_skus",
    "open_engine",
    "parse_engine",
    "parse_shard",
    "sku_ranges",
]


class LocalEngine:
    """This process, eagerly: a handle is the value."""

    name = "local"

    @property
    def workers(self) -> int:
        return 1

    def map(
        self, fn: Callable[..., Any], items: Sequence[Any], *shared: Any, labels: Sequence[str]
    ) -> list[Any]:
        return [
            call_partition(fn, i, label, item, *shared)
            for i, (item, label) in enumerate(zip(items, labels, strict=True))
        ]

    def submit(self, fn: Callable[..., Any], *args: Any, label: str = "") -> Any:
        return call_partition(fn, 0, label, *args)

    def share(self, value: Any) -> Any:
        return value

    def results(self, handles: Sequence[Any]) -> Iterator[Any]:
        for value in handles:
            if isinstance(value, Failed):
                raise value.error()
            yield value

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class EngineSpec:
    """A parsed ``--engine``: ``kind`` is ``local`` or ``dask``; a dask engine has either a
    scheduler ``address`` or a number of local ``workers`` (None: one per core)."""

    kind: str = "local"
    address: str | None = None
    workers: int | None = None

    @property
    def is_local(self) -> bool:
        return self.kind == "local"


def parse_engine(
    text: str | None, *, scheduler: str | None = None, workers: int | None = None
) -> EngineSpec:
    """``--engine`` with the hidden ``--scheduler ADDRESS`` and ``--workers N`` (either
    implies ``dask``).

    Raises
    ------
    UsageError
        An unknown engine, a bad worker count, or both a scheduler and workers.
    """
    value = (text or "local").strip()
    if scheduler is not None and workers is not None:
        raise UsageError("--scheduler and --workers: give one (a cluster, or workers to start)")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers: expected at least 1, got {workers}")
    if "://" in value:
        scheme = value.split("://", 1)[0]
        if scheme not in ("tcp", "tls", "dask", "inproc", "ucx"):
            raise UsageError(f"--engine {value}: a scheduler address is tcp://HOST:PORT")
        if workers is not None:
            raise UsageError("--workers: not with a scheduler address (the cluster has its own)")
        return EngineSpec("dask", address=value.replace("dask://", "tcp://", 1))
    kind, _, count = value.partition(":")
    if kind == "local" and not count:
        if scheduler is not None or workers is not None:
            return EngineSpec("dask", address=scheduler, workers=workers)
        return EngineSpec()
    if kind != "dask":
        raise UsageError(f"--engine {value}: expected one of {ENGINES}")
    n = workers
    if count:
        if not count.isdigit() or int(count) < 1:
            raise UsageError(f"--engine {value}: dask:N needs a worker count N >= 1")
        n = int(count)
    if scheduler is not None:
        return EngineSpec("dask", address=scheduler)
    return EngineSpec("dask", workers=n)


def open_engine(spec: EngineSpec) -> Engine:
    """The engine of ``spec``, started (close it when done)."""
    if spec.is_local:
        return LocalEngine()
    from scot_cli.engine.dask import DaskEngine

    return DaskEngine.start(address=spec.address, workers=spec.workers)


@dataclass(frozen=True)
class Shard:
    """``--shard i/N``: this run computes the i-th (from 0) of N contiguous ranges of the
    sorted skus."""

    index: int
    of: int

    def __str__(self) -> str:
        return f"{self.index}/{self.of}"

    def take(self, n: int) -> slice:
        """This shard's share of ``n`` ordered pieces (partitions or skus)."""
        return slice(self.index * n // self.of, (self.index + 1) * n // self.of)


def parse_shard(text: str | None) -> Shard | None:
    """``i/N`` with 0 <= i < N, or None.

    Raises
    ------
    UsageError
        Anything else.
    """
    if text is None:
        return None
    i, sep, n = text.partition("/")
    if not sep or not i.strip().isdigit() or not n.strip().isdigit():
        raise UsageError(f"--shard {text}: expected i/N, e.g. 0/4 (shards 0..N-1)")
    shard = Shard(int(i), int(n))
    if shard.of < 1 or shard.index >= shard.of:
        raise UsageError(f"--shard {text}: expected 0 <= i < N")
    return shard


def sku_ranges(skus: pl.Series, shard: Shard) -> pl.Series:
    """The skus (sorted, unique) of ``shard``'s range."""
    ordered = skus.unique().sort()
    part = shard.take(ordered.len())
    return ordered.slice(part.start, part.stop - part.start)
