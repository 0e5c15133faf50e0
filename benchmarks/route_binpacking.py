"""Benchmark: truck loading (first-fit decreasing, scot_cli.route.trucks) on the OR-Library
bin-packing sets u120 and u250 (Falkenauer), bins used against the best known.

Baseline in the same run: first fit in the given order (no sorting). Times are medians of
three runs per instance. Skips when ../shared/data/binpacking is absent.

    .venv/bin/python benchmarks/route_binpacking.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import REPO, header
from route_common import write_route_section

from scot_cli.route.trucks import first_fit_decreasing

DATA = REPO.parent / "shared" / "data" / "binpacking"


def read_instances(path: Path) -> dict[str, np.ndarray]:
    """OR-Library format: count, then per instance a name, 'capacity n best', n sizes."""
    tokens = path.read_text().split()
    count, pos, out = int(tokens[0]), 1, {}
    for _ in range(count):
        name = tokens[pos]
        n = int(tokens[pos + 2])
        out[name] = np.array([float(t) for t in tokens[pos + 4 : pos + 4 + n]])
        pos += 4 + n
    return out


def first_fit(sizes: np.ndarray, capacity: float) -> int:
    residual: list[float] = []
    for s in sizes.tolist():
        for i, r in enumerate(residual):
            if r >= s:
                residual[i] -= s
                break
        else:
            residual.append(capacity - s)
    return len(residual)


def main() -> None:
    bounds_file = DATA / "bounds.json"
    if not bounds_file.exists():
        print(f"skipped: {DATA} not found")
        return
    bounds = json.loads(bounds_file.read_text())
    sizes: dict[str, np.ndarray] = {}
    for f in sorted({b["file"] for b in bounds}):
        sizes.update(read_instances(DATA / f))
    per_set: dict[str, list[tuple[int, int, int, float]]] = {}
    for b in bounds:
        items, cap = sizes[b["name"]], float(b["C"])
        times = []
        for _ in range(3):
            t = time.perf_counter()
            ffd = int(first_fit_decreasing(items, cap).max()) + 1
            times.append(time.perf_counter() - t)
        per_set.setdefault(b["name"].split("_")[0], []).append(
            (b["best_known"], first_fit(items, cap), ffd, statistics.median(times))
        )
    lines = [
        header("route: truck loading on bin-packing sets"),
        "Bins used by first-fit decreasing (the truck loader) against the best known "
        "(bounds.json); baseline: first fit in the given order.\n",
        "| set | instances | best known (sum) | first fit | FFD (scot route) | FFD at best "
        "known | FFD extra bins | median ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, rows in per_set.items():
        best = sum(r[0] for r in rows)
        ff = sum(r[1] for r in rows)
        ffd = sum(r[2] for r in rows)
        hit = sum(r[2] == r[0] for r in rows)
        ms = 1000 * statistics.median(r[3] for r in rows)
        lines.append(
            f"| {name} | {len(rows)} | {best} | {ff} | {ffd} | {hit}/{len(rows)} | "
            f"{ffd - best} ({100 * (ffd - best) / best:.2f}%) | {ms:.1f} |"
        )
    path = write_route_section("\n".join(lines) + "\n")
    print(path.read_text())


if __name__ == "__main__":
    main()
