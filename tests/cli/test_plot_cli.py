"""scot plot through typer's CliRunner: files of each format, the kind from provenance,
and one-line errors with exit 2 (usage) or 3 (a file of the wrong command)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from scot_cli.commands.main import app
from scot_cli.io import Run

runner = CliRunner()


def scot_output(folder: Path, name: str, command: str, df: pl.DataFrame, **params: Any) -> str:
    """``df`` written as ``command`` writes its output: Parquet with scot provenance."""
    path = folder / name
    Run(command, params=params).write(df, str(path), None)
    return str(path)


@pytest.fixture
def outputs(tmp_path: Path) -> dict[str, str]:
    promises = pl.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "destination": ["R1", "R1", "R2", "R2"],
            "promise_days": [1, 2, 3, 9],
            "on_time_prob": [0.99, 0.9, 0.95, 0.7],
        }
    )
    attribution = pl.DataFrame(
        {
            "subject": "(all)",
            "metric": "qty",
            "before": 100.0,
            "after": 130.0,
            "delta": 30.0,
            "driver": ["lead time", "forecast level"],
            "contribution": [40.0, -10.0],
        }
    )
    orders = pl.DataFrame({"sku": ["a"], "qty": [1.0]})
    return {
        "promises": scot_output(tmp_path, "promises.parquet", "promise", promises),
        "explain": scot_output(tmp_path, "explain.parquet", "explain", attribution),
        "orders": scot_output(tmp_path, "orders.parquet", "plan-buy", orders),
    }


def test_png_with_the_kind_from_provenance(outputs: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "p.png"
    result = runner.invoke(app, ["plot", outputs["promises"], "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"wrote {out}"


def test_svg_of_an_explain_waterfall(outputs: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "w.svg"
    args = ["plot", "explain", outputs["explain"], "--metric", "qty", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert ET.parse(out).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert "qty of total: 2 steps from 100 to 130" in result.stderr


def test_html_is_self_contained(outputs: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "p.html"
    result = runner.invoke(app, ["plot", "promise", outputs["promises"], "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    page = out.read_text()
    assert "data:image/svg+xml;base64," in page
    assert "http" not in page and "<script" not in page


def test_format_option_beats_the_suffix(outputs: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "picture.out"
    args = ["plot", outputs["promises"], "--format", "svg", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().lstrip().startswith(b"<?xml")


def test_bad_kind_is_exit_2_with_one_line(outputs: dict[str, str], tmp_path: Path) -> None:
    args = ["plot", "pie", outputs["promises"], "-o", str(tmp_path / "x.png")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == (
        "scot: error: KIND: unknown value 'pie' "
        "(choose from forecast, placement, promise, route, explain, simulate)\n"
    )
    assert not (tmp_path / "x.png").exists()


def test_file_of_another_command_is_exit_3_naming_its_kind(
    outputs: dict[str, str], tmp_path: Path
) -> None:
    path = outputs["promises"]
    result = runner.invoke(app, ["plot", "forecast", path, "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 3
    assert result.stderr == (
        f"scot: error: {path}: is an output of scot promise, not scot forecast's quantiles "
        f"(scot plot forecast); draw it with scot plot promise {path}\n"
    )


def test_output_no_kind_draws_is_exit_3(outputs: dict[str, str], tmp_path: Path) -> None:
    path = outputs["orders"]
    result = runner.invoke(app, ["plot", path, "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 3
    assert result.stderr.startswith(f"scot: error: {path}: is an output of scot plan-buy, ")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        (["-o", "x.jpg"], "-o x.jpg: unknown picture suffix '.jpg'; use .png, .svg or .html"),
        ([], "-o: give the picture file (.png, .svg or .html)"),
    ],
)
def test_picture_file_errors_are_exit_2(
    outputs: dict[str, str], tail: list[str], message: str
) -> None:
    result = runner.invoke(app, ["plot", outputs["promises"], *tail])
    assert result.exit_code == 2
    assert result.stderr == f"scot: error: {message}\n"


def test_kind_without_inputs_is_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plot", "promise", "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2
    assert (
        result.stderr == "scot: error: scot plot promise: give the input file(s) after the kind\n"
    )


def test_missing_input_is_exit_3(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.parquet")
    result = runner.invoke(app, ["plot", "promise", missing, "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 3
    assert result.stderr == f"scot: error: {missing}: no such file; check the path\n"
