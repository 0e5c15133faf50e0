"""The stages every forecast goes through, shared by the one-frame, partitioned and
backtest paths: a panel with its event cells, history divided by event lifts, a fit in
batches of rows, and the long output frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from scot_cli.errors import InputDataError
from scot_cli.forecast.engine import Fit, Pooled, forecast_arrays
from scot_cli.forecast.events import cell_lifts, event_cells, learn_lifts, lift_matrix
from scot_cli.forecast.metrics import fold_terms
from scot_cli.forecast.panel import Bounds, Panel, build_panel, own_end
from scot_cli.forecast.schema import quantile_column

__all__ = [
    "BATCH_ROWS",
    "Array",
    "Prepared",
    "Progress",
    "fit_rows",
    "lifted",
    "lifted_fit",
    "prepare",
    "to_frame",
]

Array = NDArray[np.float64]
Progress = Callable[[int, int], None] | None

#: Series per batch: bounds memory (models x origins x batch x horizon floats).
BATCH_ROWS = 20_000


@dataclass(frozen=True)
class Prepared:
    """A panel with its event cells (lifted) and the per-row item category."""

    panel: Panel
    cells: pl.DataFrame
    row_category: pl.Series | None


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


def lifted(
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


def fit_rows(
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


def lifted_fit(
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
    y, cells = lifted(prep, n_train)
    fit = fit_rows(
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


def scored_fold(
    prep: Prepared,
    n_train: int,
    *,
    horizon: int,
    quantiles: Sequence[float],
    model: str,
    windows: int,
    seed: int = 0,
) -> tuple[Any, NDArray[Any]]:
    """One backtest fold: ``model`` fitted on the first ``n_train`` periods and scored on
    the next ``horizon`` (:func:`scot_cli.forecast.metrics.fold_terms`); returns the fold's
    terms and the model each series used. The local and the engine backtests both call it."""
    y = prep.panel.y
    fit = lifted_fit(
        prep,
        n_train,
        horizon=horizon,
        quantiles=quantiles,
        model=model,
        windows=windows,
        progress=None,
        seed=seed,
    )
    terms = fold_terms(
        y[:, :n_train],
        y[:, n_train : n_train + horizon],
        fit.mean,
        fit.quantiles,
        quantiles,
        season=prep.panel.season,
    )
    return terms, fit.model


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
