"""Helpers shared by the route benchmarks: both write sections of docs/benchmarks/route.md."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import RESULTS

ORDER = (
    "route: fulfilment against the myopic rule",
    "route: truck loading on bin-packing sets",
)


def write_route_section(text: str) -> Path:
    """Replace (or add) the section whose ``## `` title starts ``text`` in route.md."""
    path = RESULTS / "route.md"
    title = text.splitlines()[0].removeprefix("## ").strip()
    sections: dict[str, str] = {}
    if path.exists():
        for raw in path.read_text().split("\n## "):
            part = raw.removeprefix("## ").strip()
            if part:
                sections[part.splitlines()[0].strip()] = "## " + part
    sections[title] = text.strip()
    ordered = [t for t in ORDER if t in sections] + [t for t in sections if t not in ORDER]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join(sections[t] for t in ordered) + "\n")
    return path
