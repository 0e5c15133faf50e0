"""scot plot and scot report as real subprocesses on the committed fixtures' outputs."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import run_scot, scot_exe


@pytest.mark.slow
def test_promise_piped_into_plot(fixture_dir: Path, tmp_path: Path) -> None:
    promise = [
        *scot_exe(),
        "promise",
        str(fixture_dir / "orders.parquet"),
        "--inventory",
        str(fixture_dir / "inventory.parquet"),
        "--nodes",
        str(fixture_dir / "nodes.parquet"),
        "--lanes",
        str(fixture_dir / "lanes.parquet"),
    ]
    lines = subprocess.run(promise, capture_output=True, check=True, timeout=300).stdout
    out = tmp_path / "promise.svg"
    done = run_scot("plot", "-", "-o", str(out), input=lines)
    assert done.returncode == 0, done.stderr
    assert ET.parse(out).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert b"plot promise (svg) of <stdin>" in done.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    done = run_scot("demo", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "files"),
    [
        ("forecast", ["forecast.parquet"]),
        ("placement", ["placement.parquet", "coverage.parquet"]),
        ("promise", ["promises.parquet"]),
        ("route", ["trucks.parquet", "routes.parquet"]),
        ("explain", ["scenario/explain.parquet"]),
        ("simulate", ["sim/sim_daily.parquet", "sim/sim_summary.parquet"]),
    ],
)
def test_every_kind_of_the_demo_as_png(
    demo: Path, tmp_path: Path, kind: str, files: list[str]
) -> None:
    out = tmp_path / f"{kind}.png"
    done = run_scot("plot", kind, *[str(demo / f) for f in files], "-o", str(out))
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    # inputs the provenance names (the forecast's sales, the routes' stops) were found
    assert b"not drawn" not in done.stderr and b"no sales history" not in done.stderr


@pytest.mark.slow
def test_demo_folder_report_is_self_contained(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = run_scot("report", str(demo), "-o", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert page.count('<figure class="chart"><img') >= 6
    assert "http" not in page and "<script" not in page and "<link" not in page
