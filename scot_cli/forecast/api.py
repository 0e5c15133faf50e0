"""Frames in, frames out: ``forecast``, ``evaluate`` and ``decide_from_inputs``."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from scot_cli.errors import InputDataError, UsageError
from scot_cli.forecast.engine import DEFAULT_WINDOWS, Fit, Pooled, forecast_arrays
from scot_cli.forecast.events import cell_lifts, event_cells, learn_lifts, lift_matrix
from scot_cli.forecast.metrics import demand_class, fold_terms, metrics_frame, series_metrics
from scot_cli.forecast.panel import FREQS, Bounds, Panel, build_panel, own_end
from scot_cli.forecast.registry import MODELS, family
from scot_cli.forecast.schema import DEFAULT_QUANTILES, quantile_column
from scot_cli.validate import MAX_HORIZON

Array = NDArray[np.float64]
Progress = Callable[[int, int], None] | None

#: Series per batch: bounds memory (models x origins x batch x horizon floats).
BATCH_ROWS = 20_000
#: ``--align`` choices: one calendar for all series (a missing tail is zero sales), or each
#: series forecast from its own last period.
ALIGNS = ("grid", "own-end")


@dataclass(frozen=True)
class Prepared:
    """A panel with its event cells (lifted) and the per-row item category."""

    panel: Panel
    cells: pl.DataFrame
    row_category: pl.Series | None


def check_options(
    *,
    horizon: int,
    quantiles: Sequence[float],
    model: str,
    freq: str,
    folds: int = 1,
    align: str = "grid",
) -> list[float]:
    """Validate options; return the quantiles to produce (requested plus the defaults)."""
    if align not in ALIGNS:
        raise UsageError(f"--align: must be one of {', '.join(ALIGNS)}, got {align!r}")
    if horizon < 1:
        raise UsageError(f"--horizon: must be a whole number of periods >= 1, got {horizon}")
    if horizon > MAX_HORIZON:
        raise UsageError(f"--horizon: at most {MAX_HORIZON:,} periods, got {horizon:,}")
    if folds < 1:
        raise UsageError(f"--folds: must be >= 1, got {folds}")
    if freq not in FREQS:
        raise UsageError(f"--freq: must be one of {', '.join(FREQS)}, got {freq!r}")
    if model not in MODELS:
        raise UsageError(f"--model: unknown model {model!r} (known: {', '.join(MODELS)})")
    qs = list(quantiles)
    bad = [q for q in qs if not 0 < q < 1]
    if bad:
        raise UsageError(f"--quantiles: each must lie strictly between 0 and 1, got {bad[0]:g}")
    if any(b <= a for a, b in itertools.pairwise(qs)):
        raise UsageError(
            "--quantiles: list them in increasing order without repeats, e.g. 0.1,0.5,0.9"
        )
    names = {quantile_column(q) for q in qs}
    if len(names) < len(qs):
        raise UsageError(
            "--quantiles: two quantiles round to the same column name pNN; use whole percentages"
        )
    merged = {quantile_column(q): q for q in (*DEFAULT_QUANTILES, *qs)}
    return sorted(merged.values())


def unknown_event_skus(events: pl.DataFrame | None, known: pl.Series) -> list[str]:
    """SKUs named in the events table that are neither in the sales nor in the items."""
    if events is None or "sku" not in events.columns:
        return []
    named = events["sku"].drop_nulls().unique()
    return sorted(named.filter(~named.is_in(known.implode())).to_list())


def prepare(
    sales: pl.DataFrame,
    *,
    freq: str,
    items: pl.DataFrame | None,
    events: pl.DataFrame | None,
    edges: Bounds | None = None,
    align: str = "grid",
) -> Prepared:
    """Build the panel and its event cells with learned (or planned) lifts; ``edges`` are the
    bounds of the whole table when ``sales`` is a partition of it. ``align="own-end"`` moves
    each series so that it ends on the last period (:func:`scot_cli.forecast.panel.own_end`),
    and its event cells with it."""
    if sales.height == 0:
        raise InputDataError("sales: no rows; a forecast needs some history")
    panel = build_panel(sales, freq=freq, edges=edges)
    categories = items.select("sku", "category") if items is not None else None
    row_category = None
    if categories is not None:
        row_category = panel.keys.join(categories, on="sku", how="left", maintain_order="left")[
            "category"
        ]
    cells = event_cells(
        panel.keys,
        start=panel.start,
        freq=freq,
        events=events,
        categories=categories,
        sales_cells=panel.event_cells,
    )
    if align == "own-end":
        panel = own_end(panel)
        assert panel.offset is not None
        cells = _moved(cells, panel.offset)
    return Prepared(panel, cells, row_category)


def _moved(cells: pl.DataFrame, offset: NDArray[np.int64]) -> pl.DataFrame:
    """Event cells moved with their rows by ``offset`` periods."""
    if cells.height == 0:
        return cells
    rows = cells["_row"].to_numpy().astype(np.int64)
    moved = cells["_t"].to_numpy() + offset[rows]
    return cells.with_columns(pl.Series("_t", moved, dtype=cells.schema["_t"]))


def _lifted(
    prep: Prepared, n_train: int, lifts: pl.DataFrame | None = None
) -> tuple[Array, pl.DataFrame]:
    """History up to ``n_train`` divided by event lifts learned on it (or given), and all
    cells' lifts."""
    y = prep.panel.y[:, :n_train]
    if lifts is None:
        lifts = learn_lifts(y, prep.cells, season=prep.panel.season, row_category=prep.row_category)
    cells = cell_lifts(prep.cells, lifts, prep.row_category)
    if cells.height == 0 and y.flags.c_contiguous:  # nothing to divide: no copy
        return y, cells
    past = cells.filter(pl.col("_t") < n_train)
    y = y.copy()
    rows, ts = past["_row"].to_numpy(), past["_t"].to_numpy()
    y[rows, ts] /= np.where(past["lift"].to_numpy() > 0, past["lift"].to_numpy(), 1.0)
    return y, cells


def _fit(
    y: Array,
    *,
    horizon: int,
    season: int,
    quantiles: Sequence[float],
    model: str,
    windows: int,
    progress: Progress,
    seed: int = 0,
    coef: tuple[Array, Array] | None = None,
    common: Pooled | None = None,
) -> Fit:
    """Forecast in batches of rows so that memory stays bounded; progress counts models
    fitted over all batches. ``coef`` (global model) and ``common`` (conformal) are learned
    per batch unless given; the result's ``common`` is the first batch's."""
    extra: dict[str, object] = {"seed": seed}
    if coef is not None:
        extra["coef"] = coef
    parts = []
    n = y.shape[0]
    batches = max(1, -(-n // BATCH_ROWS))
    for b in range(batches):
        step = None
        if progress is not None:

            def step(done: int, total: int, b: int = b) -> None:
                progress(b * total + done, batches * total)

        parts.append(
            forecast_arrays(
                y[b * BATCH_ROWS : (b + 1) * BATCH_ROWS],
                horizon=horizon,
                season=season,
                quantiles=quantiles,
                model=model,
                windows=windows,
                progress=step,
                extra=extra,
                common=common,
            )
        )
    return Fit(
        mean=np.concatenate([p.mean for p in parts]),
        quantiles=np.concatenate([p.quantiles for p in parts]),
        model=np.concatenate([p.model for p in parts]),
        common=parts[0].common,
    )


def _lifted_fit(
    prep: Prepared,
    n_train: int,
    *,
    horizon: int,
    quantiles: Sequence[float],
    model: str,
    windows: int,
    progress: Progress,
    seed: int = 0,
) -> Fit:
    y, cells = _lifted(prep, n_train)
    fit = _fit(
        y,
        horizon=horizon,
        season=prep.panel.season,
        quantiles=quantiles,
        model=model,
        windows=windows,
        progress=progress,
        seed=seed,
    )
    ahead = lift_matrix(cells, n=y.shape[0], first=n_train, count=horizon)
    return Fit(mean=fit.mean * ahead, quantiles=fit.quantiles * ahead[:, :, None], model=fit.model)


def forecast(
    sales: pl.DataFrame,
    *,
    horizon: int,
    items: pl.DataFrame | None = None,
    events: pl.DataFrame | None = None,
    freq: str = "D",
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    model: str = "auto",
    windows: int = DEFAULT_WINDOWS,
    seed: int = 0,
    progress: Progress = None,
    batch_size: int | None = None,
    align: str = "grid",
    warn: Callable[[str], None] | None = None,
) -> pl.DataFrame:
    """Multi-horizon quantile forecast of every (sku, location) in ``sales``.

    Parameters
    ----------
    sales, items, events
        Validated input tables (items and events optional).
    horizon
        Periods ahead (``H``); rows for horizons 1..H.
    freq
        ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``; finer sales are summed into coarser
        periods.
    quantiles
        Quantiles in (0, 1), increasing; 0.1, 0.5 and 0.9 are always included.
    model
        A name from :data:`scot_cli.forecast.registry.MODELS`.
    windows
        Backtest origins for the model choice and the conformal quantiles.
    seed
        Seed of the sample of series the global model and the pooled conformal quantile
        learn from (every series of a catalogue of up to 20,000).
    batch_size
        Series per partition (None: all at once); see :mod:`scot_cli.forecast.partition`.
        The result does not depend on it.
    align
        ``"grid"``: every series on the sales table's calendar, a series without rows at
        the end has zero sales there; ``"own-end"``: each series forecast from its own last
        period (its rows' ``date`` follow its own end).
    warn
        Called with a message when many series end before the table's last period.

    Returns
    -------
    polars.DataFrame
        The ``forecast`` table: ``sku, location, date, horizon, mean, p.., model``.
    """
    from scot_cli.forecast.partition import forecast_partitions

    qs = check_options(horizon=horizon, quantiles=quantiles, model=model, freq=freq, align=align)
    if sales.height == 0:
        raise InputDataError("sales: no rows; a forecast needs some history")
    n_skus = sales["sku"].n_unique()

    def load(skus: pl.Series) -> pl.DataFrame:
        if skus.len() == n_skus:
            return sales
        return sales.filter(pl.col("sku").is_in(skus.implode()))

    frames = forecast_partitions(
        sales.lazy(),
        load,
        horizon=horizon,
        quantiles=qs,
        items=items,
        events=events,
        freq=freq,
        model=model,
        windows=windows,
        seed=seed,
        batch_size=batch_size,
        progress=progress,
        align=align,
        warn=warn,
    )
    return pl.concat(list(frames))


def to_frame(panel: Panel, fit: Fit, *, first: int, quantiles: Sequence[float]) -> pl.DataFrame:
    """Long forecast rows for ``fit`` made at period ``first`` of ``panel``."""
    n, horizon = fit.mean.shape
    cols: dict[str, Any] = {
        "sku": np.repeat(panel.keys["sku"].to_numpy(), horizon),
        "location": np.repeat(panel.keys["location"].to_numpy(), horizon),
        "date": panel.row_dates(first, horizon).ravel(),
        "horizon": np.tile(np.arange(1, horizon + 1, dtype=np.int64), n),
        "mean": fit.mean.ravel(),
    }
    for i, q in enumerate(quantiles):
        cols[quantile_column(q)] = fit.quantiles[:, :, i].ravel()
    cols["model"] = np.repeat(fit.model, horizon)
    return pl.DataFrame(cols).with_columns(pl.col("date").cast(pl.Date))


def evaluate(
    sales: pl.DataFrame,
    *,
    horizon: int,
    folds: int,
    items: pl.DataFrame | None = None,
    events: pl.DataFrame | None = None,
    freq: str = "D",
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    model: str = "auto",
    windows: int = DEFAULT_WINDOWS,
    seed: int = 0,
    progress: Progress = None,
    align: str = "grid",
) -> pl.DataFrame:
    """Rolling-origin backtest: ``folds`` origins ``T - k H``; metrics per series, per demand
    class, per model family (of the model behind each series at the last origin) and
    overall for ``model``, the zero forecast and seasonal naive.

    Lifts are re-learned at each origin from the history before it; the events inside the
    test window are known in advance (they are planned).
    """
    qs = check_options(
        horizon=horizon, quantiles=quantiles, model=model, freq=freq, folds=folds, align=align
    )
    prep = prepare(sales, freq=freq, items=items, events=events, align=align)
    y = prep.panel.y
    cuts = [y.shape[1] - k * horizon for k in range(folds, 0, -1)]
    if cuts[0] < 2:
        raise InputDataError(
            f"sales: {y.shape[1]} periods of history cannot hold {folds} "
            f"fold(s) of {horizon} periods; lower --folds or --horizon"
        )
    classes = demand_class(y[:, : cuts[0]])
    names = list(dict.fromkeys([model, "zero", "seasonal_naive"]))
    frames = []
    for m_i, name in enumerate(names):
        terms = []
        labels = np.full(y.shape[0], name, dtype=np.str_)
        for k, c in enumerate(cuts):
            fit = _lifted_fit(
                prep,
                c,
                horizon=horizon,
                quantiles=qs,
                model=name,
                windows=windows,
                progress=None,
                seed=seed,
            )
            terms.append(
                fold_terms(
                    y[:, :c],
                    y[:, c : c + horizon],
                    fit.mean,
                    fit.quantiles,
                    qs,
                    season=prep.panel.season,
                )
            )
            labels = fit.model
            if progress is not None:
                progress(m_i * len(cuts) + k + 1, len(names) * len(cuts))
        values = series_metrics(terms, qs, classes)
        families = np.asarray([family(str(m)) for m in np.unique(labels)], dtype=np.str_)
        by_row = families[np.searchsorted(np.unique(labels), labels)]
        frames.append(metrics_frame(prep.panel.keys, name, values, qs, classes, by_row))
    return pl.concat(frames)


def decide_from_inputs(
    inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]
) -> pl.DataFrame:
    """Recompute the forecast from inputs by role (``sales``, optional ``items``, ``events``)
    and the parameters ``scot forecast`` recorded (``horizon``, ``freq``, ``quantiles``,
    ``model``, ``windows``, ``seed``, ``align``)."""
    return forecast(
        inputs["sales"],
        items=inputs.get("items"),
        events=inputs.get("events"),
        horizon=int(params["horizon"]),
        freq=str(params.get("freq", "D")),
        quantiles=[float(q) for q in params.get("quantiles", DEFAULT_QUANTILES)],
        model=str(params.get("model", "auto")),
        windows=int(params.get("windows", DEFAULT_WINDOWS)),
        seed=int(params.get("seed", 0)),
        align=str(params.get("align", "grid")),
    )
