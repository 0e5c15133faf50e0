"""Run a solver call that may overrun its own time limit, and give up on it in time.

HiGHS checks its ``time_limit`` between the steps of its MIP search, not inside every step:
on some instances one round of root cut separation runs for over a minute after the limit
(measured: a 1.7 s limit, 65 s spent in one mod-k separation round, highspy 1.16), and its
interrupt callback is not polled there either. A route call must not hang, so MIP solves
run in a forked child process that the caller kills once the limit and a grace period have
passed; the caller then goes on without that solve's answer.

Where ``fork`` is not available (Windows) or the caller is a daemonic process (which may not
start children, e.g. a worker process of some process pools), the call runs in this
process as before.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: Seconds granted past the solver's own limit before the child is killed: ``GRACE`` plus
#: ``GRACE_SHARE`` of the limit (forking, the modelling layer's set-up of the model, which
#: HiGHS's clock does not count, and sending the answer back).
GRACE = 1.0
GRACE_SHARE = 0.5


def _child(
    send: Any, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    try:
        # the parent's HiGHS thread pool did not survive the fork: start a fresh one
        import highspy

        highspy.Highs.resetGlobalScheduler(True)  # type: ignore[no-untyped-call]
        out: tuple[bool, Any] = (True, fn(*args, **kwargs))
    except BaseException as exc:  # sent to the parent, which raises it
        out = (False, repr(exc))
    try:
        send.send(out)
    finally:
        send.close()
        os._exit(0)


def forkable() -> bool:
    """Whether this process can fork a child for :func:`call_with_deadline`."""
    return "fork" in mp.get_all_start_methods() and not mp.current_process().daemon


class Pending(Generic[T]):
    """A call started by :func:`start_with_deadline`; :meth:`wait` gives its answer."""

    def __init__(
        self,
        *,
        value: T | None = None,
        proc: Any = None,
        recv: Any = None,
        until: float = 0.0,
    ) -> None:
        self._value, self._proc, self._recv, self._until = value, proc, recv, until

    def wait(self) -> tuple[bool, T | None]:
        """Wait for the child until its deadline: ``(True, value)`` when it answered in
        time, ``(False, None)`` when it did not (it is killed, or died without answering).
        An exception raised by the call is raised here as a :class:`RuntimeError`."""
        proc, recv = self._proc, self._recv
        if proc is None:  # the call ran in this process
            return True, self._value
        self._proc = None
        try:
            if not recv.poll(max(self._until - time.monotonic(), 0.0)):
                return False, None
            try:
                ok, value = recv.recv()
            except (EOFError, OSError):  # the child died without answering
                return False, None
            if not ok:
                raise RuntimeError(f"solver call failed in its child process: {value}")
            return True, value
        finally:
            if proc.is_alive():
                proc.kill()
            proc.join()
            recv.close()


def start_with_deadline(
    fn: Callable[..., T], *args: Any, seconds: float, **kwargs: Any
) -> Pending[T]:
    """Start ``fn(*args, **kwargs)`` in a forked child that is waited for (by
    :meth:`Pending.wait`) until ``seconds`` and a grace period (:data:`GRACE`,
    :data:`GRACE_SHARE`) have passed from now; this process goes on meanwhile. Modules the
    child needs should be imported before the call: the child's own imports count against
    its time. Without fork the call runs here, before this returns.
    """
    if not forkable():
        return Pending(value=fn(*args, **kwargs))
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args, kwargs), daemon=True)
    until = time.monotonic() + max(seconds, 0.0) * (1.0 + GRACE_SHARE) + GRACE
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a multi-threaded process may deadlock the child:
        # the child only runs the solver (numpy, scipy, the modelling layer, HiGHS with a
        # fresh thread pool) and is killed if it does not answer in time
        warnings.simplefilter("ignore", DeprecationWarning)
        proc.start()
    send.close()
    return Pending(proc=proc, recv=recv, until=until)


def call_with_deadline(
    fn: Callable[..., T], *args: Any, seconds: float, **kwargs: Any
) -> tuple[bool, T | None]:
    """``fn(*args, **kwargs)`` in a forked child, waited for at most ``seconds`` and a grace
    period (:data:`GRACE`, :data:`GRACE_SHARE`): :func:`start_with_deadline` and
    :meth:`Pending.wait`. Modules the child needs should be imported before the call.

    Returns ``(True, value)`` when the child answered in time, ``(False, None)`` when it did
    not (it is killed, or died without answering). An exception raised by ``fn`` is raised
    here as a :class:`RuntimeError` naming it. Without fork the call runs here.
    """
    return start_with_deadline(fn, *args, seconds=seconds, **kwargs).wait()
