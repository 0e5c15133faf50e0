"""Demand distributions over a protection interval, one per SKU row, vectorised.

Each distribution holds numpy arrays with one entry per row and offers the three
quantities every policy needs: the quantile function ``ppf(u)``, the cumulative
distribution ``cdf(y)`` and the first-order loss function ``loss(y) = E[(D - y)^+]``
(Snyder & Shen, *Fundamentals of Supply Chain Theory*, 2nd ed., Section C.3).

- :class:`Normal`: closed forms, standard normal loss ``L(z) = phi(z) - z (1 - Phi(z))``.
- :class:`Poisson`: integer demand; loss ``(lam - y)(1 - F(y)) + lam f(y)`` at integers and
  linear in between.
- :class:`QuantileShaped`: the "empirical" model built from forecast quantiles. Demand is
  ``max(g(Z), 0)`` for a standard normal ``Z`` and ``g`` piecewise linear through the knots
  ``(z_j, x_j)`` with ``z_j = Phi^-1(u_j)``, extended linearly beyond the outer knots. It is
  exact for a normal forecast (``g`` is then a line) and keeps the skew of asymmetric
  quantiles; the loss integrates in closed form segment by segment.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: Quantile levels are clipped into [EPS, 1 - EPS] before the normal quantile is taken.
EPS = 1e-9


def _sp() -> Any:
    import scipy.special as sp

    return sp


def norm_cdf(z: Array) -> Array:
    """Standard normal distribution function."""
    return np.asarray(_sp().ndtr(z), dtype=np.float64)


def norm_ppf(u: Array | float) -> Array:
    """Standard normal quantile function."""
    return np.asarray(_sp().ndtri(np.clip(u, EPS, 1 - EPS)), dtype=np.float64)


def norm_pdf(z: Array) -> Array:
    """Standard normal density."""
    out = np.square(z, dtype=np.float64)
    if not isinstance(out, np.ndarray):  # a scalar
        return np.asarray(np.exp(-0.5 * out) / np.sqrt(2 * np.pi), dtype=np.float64)
    out *= -0.5  # in place: one array instead of three, the same values
    np.exp(out, out=out)
    out /= np.sqrt(2 * np.pi)
    return out


def std_normal_loss(z: Array) -> Array:
    """Standard normal first-order loss ``L(z) = E[(Z - z)^+]``."""
    return norm_pdf(z) - z * (1 - norm_cdf(z))


def std_normal_loss2(z: Array) -> Array:
    """Standard normal second-order loss ``L2(z) = E[((Z - z)^+)^2] / 2``."""
    return 0.5 * ((np.square(z) + 1) * (1 - norm_cdf(z)) - z * norm_pdf(z))


class Distribution(Protocol):
    """What a policy needs from a demand distribution (arrays of one entry per row)."""

    @property
    def mean(self) -> Array: ...

    @property
    def sd(self) -> Array: ...

    @property
    def name(self) -> str: ...

    def ppf(self, u: Array) -> Array: ...

    def cdf(self, y: Array) -> Array: ...

    def loss(self, y: Array) -> Array: ...


@dataclass(frozen=True)
class Normal:
    """Normal demand with mean ``mu`` and standard deviation ``sigma`` per row."""

    mu: Array
    sigma: Array
    name: str = "normal"

    @property
    def mean(self) -> Array:
        return self.mu

    @property
    def sd(self) -> Array:
        return self.sigma

    def _z(self, y: Array) -> Array:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(
                self.sigma > 0, (y - self.mu) / self.sigma, np.inf * np.sign(y - self.mu)
            )

    def ppf(self, u: Array) -> Array:
        return self.mu + self.sigma * norm_ppf(u)

    def cdf(self, y: Array) -> Array:
        z = self._z(y)
        return np.asarray(
            np.where(np.isnan(z), 1.0, norm_cdf(np.nan_to_num(z, nan=0.0))), dtype=np.float64
        )

    def loss(self, y: Array) -> Array:
        degenerate = np.maximum(self.mu - y, 0.0)
        z = np.where(self.sigma > 0, (y - self.mu) / np.where(self.sigma > 0, self.sigma, 1), 0)
        return np.asarray(
            np.where(self.sigma > 0, self.sigma * std_normal_loss(z), degenerate), dtype=np.float64
        )

    def loss2(self, y: Array) -> Array:
        """Second-order loss ``E[((D - y)^+)^2] / 2`` (for the exact (r,Q) cost)."""
        z = np.where(self.sigma > 0, (y - self.mu) / np.where(self.sigma > 0, self.sigma, 1), 0)
        degenerate = 0.5 * np.square(np.maximum(self.mu - y, 0.0))
        out = np.where(self.sigma > 0, np.square(self.sigma) * std_normal_loss2(z), degenerate)
        return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class Poisson:
    """Poisson demand with mean ``lam`` per row (integer units)."""

    lam: Array
    name: str = "poisson"

    @property
    def mean(self) -> Array:
        return self.lam

    @property
    def sd(self) -> Array:
        return np.sqrt(self.lam)

    def ppf(self, u: Array) -> Array:
        """Smallest integer ``y`` with ``F(y) >= u`` (by bisection on the integers)."""
        sp = _sp()
        u = np.broadcast_to(np.clip(u, EPS, 1 - EPS), self.lam.shape)
        lo = np.full(self.lam.shape, -1.0)
        hi = np.ceil(self.lam + 12 * np.sqrt(self.lam) + 12)
        while np.any(hi - lo > 1):
            mid = np.floor((lo + hi) / 2)
            ok = sp.pdtr(mid, self.lam) >= u
            hi = np.where(ok & (hi - lo > 1), mid, hi)
            lo = np.where(~ok & (hi - lo > 1), mid, lo)
        return np.asarray(hi, dtype=np.float64)

    def cdf(self, y: Array) -> Array:
        y = np.floor(y)
        return np.asarray(
            np.where(y < 0, 0.0, _sp().pdtr(np.maximum(y, 0), self.lam)), dtype=np.float64
        )

    def loss(self, y: Array) -> Array:
        sp = _sp()
        below = np.maximum(-np.asarray(y, dtype=np.float64), 0.0)  # E[(D - y)^+] = lam - y
        y = np.maximum(y, 0.0)
        k = np.floor(y)
        tail = 1 - sp.pdtr(k, self.lam)
        pmf = np.exp(k * np.log(np.maximum(self.lam, 1e-300)) - self.lam - sp.gammaln(k + 1))
        pmf = np.where(self.lam > 0, pmf, (k == 0).astype(float))
        at_k = (self.lam - k) * tail + self.lam * pmf
        return np.asarray(np.maximum(at_k - (y - k) * tail, 0.0) + below, dtype=np.float64)


@dataclass(frozen=True)
class QuantileShaped:
    """Demand ``max(g(Z), 0)``, ``g`` piecewise linear through knots ``(z[j], x[:, j])``.

    Parameters
    ----------
    z
        Normal scores of the quantile levels, increasing, shape ``(J,)`` with ``J >= 2``.
    x
        Quantile values per row, non-decreasing along the last axis, shape ``(n, J)``.
    """

    z: Array
    x: Array
    name: str = "empirical"
    #: ``E[D]`` per row when already known (it is the loss at 0, a full pass to compute).
    known_mean: Array | None = field(default=None, compare=False, repr=False)

    @functools.cached_property
    def _segments(self) -> tuple[Array, Array, tuple[Array, Array, Array]]:
        """Segment bounds ``a < b`` in z, start value ``xa``, start score ``za`` (one per
        segment) and slope ``s`` (rows x segments)."""
        z, x = self.z, self.x
        inner = np.diff(x, axis=1) / np.diff(z)
        slopes = np.concatenate([inner[:, :1], inner, inner[:, -1:]], axis=1)
        a = np.concatenate([[-np.inf], z])
        b = np.concatenate([z, [np.inf]])
        xa = np.concatenate([x[:, :1], x], axis=1)
        za = np.concatenate([z[:1], z])
        return a, b, (xa, za, slopes)

    @functools.cached_property
    def _intercepts(self) -> Array:
        """``xa - s za`` per row and segment (the loss integrand's constant part)."""
        _, _, (xa, za, s) = self._segments
        return np.asarray(xa - s * za, dtype=np.float64)

    def _g(self, zq: Array) -> Array:
        """Evaluate ``g`` at one normal score per row."""
        z, x = self.z, self.x
        j = np.clip(np.searchsorted(z, zq) - 1, 0, z.size - 2)
        rows = np.arange(x.shape[0])
        x0, x1 = x[rows, j], x[rows, j + 1]
        slope = (x1 - x0) / (z[j + 1] - z[j])
        return np.asarray(x0 + slope * (zq - z[j]), dtype=np.float64)

    @property
    def mean(self) -> Array:
        if self.known_mean is not None:
            return self.known_mean
        return shaped_mean(self.z, self.x)

    @property
    def sd(self) -> Array:
        """Spread implied by the outer knots (exact for a normal shape)."""
        spread = (self.x[:, -1] - self.x[:, 0]) / (self.z[-1] - self.z[0])
        return np.asarray(spread, dtype=np.float64)

    def ppf(self, u: Array) -> Array:
        zq = norm_ppf(np.broadcast_to(u, (self.x.shape[0],)))
        return np.asarray(np.maximum(self._g(zq), 0.0), dtype=np.float64)

    def _roots(self, y: Array, flat_below: NDArray[np.bool_]) -> Array:
        """Score where each segment's line reaches ``y`` (rows x segments); flat segments get
        ``-inf`` where ``flat_below`` and ``+inf`` elsewhere. (In place, to spare memory.)"""
        _, _, (xa, za, s) = self._segments
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            zy = np.subtract(y, xa)
            zy /= s
            zy += za
        flat = ~(s > 0)
        np.copyto(zy, np.inf, where=flat)
        np.copyto(zy, -np.inf, where=flat & flat_below)
        return zy

    def cdf(self, y: Array) -> Array:
        """``P(D <= y)``: invert ``g`` segment by segment (flat segments jump)."""
        a, b, (xa, _, _) = self._segments
        y = np.broadcast_to(y, (self.x.shape[0],))[:, None]
        zy = self._roots(y, ~(y >= xa))
        applies = zy >= a
        inside = np.clip(zy, a, b, out=zy)
        # the largest z with g(z) <= y is the largest clipped root over segments where it applies
        inside[~applies] = -np.inf
        out = norm_cdf(inside.max(axis=1))
        out[y[:, 0] < 0] = 0.0
        return out

    def loss(self, y: Array) -> Array:
        """``E[(D - y)^+]`` for ``y >= 0``: a sum of closed-form segment integrals
        (compiled from :data:`COMPILED_FROM` rows: :func:`shaped_loss`)."""
        if _use_compiled(self.z, self.x, self.x.shape[0]):
            return shaped_loss(self.z, self.x, y, compiled=True)
        return self.numpy_loss(y)

    def numpy_loss(self, y: Array) -> Array:
        """:meth:`loss` by numpy arrays of (rows x segments), whatever the rows."""
        a, b, (xa, _, s) = self._segments
        y = np.maximum(np.broadcast_to(y, (self.x.shape[0],)), 0.0)[:, None]
        c = np.clip(self._roots(y, xa > y), a, b)
        # integral over [c, b] of (xa + s (z - za) - y) phi(z) dz
        finite = np.isfinite(c)
        phi_c = norm_pdf(np.where(finite, c, 0))
        phi_c[~finite] = 0.0
        phi_b = np.where(np.isfinite(b), norm_pdf(np.where(np.isfinite(b), b, 0)), 0.0)
        mass = norm_cdf(c)
        np.subtract(norm_cdf(b), mass, out=mass)
        part = np.subtract(self._intercepts, y)
        part *= mass
        phi_c -= phi_b
        phi_c *= s
        part += phi_c
        part[~(mass > 0)] = 0.0
        return np.asarray(np.maximum(part.sum(axis=1), 0.0), dtype=np.float64)


#: Rows from which :func:`shaped_mean` runs compiled (:mod:`scot_cli.buy.shaped_kernel`):
#: below, loading numba costs more than the loop saves.
COMPILED_FROM = 1 << 17
#: Segments (knots + 1) below which numpy sums a row's terms in order (from eight on it sums
#: them pairwise), which the compiled loop repeats.
_SEQUENTIAL_SUM = 8


def _use_compiled(z: Array, x: Array, rows: int, compiled: bool | None = None) -> bool:
    """Whether :func:`shaped_loss` runs compiled: asked for, or from :data:`COMPILED_FROM`
    rows; never with eight segments or more (numpy then sums a row's terms pairwise)."""
    if compiled is None:
        compiled = rows >= COMPILED_FROM
    return bool(compiled and z.size >= 2 and z.size + 1 < _SEQUENTIAL_SUM and x.dtype == np.float64)


def shaped_mean(
    z: Array, x: Array, idx: NDArray[np.int64] | None = None, *, compiled: bool | None = None
) -> Array:
    """``E[D]`` of the quantile-shaped demand of rows ``x[idx]`` (every row without
    ``idx``): ``QuantileShaped(z, x[idx]).loss(0)``, bit for bit (compiled as
    :func:`shaped_loss` decides)."""
    rows = x.shape[0] if idx is None else idx.size
    return shaped_loss(z, x, np.zeros(rows), idx, compiled=compiled)


def shaped_loss(
    z: Array,
    x: Array,
    y: Array | float,
    idx: NDArray[np.int64] | None = None,
    *,
    compiled: bool | None = None,
) -> Array:
    """``QuantileShaped(z, x[idx]).loss(y)`` (every row without ``idx``), bit for bit.
    ``compiled``: one compiled pass over the rows' knots instead of numpy's (rows x
    segments) arrays (default: from :data:`COMPILED_FROM` rows, fewer than eight segments)."""
    rows = x.shape[0] if idx is None else idx.size
    if not _use_compiled(z, x, rows, compiled):
        sub = x if idx is None else x[idx]
        return QuantileShaped(z, sub).numpy_loss(np.broadcast_to(y, (rows,)))
    from .shaped_kernel import inner_roots, shaped_losses

    at = np.ascontiguousarray(np.maximum(np.broadcast_to(y, (rows,)), 0.0), dtype=np.float64)
    z = np.ascontiguousarray(z, dtype=np.float64)
    x = np.ascontiguousarray(x)
    which = np.arange(rows, dtype=np.int64) if idx is None else idx.astype(np.int64, copy=False)
    lo = np.concatenate([[-np.inf], z])
    hi = np.concatenate([z, [np.inf]])

    def density(v: Array) -> Array:
        finite = np.isfinite(v)
        out = norm_pdf(np.where(finite, v, 0))
        out[~finite] = 0.0
        return out

    roots = np.empty(rows * (z.size + 1))
    found = inner_roots(x, which, at, z, np.diff(z), roots)
    inner = roots[:found]
    out = np.empty(rows)
    shaped_losses(
        x,
        which,
        at,
        z,
        np.diff(z),
        norm_cdf(lo),
        density(lo),
        norm_cdf(hi),
        density(hi),
        norm_cdf(inner),
        norm_pdf(inner),
        out,
    )
    return out
