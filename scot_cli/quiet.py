"""Keep native solver banners off stdout, which carries Parquet in a pipe.

HiGHS prints a licence banner from C++ straight to file descriptor 1 the first time a
solver object is made in a process, whatever its ``output_flag``. A Python-level redirect
cannot catch it, so the descriptor itself is pointed at the null device for the solve and
C's buffers are flushed before it is restored.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def native_stdout_silenced() -> Iterator[None]:
    """Point file descriptor 1 at the null device inside the block (no-op when that fails)."""
    try:
        saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        os.dup2(null, 1)
        os.close(null)
        yield
    finally:
        _flush_c_stdio()
        os.dup2(saved, 1)
        os.close(saved)


def _flush_c_stdio() -> None:
    """Flush C's stdio buffers so text written in the block is dropped, not printed later."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)
