"""The one registry of forecasting models: it drives dispatch, ``--model`` choices and help.

Plain data (no numpy or polars import) so that building ``scot --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    """A forecasting model: what it is, where its function lives, and whether ``auto`` may
    choose it (``sba`` is Croston times a constant, so it adds nothing to a combination)."""

    description: str
    target: str
    candidate: bool = True


MODELS: dict[str, ModelSpec] = {
    "auto": ModelSpec(
        "per-series choice among the candidates below by rolling-origin backtest (default)",
        "scot_cli.forecast.engine:forecast_arrays",
        False,
    ),
    "global": ModelSpec(
        "one model across all series: direct multi-horizon regression on "
        "scaled lags, rolling means, season phase and events",
        "scot_cli.forecast.global_model:global_model",
    ),
    "naive": ModelSpec("last observed value", "scot_cli.forecast.local:naive"),
    "seasonal_naive": ModelSpec("value one season ago", "scot_cli.forecast.local:seasonal_naive"),
    "window_mean": ModelSpec("mean of the recent window", "scot_cli.forecast.local:window_mean"),
    "seasonal_mean": ModelSpec(
        "recent level times shrunk seasonal profile", "scot_cli.forecast.local:seasonal_mean"
    ),
    "ses": ModelSpec(
        "exponential smoothing ETS(A,N,N), alpha fitted", "scot_cli.forecast.local:ses"
    ),
    "holt_winters": ModelSpec(
        "seasonal exponential smoothing ETS(A,N,A), alpha and gamma fitted",
        "scot_cli.forecast.local:holt_winters",
    ),
    "croston": ModelSpec(
        "Croston size over interval, alpha fitted", "scot_cli.forecast.local:croston"
    ),
    "sba": ModelSpec(
        "Syntetos-Boylan bias-corrected Croston", "scot_cli.forecast.local:sba", False
    ),
    "tsb": ModelSpec(
        "Teunter-Syntetos-Babai probability times size", "scot_cli.forecast.local:tsb"
    ),
    "adida": ModelSpec(
        "SES on demand aggregated over the mean interval", "scot_cli.forecast.local:adida"
    ),
    "imapa": ModelSpec(
        "mean of aggregated SES over levels 1..mean interval", "scot_cli.forecast.local:imapa"
    ),
    "zero": ModelSpec("all-zero forecast", "scot_cli.forecast.local:zero"),
}


def help_text() -> str:
    """One line per model for ``--help``."""
    return "; ".join(f"{name}: {spec.description}" for name, spec in MODELS.items())
