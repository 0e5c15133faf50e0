"""Assemble docs/benchmarks.md from the per-command sections in docs/benchmarks/."""

from __future__ import annotations

from machine import REPO, RESULTS

ORDER = (
    "startup",
    "io",
    "forecast",
    "plan-buy",
    "place",
    "promise",
    "route",
    "last-mile",
    "simulate",
    "explain",
    "scale-out",
    "scale-out-100k",
    "fuzz",
)


def assemble() -> str:
    """The page: a header, then each command's section in pipeline order."""
    parts = [
        "# Benchmarks\n",
        "Each section was produced by the script named in its `Command:` line (see "
        "`benchmarks/`) on a shared, noisy 2-core machine; each section says how many runs its "
        "figures come from (medians where runs were repeated) and the load at the time. "
        "`make bench` re-runs them all and rebuilds this page.\n",
    ]
    names = sorted(p.stem for p in RESULTS.glob("*.md"))
    for name in [n for n in ORDER if n in names] + [n for n in names if n not in ORDER]:
        parts.append((RESULTS / f"{name}.md").read_text().strip() + "\n")
    return "\n".join(parts)


def main() -> None:
    (REPO / "docs" / "benchmarks.md").write_text(assemble())


if __name__ == "__main__":
    main()
