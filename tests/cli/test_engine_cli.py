"""--engine, --shard, dataset folders in and out, and scot merge, through the command line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from scot_cli.commands.main import app
from scot_cli.fixtures import FixtureSpec, generate
from scot_cli.io import read_metadata

runner = CliRunner()
FORECAST = ["-H", "7", "--batch-size", "8", "--seed", "2"]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a LocalCluster of 2 worker processes."""
    from distributed import LocalCluster

    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    )
    yield str(cluster.scheduler_address)
    cluster.close()  # type: ignore[no-untyped-call]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 skus x 90 days: sales as a file and as a hive-partitioned dataset folder."""
    folder = tmp_path_factory.mktemp("engine-cli")
    tables = generate(FixtureSpec(skus=6, days=90, orders=10, seed=3))
    for name in ("sales", "items", "events", "inventory"):
        tables[name].write_parquet(folder / f"{name}.parquet")
    sales = tables["sales"].with_columns(pl.col("date").dt.month().alias("month"))
    for (month,), part in sales.group_by("month"):
        (folder / "sales_ds" / f"month={month}").mkdir(parents=True)
        part.drop("month").write_parquet(folder / "sales_ds" / f"month={month}" / "p.parquet")
    return folder


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_dask_forecast_into_a_dataset_equals_the_local_file(
    scheduler: str, data: Path, tmp_path: Path
) -> None:
    """A hive dataset in, a dataset partitioned by sku_hash out: the same rows as the local
    run on the file, readable as one table by polars and DuckDB, provenance per file."""
    whole = tmp_path / "whole.parquet"
    d = str(data)
    _ok(
        "forecast",
        f"{d}/sales.parquet",
        "--items",
        f"{d}/items.parquet",
        *FORECAST,
        "-o",
        str(whole),
    )
    out = tmp_path / "fc"
    _ok(
        "forecast", f"{d}/sales_ds", "--items", f"{d}/items.parquet", *FORECAST,
        "--engine", scheduler, "-o", f"{out}/", "--partition-by", "sku_hash",
    )  # fmt: skip
    manifest = json.loads((out / "_scot.json").read_text())
    assert manifest["partition_by"] == "sku_hash"
    assert sum(f["rows"] for f in manifest["files"]) == manifest["rows"]
    files = sorted(out.rglob("*.parquet"))
    assert len(files) == len(manifest["files"]) > 1
    assert all(p.parent.name.startswith("sku_hash=") for p in files)
    assert read_metadata(str(files[0]))["command"] == "forecast"
    assert manifest["provenance"]["inputs"][0]["role"] == "sales"
    got = pl.read_parquet(f"{out}/**/*.parquet", hive_partitioning=True)
    expected = pl.read_parquet(whole)
    assert got.drop("sku_hash").sort("sku", "location", "date").equals(expected)
    count = _ok("sql", f"select count(*) as n from '{out}/**/*.parquet'", "-f", "csv")
    assert count.splitlines()[-1] == str(expected.height)
    # a second run replaces the dataset whole, and leaves no temporary folder beside it
    _ok("forecast", f"{d}/sales.parquet", *FORECAST, "--shard", "0/2", "-o", f"{out}/")
    assert json.loads((out / "_scot.json").read_text())["partition_by"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fc", "whole.parquet"]


def test_shards_merged_are_the_whole_run(data: Path, tmp_path: Path) -> None:
    d = str(data)
    whole = tmp_path / "whole.parquet"
    common = [f"{d}/sales.parquet", "--events", f"{d}/events.parquet", *FORECAST]
    _ok("forecast", *common, "-o", str(whole))
    parts = [str(tmp_path / f"part{i}.parquet") for i in range(4)]
    for i, part in enumerate(parts):
        _ok("forecast", *common, "--shard", f"{i}/4", "-o", part)
    merged = tmp_path / "merged.parquet"
    _ok("merge", *reversed(parts), "-o", str(merged))
    assert pl.read_parquet(merged).equals(pl.read_parquet(whole))
    prov = read_metadata(str(merged))
    assert [m["shard"] for m in prov["merged"]] == ["0/4", "1/4", "2/4", "3/4"]
    missing = runner.invoke(app, ["merge", *parts[:3], "-o", str(tmp_path / "x.parquet")])
    assert missing.exit_code == 3
    assert "3/4 missing" in missing.output
    other = tmp_path / "other.parquet"
    _ok("forecast", *common, "--seed", "9", "--shard", "3/4", "-o", str(other))
    mixed = runner.invoke(app, ["merge", *parts[:3], str(other), "-o", str(tmp_path / "y.parquet")])
    assert mixed.exit_code == 3
    assert "differs" in mixed.output
    # a part whose columns were changed after the run (its provenance kept): exit 3, not a crash
    import pyarrow.parquet as pq

    table = pq.read_table(parts[3])
    extra = table.append_column("note", pl.Series([""] * table.num_rows).to_arrow())
    edited = tmp_path / "edited.parquet"
    pq.write_table(extra.replace_schema_metadata(table.schema.metadata), edited)
    odd = runner.invoke(app, ["merge", *parts[:3], str(edited), "-o", str(tmp_path / "z.parquet")])
    assert odd.exit_code == 3, odd.output
    assert "'note'" in odd.output
    assert not (tmp_path / "z.parquet").exists()


def test_a_bad_partition_exits_3_naming_its_skus(
    scheduler: str, data: Path, tmp_path: Path
) -> None:
    sales = pl.read_parquet(data / "sales.parquet")
    bad = sorted(sales["sku"].unique())[-1]
    broken = sales.with_columns(
        pl.when((pl.col("sku") == bad) & (pl.col("date") == pl.col("date").max()))
        .then(-1.0)
        .otherwise(pl.col("units"))
        .alias("units")
    )
    path = tmp_path / "sales.parquet"
    broken.write_parquet(path)
    out = tmp_path / "fc.parquet"
    result = runner.invoke(
        app, ["forecast", str(path), *FORECAST, "--engine", scheduler, "-o", str(out)]
    )
    assert result.exit_code == 3, result.output
    assert "partition" in result.output
    assert bad in result.output
    assert not out.exists()


def test_plan_buy_on_dask_and_in_shards_is_the_local_plan(
    scheduler: str, data: Path, tmp_path: Path
) -> None:
    d = str(data)
    fc = tmp_path / "fc.parquet"
    _ok("forecast", f"{d}/sales.parquet", *FORECAST, "-o", str(fc))
    tables = ["--items", f"{d}/items.parquet", "--inventory", f"{d}/inventory.parquet"]
    local, dask = tmp_path / "local.parquet", tmp_path / "dask.parquet"
    _ok(
        "plan-buy", str(fc), *tables, "-o", str(local), "--policy-out", str(tmp_path / "p1.parquet")
    )
    _ok(
        "plan-buy", str(fc), *tables, "-o", str(dask), "--policy-out",
        str(tmp_path / "p2.parquet"), "--scheduler", scheduler,
    )  # fmt: skip
    assert pl.read_parquet(dask).equals(pl.read_parquet(local))
    assert pl.read_parquet(tmp_path / "p2.parquet").equals(pl.read_parquet(tmp_path / "p1.parquet"))
    # into a dataset folder: each batch's orders written by the worker that planned it
    folder = tmp_path / "orders"
    _ok("plan-buy", str(fc), *tables, "-o", f"{folder}/", "--scheduler", scheduler)
    manifest = json.loads((folder / "_scot.json").read_text())
    assert manifest["provenance"]["command"] == "plan-buy"
    assert [f["path"] for f in manifest["files"]] == sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*.parquet")
    )
    assert {read_metadata(str(folder / f["path"]))["part"] for f in manifest["files"]} == set(
        range(len(manifest["files"]))
    )
    ds = pl.read_parquet(f"{folder}/*.parquet")
    assert ds.height == manifest["rows"]
    assert ds.equals(pl.read_parquet(local))
    parts = [str(tmp_path / f"o{i}.parquet") for i in range(2)]
    for i, part in enumerate(parts):
        _ok("plan-buy", str(fc), *tables, "--shard", f"{i}/2", "-o", part)
    _ok("merge", *parts, "-o", str(tmp_path / "merged.parquet"))
    assert pl.read_parquet(tmp_path / "merged.parquet").equals(pl.read_parquet(local))


def test_usage_errors(data: Path, tmp_path: Path) -> None:
    d = str(data)
    fc = str(tmp_path / "fc.parquet")
    for args, text in (
        (["--engine", "spark"], "--engine spark"),
        (["--shard", "4/4"], "--shard 4/4"),
        (["--shard", "0/2", "--items", f"{d}/items.parquet"], "cold start"),
        (["--shard", "0/99"], "at most"),
    ):
        result = runner.invoke(app, ["forecast", f"{d}/sales.parquet", *FORECAST, *args, "-o", fc])
        assert result.exit_code == 2, (args, result.output)
        assert text in result.output
    tables = ["--items", f"{d}/items.parquet", "--inventory", f"{d}/inventory.parquet"]
    _ok("forecast", f"{d}/sales.parquet", *FORECAST, "-o", fc)
    budget = runner.invoke(
        app, ["plan-buy", fc, *tables, "--budget", "100", "--shard", "0/2", "-o", fc + ".o"]
    )
    assert budget.exit_code == 2
    assert "LP" in budget.output


def test_backtest_and_explain_on_dask_are_the_local_ones(
    scheduler: str, data: Path, tmp_path: Path
) -> None:
    """forecast evaluate and explain (two plan-buy runs) with --engine: the same files."""
    d = str(data)
    evaluate = ["forecast", "evaluate", f"{d}/sales.parquet", "-H", "7", "--folds", "2"]
    _ok(*evaluate, "-o", str(tmp_path / "m1.parquet"))
    _ok(*evaluate, "--engine", scheduler, "-o", str(tmp_path / "m2.parquet"))
    m1, m2 = (pl.read_parquet(tmp_path / f"m{i}.parquet") for i in (1, 2))
    assert m1.height > 0
    assert m2.equals(m1)
    assert read_metadata(str(tmp_path / "m2.parquet"))["command"] == "forecast evaluate"
    sales = pl.read_parquet(data / "sales.parquet")
    sales.with_columns(pl.col("units").neg()).write_parquet(tmp_path / "neg.parquet")
    bad = [*evaluate[:2], str(tmp_path / "neg.parquet"), *evaluate[3:], "--engine", scheduler]
    broken = runner.invoke(app, [*bad, "-o", str(tmp_path / "m3.parquet")])
    assert broken.exit_code == 3, broken.output
    assert "units" in broken.output
    assert not (tmp_path / "m3.parquet").exists()
    fc = tmp_path / "fc.parquet"
    _ok("forecast", f"{d}/sales.parquet", *FORECAST, "-o", str(fc))
    items = pl.read_parquet(data / "items.parquet")
    longer = items.with_columns(
        pl.when(pl.int_range(pl.len()) % 2 == 0)
        .then(pl.col("lead_time_days") * 2)
        .otherwise(pl.col("lead_time_days"))
    )
    longer.write_parquet(tmp_path / "items2.parquet")
    inv = ["--inventory", f"{d}/inventory.parquet"]
    _ok(
        "plan-buy",
        str(fc),
        "--items",
        f"{d}/items.parquet",
        *inv,
        "-o",
        str(tmp_path / "b.parquet"),
    )
    _ok("plan-buy", str(fc), "--items", str(tmp_path / "items2.parquet"), *inv,
        "--service-level", "0.9", "-o", str(tmp_path / "a.parquet"))  # fmt: skip
    runs = [str(tmp_path / "b.parquet"), str(tmp_path / "a.parquet")]
    _ok("explain", *runs, "-o", str(tmp_path / "x1.parquet"))
    _ok("explain", *runs, "--scheduler", scheduler, "-o", str(tmp_path / "x2.parquet"))
    x1, x2 = (pl.read_parquet(tmp_path / f"x{i}.parquet") for i in (1, 2))
    assert x1["contribution"].abs().sum() > 0
    assert x2.equals(x1)


def test_simulate_on_dask_is_the_local_simulation(scheduler: str, tmp_path: Path) -> None:
    """scot simulate --scheduler: the replications as tasks, the same three outputs; a bad
    engine is a usage error before anything is read."""
    tables = generate(FixtureSpec(skus=6, days=90, orders=10, seed=3))
    args = ["simulate", "--days", "3", "--replications", "2", "--seed", "4"]
    for name in ("sales", "items", "nodes", "lanes", "inventory"):
        tables[name].write_parquet(tmp_path / f"{name}.parquet")
        args += [f"--{name}", str(tmp_path / f"{name}.parquet")]
    _ok(*args, "-o", str(tmp_path / "local"))
    _ok(*args, "--scheduler", scheduler, "-o", str(tmp_path / "dask"))
    for name in ("sim_daily", "sim_kpis", "sim_summary"):
        local = pl.read_parquet(tmp_path / "local" / f"{name}.parquet")
        assert local.height > 0
        assert pl.read_parquet(tmp_path / "dask" / f"{name}.parquet").equals(local), name
    bad = runner.invoke(app, [*args, "--engine", "spark", "-o", str(tmp_path / "bad")])
    assert bad.exit_code == 2
    assert "--engine spark" in bad.output
    assert not (tmp_path / "bad").exists()
