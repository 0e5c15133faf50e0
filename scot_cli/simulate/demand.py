"""Daily demand per sku and region, and the random streams every policy shares.

Demand is drawn by inverting a count distribution at uniforms drawn once per replication
(common random numbers): two policies, or a what-if that scales demand, see the same
uniforms, so their difference is not blurred by sampling noise. A day's count has the
forecast's mean and the spread its quantiles imply: Poisson when the spread is no wider
than Poisson's, else negative binomial (over-dispersed, as intermittent items are).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from scot_cli.errors import InputDataError

Array = NDArray[np.float64]

#: p90 - p10 of a normal distribution in standard deviations (2 x 1.2816).
_Z_SPAN = 2.5631031310892007


@dataclass(frozen=True)
class DemandModel:
    """Mean and variance of each day's demand, shape (days, skus, regions); or, replayed
    from actual sales, the counts themselves (``counts``)."""

    mean: Array
    var: Array
    counts: Array | None = None


@dataclass(frozen=True)
class Streams:
    """One replication's random numbers, shared by every policy and scenario.

    ``demand`` (days, skus, regions) uniforms; ``lead`` (reviews, skus) and ``transit``
    (days, FCs, regions) standard normals; ``substitute`` (days, skus, regions) uniforms
    of the substitution (None when no sku has a substitute).
    """

    demand: Array
    lead: Array
    transit: Array
    substitute: Array | None = None


def streams(
    seed: int,
    replication: int,
    *,
    days: int,
    shape: tuple[int, int, int],
    reviews: int,
    substitution: bool = False,
) -> Streams:
    """The streams of replication ``replication`` (independent of policy and scenario;
    the substitution's stream is drawn only when asked and leaves the others alone)."""
    n_sku, n_fc, n_reg = shape
    child = np.random.SeedSequence([seed, replication]).spawn(4)
    gens = [np.random.default_rng(c) for c in child]
    return Streams(
        demand=gens[0].random((days, n_sku, n_reg)),
        lead=gens[1].standard_normal((reviews, n_sku)),
        transit=gens[2].standard_normal((days, n_fc, n_reg)),
        substitute=gens[3].random((days, n_sku, n_reg)) if substitution else None,
    )


def _cube(
    df: pl.DataFrame, value: str, *, skus: list[str], regions: list[str], start: dt.date, days: int
) -> Array:
    out = np.zeros((days, len(skus), len(regions)))
    s_ix = {v: i for i, v in enumerate(skus)}
    r_ix = {v: i for i, v in enumerate(regions)}
    end = start + dt.timedelta(days=days)
    keep = df.filter(
        pl.col("sku").is_in(skus)
        & pl.col("location").is_in(regions)
        & (pl.col("date") >= start)
        & (pl.col("date") < end)
    )
    t = keep.select((pl.col("date") - pl.lit(start)).dt.total_days())["date"].to_numpy()
    k = keep["sku"].replace_strict(s_ix, return_dtype=pl.Int64).to_numpy()
    g = keep["location"].replace_strict(r_ix, return_dtype=pl.Int64).to_numpy()
    np.add.at(out, (t, k, g), keep[value].cast(pl.Float64).fill_null(0.0).to_numpy())
    return out


def from_forecast(
    forecast: pl.DataFrame, *, skus: list[str], regions: list[str], start: dt.date, days: int
) -> DemandModel:
    """Daily mean and variance from a forecast table (``mean``, ``p10``, ``p90``)."""
    last = forecast["date"].max()
    need = start + dt.timedelta(days=days - 1)
    if last is None or last < need:  # type: ignore[operator]
        raise InputDataError(
            f"forecast: ends on {last!s}, the simulation needs days up to {need}; "
            "forecast a longer horizon"
        )
    fc = forecast.with_columns(
        ((pl.col("p90") - pl.col("p10")).clip(0, None) / _Z_SPAN).alias("_sd")
        if {"p10", "p90"} <= set(forecast.columns)
        else pl.lit(0.0).alias("_sd")
    )
    kw = {"skus": skus, "regions": regions, "start": start, "days": days}
    mean = np.maximum(_cube(fc, "mean", **kw), 0.0)  # type: ignore[arg-type]
    sd = _cube(fc, "_sd", **kw)  # type: ignore[arg-type]
    return DemandModel(mean=mean, var=np.maximum(sd**2, mean))


def from_actuals(
    actuals: pl.DataFrame, *, skus: list[str], regions: list[str], start: dt.date, days: int
) -> DemandModel:
    """Demand replayed from actual sales (``sku, location, date, units``)."""
    cube = _cube(actuals, "units", skus=skus, regions=regions, start=start, days=days)
    counts: Array = np.round(np.maximum(cube, 0.0)).astype(np.float64)
    return DemandModel(mean=counts, var=counts, counts=counts)


def scaled(model: DemandModel, factor: Array) -> DemandModel:
    """Demand times ``factor`` (broadcast over (days, skus, regions)); the spread keeps its
    ratio to the mean."""
    f = np.asarray(factor, dtype=np.float64)
    counts = None if model.counts is None else np.asarray(model.counts * f, dtype=np.float64)
    return DemandModel(
        mean=np.asarray(model.mean * f, dtype=np.float64),
        var=np.asarray(model.var * f, dtype=np.float64),
        counts=counts,
    )


def sample(model: DemandModel, u: Array) -> Array:
    """Whole-unit demand at the uniforms ``u`` (same shape as the model).

    Poisson where the variance does not exceed the mean, negative binomial with that mean
    and variance elsewhere; replayed counts with a fractional part (after scaling) are
    rounded up with probability equal to that part.
    """
    from scipy import stats

    if model.counts is not None:
        return np.floor(model.counts + u)
    mean, var = model.mean, model.var
    out = np.zeros_like(mean)
    pois = (var <= mean * (1 + 1e-9)) & (mean > 0)
    if pois.any():
        out[pois] = stats.poisson.ppf(u[pois], mean[pois])
    nb = (var > mean * (1 + 1e-9)) & (mean > 0)
    if nb.any():
        m, v = mean[nb], var[nb]
        n = m * m / (v - m)
        out[nb] = stats.nbinom.ppf(u[nb], n, n / (n + m))
    return np.nan_to_num(out, nan=0.0, posinf=0.0)
