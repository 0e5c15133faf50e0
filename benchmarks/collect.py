"""Assemble docs/benchmarks.md from the per-command sections in docs/benchmarks/."""

from __future__ import annotations

from _machine import REPO, RESULTS

ORDER = ("startup", "forecast", "plan-buy", "place", "promise", "route", "explain")


def main() -> None:
    parts = [
        "# Benchmarks\n",
        "Each section was produced by the script named in its `Command:` line (see "
        "`benchmarks/`); figures are medians of repeated runs on a shared, noisy 2-core machine. "
        "`make bench` re-runs them all and rebuilds this page.\n",
    ]
    names = sorted(p.stem for p in RESULTS.glob("*.md"))
    for name in [n for n in ORDER if n in names] + [n for n in names if n not in ORDER]:
        parts.append((RESULTS / f"{name}.md").read_text().strip() + "\n")
    (REPO / "docs" / "benchmarks.md").write_text("\n".join(parts))


if __name__ == "__main__":
    main()
