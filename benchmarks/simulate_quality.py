"""Quality of ``scot simulate``: scot's policy against the baseline on the fixtures.

365 simulated days, 5 replications on common random numbers; the KPI means with 95%
intervals and the paired differences go to bench-data/simulate_quality.json, and
benchmarks/simulate_report.py writes them into docs/benchmarks/simulate.md. Run:

    .venv/bin/python benchmarks/simulate_quality.py --days 365 --replications 5

and the baseline's sensitivity to its weeks of cover (same streams):

    .venv/bin/python benchmarks/simulate_quality.py --policies baseline --baseline-weeks 10 \
        --out bench-data/simulate_quality_b10.json

On a shared machine the replications can run as separate processes, one seed each (every
seed's replication is independent, and within it the policies share the streams), then be
combined into the same JSON:

    for s in 0 1 2 3 4; do .venv/bin/python benchmarks/simulate_quality.py --seed $s \
        --replications 1 --out bench-data/simulate_quality_s$s.json & done; wait
    .venv/bin/python benchmarks/simulate_quality.py --combine bench-data/simulate_quality_s*.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shlex
import sys
import time
from pathlib import Path

import polars as pl
from machine import REPO, bench_lock, machine

from scot_cli.simulate import simulate

OUT = REPO / "bench-data" / "simulate_quality.json"


def by_month(daily: pl.DataFrame) -> pl.DataFrame:
    """Demand and lost units per policy and 30-day month of the horizon (all replications)."""
    first = daily["date"].min()
    return (
        daily.filter(pl.col("demand").is_not_null())
        .with_columns(((pl.col("date") - pl.lit(first)).dt.total_days() // 30).alias("month"))
        .group_by("policy", "month")
        .agg(pl.col("demand").sum(), pl.col("lost").sum())
        .sort("policy", "month")
    )


def combine(files: list[Path], out: Path) -> None:
    """One JSON from per-seed runs: replication i is the i-th file's run; the summary's
    intervals and paired differences are recomputed over them."""
    from scot_cli.simulate.report import summary_frame

    runs = [json.loads(p.read_text()) for p in sorted(files)]
    kpis = pl.concat(
        pl.DataFrame(r["kpis"]).with_columns(pl.lit(i, pl.Int64).alias("replication"))
        for i, r in enumerate(runs)
    )
    first = runs[0]
    policy = first["summary"][0]["policy"]
    months = (
        pl.concat(pl.DataFrame(r["by_month"]) for r in runs)
        .group_by("policy", "month")
        .agg(pl.col("demand").sum(), pl.col("lost").sum())
        .sort("policy", "month")
    )
    record = {
        **first,
        "command": " ; ".join(r["command"] for r in runs)
        + " ; python "
        + " ".join(shlex.quote(a) for a in sys.argv),
        "load_average": max((r["load_average"] for r in runs), key=lambda v: v[0]),
        "replications": len(runs),
        "wall_s": max(r["wall_s"] for r in runs),
        "cpu_s": sum(r["cpu_s"] for r in runs),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "summary": summary_frame(kpis, ("base", policy)).to_dicts(),
        "kpis": kpis.to_dicts(),
        "totals": [t for r in runs for t in r["totals"]],
        "by_month": months.to_dicts(),
        "processes": len(runs),
    }
    out.write_text(json.dumps(record, indent=1))
    print(f"combined {len(runs)} runs -> {out}")


def code_state() -> str:
    """The commit the run is from, and the library paths changed in the working tree."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    dirty = [line[3:] for line in git("status", "--porcelain", "scot_cli").splitlines()]
    head = git("rev-parse", "--short", "HEAD")
    return head + (f" (changed in the tree: {', '.join(dirty)})" if dirty else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--replications", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--policies", default="scot,baseline", help="Comma-separated policies.")
    ap.add_argument("--baseline-weeks", type=float, default=6.0)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument(
        "--no-lock", action="store_true", help="Do not wait for other benchmarks' lock."
    )
    ap.add_argument("--combine", nargs="+", type=Path, help="Per-seed JSON files to combine.")
    args = ap.parse_args()
    if args.combine:
        combine(args.combine, args.out)
        return
    f = REPO / "fixtures"
    code = code_state()
    with contextlib.nullcontext() if args.no_lock else bench_lock():
        wall, cpu = time.perf_counter(), time.process_time()
        result = simulate(
            f / "sales.parquet",
            items=f / "items.parquet",
            nodes=f / "nodes.parquet",
            lanes=f / "lanes.parquet",
            inventory=f / "inventory.parquet",
            events=f / "events.parquet",
            days=args.days,
            replications=args.replications,
            seed=args.seed,
            policies=tuple(args.policies.split(",")),
            baseline_weeks=args.baseline_weeks,
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": " ".join(shlex.quote(a) for a in ["python", *sys.argv]),
                "machine": machine(),
                "load_average": os.getloadavg(),
                "date": time.strftime("%Y-%m-%d"),
                "code": code,
                "seed": args.seed,
                "days": args.days,
                "replications": args.replications,
                "baseline_weeks": args.baseline_weeks,
                "wall_s": wall,
                "cpu_s": cpu,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "summary": result.summary_table.to_dicts(),
                "kpis": result.kpis.to_dicts(),
                "totals": result.totals.to_dicts(),
                "by_month": by_month(result.daily).to_dicts(),
            },
            indent=1,
        )
    )
    print("\n".join(result.summary.lines()))
    print(f"{wall:.0f} s wall, {cpu:.0f} s CPU -> {args.out}")


if __name__ == "__main__":
    main()
