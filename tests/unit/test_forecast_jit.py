"""The compiled forecast kernels load without SciPy's linear algebra, and leave it importable."""

from __future__ import annotations

import subprocess
import sys

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


def test_kernels_load_without_scipy_linalg() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert out == ["[]", "True True", "blas importable"]
