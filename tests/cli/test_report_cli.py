"""scot report through typer's CliRunner: one self-contained page of a folder's outputs."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from scot_cli.commands.main import app
from scot_cli.io import Run

runner = CliRunner()


def _write(path: Path, command: str, df: pl.DataFrame, **extra: object) -> None:
    Run(command).write(df, str(path), None, extra={"summary": extra} if extra else None)


def _folder(root: Path) -> Path:
    (root / "scenario").mkdir(parents=True)
    promises = pl.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            "destination": ["R1", "R2", "R2"],
            "promise_days": [1, 2, 4],
            "on_time_prob": [0.99, 0.9, 0.8],
        }
    )
    _write(root / "promises.parquet", "promise", promises)
    trucks = pl.DataFrame(
        {
            "truck_id": ["t1", "t2"],
            "origin": ["F1", "F1"],
            "destination": ["D1", "D2"],
            "fill": [0.3, 0.8],
        }
    )
    _write(root / "trucks.parquet", "route", trucks, trucks=2, on_time_share=0.98)
    attribution = pl.DataFrame(
        {
            "subject": "(all)",
            "metric": "qty",
            "before": 10.0,
            "after": 12.0,
            "delta": 2.0,
            "driver": ["lead time"],
            "contribution": [2.0],
        }
    )
    _write(root / "scenario" / "explain.parquet", "explain", attribution)
    pl.DataFrame({"x": [1]}).write_parquet(root / "scratch.parquet")
    return root


def test_report_page_has_a_chart_per_output_and_the_summaries(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    result = runner.invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.stderr
    page = (folder / "report.html").read_text()
    assert page.count('<figure class="chart"><img') == 3
    headings = re.findall(r"<h2>([^<]*)</h2>", page)
    assert headings[:3] == [
        "promise: promises.parquet",
        "route: trucks.parquet",
        "explain: scenario/explain.parquet",
    ]
    assert "Summary of scot route: trucks.parquet" in headings
    assert "<td>on_time_share</td><td>0.98</td>" in page
    assert "http" not in page and "<script" not in page
    assert result.stderr.splitlines()[-1] == f"wrote {folder / 'report.html'}"


def test_report_to_a_named_file(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "run")
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert out.read_text().startswith("<!doctype html>")
    assert not (folder / "report.html").exists()


def test_folder_without_scot_outputs_is_exit_3(tmp_path: Path) -> None:
    pl.DataFrame({"x": [1]}).write_parquet(tmp_path / "scratch.parquet")
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 3
    assert result.stderr == (
        f"scot: error: {tmp_path}: no scot output here that scot plot draws "
        "(forecast, placement, promise, route, explain, simulate); "
        f"run scot demo --out {tmp_path} first\n"
    )


def test_missing_folder_is_exit_3(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 3
    assert result.stderr == (
        f"scot: error: {tmp_path / 'nope'}: no such folder; give a scot output folder\n"
    )


def test_report_to_stdout(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    result = runner.invoke(app, ["report", str(folder), "-o", "-"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("<!doctype html>")
    assert not (folder / "report.html").exists()
