"""numba, loaded for the compiled forecast kernels with no more than they need.

The kernels (:mod:`scot_cli.forecast.ets_kernel`, :mod:`scot_cli.forecast.theta_kernel`)
are compiled once and kept in numba's on-disk cache (``cache=True``). Before it loads a
cached function, numba "refreshes" its target context: it imports every implementation it
has (NumPy's, typed containers, random generators, ...) and builds the typing templates of
each, which only a compilation uses: about 0.15 s of CPU, more than the loading itself.
:func:`kernels` loads the cached machine code of each kernel a forecast calls, for the one
signature it is called with (:func:`signatures`), without that refresh, and leaves the rest
to numba's own dispatch: a kernel missing from the cache (first run, changed source, other
machine) or called with other argument types is compiled, or loaded, by numba as usual.
Either way the machine code, and so every forecast, is the same.

The modules of compiled kernels call :func:`load` before defining them: it imports numba's
NumPy implementations (``numba.np.arraymath``, which a cached kernel's environment names
and a compilation uses), whose import probes for BLAS by importing ``scipy.linalg`` (with
``numpy.f2py`` and SciPy's array-API layer, about a third of a second), with the probe
answered "no BLAS": the kernels use no BLAS (their few inner products are plain loops).
numba then uses its own loop for the inner products of ``np.convolve`` and
``np.correlate`` (``numba.np.arraymath._get_inner_prod``); every other BLAS/LAPACK
function still imports SciPy when it is typed (``numba.np.linalg.ensure_blas``), so nothing
else changes. With numba's registries already loaded (e.g. by other compiled code in the
process) it does nothing.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from types import ModuleType
from typing import Any

#: numba's configuration file, read from the working folder when PyYAML is installed.
NUMBA_CONFIG = ".numba_config.yaml"
#: The module numba's BLAS probe imports.
BLAS_PROBE = "scipy.linalg.cython_blas"
#: The kernel modules by short name.
MODULES = {"ets": "scot_cli.forecast.ets_kernel", "theta": "scot_cli.forecast.theta_kernel"}

_lock = threading.RLock()
_loaded: set[str] = set()


def load() -> None:
    """Import numba (:func:`import_numba`) and its NumPy implementations, skipping its BLAS
    probe (see module doc); the modules of compiled kernels (the forecast's and others) call
    this before they import numba and define their kernels."""
    with _lock:
        import_numba()
        if "numba.np.arraymath" in sys.modules or BLAS_PROBE in sys.modules:
            return

        sys.modules[BLAS_PROBE] = None  # type: ignore[assignment]  # an import of it now fails
        try:
            import numba.np.arraymath  # noqa: F401
        finally:
            del sys.modules[BLAS_PROBE]


def import_numba() -> None:
    """Import numba. Its configuration imports PyYAML, where installed, to read a
    ``.numba_config.yaml`` in the working folder (20 ms of start-up); with no such file
    YAML is not needed, and numba is imported with PyYAML hidden from it: the same
    configuration (its environment variables), without the import."""
    if "numba" in sys.modules:
        return
    hide = "yaml" not in sys.modules and not os.path.isfile(NUMBA_CONFIG)
    if hide:
        sys.modules["yaml"] = None  # type: ignore[assignment]  # an import of it now fails
    try:
        import numba  # noqa: F401  (it imports ``scipy`` itself, which is cheap)
    finally:
        if hide:
            del sys.modules["yaml"]


def signatures(name: str) -> dict[str, tuple[Any, ...]]:
    """The argument types each kernel of module ``name`` (``ets``, ``theta``) is called with
    from :mod:`scot_cli.forecast.ets` and :mod:`scot_cli.forecast.theta`: C-contiguous
    arrays and integers."""
    from numba import types

    f2, i1, i2 = types.float64[:, ::1], types.int64[::1], types.int64[:, ::1]
    b2, i = types.boolean[:, ::1], types.int64
    if name == "ets":
        return {
            "fit_panel": (f2, i1, i1, i, i2, i1, b2, i, i),
            "states_at": (f2, i, i, i1, i1, i1, f2, f2),
        }
    return {"sums": (f2, i1, f2, i)}


def kernels(name: str) -> ModuleType:
    """The kernel module ``name`` (``ets``, ``theta``) with its kernels' machine code loaded
    (from numba's cache when it holds them; see the module doc). Thread-safe; the work is
    done once per process."""
    with _lock:
        module = importlib.import_module(MODULES[name])
        if name not in _loaded:
            for kernel, sig in signatures(name).items():
                load_kernel(getattr(module, kernel), sig)
            _loaded.add(name)
        return module


def load_kernel(dispatcher: Any, sig: tuple[Any, ...]) -> bool:
    """Add the cached overload of numba ``dispatcher`` for argument types ``sig`` without
    refreshing numba's target context. If the cache has none (or numba's internals differ
    from those this was written for), compile or load it numba's usual way. True when it
    came from the cache by the short way."""
    if sig in dispatcher.overloads:
        return False
    load()  # the cached code's environment names numba's NumPy implementations
    cres = None
    try:
        from numba.core.compiler_lock import global_compiler_lock
        from numba.core.runtime.nrt import rtsys

        with global_compiler_lock:
            ctx = dispatcher.targetctx
            rtsys.initialize(ctx)  # the memory allocator the kernels' arrays use
            cres = dispatcher._cache._load_overload(sig, ctx)
            if cres is not None:
                ctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
                dispatcher.add_overload(cres)
    except (AttributeError, TypeError):
        cres = None
    if cres is None:
        dispatcher.compile(sig)
        return False
    return True
