"""scot explain through CliRunner: two promise runs compared, one decision, error paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from scot_cli.commands.main import app
from scot_cli.io import Run, read_metadata

runner = CliRunner()


def _promise(folder: Path, out: Path, *extra: str) -> None:
    args = ["promise", str(folder / "orders.parquet"), "--inventory"]
    args += [str(folder / "inventory.parquet"), "--nodes", str(folder / "nodes.parquet")]
    args += ["--lanes", str(folder / "lanes.parquet"), "-o", str(out), *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr


@pytest.fixture(scope="module")
def runs(small_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two promise runs: AFTER has slower ground lanes, an empty FC and --confidence 0.9."""
    root = tmp_path_factory.mktemp("explain_cli")
    old, new = root / "old", root / "new"
    shutil.copytree(small_dir, old)
    shutil.copytree(small_dir, new)
    lanes = pl.read_parquet(new / "lanes.parquet")
    slower = pl.when(pl.col("mode") == "ground").then(pl.col("transit_days") * 2)
    lanes.with_columns(
        slower.otherwise(pl.col("transit_days")).alias("transit_days")
    ).write_parquet(new / "lanes.parquet")
    inv = pl.read_parquet(new / "inventory.parquet")
    first_fc = inv["node"].sort()[0]
    empty = pl.when(pl.col("node") == first_fc).then(0.0).otherwise(pl.col("on_hand"))
    inv.with_columns(empty.alias("on_hand")).write_parquet(new / "inventory.parquet")
    _promise(old, root / "before.parquet")
    _promise(new, root / "after.parquet", "--confidence", "0.9")
    return {
        "root": root,
        "old": old,
        "new": new,
        "before": root / "before.parquet",
        "after": root / "after.parquet",
    }


def _explain(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["explain", *args])
    return result.exit_code, result.stdout, result.stderr


def test_attribution_table_adds_up(runs: dict[str, Path]) -> None:
    out = runs["root"] / "attribution.parquet"
    code, _, err = _explain(
        str(runs["before"]), str(runs["after"]), "--by", "order", "-o", str(out), "--format", "json"
    )
    assert code == 0, err
    t = pl.read_parquet(out)
    assert t.columns == [
        "subject",
        "metric",
        "before",
        "after",
        "delta",
        "driver",
        "contribution",
        "share",
    ]
    assert set(t["driver"]) >= {"transit times", "on hand", "parameters"}
    sums = t.group_by("subject", "metric").agg(
        pl.col("contribution").sum(),
        pl.col("delta").first(),
        pl.col("before").first(),
        pl.col("after").first(),
    )
    scale = pl.max_horizontal(pl.col("before").abs(), pl.col("after").abs(), pl.lit(1.0))
    assert (
        sums.select(((pl.col("contribution") - pl.col("delta")).abs() / scale).max()).item() <= 1e-9
    )
    meta = read_metadata(str(out))
    assert meta["command"] == "explain"
    roles = {i["role"] for i in meta["inputs"]}
    assert {"before", "after", "before.lanes", "after.lanes", "after.inventory"} <= roles
    assert meta["params"]["by"] == "order"


def test_json_report_has_headline_and_drivers(runs: dict[str, Path]) -> None:
    code, out, err = _explain(str(runs["before"]), str(runs["after"]), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["title"].startswith("scot explain: promise, by sku")
    metrics = {h["metric"] for h in doc["headline"]}
    assert metrics == {"promise_days", "on_time_prob"}
    total = {d["driver"] for d in doc["drivers"] if d["metric"] == "promise_days"}
    assert "transit times" in total


def test_markdown_report_sections(runs: dict[str, Path]) -> None:
    flags = runs["root"] / "flags.parquet"
    code, out, err = _explain(
        str(runs["before"]),
        str(runs["after"]),
        "--format",
        "md",
        "--by",
        "node",
        "--top",
        "2",
        "--flags-out",
        str(flags),
    )
    assert code == 0, err
    assert out.startswith("# scot explain: promise, by node")
    for section in ("## Top movers", "## Drivers of the total change", "## Data-quality flags"):
        assert section in out
    assert pl.read_parquet(flags).columns == ["role", "key", "column", "before", "after", "flag"]


def test_same_run_twice_explains_nothing(runs: dict[str, Path]) -> None:
    code, out, err = _explain(str(runs["before"]), str(runs["before"]), "--format", "csv")
    assert code == 0, err
    t = pl.read_csv(out.encode())
    assert set(t["driver"]) == {"not reproduced by re-run"}
    assert (t["contribution"] == 0).all()


def test_one_decision_in_sentences(runs: dict[str, Path]) -> None:
    order = pl.read_parquet(runs["before"])["order_id"][0]
    code, out, err = _explain(str(runs["before"]), "--order", order)
    assert code == 0, err
    assert f"Order {order} line 1:" in out
    assert "Written by scot promise" in out


def test_one_run_needs_a_key(runs: dict[str, Path]) -> None:
    code, _, err = _explain(str(runs["before"]))
    assert code == 2
    assert err == "scot: error: explain RUN needs --sku SKU (with --node NODE) or --order ORDER\n"


def test_unknown_order(runs: dict[str, Path]) -> None:
    code, _, err = _explain(str(runs["before"]), "--order", "NOPE")
    assert code == 3
    p = runs["before"]
    assert (
        err == f"scot: error: {p}: no row with order_id='NOPE'; check the key (scot inspect {p})\n"
    )


def test_unknown_metric(runs: dict[str, Path]) -> None:
    code, _, err = _explain(str(runs["before"]), str(runs["after"]), "--metric", "qty2")
    assert code == 2
    assert err.startswith("scot: error: --metric: qty2: not a numeric column of promise output")


def test_by_category_without_items(runs: dict[str, Path]) -> None:
    code, _, err = _explain(str(runs["before"]), str(runs["after"]), "--by", "category")
    assert code == 2
    assert err == "scot: error: --by: category: the promise runs did not read an items table\n"


def test_no_provenance(runs: dict[str, Path]) -> None:
    plain = runs["root"] / "plain.parquet"
    pl.read_parquet(runs["before"]).write_parquet(plain)
    code, _, err = _explain(str(plain), str(runs["after"]))
    assert code == 3
    assert err == (
        f"scot: error: {plain}: has no scot provenance (not written by a scot "
        "command); pass an output of plan-buy, place, promise, route, simulate\n"
    )


def test_different_commands(runs: dict[str, Path]) -> None:
    other = runs["root"] / "route.parquet"
    Run("route").write(pl.read_parquet(runs["before"]), str(other), None)
    code, _, err = _explain(str(runs["before"]), str(other))
    assert code == 2
    assert err == (
        f"scot: error: {runs['before']} was written by promise and {other} by "
        "route; pass two outputs of the same command\n"
    )


def test_unknown_command(runs: dict[str, Path]) -> None:
    other = runs["root"] / "sql.parquet"
    Run("sql").write(pl.read_parquet(runs["before"]), str(other), None)
    code, _, err = _explain(str(other), str(other))
    assert code == 2
    assert err == (
        f"scot: error: {other}: explain cannot re-run outputs of sql; it explains "
        "plan-buy, place, promise, route, simulate\n"
    )


def test_changed_input_names_role_and_option(runs: dict[str, Path], tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(runs["old"], old)
    before = tmp_path / "before.parquet"
    _promise(old, before)
    lanes = old / "lanes.parquet"
    saved = tmp_path / "lanes_saved.parquet"
    shutil.copy(lanes, saved)
    pl.read_parquet(saved).with_columns(pl.col("transit_days") + 1).write_parquet(lanes)
    code, _, err = _explain(str(before), str(runs["after"]))
    assert code == 3
    assert err == (
        f"scot: error: {before}: its lanes input {lanes} changed since that run "
        "(SHA-256 differs); pass --before-input lanes=PATH with the file that run "
        "read\n"
    )
    code, _, err = _explain(
        str(before), str(runs["after"]), "--before-input", f"lanes={saved}", "--format", "json"
    )
    assert code == 0, err
    lanes.unlink()
    code, _, err = _explain(str(before), str(runs["after"]))
    assert code == 3
    assert err == (
        f"scot: error: {before}: its lanes input {lanes} is no longer on disk; "
        "pass --before-input lanes=PATH with the file that run read\n"
    )


def test_override_of_unknown_role(runs: dict[str, Path]) -> None:
    code, _, err = _explain(
        str(runs["before"]), str(runs["after"]), "--after-input", "forecast=x.parquet"
    )
    assert code == 2
    assert err.startswith(
        f"scot: error: --after-input: forecast=...: {runs['after']} has no "
        "input with that role (roles: "
    )


def test_inputs_found_beside_the_output_from_another_folder(
    runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run made with relative paths is explained from elsewhere: inputs found by hash."""
    work = tmp_path / "work"
    shutil.copytree(runs["old"], work / "data")
    monkeypatch.chdir(work)
    args = [
        "promise",
        "data/orders.parquet",
        "--inventory",
        "data/inventory.parquet",
        "--nodes",
        "data/nodes.parquet",
        "--lanes",
        "data/lanes.parquet",
        "-o",
        "data/promises.parquet",
    ]
    assert runner.invoke(app, args).exit_code == 0
    monkeypatch.chdir(tmp_path)
    code, out, err = _explain("work/data/promises.parquet", str(runs["after"]), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["title"].startswith("scot explain: promise")


def test_old_short_metric_flag_still_works(runs: dict[str, Path]) -> None:
    """``-m`` (now --metric) is kept one release as a hidden alias."""
    args = [str(runs["before"]), str(runs["after"]), "-m", "promise_days", "--format", "json"]
    result = runner.invoke(app, ["explain", *args])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "scot: warning: -m is deprecated and will be removed; use --metric\n"
    assert [h["metric"] for h in json.loads(result.stdout)["headline"]] == ["promise_days"]


def test_help_fits_in_40_lines() -> None:
    """The synopsis a person reads in a 100-column terminal (drivers: --help-models)."""
    import os
    import subprocess

    from conftest import scot_exe

    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    done = subprocess.run(
        [*scot_exe(), "explain", "--help"], capture_output=True, env=env, check=False
    )
    assert done.returncode == 0
    assert len(done.stdout.decode().splitlines()) <= 40
    drivers = runner.invoke(app, ["explain", "--help-models"])
    assert "  transit times: lane transit time and its spread" in drivers.stdout
