"""The Dask engine: partitions as tasks on a ``distributed`` cluster.

Imported only under ``--engine dask`` (or a scheduler address): ``dask`` and ``distributed``
are the ``dask`` extra. A scheduler address connects to an existing cluster (a laptop's,
VMs', Kubernetes', YARN's or an HPC job's: the client API is the same); otherwise a
:class:`distributed.LocalCluster` of worker processes (one thread each: the model code is
vectorised numpy) is started here and stopped by :meth:`DaskEngine.close`.

Every task is submitted with ``retries`` (:data:`scot_cli.engine.RETRIES`) and a worker
that dies mid-task has its tasks rescheduled by the scheduler; bad data is not retried
(:func:`scot_cli.engine.call_partition`).
"""

from __future__ import annotations

import logging
import os
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from scot_cli.engine.base import RETRIES, Failed, call_partition
from scot_cli.errors import UsageError


class DaskEngine:
    """Tasks on a ``distributed`` client; a handle is a future."""

    name = "dask"

    def __init__(self, client: Any, cluster: Any = None) -> None:
        self.client = client
        self.cluster = cluster
        self._run = uuid.uuid4().hex[:8]
        self._count = 0

    @classmethod
    def start(cls, *, address: str | None = None, workers: int | None = None) -> DaskEngine:
        """Connect to the scheduler at ``address``, or start ``workers`` local worker
        processes (one per core when None)."""
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - the extra is installed in dev
            raise UsageError(
                "--engine dask: needs the dask extra (pip install 'scot-cli[dask]')"
            ) from exc
        if address is not None:
            try:
                return cls(Client(address, timeout="20s"))  # type: ignore[no-untyped-call]
            except OSError as exc:
                raise UsageError(f"--engine {address}: cannot reach the scheduler ({exc})") from exc
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        return cls(Client(cluster), cluster)  # type: ignore[no-untyped-call]

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def _key(self, fn: Callable[..., Any], i: int) -> str:
        return f"scot-{getattr(fn, '__name__', 'task')}-{self._run}-{i}"

    def map(
        self, fn: Callable[..., Any], items: Sequence[Any], *shared: Any, labels: Sequence[str]
    ) -> list[Any]:
        return [
            self.client.submit(
                call_partition,
                fn,
                i,
                label,
                item,
                *shared,
                key=self._key(fn, i),
                retries=RETRIES,
                pure=False,
            )
            for i, (item, label) in enumerate(zip(items, labels, strict=True))
        ]

    def submit(self, fn: Callable[..., Any], *args: Any, label: str = "") -> Any:
        return self.client.submit(
            call_partition,
            fn,
            0,
            label,
            *args,
            key=self._key(fn, -self._shared()),
            retries=RETRIES,
            pure=False,
        )

    def share(self, value: Any) -> Any:
        # a task rather than scattered data: the scheduler keeps its spec, so a lost worker's
        # copy is recomputed (scattered data would be lost with it); the value is sent once,
        # so distributed's advice against large graphs (meant for data repeated in many
        # tasks) does not apply
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sending large graph")
            return self.client.submit(
                _identity, value, key=self._key(_identity, self._shared()), pure=False
            )

    def _shared(self) -> int:
        self._count += 1
        return self._count

    def results(self, handles: Sequence[Any]) -> Iterator[Any]:
        pending = list(handles)
        try:
            while pending:
                future = pending.pop(0)
                value = future.result()
                future.release()
                if isinstance(value, Failed):
                    raise value.error()
                yield value
        finally:
            if pending:
                self.client.cancel(pending)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _identity(value: Any) -> Any:
    return value
