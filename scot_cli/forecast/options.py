"""The options of a forecast and of its backtest: validated on construction, recorded as
the run's parameters (:meth:`scot_cli.options.Options.params`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from scot_cli.forecast.engine import DEFAULT_WINDOWS
from scot_cli.forecast.registry import ALIGNS, MODELS, PERIODS
from scot_cli.forecast.schema import DEFAULT_QUANTILES, quantile_column
from scot_cli.options import OptionError, Options, at_least, require
from scot_cli.validate import MAX_HORIZON

__all__ = ["EvaluateOptions", "ForecastOptions"]


@dataclass(frozen=True, kw_only=True)
class ForecastOptions(Options):
    """What ``scot forecast`` is asked: one field per option of the command.

    Parameters
    ----------
    horizon
        Periods ahead (``H``); the forecast has rows for horizons 1..H.
    freq
        Period length, a name of :data:`scot_cli.forecast.registry.PERIODS` (``"D"``,
        ``"W"``, ``"M"``, ``"Q"``, ``"Y"``); finer sales are summed into periods.
    quantiles
        Quantiles to write, increasing, strictly between 0 and 1, distinct as ``pNN``
        columns; 0.1, 0.5 and 0.9 are always written too (:attr:`levels`).
    model
        A name of :data:`scot_cli.forecast.registry.MODELS` (``"auto"`` by default).
    seed
        Seed of the sample of series the global model and the pooled conformal quantile
        learn from.
    align
        ``"grid"`` or ``"own-end"`` (:data:`scot_cli.forecast.registry.ALIGNS`).
    windows
        Backtest origins for the model choice and the conformal quantiles (no flag; recorded
        so that a re-run uses the same).
    """

    horizon: int
    freq: str = "D"
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    model: str = "auto"
    seed: int = 0
    align: str = "grid"
    windows: int = DEFAULT_WINDOWS

    def __post_init__(self) -> None:
        # a list from a notebook or from JSON params: one canonical, hashable form
        object.__setattr__(self, "quantiles", tuple(float(q) for q in self.quantiles))
        super().__post_init__()

    def check(self) -> None:
        at_least("horizon", self.horizon, 1)
        require(
            self.horizon <= MAX_HORIZON,
            "horizon",
            f"at most {MAX_HORIZON:,} periods, got {self.horizon:,}",
        )
        PERIODS.check(self.freq)
        MODELS.check(self.model)
        ALIGNS.check(self.align)
        at_least("seed", self.seed, 0)
        at_least("windows", self.windows, 1)
        _check_quantiles(self.quantiles)

    @property
    def levels(self) -> list[float]:
        """The quantiles produced: those asked for and the defaults, increasing."""
        merged = {quantile_column(q): q for q in (*DEFAULT_QUANTILES, *self.quantiles)}
        return sorted(merged.values())


@dataclass(frozen=True, kw_only=True)
class EvaluateOptions(ForecastOptions):
    """What ``scot forecast evaluate`` is asked: the forecast's options and the number of
    backtest origins ``folds`` (origins ``T - k H``, k = 1..folds)."""

    folds: int = 3

    def check(self) -> None:
        super().check()
        at_least("folds", self.folds, 1)


def _check_quantiles(quantiles: tuple[float, ...]) -> None:
    require(len(quantiles) > 0, "quantiles", "give at least one quantile, e.g. 0.1,0.5,0.9")
    for q in quantiles:
        require(0 < q < 1, "quantiles", f"each must lie strictly between 0 and 1, got {q:g}")
    if any(b <= a for a, b in itertools.pairwise(quantiles)):
        raise OptionError(
            "quantiles", "list them in increasing order without repeats, e.g. 0.1,0.5,0.9"
        )
    names = {quantile_column(q) for q in quantiles}
    require(
        len(names) == len(quantiles),
        "quantiles",
        "two quantiles round to the same column name pNN; use whole percentages",
    )
