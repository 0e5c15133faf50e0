"""Decision quality of ``scot place`` against the rule "stock each FC in proportion to the
demand of the regions nearest to it", and against leaving stock where it is.

All three are scored by the same expected-cost model (holding, moves, shipping, late
penalty, expected lost sales, penalties) with the region allocation optimised for the fixed
targets, on the committed fixtures (forecast by ``scot forecast -m window_mean``) and on a
generated coupled network (``place_scale.network``). Run:

    .venv/bin/python benchmarks/place_quality.py [--skus 1000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
from _machine import REPO, header
from place_scale import SETTINGS, network, update_section

from scot_cli.place.model import Settings
from scot_cli.place.plan import Plan, before, evaluate, proportional_targets, solve
from scot_cli.place.problem import PlaceProblem, build_problem
from scot_cli.place.report import within_days
from scot_cli.schema import INVENTORY, ITEMS, LANES, NODES

BENCH = REPO / "bench-data"


def fixtures_problem() -> PlaceProblem | None:
    """The committed fixtures with a 14-day window-mean forecast (None when absent)."""
    fx = REPO / "fixtures"
    if not (fx / "sales.parquet").exists():
        return None
    BENCH.mkdir(exist_ok=True)
    forecast = BENCH / "place_forecast.parquet"
    scot = str(Path(sys.executable).with_name("scot"))
    subprocess.run(
        [
            scot,
            "-q",
            "forecast",
            str(fx / "sales.parquet"),
            "-H",
            "14",
            "-m",
            "window_mean",
            "-o",
            str(forecast),
        ],
        check=True,
    )

    def read(name: str, table: object) -> pl.DataFrame:
        return table.validate(pl.read_parquet(fx / f"{name}.parquet"), source=name)  # type: ignore[attr-defined,no-any-return]

    return build_problem(
        forecast=pl.read_parquet(forecast),
        items=read("items", ITEMS),
        inventory=read("inventory", INVENTORY),
        nodes=read("nodes", NODES),
        lanes=read("lanes", LANES),
    )


def score(plan: Plan) -> dict[str, float]:
    demand = float(plan.prob.mu.sum())
    return {
        "cost": plan.total_cost,
        "without_penalties": plan.total_cost - plan.costs["penalties"],
        "overflow": float(plan.slack["store"].sum()),
        **{k: v for k, v in plan.costs.items()},
        "1d": float(within_days(plan, 1).sum()) / demand,
        "2d": float(within_days(plan, 2).sum()) / demand,
        "served": float(plan.sales.sum()) / demand,
    }


def compare(prob: PlaceProblem, settings: Settings) -> dict[str, dict[str, float]]:
    start = time.perf_counter()
    lp = solve(prob, settings)
    lp_seconds = time.perf_counter() - start
    rule = evaluate(prob, proportional_targets(prob), settings)
    stay = before(prob, settings)
    out = {"scot place (LP)": score(lp), "proportional rule": score(rule), "no change": score(stay)}
    out["scot place (LP)"]["seconds"] = lp_seconds
    return out


def table(title: str, rows: dict[str, dict[str, float]]) -> list[str]:
    lines = [
        f"### {title}",
        "",
        "| plan | expected cost | without penalties | holding | moves | shipping | late | "
        "lost sales | penalties | storage overflow | served | 1-day | 2-day |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['cost']:,.0f} | {r['without_penalties']:,.0f} | "
            f"{r['holding']:,.0f} | {r['moves']:,.0f} | "
            f"{r['shipping']:,.0f} | {r['late']:,.0f} | {r['shortage']:,.0f} | "
            f"{r['penalties']:,.0f} | {r['overflow']:,.1f} | {r['served']:.1%} | "
            f"{r['1d']:.1%} | {r['2d']:.1%} |"
        )
    base = rows["proportional rule"]["cost"]
    lp = rows["scot place (LP)"]["cost"]
    base_np = rows["proportional rule"]["without_penalties"]
    lp_np = rows["scot place (LP)"]["without_penalties"]
    lines += [
        "",
        f"scot place: {100 * (lp - base) / base:+.1f}% expected cost against the rule "
        f"({100 * (lp_np - base_np) / base_np:+.1f}% leaving out the rule's penalised storage "
        f"overflow); LP solved in {rows['scot place (LP)']['seconds']:.1f} s.",
        "",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=1000)
    args = parser.parse_args()
    lines = [header("Place: decision quality against the nearest-region proportional rule"), ""]
    lines += [
        "Expected cost of each plan under one model (the LP's objective with the targets",
        "fixed and the region allocation optimised); coverage = expected units sold within",
        "1 / 2 delivery days over expected demand. Speed target 2 days : 80%.",
        "",
    ]
    prob = fixtures_problem()
    if prob is not None:
        rows = compare(prob, SETTINGS)
        lines += table(
            f"Committed fixtures ({len(prob.skus)} skus x {len(prob.fcs)} FCs x "
            f"{len(prob.regions)} regions, 7-day period)",
            rows,
        )
        print(rows, flush=True)
    gen = network(args.skus, seed=args.skus + 1)
    rows = compare(gen, SETTINGS)
    print(rows, flush=True)
    lines += table(f"Generated network ({args.skus:,} skus x 10 FCs x 50 regions)", rows)
    update_section("quality", "\n".join(lines))


if __name__ == "__main__":
    main()
