"""The registries of the forecast's named choices: models, periods and alignments.

Each is a :class:`scot_cli.registry.Registry`: it drives dispatch and validation in the
library, and the command's choices and ``--help-models`` text. Plain data (no numpy or
polars import) so that building ``scot --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from scot_cli.registry import Registry

#: Demand classes (Syntetos-Boylan) forecast as smooth by ``auto``; the others (intermittent,
#: lumpy) are forecast with the intermittent-demand candidates.
SMOOTH_CLASSES = ("smooth", "erratic")

_INT = ("intermittent",)
_SMO = ("smooth",)


@dataclass(frozen=True)
class ModelSpec:
    """A forecasting model: what it is, where its function lives, its family (for reports),
    the demand groups among which ``auto`` may choose it (``smooth``: smooth and erratic
    series; ``intermittent``: intermittent and lumpy ones; none: never chosen by ``auto``),
    for a combination the models it averages, and whether it decides itself whether a
    series is seasonal (``own_season``: ETS by AICc, Theta by its test)."""

    description: str
    target: str
    family: str
    groups: tuple[str, ...] = _INT
    parts: tuple[str, ...] = ()
    own_season: bool = False


MODELS: Registry[ModelSpec] = Registry(
    "model",
    {
        "auto": ModelSpec(
            "per series: demand class first (smooth, erratic, intermittent, lumpy by ADI and "
            "CV2); intermittent and lumpy series average their best intermittent candidates by "
            "rolling-origin backtest, smooth and erratic series get the ets and theta "
            "combination (default)",
            "scot_cli.forecast.engine:forecast_arrays",
            "auto",
            (),
        ),
        "ets": ModelSpec(
            "exponential smoothing state-space family (error A/M, trend N/A/damped, season "
            "N/A/M), chosen per series by AICc",
            "scot_cli.forecast.ets:ets",
            "ets",
            _SMO,
            own_season=True,
        ),
        "theta": ModelSpec(
            "optimised Theta method, seasonally adjusted when the series tests seasonal",
            "scot_cli.forecast.theta:theta",
            "theta",
            _SMO,
            own_season=True,
        ),
        "ets_damped": ModelSpec(
            "exponential smoothing with a damped trend (error A/M, season N/A/M), chosen per "
            "series by AICc; a member of ets_theta",
            "scot_cli.forecast.ets:ets_damped",
            "ets",
            (),
            own_season=True,
        ),
        "ets_bounded": ModelSpec(
            "exponential smoothing without an undamped trend (trend none or damped), chosen "
            "per series by AICc; a member of ets_theta",
            "scot_cli.forecast.ets:ets_bounded",
            "ets",
            (),
            own_season=True,
        ),
        "ets_theta": ModelSpec(
            "equal-weight mean of the ets_bounded, ets_damped and theta forecasts",
            "scot_cli.forecast.engine:combination",
            "combination",
            _SMO,
            ("ets_bounded", "theta", "ets_damped"),
            own_season=True,
        ),
        "global": ModelSpec(
            "one model across all series: direct multi-horizon regression on "
            "scaled lags, rolling means, season phase and events",
            "scot_cli.forecast.global_model:global_model",
            "global",
        ),
        "naive": ModelSpec(
            "last observed value", "scot_cli.forecast.local:naive", "baseline", _INT
        ),
        "seasonal_naive": ModelSpec(
            "value one season ago", "scot_cli.forecast.local:seasonal_naive", "baseline"
        ),
        "window_mean": ModelSpec(
            "mean of the recent window", "scot_cli.forecast.local:window_mean", "baseline"
        ),
        "seasonal_mean": ModelSpec(
            "recent level times shrunk seasonal profile",
            "scot_cli.forecast.local:seasonal_mean",
            "baseline",
        ),
        "ses": ModelSpec(
            "exponential smoothing ETS(A,N,N), alpha fitted", "scot_cli.forecast.local:ses", "ets"
        ),
        "holt_winters": ModelSpec(
            "seasonal exponential smoothing ETS(A,N,A), alpha and gamma fitted",
            "scot_cli.forecast.local:holt_winters",
            "ets",
        ),
        "croston": ModelSpec(
            "Croston size over interval, alpha fitted",
            "scot_cli.forecast.local:croston",
            "intermittent",
        ),
        "sba": ModelSpec(
            "Syntetos-Boylan bias-corrected Croston (never chosen by auto: Croston times a "
            "constant adds nothing to a combination)",
            "scot_cli.forecast.local:sba",
            "intermittent",
            (),
        ),
        "tsb": ModelSpec(
            "Teunter-Syntetos-Babai probability times size",
            "scot_cli.forecast.local:tsb",
            "intermittent",
        ),
        "adida": ModelSpec(
            "SES on demand aggregated over the mean interval",
            "scot_cli.forecast.local:adida",
            "intermittent",
        ),
        "imapa": ModelSpec(
            "mean of aggregated SES over levels 1..mean interval",
            "scot_cli.forecast.local:imapa",
            "intermittent",
        ),
        "zero": ModelSpec("all-zero forecast", "scot_cli.forecast.local:zero", "intermittent"),
    },
)

#: Period lengths (``freq``): finer sales are summed into them; the season each implies.
PERIODS: Registry[str] = Registry(
    "freq",
    {
        "D": "day (season 7)",
        "W": "week from Monday (season 52)",
        "M": "month (season 12)",
        "Q": "quarter from January, April, July, October (season 4)",
        "Y": "calendar year (no season)",
    },
)

#: How series that end at different dates are placed on the calendar (``align``).
ALIGNS: Registry[str] = Registry(
    "align",
    {
        "grid": "every series on the sales table's calendar; a series without rows at the "
        "end sold nothing there (default)",
        "own-end": "each series forecast from its own last period",
    },
)


def family(label: str) -> str:
    """Model family of an output ``model`` label (``auto:ets`` -> ``ets``,
    ``cold_start:...`` -> ``cold_start``)."""
    name = label.removeprefix("auto:")
    if name.startswith("cold_start"):
        return "cold_start"
    spec = MODELS.get(name)
    return spec.family if spec is not None else name
