"""kill -9, SIGTERM and SIGINT at random points of a write: the previous output stays intact
(or the new one is complete), nothing named ``*.parquet`` is left, and temporaries go away."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import polars as pl
import pytest
from fault.faultkit import litter, make_data, ok, popen, promise_args, scot, sha

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Enough skus and days that a forecast writes for a while, in parts (streamed)."""
    return make_data(tmp_path_factory.mktemp("kill"), skus=120, days=400, orders=400)


def _runs(p: dict[str, Path]) -> dict[str, list[str]]:
    """Commands and their arguments up to ``-o`` (the output is appended)."""
    return {
        "forecast": ["forecast", str(p["sales"]), "-H", "28", "--batch-size", "20"],
        "plan-buy": [
            "plan-buy",
            str(p["forecast"]),
            "--items",
            str(p["items"]),
            "--inventory",
            str(p["inventory"]),
        ],
        "promise": promise_args(p),
        "sql": ["sql", f"select * from '{p['sales']}' order by all", "-f", "parquet"],
    }


def _complete(path: Path, rows: int) -> bool:
    try:
        return pl.read_parquet(path).height == rows
    except Exception:
        return False


@pytest.mark.parametrize("name", ["forecast", "plan-buy", "promise", "sql"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_signal_at_random_points_keeps_previous_output(
    name: str, sig: signal.Signals, data: dict[str, Path], tmp_path: Path
) -> None:
    args = _runs(data)[name]
    out = tmp_path / "out"
    out.mkdir()
    target = out / "result.parquet"
    start = time.perf_counter()
    ok(*args, "-o", str(target))
    full = time.perf_counter() - start
    rows = pl.read_parquet(target).height
    previous = sha(target)
    rng = random.Random(f"{name}-{sig.name}")
    for trial in range(3):
        delay = rng.uniform(0.3, max(full, 0.6))
        proc = popen([*args, "-o", str(target)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=300)
        where = f"{name}, {sig.name} after {delay:.2f} s (trial {trial}): {err.decode()[-300:]}"
        assert sha(target) == previous or _complete(target, rows), where
        previous = sha(target)
        parquet_litter = [n for n in litter(out, [target]) if n.endswith(".parquet")]
        assert parquet_litter == [], where
        if sig != signal.SIGKILL:
            assert litter(out, [target]) == [], where
            if proc.returncode != 0:
                assert proc.returncode == -sig, where
    glob = scot("sql", f"select count(*) as n from '{out}/*.parquet'", "-f", "csv")
    assert glob.returncode == 0, glob.stderr.decode()
    # a later run into the folder removes what the killed ones left
    ok(*args, "-o", str(target))
    assert litter(out, [target]) == []
    assert _complete(target, rows)


def test_kill_9_of_a_forecast_into_stdout_leaves_no_spill(
    data: dict[str, Path], tmp_path: Path
) -> None:
    """The forecast's spill lives in the temporary folder when the output is stdout."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    args = _runs(data)["forecast"]
    from fault.faultkit import ENV

    env = {**ENV, "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [*_exe(), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(2.0)
    proc.kill()
    proc.wait(timeout=60)
    assert [p.name for p in tmp.iterdir() if p.name.endswith(".parquet")] == []
    shutil.rmtree(tmp)


def _exe() -> list[str]:
    from fault.faultkit import scot_exe

    return scot_exe()
