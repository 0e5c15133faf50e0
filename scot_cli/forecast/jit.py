"""numba, loaded for the compiled forecast kernels without the imports they do not need.

Loading a cached kernel makes numba register its NumPy implementations
(``numba.np.arraymath``), whose import probes for BLAS by importing ``scipy.linalg`` (with
``numpy.f2py`` and SciPy's array-API layer): about a third of a second, a large share of a
small forecast's whole run. The kernels use no BLAS (their few inner products are plain
loops), so :func:`load` imports that module once with the probe answered "no BLAS". numba
then uses its own loop for the inner products of ``np.convolve`` and ``np.correlate``
(``numba.np.arraymath._get_inner_prod``); every other BLAS/LAPACK function still imports
SciPy when it is typed (``numba.np.linalg.ensure_blas``), so nothing else changes. Without
numba's registries already loaded (e.g. by other compiled code in the process) it does
nothing.
"""

from __future__ import annotations

import sys

#: The module numba's BLAS probe imports.
BLAS_PROBE = "scipy.linalg.cython_blas"


def load() -> None:
    """Import numba's NumPy implementations, skipping its BLAS probe (see module doc)."""
    if "numba.np.arraymath" in sys.modules or BLAS_PROBE in sys.modules:
        return
    import numba  # noqa: F401  (numba first: it imports ``scipy`` itself, which is cheap)

    sys.modules[BLAS_PROBE] = None  # type: ignore[assignment]  # an import of it now fails
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        del sys.modules[BLAS_PROBE]
