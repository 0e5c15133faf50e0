"""docs/benchmarks.md is assembled from the per-command sections; a stale page fails."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_benchmarks_page_matches_its_sections() -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import collect
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    page = (REPO / "docs" / "benchmarks.md").read_text()
    assert page == collect.assemble(), "run `python benchmarks/collect.py` and commit the page"
