"""Forecast accuracy: demand classes and scaled error metrics per series.

- RMSSE and scaled pinball loss use the series' in-sample one-step changes as the scale
  (Makridakis, Spiliotis & Assimakopoulos (2022), *M5 accuracy/uncertainty competitions*,
  International Journal of Forecasting 38(4)).
- MASE (Hyndman & Koehler (2006), IJF 22(4)) is reported only for smooth series, scaled by the
  in-sample seasonal-naive error; on intermittent series a zero forecast wins on it.
- Demand classes by average demand interval (ADI) and squared coefficient of variation of the
  non-zero sizes (CV2): Syntetos, Boylan & Croston (2005), JORS 56(5), cut-offs 1.32 and 0.49.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import polars as pl
from numpy.typing import NDArray

Array = NDArray[np.float64]

ADI_CUT = 1.32
CV2_CUT = 0.49
CLASSES = ("smooth", "erratic", "intermittent", "lumpy")


def demand_class(y: Array) -> NDArray[np.str_]:
    """Class of each series' observed history (an all-zero series is intermittent)."""
    obs = ~np.isnan(y)
    pos = np.where(obs, y, 0.0) > 0
    nz = pos.sum(axis=1)
    adi = np.where(nz > 0, obs.sum(axis=1) / np.maximum(nz, 1), np.inf)
    sizes = np.where(pos, y, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows are handled below
        mean = np.nanmean(sizes, axis=1)
        cv2 = np.nan_to_num(np.nanvar(sizes, axis=1) / (mean * mean), nan=0.0)
    idx = (adi >= ADI_CUT).astype(int) * 2 + (cv2 >= CV2_CUT).astype(int)
    out: NDArray[np.str_] = np.asarray(CLASSES, dtype=np.str_)[idx]
    return out


def _mean_abs_diff(y: Array, lag: int, power: int) -> Array:
    if y.shape[1] <= lag:
        return np.full(y.shape[0], np.nan)
    d = y[:, lag:] - y[:, :-lag]
    ok = ~np.isnan(d)
    s = np.where(ok, np.abs(d) ** power, 0.0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
    return np.where((ok.sum(axis=1) > 0) & (s > 0), s, np.nan)


def fold_terms(
    train: Array,
    actual: Array,
    mean: Array,
    quant: Array,
    quantiles: Sequence[float],
    *,
    season: int,
) -> dict[str, Array]:
    """Per-series sums of one backtest fold: keys ``sq, ae, n, bias, actual`` and
    ``pin{i}``/``cov{i}``/``below{i}`` per quantile (pinball loss already divided by the
    fold's scale; counts of actuals at or below and strictly below the quantile)."""
    ok = ~np.isnan(actual)
    a = np.where(ok, actual, 0.0)
    n = ok.sum(axis=1).astype(np.float64)
    s2 = _mean_abs_diff(train, 1, 2)
    s1 = _mean_abs_diff(train, 1, 1)
    ss = _mean_abs_diff(train, max(season, 1), 1)
    err = np.where(ok, a - mean, 0.0)
    out = {
        "sq": (err * err).sum(axis=1) / s2,
        "ae": np.abs(err).sum(axis=1) / ss,
        "n": n,
        "bias": np.where(ok, mean - a, 0.0).sum(axis=1),
        "actual": a.sum(axis=1),
    }
    for i, q in enumerate(quantiles):
        e = np.where(ok, a - quant[:, :, i], 0.0)
        pin = np.maximum(q * e, (q - 1) * e)
        out[f"pin{i}"] = pin.sum(axis=1) / s1
        out[f"cov{i}"] = np.where(ok, a <= quant[:, :, i] + 1e-9, False).sum(axis=1)
        out[f"below{i}"] = np.where(ok, a < quant[:, :, i] - 1e-9, False).sum(axis=1)
    return out


def series_metrics(
    terms: Sequence[dict[str, Array]], quantiles: Sequence[float], classes: NDArray[np.str_]
) -> dict[str, Array]:
    """Combine fold sums into per-series metric arrays keyed ``rmsse``, ``mase``,
    ``bias_pct``, ``spl{i}``, ``coverage{i}``, ``below{i}`` (NaN where undefined)."""
    tot = {k: np.sum([t[k] for t in terms], axis=0) for k in terms[0]}
    n = np.where(tot["n"] > 0, tot["n"], np.nan)
    with np.errstate(all="ignore"):
        out = {
            "rmsse": np.sqrt(tot["sq"] / n),
            "mase": np.where(classes == "smooth", tot["ae"] / n, np.nan),
            "bias_pct": np.where(tot["actual"] > 0, 100 * tot["bias"] / tot["actual"], np.nan),
        }
        for i in range(len(quantiles)):
            out[f"spl{i}"] = tot[f"pin{i}"] / n
            out[f"coverage{i}"] = tot[f"cov{i}"] / n
            out[f"below{i}"] = tot[f"below{i}"] / n
    return out


def metrics_frame(
    keys: pl.DataFrame,
    model: str,
    values: dict[str, Array],
    quantiles: Sequence[float],
    classes: NDArray[np.str_],
    families: NDArray[np.str_] | None = None,
) -> pl.DataFrame:
    """Long rows ``level, sku, location, demand_class, family, model, metric, quantile,
    value, n_series`` at series level, per demand class, per model family (the family of
    the model behind each series, ``families``; the model's own when not given) and overall
    (means of finite values)."""
    if families is None:
        families = np.full(keys.height, model, dtype=np.str_)
    specs: list[tuple[str, str, float | None]] = [
        ("rmsse", "rmsse", None),
        ("mase", "mase", None),
        ("bias_pct", "bias_pct", None),
    ]
    for i, qv in enumerate(quantiles):
        specs += [
            (f"spl{i}", "spl", qv),
            (f"coverage{i}", "coverage", qv),
            (f"below{i}", "coverage_below", qv),
        ]
    frames = []
    for key, metric, q in specs:
        frames.append(
            keys.with_columns(
                pl.lit("series").alias("level"),
                pl.Series("demand_class", classes),
                pl.Series("family", families, dtype=pl.String),
                pl.lit(model).alias("model"),
                pl.lit(metric).alias("metric"),
                pl.lit(q, pl.Float64).alias("quantile"),
                pl.Series("value", values[key]).fill_nan(None),
                pl.lit(1, pl.Int64).alias("n_series"),
            )
        )
    series = pl.concat(frames)
    agg = [pl.col("value").mean(), pl.col("value").count().cast(pl.Int64).alias("n_series")]
    by = ["model", "metric", "quantile"]
    every = pl.lit("all").alias
    per_class = (
        series.group_by(["demand_class", *by])
        .agg(agg)
        .with_columns(pl.lit("class").alias("level"), every("family"))
    )
    per_family = (
        series.group_by(["family", *by])
        .agg(agg)
        .with_columns(pl.lit("family").alias("level"), every("demand_class"))
    )
    overall = (
        series.group_by(by)
        .agg(agg)
        .with_columns(pl.lit("overall").alias("level"), every("demand_class"), every("family"))
    )
    cols = [
        "level",
        "sku",
        "location",
        "demand_class",
        "family",
        "model",
        "metric",
        "quantile",
        "value",
        "n_series",
    ]
    none = [pl.lit(None, pl.String).alias("sku"), pl.lit(None, pl.String).alias("location")]
    return pl.concat(
        [
            series.select(cols),
            per_class.with_columns(none).select(cols).sort(cols[:-2], nulls_last=True),
            per_family.with_columns(none).select(cols).sort(cols[:-2], nulls_last=True),
            overall.with_columns(none).select(cols).sort(cols[:-2], nulls_last=True),
        ]
    )
