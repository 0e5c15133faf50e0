"""Exact Shapley attribution over a small set of players (driver groups), vectorised.

A decision evaluated on every mix of old and new driver groups gives a matrix
``V`` of shape ``(2**k, n)``: row ``m`` holds the decision of all ``n`` subjects
when the groups whose bits are set in ``m`` take their new values. The Shapley
value of group ``i`` for one subject is (Shapley 1953; Roth 1988, eq. 1.1)

.. math::

    \\phi_i = \\sum_{S \\subseteq N \\setminus \\{i\\}}
        \\frac{|S|!\\,(k-|S|-1)!}{k!}\\,\\bigl(v(S \\cup \\{i\\}) - v(S)\\bigr),

with :math:`v(S)` the decision when exactly the groups in :math:`S` are new.
It is linear in ``v``, so all subjects are handled at once: per group, one
weight vector times the ``(2**(k-1), n)`` matrix of its marginal differences.
The contributions add up to
``v(N) - v(\\emptyset)`` (efficiency), give nothing to a group the decision does
not depend on (dummy) and treat interchangeable groups alike (symmetry).
"""

from __future__ import annotations

from functools import cache
from math import factorial

import numpy as np
import numpy.typing as npt

#: More groups than this means more than 4,096 evaluations of the decision.
MAX_PLAYERS = 12

FloatArray = npt.NDArray[np.float64]


def mask_sizes(k: int) -> npt.NDArray[np.int64]:
    """Number of set bits of each mask ``0 .. 2**k - 1`` (the size of the coalition)."""
    masks = np.arange(1 << k, dtype=np.int64)
    bits = (masks[:, None] >> np.arange(k, dtype=np.int64)) & 1
    return np.asarray(bits.sum(axis=1), dtype=np.int64)


@cache
def weights(k: int) -> FloatArray:
    """Shapley weights ``w(s) = s! (k - s - 1)! / k!`` for coalition sizes ``s = 0 .. k-1``.

    Examples
    --------
    >>> weights(3).tolist()  # 1/3, 1/6, 1/3
    [0.3333333333333333, 0.16666666666666666, 0.3333333333333333]
    """
    if not 1 <= k <= MAX_PLAYERS:
        raise ValueError(f"k must be between 1 and {MAX_PLAYERS}, got {k}")
    out = np.array([factorial(s) * factorial(k - s - 1) / factorial(k) for s in range(k)])
    out.setflags(write=False)
    return out


def shapley(values: FloatArray) -> FloatArray:
    """Shapley contributions of ``k`` groups for ``n`` subjects.

    Parameters
    ----------
    values
        ``V``, shape ``(2**k, n)``: the decision of every subject under every mix;
        bit ``i`` of the row index set means group ``i`` takes its new value.

    Returns
    -------
    numpy.ndarray
        ``phi``, shape ``(k, n)``; ``phi.sum(axis=0)`` equals ``V[-1] - V[0]`` up to
        float rounding.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.array([[0.0], [1.0], [2.0], [5.0]])  # v(0), v(a), v(b), v(ab)
    >>> shapley(v).ravel().tolist()
    [2.0, 3.0]
    """
    rows = values.shape[0]
    k = rows.bit_length() - 1
    if rows != 1 << k or k == 0:
        raise ValueError(f"values must have 2**k rows with k >= 1, got {rows}")
    w, sizes = weights(k), mask_sizes(k)
    masks = np.arange(rows, dtype=np.int64)
    phi = np.empty((k, values.shape[1]))
    for i in range(k):
        without = masks[(masks >> i & 1) == 0]
        # Marginal differences first: a group the decision ignores gets exactly 0.
        phi[i] = w[sizes[without]] @ (values[without | (1 << i)] - values[without])
    return phi
