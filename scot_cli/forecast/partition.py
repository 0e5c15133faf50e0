"""A forecast of a catalogue in partitions of skus, so that memory is bounded by a partition.

Every series is forecast from its own history, but four things pool over series. A
partitioned run computes each once for the whole catalogue, so that a row does not depend on
the partition it fell in:

- event lifts: the observed and baseline demand of past event cells, summed per event (and
  category) over every partition in a first pass that builds panels but fits no model
  (:func:`scot_cli.forecast.events.lift_sums`); skipped when there are no events;
- the global model's coefficients and the conformal score quantile that each series' own
  quantile is shrunk towards: both learned on a seeded sample of skus holding at most
  :data:`TRAIN_SERIES` series (every series of a smaller catalogue), forecast before the
  partitions; the sample's rows are kept and emitted in their partition;
- cold-start peer means: forecasts of the established series summed per (category, brand,
  location, horizon) over every partition; the partitions' forecasts wait in a spill (a
  temporary file the caller provides) until the means are known.

A catalogue within one partition and within the sample is forecast exactly as one frame.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import polars as pl

from scot_cli.errors import InputDataError
from scot_cli.forecast import coldstart, global_model
from scot_cli.forecast.engine import Fit, Pooled, origins
from scot_cli.forecast.events import (
    LIFTS_SCHEMA,
    events_before,
    learn_lifts,
    lift_matrix,
    lift_sums,
    lifts_from_sums,
    merge_lift_sums,
)
from scot_cli.forecast.metrics import demand_class
from scot_cli.forecast.panel import FREQS, Bounds, bounds
from scot_cli.forecast.registry import SMOOTH_CLASSES
from scot_cli.forecast.stages import (
    Array,
    Prepared,
    Progress,
    fit_rows,
    lifted,
    prepare,
    to_frame,
)

#: Series per partition unless told otherwise: the model stage's batch, about 1.5 GiB.
DEFAULT_BATCH_SERIES = 20_000
#: Most series in the sample the global model and the pooled score quantile learn from.
TRAIN_SERIES = 20_000
KEYS = ["sku", "location"]

#: Validated sales rows of the given (sorted, unique) skus.
Loader = Callable[[pl.Series], pl.DataFrame]


class Spill(Protocol):
    """Where partition forecasts wait for the cold-start peer means, in order."""

    def put(self, frame: pl.DataFrame) -> None: ...

    def frames(self) -> Iterator[pl.DataFrame]: ...


class MemorySpill:
    """A :class:`Spill` in memory (for frames already in memory)."""

    def __init__(self) -> None:
        self._frames: list[pl.DataFrame] = []

    def put(self, frame: pl.DataFrame) -> None:
        self._frames.append(frame)

    def frames(self) -> Iterator[pl.DataFrame]:
        while self._frames:
            yield self._frames.pop(0)


#: Share of series ending before the table's last period above which a run warns.
EARLY_SHARE = 0.1


@dataclass(frozen=True)
class Catalogue:
    """What every partition needs to know of the whole sales table; ``early`` counts the
    series whose last row falls in an earlier period than the table's last."""

    keys: pl.DataFrame
    edges: Bounds
    has_events: bool
    early: int = 0


def catalogue(sales: pl.LazyFrame, *, freq: str) -> Catalogue:
    """Series keys (sorted), date bounds, whether the sales tag events and how many series
    end early, from a scan."""
    ends = sales.group_by(KEYS).agg(pl.col("date").max()).collect(engine="streaming")
    keys = ends.select(KEYS).sort(KEYS)
    edges = bounds(sales, freq)
    if keys.height == 0 or edges is None:
        raise InputDataError("sales: no rows; a forecast needs some history")
    trunc = FREQS[freq][1]
    last = pl.lit(edges.last).dt.truncate(trunc)
    early = int(ends.select((pl.col("date").dt.truncate(trunc) < last).sum()).item())
    has_events = "event" in sales.collect_schema().names() and bool(
        sales.select(pl.col("event").is_not_null().any()).collect(engine="streaming").item()
    )
    return Catalogue(keys, edges, has_events, early)


def partitions(keys: pl.DataFrame, batch_size: int | None) -> list[pl.Series]:
    """Sorted skus cut into runs of about ``batch_size`` series (a sku is never split, so a
    partition may exceed it by the locations of one sku less one)."""
    per_sku = keys.group_by("sku", maintain_order=True).len()
    if batch_size is None or keys.height <= batch_size:
        return [per_sku["sku"]]
    end = np.cumsum(per_sku["len"].to_numpy())
    part = (end - 1) // max(batch_size, 1)
    cuts = np.flatnonzero(np.diff(part)) + 1
    skus = per_sku["sku"]
    return [skus.slice(a, b - a) for a, b in zip([0, *cuts], [*cuts, skus.len()], strict=True)]


def sample_skus(keys: pl.DataFrame, seed: int) -> pl.Series:
    """Seeded sample of skus with at most :data:`TRAIN_SERIES` series (at least one sku);
    every sku when the catalogue is that small. Sorted."""
    per_sku = keys.group_by("sku", maintain_order=True).len()
    if keys.height <= TRAIN_SERIES:
        return per_sku["sku"]
    order = np.random.default_rng(seed).permutation(per_sku.height)
    counts = np.cumsum(per_sku["len"].to_numpy()[order])
    take = max(1, int(np.searchsorted(counts, TRAIN_SERIES, side="right")))
    return per_sku["sku"].gather(np.sort(order[:take]))


@dataclass(frozen=True)
class Trained:
    """What the sample hands to every partition (:meth:`PartitionRun.train`)."""

    coef: tuple[Array, Array] | None
    common: Pooled | None
    keys: pl.DataFrame
    fit: Fit


def forecast_partitions(
    sales: pl.LazyFrame,
    load: Loader,
    *,
    horizon: int,
    quantiles: Sequence[float],
    items: pl.DataFrame | None = None,
    events: pl.DataFrame | None = None,
    freq: str = "D",
    model: str = "auto",
    windows: int,
    seed: int = 0,
    batch_size: int | None = DEFAULT_BATCH_SERIES,
    progress: Progress = None,
    spill: Spill | None = None,
    align: str = "grid",
    warn: Callable[[str], None] | None = None,
) -> Iterator[pl.DataFrame]:
    """Forecast frames, one per partition of skus in sku order, each sorted by key.

    Parameters
    ----------
    sales
        The sales table as a (lazy) scan, for its keys and date bounds.
    load
        Reads the validated sales rows of a partition's skus.
    quantiles
        The quantiles to produce (:attr:`scot_cli.forecast.options.ForecastOptions.levels`).
    batch_size
        Series per partition (None: one partition).
    spill
        Holds partition forecasts until the cold-start peer means are known (with ``items``
        and more than one partition); in memory by default.
    align
        ``"grid"`` or ``"own-end"`` (:func:`scot_cli.forecast.stages.prepare`).
    warn
        Called with a message when more than :data:`EARLY_SHARE` of the series end before
        the table's last period and ``align`` is ``"grid"``.
    """
    cat = catalogue(sales, freq=freq)
    n_series = cat.keys.height
    if warn is not None and align == "grid" and cat.early > EARLY_SHARE * n_series:
        warn(
            f"sales: {cat.early:,} of {n_series:,} series have no row in the last period "
            f"({cat.edges.last}); their missing tail counts as zero sales. If their records "
            "stop rather than their sales, forecast each from its own end with --align own-end"
        )
    if warn is not None and (note := events_before(events, cat.edges.first)):
        warn(note)
    run = PartitionRun(
        cat=cat,
        parts=partitions(cat.keys, batch_size),
        load=load,
        items=items,
        events=events,
        freq=freq,
        horizon=horizon,
        quantiles=quantiles,
        model=model,
        windows=windows,
        seed=seed,
        progress=progress,
        align=align,
    )
    frames = run.frames()
    if items is None or len(run.parts) == 1:
        yield from frames
        return
    yield from run.cold_started(frames, spill or MemorySpill())


@dataclass
class PartitionRun:
    """One partitioned forecast, step by step: :meth:`frames` runs the steps in this
    process; an engine (:mod:`scot_cli.engine`) maps the per-partition steps
    (:meth:`lift_sums`, :meth:`partition_frame`, :meth:`donor_sums`, :meth:`fill`) over
    workers and reduces their results in partition order, which gives the same frames."""

    cat: Catalogue
    parts: list[pl.Series]
    load: Loader
    items: pl.DataFrame | None
    events: pl.DataFrame | None
    freq: str
    horizon: int
    quantiles: Sequence[float]
    model: str
    windows: int
    seed: int
    progress: Progress = None
    align: str = "grid"
    done: int = 0
    dates: list[dt.date] = field(default_factory=list)

    @property
    def n_periods(self) -> int:
        return self.cat.edges.periods(self.freq)

    def prep(self, skus: pl.Series) -> Prepared:
        return prepare(
            self.load(skus),
            freq=self.freq,
            items=self.items,
            events=self.events,
            edges=self.cat.edges,
            align=self.align,
        )

    def lifts(self, single: Prepared | None) -> pl.DataFrame:
        """Event lifts learned on the whole catalogue."""
        if single is not None:
            panel = single.panel
            return learn_lifts(
                panel.y, single.cells, season=panel.season, row_category=single.row_category
            )
        if not self.needs_lifts():
            return pl.DataFrame(schema=LIFTS_SCHEMA)
        return lifts_from_sums(merge_lift_sums([self.lift_sums(skus) for skus in self.parts]))

    def needs_lifts(self) -> bool:
        """Whether the run has events, so that lifts are learned over the partitions."""
        return (self.events is not None and self.events.height > 0) or self.cat.has_events

    def lift_sums(self, skus: pl.Series) -> pl.DataFrame:
        """One partition's event cells summed (the map step of :meth:`lifts`)."""
        part = self.prep(skus)
        return lift_sums(
            part.panel.y, part.cells, season=part.panel.season, row_category=part.row_category
        )

    def fit(
        self,
        prep: Prepared,
        lifts: pl.DataFrame,
        rows: np.ndarray | None,
        coef: tuple[Array, Array] | None,
        common: Pooled | None,
    ) -> Fit:
        """Forecast ``rows`` of ``prep`` (all when None) with the global model's ``coef``
        and the pooled score quantile ``common`` (learned on these rows when None)."""
        y, cells = lifted(prep, self.n_periods, lifts)
        if rows is not None:
            y = y[rows]
        fit = fit_rows(
            y,
            horizon=self.horizon,
            season=prep.panel.season,
            quantiles=self.quantiles,
            model=self.model,
            windows=self.windows,
            progress=self.step(y.shape[0]),
            seed=self.seed,
            coef=coef,
            common=common,
        )
        self.done += y.shape[0]
        ahead = lift_matrix(
            cells, n=prep.panel.y.shape[0], first=self.n_periods, count=self.horizon
        )
        if rows is not None:
            ahead = ahead[rows]
        return Fit(
            mean=fit.mean * ahead,
            quantiles=fit.quantiles * ahead[:, :, None],
            model=fit.model,
            common=fit.common,
        )

    def step(self, rows: int) -> Progress:
        """Progress of a fit of ``rows`` series in models fitted times series, over the
        catalogue (each series is fitted once: in the sample or in its partition)."""
        report, series, done = self.progress, self.cat.keys.height, self.done
        if report is None:
            return None

        def step(models: int, of: int) -> None:
            report(done * of + rows * models, series * of)

        return step

    def train(self, prep: Prepared, lifts: pl.DataFrame, whole: bool = False) -> Trained:
        """Global model and pooled score quantile learned on ``prep`` (the sample), and the
        sample's own forecast. ``whole``: the sample is the whole catalogue, so when ``auto``
        finds no series there that the global model could forecast (all smooth or erratic),
        it is not trained."""
        coef = None
        if self.model in ("auto", "global"):
            y, _ = lifted(prep, self.n_periods, lifts)
        if self.model == "auto" and whole and np.isin(demand_class(y), SMOOTH_CLASSES).all():
            del y
        elif self.model in ("auto", "global"):
            cuts = origins(
                self.n_periods, horizon=self.horizon, season=prep.panel.season, windows=self.windows
            )
            coef = global_model.train(
                y,
                horizon=self.horizon,
                season=prep.panel.season,
                cutoffs=[*cuts, self.n_periods],
                seed=self.seed,
            )
            del y
        fit = self.fit(prep, lifts, None, coef, None)
        return Trained(coef, fit.common, prep.panel.keys, fit)

    def frames(self) -> Iterator[pl.DataFrame]:
        """Each partition's forecast, sorted; cold-started when the run has one partition,
        else with a ``_short`` column marking the series cold start will replace."""
        single = self.prep(self.parts[0]) if len(self.parts) == 1 else None
        lifts = self.lifts(single)
        sample = sample_skus(self.cat.keys, self.seed)
        whole = single is not None and sample.len() == self.parts[0].len()
        trained = self.train(
            single if whole and single is not None else self.prep(sample), lifts, whole
        )
        for skus in self.parts:
            yield self.partition_frame(skus, lifts, trained, single)
            single = None

    def partition_frame(
        self, skus: pl.Series, lifts: pl.DataFrame, trained: Trained, prep: Prepared | None = None
    ) -> pl.DataFrame:
        """One partition's forecast, sorted (``prep``: the partition already prepared)."""
        prep = prep if prep is not None else self.prep(skus)
        fit = self.splice(prep, lifts, trained)
        frame = self.cold(
            to_frame(prep.panel, fit, first=self.n_periods, quantiles=self.quantiles), prep
        )
        return frame.sort("sku", "location", "date")

    def sample(self, lifts: pl.DataFrame) -> Trained:
        """The sample of a run of several partitions, trained (:meth:`train`)."""
        return self.train(self.prep(sample_skus(self.cat.keys, self.seed)), lifts)

    def splice(self, prep: Prepared, lifts: pl.DataFrame, trained: Trained) -> Fit:
        """The partition's forecast: the sample's rows as forecast in the sample, the rest
        fitted here."""
        at = (
            prep.panel.keys.join(
                trained.keys.with_row_index("_s"), on=KEYS, how="left", maintain_order="left"
            )["_s"]
            .fill_null(-1)
            .to_numpy()
            .astype(np.int64)
        )
        kept = at >= 0
        if kept.all():
            f = trained.fit
            return Fit(mean=f.mean[at], quantiles=f.quantiles[at], model=f.model[at])
        rows = np.flatnonzero(~kept) if kept.any() else None
        fresh = self.fit(prep, lifts, rows, trained.coef, trained.common)
        if not kept.any():
            return fresh
        n, f = kept.size, trained.fit
        mean = np.empty((n, self.horizon))
        quant = np.empty((n, self.horizon, len(self.quantiles)))
        width = max(f.model.dtype.itemsize, fresh.model.dtype.itemsize) // 4
        label = np.empty(n, dtype=f"<U{width}")
        for arr, a, b in ((mean, f.mean, fresh.mean), (quant, f.quantiles, fresh.quantiles)):
            arr[kept], arr[~kept] = a[at[kept]], b
        label[kept], label[~kept] = f.model[at[kept]], fresh.model
        return Fit(mean=mean, quantiles=quant, model=label)

    def cold(self, frame: pl.DataFrame, prep: Prepared) -> pl.DataFrame:
        """Cold start inside a run of one partition; with several, mark the short series."""
        if self.items is None:
            return frame
        observed = (~np.isnan(prep.panel.y)).sum(axis=1)
        self.dates = prep.panel.dates(self.n_periods, self.horizon)
        if len(self.parts) == 1:
            return coldstart.apply(
                frame,
                items=self.items,
                panel_keys=prep.panel.keys,
                observed=observed,
                min_history=prep.panel.min_history,
                dates=self.dates,
                quantiles=self.quantiles,
            )
        short = coldstart.short_series(prep.panel.keys, observed, prep.panel.min_history)
        flag = short.with_columns(pl.lit(True).alias("_short"))
        return frame.join(flag, on=KEYS, how="left", maintain_order="left").with_columns(
            pl.col("_short").fill_null(False)
        )

    def cold_started(self, frames: Iterator[pl.DataFrame], spill: Spill) -> Iterator[pl.DataFrame]:
        """Cold start over partitions: donors summed over all, then each partition filled."""
        assert self.items is not None
        sums = []
        for frame in frames:
            sums.append(self.donor_sums(frame))
            spill.put(frame)
            del frame
        levels, sites = coldstart.peer_levels(sums, self.quantiles)
        unseen = self.unseen()
        for i, frame in enumerate(spill.frames()):
            yield self.fill(frame, unseen[i], levels, sites, self.dates)

    def donor_sums(self, frame: pl.DataFrame) -> pl.DataFrame:
        """A partition's established forecasts summed per peer group (the map step of
        cold start)."""
        assert self.items is not None
        short = frame.filter(pl.col("_short")).select(KEYS)
        return coldstart.donor_sums(frame, items=self.items, short=short, quantiles=self.quantiles)

    def fill(
        self,
        frame: pl.DataFrame,
        unseen: pl.Series,
        levels: list[tuple[list[str], pl.DataFrame]],
        sites: pl.DataFrame,
        dates: list[dt.date],
    ) -> pl.DataFrame:
        """A partition's short and unseen series filled from the peer ``levels``."""
        assert self.items is not None
        short = frame.filter(pl.col("_short")).select(KEYS)
        return coldstart.fill(
            frame.drop("_short"),
            items=self.items,
            short=short,
            unseen=unseen,
            levels=levels,
            sites=sites,
            dates=dates,
            quantiles=self.quantiles,
        ).sort("sku", "location", "date")

    def unseen(self) -> list[pl.Series]:
        """Item skus without sales, by the partition whose sku range holds them."""
        assert self.items is not None
        known = self.cat.keys["sku"].unique()
        new = self.items["sku"].filter(~self.items["sku"].is_in(known.implode())).sort()
        lows = np.array([p[0] for p in self.parts], dtype=object)
        at = np.maximum(np.searchsorted(lows, new.to_numpy(), side="right") - 1, 0)
        return [new.filter(pl.Series(at == i)) for i in range(len(self.parts))]
