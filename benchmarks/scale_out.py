"""Scale-out: ``scot forecast`` + ``scot plan-buy`` end to end, local process vs Dask.

Synthetic daily sales (2 years, the generator of forecast_vs_statsforecast.py written in
chunks of 20,000 series) with an item master and stock per sku; then, under the benchmark
lock, each engine runs the forecast (28 days, ``--batch-size`` 20,000) and plan-buy on it:

- ``local``: one process (the default engine), writing files;
- ``dask:2``: a LocalCluster of 2 worker processes started and stopped by the command,
  writing dataset folders (each partition written by the worker that made it).

Wall time, CPU seconds (user + system of the whole process tree), peak resident memory of
the client process and of each worker process (sampled every 0.2 s), and the equality of
the two engines' outputs. Then the scheduler's overhead per task (no-op tasks on a 2-worker
cluster). The page says what was run (series, partitions) and what was measured (CPU per
series and per partition) apart from what is extrapolated from it: 1M series linearly,
and a 100M-series catalogue onto N machines.

Usage: ``python benchmarks/scale_out.py [--series 1000000] [--batch-size 20000]``; results
go to bench-data/scale-out/ and docs/benchmarks/scale-out.md (``--report`` rebuilds the page
from a run's saved results).
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
from machine import REPO, RESULTS, bench_lock, header, write_section

WORK = REPO / "bench-data" / "scale-out"
BATCH = 20_000
HORIZON = 28
DAYS = 730
ENGINES = ("local", "dask:2")
MILLION = 1_000_000
TARGET = 100_000_000
LOCKED = " under the benchmark lock"
UNLOCKED = " (not under the benchmark lock)"


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


def run(n: int, *, batch: int, lock: bool, engines: tuple[str, ...] = ENGINES) -> dict[str, Any]:
    """Generate ``n`` series (once) and run forecast then plan-buy on each engine: the local
    process writes files, the cluster writes dataset folders (each partition by the worker
    that made it, as at scale)."""
    folder = WORK / f"n{n}"
    folder.mkdir(parents=True, exist_ok=True)
    sales = folder / "sales.parquet"
    if not sales.exists():  # written whole or not at all: a stopped run leaves no half file
        partial = folder / "sales.partial"
        write_synthetic(partial, n, DAYS)
        partial.rename(sales)
    items, stock = items_and_stock(n, folder)
    scot = str(Path(sys.executable).with_name("scot"))
    # each measured step is kept as it finishes, so that a run stopped between steps (a
    # 1M-series step takes most of an hour) resumes where it stopped
    # ... and in docs/benchmarks/ with the commit measured, so that a later session (on a
    # fresh checkout) can measure the remaining engines and show both
    done = RESULTS / f"scale-out-rows-{n}.jsonl"
    kept = [json.loads(x) for x in done.read_text().splitlines()] if done.exists() else []
    rows: list[dict[str, Any]] = []
    for engine in engines:
        tag = engine.replace(":", "")
        suffix = ".parquet" if engine == "local" else "/"  # a dataset folder on the cluster
        fc, po = (str(folder / f"{name}-{tag}") + suffix for name in ("forecast", "orders"))
        steps = {
            "forecast": [scot, "-q", "forecast", str(sales), "-H", str(HORIZON),
                         "--batch-size", str(batch), "--engine", engine, "-o", fc],
            "plan-buy": [scot, "-q", "plan-buy", fc.rstrip("/"), "--items", str(items),
                         "--inventory", str(stock), "--engine", engine, "-o", po],
        }  # fmt: skip
        for step, cmd in steps.items():
            before = [
                r for r in kept if (r["engine"], r["step"], r["batch"]) == (engine, step, batch)
            ]
            if before:
                rows.append(before[-1])
                continue
            row = {"series": n, "engine": engine, "step": step, "batch": batch, "commit": _commit()}
            row.update(measure(cmd, lock=lock))
            print(json.dumps(row), flush=True)
            with done.open("a") as f:
                f.write(json.dumps(row) + "\n")
            rows.append(row)
    # the other engines' steps measured earlier at this size (another sitting) complete it
    for r in kept:
        if r["engine"] not in engines and r["batch"] == batch:
            rows = [x for x in rows if (x["engine"], x["step"]) != (r["engine"], r["step"])]
            rows.append(r)
    rows.sort(key=lambda r: (ENGINES.index(r["engine"]), r["step"] != "forecast"))
    paths = {
        e: tuple(str(folder / f"{name}-{e.replace(':', '')}") for name in ("forecast", "orders"))
        for e in ENGINES
    }
    # both engines' outputs on this machine: compared (a run done in parts may not have them)
    same: dict[str, Any] = {}
    for i, name in enumerate(("forecast", "orders")):
        local, cluster = paths["local"][i] + ".parquet", paths["dask:2"][i] + "/"
        if Path(local).exists() and Path(cluster).is_dir():
            same[name] = _table(local).equals(_table(cluster))
        else:
            same[name] = "not compared (the engines ran in different sittings)"
    return {
        "series": n,
        "days": DAYS,
        "rows": rows,
        "same": same,
        "partitions": -(-n // batch),
        "batch": batch,
        "lock": lock,
        "dataset": True,
    }


def _commit() -> str:
    """The checkout's commit (short), or "" outside a git checkout."""
    got = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        check=False,
        capture_output=True,
        text=True,
    )
    return got.stdout.strip() if got.returncode == 0 else ""


def _table(path: str) -> pl.DataFrame:
    """A file, or a dataset folder's parts in order, sorted by key."""
    df = pl.read_parquet(f"{path}*.parquet" if path.endswith("/") else path)
    keys = [c for c in ("sku", "location", "node", "date", "order_date") if c in df.columns]
    return df.sort(keys, maintain_order=True)


def costs(result: dict[str, Any]) -> dict[str, float]:
    """The local process's measured CPU per series and per partition, and their linear
    extrapolation (the fixed start-up counted per series: an overestimate)."""
    local = {r["step"]: r for r in result["rows"] if r["engine"] == "local"}
    n, batch = result["series"], result["batch"]
    cpu = {step: float(local[step]["cpu_s"]) for step in ("forecast", "plan-buy")}
    per_series = sum(cpu.values()) / n
    return {
        "cpu_s": sum(cpu.values()),
        "forecast_ms": cpu["forecast"] / n * 1e3,
        "plan_buy_ms": cpu["plan-buy"] / n * 1e3,
        "per_series_ms": per_series * 1e3,
        "per_partition_s": per_series * min(batch, n),
        "per_default_partition_s": per_series * BATCH,
        "million_cpu_h": per_series * MILLION / 3600,
        "target_cpu_h": per_series * TARGET / 3600,
    }


def worker_peak(result: dict[str, Any]) -> float:
    """The largest worker process's peak resident set in the run, GiB (0 without workers)."""
    return max((r["worker_gib"][0] for r in result["rows"] if r["worker_gib"]), default=0.0)


def measured(result: dict[str, Any], overhead: dict[str, float]) -> str:
    """What this run measured, in words: series, partitions, per-series and per-partition
    cost."""
    n, batch, parts = result["series"], result["batch"], result["partitions"]
    c = costs(result)
    worker = worker_peak(result)
    lines = [
        f"Measured (this run): {n:,} series in {parts:,} partition(s) of up to {batch:,}; "
        f"forecast + plan-buy in one process cost {c['cpu_s']:,.0f} CPU s: "
        f"{c['forecast_ms']:,.2f} + {c['plan_buy_ms']:,.2f} = {c['per_series_ms']:,.2f} CPU ms "
        f"per series, {c['per_partition_s']:,.0f} CPU s per partition of this run; the "
        f"largest worker process peaked at {worker:.2f} GiB; the scheduler took "
        f"{overhead['per_task_ms']:.2f} ms per no-op task ({overhead['tasks']:,} tasks per "
        "round, 2 workers, at this load). The per-series cost includes the fixed start-up "
        "(imports, the compiled kernels' cache, the training sample of at most 20,000 "
        "series) spread over this run's series: an overestimate for larger runs.",
    ]
    if parts < 2 * len(ENGINES):
        lines.append(
            f"With {parts} partition(s) for 2 workers the cluster could not run partitions "
            "side by side: the dask:2 row measures the engine's overhead (worker start-up, "
            "the shipping of tasks and results), not a speed-up. Use --batch-size so that "
            "there are several partitions per worker, or more series."
        )
    return "\n\n".join(lines)


def extrapolated(result: dict[str, Any]) -> str:
    """The linear extrapolation to 1M series (not measured)."""
    n = result["series"]
    c = costs(result)
    if n >= MILLION:
        return f"The run is at the 1M target ({n:,} series): nothing extrapolated."
    parts = -(-MILLION // BATCH)
    return (
        f"Extrapolated, not measured: 1M series x {result.get('days', DAYS)} days at "
        f"{c['per_series_ms']:,.2f} CPU ms per series is about {c['million_cpu_h']:,.2f} "
        f"CPU hours ({parts} partitions of {BATCH:,}, {c['per_default_partition_s']:,.0f} CPU s "
        f"each): about {c['million_cpu_h'] * 60:,.0f} min in one process, "
        f"{c['million_cpu_h'] * 30:,.0f} min if 2 workers stay busy (this machine's 2 cores, "
        "quiet), with about 2 GiB per worker for a partition of 20,000 daily series "
        f"(forecast.md, Scale). Measured at {n / MILLION:.1%} of that size; the 1M run is "
        "`python benchmarks/scale_out.py --series 1000000` on a quiet machine."
    )


def projection(result: dict[str, Any], overhead: dict[str, float]) -> str:
    """The 100M-series estimate, in words, from the measured figures."""
    c = costs(result)
    per_series = c["per_series_ms"] / 1e3
    per_part = c["per_default_partition_s"]
    target_parts = TARGET // BATCH
    core_hours = c["target_cpu_h"]
    tasks = 5 * target_parts  # lift sums, fit, write; plan-buy's plan and write per batch
    sched_s = tasks * overhead["per_task_ms"] / 1e3
    # memory per worker: this run's largest worker when it ran partitions of BATCH series
    worker = worker_peak(result)
    gib = (
        f"{worker:.1f} GiB (the largest worker of this run, partitions of {BATCH:,})"
        if worker and result["batch"] == BATCH
        else "2 GiB for a partition of 20,000 daily series (forecast.md, Scale)"
    )
    per_core = f"{worker:.1f}" if worker and result["batch"] == BATCH else "2"
    lines = [
        f"100M series = {target_parts:,} partitions of {BATCH:,} at {per_part:,.0f} CPU s each "
        f"-> about {core_hours:,.0f} core-hours. N machines of k cores finish in about "
        f"{core_hours:,.0f} / (N k) hours plus the serial parts (the catalogue scan and the "
        "training sample: one partition's fit, the same at any size). Choose N from the "
        f"night's window W: N = ceil({core_hours:,.0f} / (k W)) (e.g. k = 16, W = 4 h: "
        f"N = {-(-core_hours // (16 * 4)):,.0f}); each worker needs about {gib}, so k cores "
        f"need about k x {per_core} GiB.",
        f"Scheduler: about {tasks:,} tasks -> {sched_s:,.0f} s of scheduling in all at "
        f"{overhead['per_task_ms']:.2f} ms per task, against {per_part:,.0f} CPU s of work per "
        "partition task: scheduling equals the work only for partitions of about "
        f"{max(overhead['per_task_ms'] / 1e3 / per_series, 1):,.0f} series, so with partitions "
        "of thousands of series the scheduler is not the limit (it would be with millions "
        "of tiny tasks).",
        "The client: with a dataset output (`-o out/`) every partition is written by the "
        "worker that made it and the client keeps the catalogue's keys (100M keys, a few "
        "GiB) and the manifest (5,000 entries); it reduces the pooled parts (event lift "
        "sums, cold-start peer means: a row per event cell or per category, not per "
        "series). A single-file output would pass all 2.8 billion forecast rows through the "
        "client: at this size write a dataset.",
    ]
    return "\n\n".join(lines)


def sittings(result: dict[str, Any]) -> str:
    """Which commit each engine's rows were measured on, when a run was done in parts."""
    by: dict[str, set[str]] = {}
    for r in result["rows"]:
        by.setdefault(r["engine"], set()).add(r.get("commit") or "?")
    if len({c for cs in by.values() for c in cs}) <= 1:
        return ""
    return (
        "Measured in parts (each engine in its own sitting, under the load in its row): "
        + "; ".join(f"{e} at commit {', '.join(sorted(cs))}" for e, cs in by.items())
        + ". The outputs were compared across the two sittings."
    )


def report(result: dict[str, Any], overhead: dict[str, float], note: str) -> str:
    rows = result["rows"]
    by = {(r["engine"], r["step"]): r for r in rows}
    days = result.get("days", DAYS)
    outputs = (
        "the local engine writes files and the cluster dataset folders (each partition "
        "written by its worker)"
        if result.get("dataset")
        else "both engines write files (the cluster's gathered by the client)"
    )
    out = [
        header("Scale-out: forecast + plan-buy, local process vs Dask LocalCluster"),
        "",
        f"{result['series']:,} daily series x {days} days ({result['series'] * days:,} sales "
        f"rows), horizon {HORIZON}, --batch-size {result['batch']:,} ({result['partitions']:,} "
        "partition(s)); items with one vendor's terms and 40 units of stock per sku; "
        f"{outputs}. One run per engine{LOCKED if result['lock'] else UNLOCKED}; "
        "CPU = user + system of the whole process tree; "
        "client / worker GiB = peak resident set of the command's process / of its largest "
        "worker processes; load = 1-minute load average before -> after (2 cores shared "
        f"with other work: wall times are inflated). {note}".rstrip(),
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
    parts = f" {sittings(result)}" if sittings(result) else ""
    out += [
        "",
        f"Speed-up of dask:2 over local (wall): forecast {speed['forecast']:.2f}x, plan-buy "
        f"{speed['plan-buy']:.2f}x, end to end {total:.2f}x. Outputs equal bit for bit: "
        f"forecast {result['same']['forecast']}, orders {result['same']['orders']}. "
        f"CPU seconds (less affected by the load than wall time): dask:2 spent "
        f"{cpu_ratio:.1f}x the local forecast's CPU (each worker process starts, imports "
        "scot and loads the compiled kernels; the training sample is fitted before the "
        "partitions start). On 2 cores a second worker process can at best halve the wall "
        "time, and only when the machine is otherwise idle." + parts,
        "",
        "### Per-partition cost and 1M series",
        "",
        measured(result, overhead),
        "",
        extrapolated(result),
        "",
        "### Projection: a 100M-series catalogue on N machines",
        "",
        projection(result, overhead),
    ]
    return "\n".join(out)


def partial_report(result: dict[str, Any], note: str) -> str:
    """The page of a run that measured only some engines (a long run done in parts): what
    was measured, and the per-series cost where the local engine ran."""
    n = result["series"]
    days = result.get("days", DAYS)
    out = [
        header(f"Scale-out at {n:,} series: the engines measured so far"),
        "",
        f"{n:,} daily series x {days} days ({n * days:,} sales rows), horizon {HORIZON}, "
        f"--batch-size {result['batch']:,} ({result['partitions']:,} partitions); the same "
        "data, items and stock as the scale-out section. Measured: "
        f"{', '.join(sorted({r['engine'] for r in result['rows']}))}; the other engine's run "
        "at this size is still to come (the comparison of both engines is in the scale-out "
        f"section, at its size). {note}".rstrip(),
        "",
        "| engine | step | wall s | CPU s | client GiB | worker GiB | tree GiB | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        workers = ", ".join(f"{g:.2f}" for g in r["worker_gib"]) if r["engine"] != "local" else ""
        out.append(
            f"| {r['engine']} | {r['step']} | {r['wall_s']:,.1f} | {r['cpu_s']:,.1f} | "
            f"{r['client_gib']:.2f} | {workers} | {r['tree_gib']:.2f} | {r['load']} |"
        )
    local = {r["step"]: r for r in result["rows"] if r["engine"] == "local"}
    if {"forecast", "plan-buy"} <= set(local):
        c = costs(result)
        out += [
            "",
            f"Measured at this size, one process: {c['forecast_ms']:,.2f} + "
            f"{c['plan_buy_ms']:,.2f} = {c['per_series_ms']:,.2f} CPU ms per series "
            f"({c['cpu_s'] / 3600:,.2f} CPU hours for the {n:,} series, "
            f"{c['per_partition_s']:,.0f} CPU s per partition of {result['batch']:,}).",
        ]
    return "\n".join(out)


def _without_note(argv: list[str]) -> str:
    """The measuring command without its ``--note`` (words for the page, not a setting)."""
    out, skip = [], False
    for arg in argv:
        if skip or arg.startswith("--note="):
            skip = False
            continue
        if arg == "--note":
            skip = True
            continue
        out.append(arg)
    return shlex.join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=MILLION)
    parser.add_argument("--batch-size", type=int, default=BATCH)
    parser.add_argument(
        "--no-lock", action="store_true", help="do not wait for the benchmark lock (say so)"
    )
    parser.add_argument("--note", default="")
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="engines to measure, comma-separated (a long run may be done in parts; the "
        "steps already measured at this size are kept in bench-data)",
    )
    parser.add_argument("--report", action="store_true", help="rewrite the page from saved runs")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    saved = WORK / f"result-{args.series}.json"
    if args.report:
        data = json.loads(saved.read_text())
    else:
        engines = tuple(e for e in args.engines.split(",") if e)
        result = run(args.series, batch=args.batch_size, lock=not args.no_lock, engines=engines)
        if {r["engine"] for r in result["rows"]} != set(ENGINES):
            text = partial_report(result, args.note)
            page = f"scale-out-{args.series // 1000}k"
            print(write_section(page, text))
            return
        overhead = scheduler_overhead()
        data = {
            "result": result,
            "overhead": overhead,
            "command": _without_note(sys.argv),
            "note": args.note,
        }
        saved.write_text(json.dumps(data, indent=1))
    text = report(data["result"], data["overhead"], args.note or data.get("note", ""))
    if args.report:  # the page names the command that measured
        lines = text.split("\n")
        at = next(i for i, line in enumerate(lines) if line.startswith("Command: "))
        lines[at] = (
            f"Command: `python {_without_note(shlex.split(data['command']))}` (this page "
            "rebuilt from its saved results with `--report`)"
        )
        text = "\n".join(lines)
    print(write_section("scale-out", text))


if __name__ == "__main__":
    main()
