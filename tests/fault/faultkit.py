"""Shared pieces of the fault tests: real ``scot`` subprocesses on small generated data."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import polars as pl

ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}


def scot_exe() -> list[str]:
    exe = Path(sys.executable).with_name("scot")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "scot_cli"]


def scot(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*scot_exe(), *args], capture_output=True, env=ENV, cwd=cwd, check=False, timeout=timeout
    )


def ok(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    done = scot(*args, cwd=cwd)
    assert done.returncode == 0, (args, done.stderr.decode())
    return done


def popen(args: Sequence[str], **kw: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*scot_exe(), *args], env=ENV, **kw)  # type: ignore[call-overload, no-any-return]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def litter(folder: Path, keep: Sequence[Path]) -> list[str]:
    """Files in ``folder`` other than ``keep``: temporaries a run left behind."""
    kept = {p.resolve() for p in keep}
    return sorted(p.name for p in folder.iterdir() if p.resolve() not in kept)


def make_data(folder: Path, *, skus: int, days: int, orders: int = 40) -> dict[str, Path]:
    """Fixtures plus forecast, buys and promises on them, as a pipeline would leave them."""
    folder.mkdir(parents=True, exist_ok=True)
    args = ["--skus", str(skus), "--days", str(days), "--orders", str(orders), "--seed", "11"]
    ok("fixtures", "--out", str(folder), *args)
    p = {n: folder / f"{n}.parquet" for n in ("sales", "items", "events", "nodes", "lanes")}
    p.update({n: folder / f"{n}.parquet" for n in ("inventory", "orders", "calendar")})
    p["forecast"] = folder / "forecast.parquet"
    ok(
        "forecast",
        str(p["sales"]),
        "--items",
        str(p["items"]),
        "-H",
        "14",
        "--model",
        "window_mean",
        "-o",
        str(p["forecast"]),
    )
    p["buys"], p["policy"] = folder / "buys.parquet", folder / "policy.parquet"
    ok(
        "plan-buy",
        str(p["forecast"]),
        "--items",
        str(p["items"]),
        "--inventory",
        str(p["inventory"]),
        "-o",
        str(p["buys"]),
        "--policy-out",
        str(p["policy"]),
    )
    p["promises"] = folder / "promises.parquet"
    ok(*promise_args(p), "-o", str(p["promises"]))
    nodes = pl.read_parquet(p["nodes"])
    station = nodes.filter(pl.col("kind") == "station").sort("node").row(0, named=True)
    p["stops"] = folder / "stops.parquet"
    pl.DataFrame(
        {
            "stop_id": [f"S{i}" for i in range(8)],
            "station": [station["node"]] * 8,
            "lat": [station["lat"] + 0.01 * (i % 3) for i in range(8)],
            "lon": [station["lon"] - 0.01 * (i % 4) for i in range(8)],
            "demand": [2.0] * 8,
        }
    ).write_parquet(p["stops"])
    return p


def promise_args(p: dict[str, Path]) -> list[str]:
    return [
        "promise",
        str(p["orders"]),
        "--inventory",
        str(p["inventory"]),
        "--nodes",
        str(p["nodes"]),
        "--lanes",
        str(p["lanes"]),
        "--mode",
        "commit",
    ]


def commands(p: dict[str, Path]) -> dict[str, list[str]]:
    """Every command writing its main output to stdout (none given ``-o``)."""
    net = [
        "--inventory",
        str(p["inventory"]),
        "--nodes",
        str(p["nodes"]),
        "--lanes",
        str(p["lanes"]),
    ]
    return {
        "forecast": ["forecast", str(p["sales"]), "-H", "14"],
        "forecast evaluate": ["forecast", "evaluate", str(p["sales"]), "-H", "7", "-k", "1"],
        "plan-buy": [
            "plan-buy",
            str(p["forecast"]),
            "--items",
            str(p["items"]),
            "--inventory",
            str(p["inventory"]),
        ],
        "place": ["place", str(p["forecast"]), "--items", str(p["items"]), *net],
        "promise snapshot": ["promise", str(p["orders"]), *net, "--mode", "snapshot"],
        "promise commit": promise_args(p),
        "route": [
            "route",
            str(p["promises"]),
            *net,
            "--items",
            str(p["items"]),
            "--time-limit",
            "2",
        ],
        "route last-mile": [
            "route",
            "last-mile",
            str(p["stops"]),
            "--nodes",
            str(p["nodes"]),
            "--time-limit",
            "1",
        ],
        "explain": [
            "explain",
            str(p["policy"]),
            "--sku",
            pl.read_parquet(p["policy"])["sku"][0],
            "--format",
            "md",
        ],
        "check": ["check", "lanes", str(p["lanes"]), "--nodes", str(p["nodes"])],
        "inspect": ["inspect", str(p["sales"])],
        "sql": ["sql", f"select * from '{p['sales']}'", "-f", "csv"],
        "fixtures": [
            "fixtures",
            "--out",
            str(p["sales"].parent / "again"),
            "--skus",
            "3",
            "--days",
            "28",
        ],
        "help": ["--help"],
        "version": ["--version"],
    }
