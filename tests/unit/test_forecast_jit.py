"""The compiled forecast kernels load from numba's cache without SciPy's linear algebra and
without refreshing numba's target context, and forecast exactly as numba's own loading."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = """
import sys
import numpy as np
from scot_cli.forecast import ets, theta
y = np.tile([10.0, 12.0, 14.0, 9.0], 6)[None, :] + np.arange(24.0)[None, :]
fit = ets.ets_fit(y, season=4)
th = theta.fit(y, horizon=4, season=4)
print(sorted(m for m in sys.modules if m.startswith("scipy.linalg")))
print(bool(np.isfinite(ets.point_forecast(fit, 4)).all()), bool(np.isfinite(th.mean).all()))
import scipy.linalg.cython_blas
print("blas importable")
"""

#: Forecasts of a few series by the public functions; with ``numba`` as argument the
#: kernels are first loaded by numba's own dispatch (which refreshes its target context).
FORECAST = """
import sys
import numpy as np
from scot_cli.forecast import ets, jit, theta
if sys.argv[1] == "numba":
    import scot_cli.forecast.ets_kernel, scot_cli.forecast.theta_kernel
    for name in jit.MODULES:
        module = sys.modules[jit.MODULES[name]]
        for kernel, sig in jit.signatures(name).items():
            getattr(module, kernel).compile(sig)
rng = np.random.default_rng(7)
t = np.arange(40.0)
y = 50 + t[None, :] * rng.uniform(0, 2, (30, 1)) + rng.normal(0, 3, (30, 40))
y *= 1 + 0.3 * np.sin(2 * np.pi * t / 4)[None, :]
y[:5, :12] = np.nan
out = ets.ets(y, horizon=8, season=4, cutoffs=[30, 40])
th = theta.fit(y, horizon=8, season=4)
print(np.concatenate([out.ravel(), th.mean.ravel()]).tobytes().hex())
print("refreshed" if "numba.cpython.cmathimpl" in sys.modules else "not refreshed")
for name in jit.MODULES:
    module = sys.modules[jit.MODULES[name]]
    for kernel, sig in jit.signatures(name).items():
        print(kernel, list(getattr(module, kernel).overloads) == [sig])
"""


def _run(script: str, *args: str) -> list[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args], check=True, capture_output=True, text=True
    ).stdout.splitlines()


def test_kernels_load_without_scipy_linalg() -> None:
    out = _run(SCRIPT)
    assert out == ["[]", "True True", "blas importable"]


def test_cached_kernels_load_without_refresh_and_forecast_as_numba_loads_them() -> None:
    """The short way (jit.kernels) skips numba's refresh of its target context, each kernel
    is called with the one signature loaded for it (no second compilation or load), and the
    forecasts are bit for bit those of the kernels loaded by numba's own dispatch."""
    _run(FORECAST, "jit")  # fills numba's cache if this checkout has none yet
    short = _run(FORECAST, "jit")
    usual = _run(FORECAST, "numba")
    assert short[0] == usual[0]
    assert short[1] == "not refreshed"
    assert usual[1] == "refreshed"
    assert short[2:] == usual[2:] == ["fit_panel True", "states_at True", "sums True"]


def test_a_kernel_without_cache_is_compiled_the_usual_way() -> None:
    import numba

    from scot_cli.forecast import jit

    @numba.njit
    def twice(x):  # type: ignore[no-untyped-def]
        return 2.0 * x

    sig = (numba.types.float64[::1],)
    assert jit.load_kernel(twice, sig) is False  # no cache: compiled by numba
    assert list(twice.overloads) == [sig]
    np.testing.assert_array_equal(twice(np.arange(3.0)), [0.0, 2.0, 4.0])


#: numba's configuration as the kernels' import leaves it, and whether PyYAML was imported.
CONFIG = """
import sys
from scot_cli.forecast import ets_kernel  # noqa: F401
import numba
print(repr(numba.config.CACHE_DIR), "yaml" in sys.modules)
"""


def test_numba_reads_its_config_file_and_skips_yaml_without_one(tmp_path: Path) -> None:
    """PyYAML is imported only to read a ``.numba_config.yaml``: without one numba is
    imported without it (same configuration); with one, numba reads it as usual."""
    pytest.importorskip("yaml")
    plain = tmp_path / "plain"
    plain.mkdir()
    run = [sys.executable, "-c", CONFIG]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    got = subprocess.run(run, cwd=plain, env=env, capture_output=True, text=True, check=True)
    assert got.stdout.split() == ["''", "False"]  # numba's default: no cache folder set
    configured = tmp_path / "configured"
    configured.mkdir()
    (configured / ".numba_config.yaml").write_text("cache_dir: elsewhere\n")
    got = subprocess.run(run, cwd=configured, env=env, capture_output=True, text=True, check=True)
    assert got.stdout.split() == ["'elsewhere'", "True"]
