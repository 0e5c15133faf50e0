"""Scale-out: ``scot forecast`` + ``scot plan-buy`` end to end, local process vs Dask.

Synthetic daily sales (2 years, the generator of forecast_vs_statsforecast.py written in
chunks of 20,000 series) with an item master and stock per sku; then, under the benchmark
lock, each engine runs the forecast (28 days, ``--batch-size`` 20,000) and plan-buy on it:

- ``local``: one process (the default engine);
- ``dask:2``: a LocalCluster of 2 worker processes started and stopped by the command.

Wall time, CPU seconds (user + system of the whole process tree), peak resident memory of
the client process and of each worker process (sampled every 0.2 s), and the equality of
the two engines' outputs. Then the scheduler's overhead per task (no-op tasks on a 2-worker
cluster) and a projection to a 100M-series catalogue from the measured per-partition cost.

Usage: ``python benchmarks/scale_out.py [--series 1000000]``; results go to
bench-data/scale-out/ and docs/benchmarks/scale-out.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
from forecast_vs_statsforecast import load_average, write_synthetic
from machine import REPO, bench_lock, header, write_section

WORK = REPO / "bench-data" / "scale-out"
BATCH = 20_000
HORIZON = 28
TARGET = 100_000_000
LOCKED = " under the benchmark lock"
UNLOCKED = " (not under the benchmark lock, which was queued behind hours of other runs)"


def items_and_stock(n: int, folder: Path) -> tuple[Path, Path]:
    """An item master (the fixtures' first item's terms, every sku its own) and 40 units of
    stock per sku at ``ALL``."""
    template = pl.read_parquet(REPO / "fixtures" / "items.parquet").head(1)
    skus = pl.Series("sku", [f"S{i:07d}" for i in range(n)])
    items = template.drop("sku").select(pl.all().repeat_by(n).explode()).with_columns(skus)
    items = items.select(template.columns)
    stock = pl.DataFrame({"sku": skus, "node": "ALL", "on_hand": 40.0, "in_transit": 0.0})
    paths = folder / "items.parquet", folder / "inventory.parquet"
    items.write_parquet(paths[0])
    stock.write_parquet(paths[1])
    return paths


def _tree(pid: int) -> dict[int, float]:
    """Resident GiB of each process of the tree under ``pid``."""
    out, stack = {}, [pid]
    while stack:
        p = stack.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            # children of every thread: a LocalCluster's nannies spawn from their loop thread
            kids = [
                k
                for task in Path(f"/proc/{p}/task").iterdir()
                for k in (task / "children").read_text().split()
            ]
        except OSError:
            continue
        kb = next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:")), 0)
        out[p] = kb / 2**20
        stack += [int(k) for k in kids]
    return out


def measure(cmd: list[str], *, lock: bool = True) -> dict[str, Any]:
    """Wall, CPU (children waited for), peak GiB of the client and of the largest other
    process, the load before -> after; under the benchmark lock unless ``lock`` is False."""
    with bench_lock() if lock else contextlib.nullcontext():
        before = load_average()
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peaks: dict[int, float] = {}
        total = 0.0
        while proc.poll() is None:
            now = _tree(proc.pid)
            total = max(total, sum(now.values()))
            for p, gib in now.items():
                peaks[p] = max(peaks.get(p, 0.0), gib)
            time.sleep(0.2)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.returncode != 0:
            raise RuntimeError(f"failed ({proc.returncode}): {shlex.join(cmd)}\n{err}")
        others = sorted((g for p, g in peaks.items() if p != proc.pid), reverse=True)
        return {
            "wall_s": round(wall, 1),
            "cpu_s": round((after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime), 1),
            "client_gib": round(peaks.get(proc.pid, 0.0), 2),
            "worker_gib": [round(g, 2) for g in others[:2]],
            "tree_gib": round(total, 2),
            "load": f"{before} -> {load_average()}",
        }


def scheduler_overhead(tasks: int = 4000) -> dict[str, float]:
    """Seconds per no-op task through a 2-worker LocalCluster (submitted, run, gathered),
    the median of 3 rounds."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)  # type: ignore[no-untyped-call]
    rounds = []
    try:
        client.gather(client.map(_noop, range(50), pure=False))  # type: ignore[no-untyped-call]
        for _ in range(3):
            start = time.perf_counter()
            client.gather(client.map(_noop, range(tasks), pure=False))  # type: ignore[no-untyped-call]
            rounds.append((time.perf_counter() - start) / tasks)
    finally:
        client.close()  # type: ignore[no-untyped-call]
        cluster.close()
    rounds.sort()
    return {"per_task_ms": round(rounds[1] * 1e3, 3), "tasks": tasks}


def _noop(x: int) -> int:
    return x


def run(n: int, *, batch: int, lock: bool) -> dict[str, Any]:
    folder = WORK / f"n{n}"
    folder.mkdir(parents=True, exist_ok=True)
    sales = folder / "sales.parquet"
    if not sales.exists():
        write_synthetic(sales, n, 730)
    items, stock = items_and_stock(n, folder)
    scot = str(Path(sys.executable).with_name("scot"))
    rows: list[dict[str, Any]] = []
    for engine in ("local", "dask:2"):
        tag = engine.replace(":", "")
        fc = folder / f"forecast-{tag}.parquet"
        po = folder / f"orders-{tag}.parquet"
        steps = {
            "forecast": [scot, "-q", "forecast", str(sales), "-H", str(HORIZON),
                         "--batch-size", str(batch), "--engine", engine, "-o", str(fc)],
            "plan-buy": [scot, "-q", "plan-buy", str(fc), "--items", str(items),
                         "--inventory", str(stock), "--engine", engine, "-o", str(po)],
        }  # fmt: skip
        for step, cmd in steps.items():
            row = {"series": n, "engine": engine, "step": step, **measure(cmd, lock=lock)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    same = {
        "forecast": pl.read_parquet(folder / "forecast-local.parquet").equals(
            pl.read_parquet(folder / "forecast-dask2.parquet")
        ),
        "orders": pl.read_parquet(folder / "orders-local.parquet").equals(
            pl.read_parquet(folder / "orders-dask2.parquet")
        ),
    }
    return {
        "series": n,
        "rows": rows,
        "same": same,
        "partitions": -(-n // batch),
        "batch": batch,
        "lock": lock,
    }


def projection(result: dict[str, Any], overhead: dict[str, float]) -> str:
    """The 100M-series estimate, in words, from the measured figures."""
    local = {r["step"]: r for r in result["rows"] if r["engine"] == "local"}
    n, batch = result["series"], result["batch"]
    cpu_fc = local["forecast"]["cpu_s"]
    cpu_pb = local["plan-buy"]["cpu_s"]
    per_series = (cpu_fc + cpu_pb) / n
    per_part = per_series * BATCH
    target_parts = TARGET // BATCH
    core_hours = per_part * target_parts / 3600
    tasks = 4 * target_parts  # lift sums, fit, donor sums, fill per partition (+ plan-buy)
    sched_s = tasks * overhead["per_task_ms"] / 1e3
    per_core_gib = max(r["worker_gib"][0] for r in result["rows"] if r["worker_gib"])
    lines = [
        f"Measured: forecast + plan-buy of {n:,} series cost {cpu_fc + cpu_pb:,.0f} CPU s in "
        f"one process ({batch:,} series per partition): {per_series * 1e3:,.1f} CPU ms per "
        f"series, {per_part:,.0f} CPU s per partition of {BATCH:,} series (the default "
        "--batch-size); an overestimate, as a small run carries the fixed start-up "
        "(imports, the compiled ETS kernel's cache, the training sample) on few series.",
        f"100M series = {target_parts:,} partitions -> about {core_hours:,.0f} core-hours. "
        f"N machines of k cores finish in about {core_hours:,.0f} / (N k) hours plus the "
        "serial parts (the catalogue scan and the training sample: one partition's fit, "
        "the same at any size). Choose N from the night's window W: "
        f"N = ceil({core_hours:,.0f} / (k W)) (e.g. k = 16, W = 4 h: "
        f"N = {-(-core_hours // (16 * 4)):,.0f}). Each worker needs "
        f"{per_core_gib:.2f} GiB at this run's partition size (the measured peak of a worker "
        "process); a partition of 20,000 daily series peaks at about 1.9 GiB "
        "(forecast.md, Scale), so k cores need about k x 2 GiB.",
        f"Scheduler: {overhead['per_task_ms']:.2f} ms per task here (no-op tasks, "
        f"{overhead['tasks']:,} per round, 2 workers, at this load); 100M series are about "
        f"{tasks:,} tasks -> {sched_s:,.0f} s of scheduling in all, against {per_part:,.0f} "
        "CPU s of work per partition task: scheduling equals the work only for partitions of "
        f"about {overhead['per_task_ms'] / 1e3 / per_series:,.0f} series, so with partitions "
        "of thousands of series the scheduler is not the limit (it would be with "
        "millions of tiny tasks).",
        "The limit is the client: it holds the catalogue's keys (100M keys, several GiB), "
        "reduces the pooled parts and writes every row (2.8 billion forecast rows) through "
        "one process; at this size workers must write their partitions into the dataset "
        "folder themselves (not done yet) and the client keep only the manifest.",
    ]
    return "\n\n".join(lines)


def report(result: dict[str, Any], overhead: dict[str, float], note: str) -> str:
    rows = result["rows"]
    by = {(r["engine"], r["step"]): r for r in rows}
    out = [
        header("Scale-out: forecast + plan-buy, local process vs Dask LocalCluster"),
        "",
        f"{result['series']:,} daily series x 730 days ({result['series'] * 730:,} sales "
        f"rows), horizon {HORIZON}, --batch-size {result['batch']:,} ({result['partitions']} "
        "partitions); items with one vendor's terms and 40 units of stock per sku. One run "
        f"per engine{LOCKED if result['lock'] else UNLOCKED}; "
        "CPU = user + system of the whole process tree; "
        "client / worker GiB = peak resident set of the command's process / of its largest "
        "worker processes; load = 1-minute load average before -> after (2 cores shared "
        f"with other work: wall times are inflated). {note}",
        "",
        "| engine | step | wall s | CPU s | client GiB | worker GiB | tree GiB | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        workers = ", ".join(f"{g:.2f}" for g in r["worker_gib"]) if r["engine"] != "local" else ""
        out.append(
            f"| {r['engine']} | {r['step']} | {r['wall_s']:,.1f} | {r['cpu_s']:,.1f} | "
            f"{r['client_gib']:.2f} | {workers} | {r['tree_gib']:.2f} | {r['load']} |"
        )
    speed = {
        step: by[("local", step)]["wall_s"] / by[("dask:2", step)]["wall_s"]
        for step in ("forecast", "plan-buy")
    }
    cpu_ratio = by[("dask:2", "forecast")]["cpu_s"] / max(by[("local", "forecast")]["cpu_s"], 1e-9)
    total = sum(by[("local", s)]["wall_s"] for s in speed) / sum(
        by[("dask:2", s)]["wall_s"] for s in speed
    )
    out += [
        "",
        f"Speed-up of dask:2 over local (wall): forecast {speed['forecast']:.2f}x, plan-buy "
        f"{speed['plan-buy']:.2f}x, end to end {total:.2f}x. Outputs equal bit for bit: "
        f"forecast {result['same']['forecast']}, orders {result['same']['orders']}.",
        "",
        "CPU seconds (less affected by the load than wall time): dask:2 spent "
        f"{cpu_ratio:.1f}x "
        "the local forecast's CPU. Each worker process starts, imports scot and loads the "
        "compiled ETS kernel, and the sample is trained before the partitions start: a fixed "
        "cost of tens of CPU seconds that a small run cannot repay. On 2 shared cores a second "
        "worker adds no core, so no speed-up can be expected here; the engine pays off with "
        "more cores or machines and partitions of the default 20,000 series.",
        "",
        "### Projection: a 100M-series catalogue on N machines",
        "",
        projection(result, overhead),
    ]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=BATCH)
    parser.add_argument(
        "--no-lock", action="store_true", help="do not wait for the benchmark lock (say so)"
    )
    parser.add_argument("--note", default="")
    parser.add_argument("--report", action="store_true", help="rewrite the page from saved runs")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    saved = WORK / f"result-{args.series}.json"
    if args.report:
        data = json.loads(saved.read_text())
    else:
        result = run(args.series, batch=args.batch_size, lock=not args.no_lock)
        overhead = scheduler_overhead()
        data = {"result": result, "overhead": overhead, "command": shlex.join(sys.argv)}
        saved.write_text(json.dumps(data, indent=1))
    print(write_section("scale-out", report(data["result"], data["overhead"], args.note)))


if __name__ == "__main__":
    main()
