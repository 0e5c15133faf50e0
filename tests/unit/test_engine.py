"""The Dask engine: the same frames as the local run, shards, a lost worker, bad data."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import cloudpickle
import polars as pl
import pytest

from scot_cli.engine import (
    LocalEngine,
    PartitionError,
    Shard,
    open_engine,
    parse_engine,
    parse_shard,
    sku_ranges,
)
from scot_cli.engine.dask import DaskEngine
from scot_cli.engine.forecast import engine_forecast
from scot_cli.errors import InputDataError, UsageError
from scot_cli.forecast import ForecastOptions, forecast, partition
from scot_cli.io.dataset import sku_buckets

# the tasks below are defined here: workers get them by value, not by importing this file
cloudpickle.register_pickle_by_value(sys.modules[__name__])

OPTIONS = ForecastOptions(horizon=7, seed=5)
BATCH = 8  # 32 series: 4 partitions


@pytest.fixture(scope="module")
def engine() -> Iterator[DaskEngine]:
    """A LocalCluster of 2 worker processes for this module."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    )
    eng = DaskEngine(Client(cluster), cluster)  # type: ignore[no-untyped-call]
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def sales_file(
    tmp_path_factory: pytest.TempPathFactory, small_tables: dict[str, pl.DataFrame]
) -> Path:
    path = tmp_path_factory.mktemp("engine") / "sales.parquet"
    small_tables["sales"].write_parquet(path)
    return path


def _engine_frame(
    eng: object, sales: object, tables: dict[str, pl.DataFrame], **kw: object
) -> pl.DataFrame:
    result = engine_forecast(
        eng,  # type: ignore[arg-type]
        sales,  # type: ignore[arg-type]
        items=kw.pop("items", tables["items"]),  # type: ignore[arg-type]
        events=tables["events"],
        options=OPTIONS,
        batch_size=BATCH,
        **kw,  # type: ignore[arg-type]
    )
    return pl.concat(list(result.frames))


def _local(tables: dict[str, pl.DataFrame], *, items: bool = True) -> pl.DataFrame:
    out = forecast(
        tables["sales"],
        items=tables["items"] if items else None,
        events=tables["events"],
        options=OPTIONS,
        batch_size=BATCH,
    ).forecast
    assert out is not None
    return out


def _train_series(n: int) -> None:
    partition.TRAIN_SERIES = n


def test_dask_forecast_is_the_local_forecast_bit_for_bit(
    engine: DaskEngine,
    small_tables: dict[str, pl.DataFrame],
    sales_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lifts, the sample's model, cold start: reduced in partition order, so equal frames.
    The training sample is cut to 12 series (here and on the workers), so partitions both
    take rows from the sample and fit their own."""
    original = partition.TRAIN_SERIES
    monkeypatch.setattr(partition, "TRAIN_SERIES", 12)
    engine.client.run(_train_series, 12)
    try:
        _same_frames(engine, small_tables, sales_file)
    finally:
        engine.client.run(_train_series, original)


def _same_frames(
    engine: DaskEngine, small_tables: dict[str, pl.DataFrame], sales_file: Path
) -> None:
    local = _local(small_tables)
    assert local["model"].str.starts_with("cold_start").any()  # cold start is exercised
    assert engine.workers == 2
    assert local["model"].str.starts_with("auto:").any()
    dask = _engine_frame(engine, str(sales_file), small_tables)
    assert dask.equals(local)


def test_shards_joined_are_the_whole_forecast(
    engine: DaskEngine, small_tables: dict[str, pl.DataFrame], sales_file: Path
) -> None:
    whole = _local(small_tables, items=False)
    parts = [
        _engine_frame(
            engine if i % 2 else LocalEngine(),
            str(sales_file),
            small_tables,
            items=None,
            shard=Shard(i, 4),
        )
        for i in range(4)
    ]
    assert all(p.height for p in parts)
    assert pl.concat(parts).equals(whole)


def test_shard_with_items_is_refused(small_tables: dict[str, pl.DataFrame]) -> None:
    with pytest.raises(UsageError, match="cold start"):
        _engine_frame(LocalEngine(), small_tables["sales"], small_tables, shard=Shard(0, 2))


class _DieOnce:
    """A sales loader whose worker process dies the first time it reads ``sku``."""

    def __init__(self, df: pl.DataFrame, sku: str, marker: Path) -> None:
        self.df, self.sku, self.marker = df, sku, marker

    def __call__(self, skus: pl.Series) -> pl.DataFrame:
        if self.sku in skus.to_list() and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os._exit(1)  # the worker process is lost mid-task
        return self.df.filter(pl.col("sku").is_in(skus.implode()))


def test_a_worker_lost_mid_run_is_survived(
    engine: DaskEngine, small_tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    from scot_cli.engine.forecast import run_partitions
    from scot_cli.forecast.partition import PartitionRun, catalogue, partitions

    sales = small_tables["sales"]
    cat = catalogue(sales.lazy(), freq="D")
    skus = partitions(cat.keys, BATCH)
    marker = tmp_path / "died"
    run = PartitionRun(
        cat=cat,
        parts=skus,
        load=_DieOnce(sales, str(skus[2][0]), marker),
        items=None,
        events=small_tables["events"],
        freq="D",
        horizon=OPTIONS.horizon,
        quantiles=OPTIONS.levels,
        model=OPTIONS.model,
        windows=OPTIONS.windows,
        seed=OPTIONS.seed,
    )
    frames = pl.concat(list(run_partitions(engine, run)))
    assert marker.exists()  # a worker did die
    assert int(marker.read_text()) not in engine.client.run(os.getpid).values()
    assert frames.equals(_local(small_tables, items=False))


def test_a_partition_with_bad_data_names_its_skus(
    engine: DaskEngine, small_tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    sales = small_tables["sales"]
    bad_sku = sorted(sales["sku"].unique())[7]
    broken = sales.with_columns(
        pl.when((pl.col("sku") == bad_sku) & (pl.col("date") == pl.col("date").max()))
        .then(-4.0)
        .otherwise(pl.col("units"))
        .alias("units")
    )
    path = tmp_path / "sales.parquet"
    broken.write_parquet(path)
    with pytest.raises(PartitionError, match=rf"partition \d+ \(\d+ skus? .*{bad_sku}") as err:
        _engine_frame(engine, str(path), small_tables, items=None)
    assert err.value.exit_code == 3
    assert "units" in str(err.value)


def test_engine_specs() -> None:
    assert parse_engine("local").is_local
    assert parse_engine("dask:3").workers == 3
    assert parse_engine("dask").workers is None
    assert parse_engine("tcp://10.0.0.1:8786").address == "tcp://10.0.0.1:8786"
    assert parse_engine("dask://h:1").address == "tcp://h:1"
    assert parse_engine("local", workers=2).kind == "dask"
    assert parse_engine("local", scheduler="tcp://h:1").address == "tcp://h:1"
    assert isinstance(open_engine(parse_engine("local")), LocalEngine)
    for bad in ("spark", "dask:0", "dask:x", "http://h:1"):
        with pytest.raises(UsageError, match="--engine"):
            parse_engine(bad)
    with pytest.raises(UsageError, match="give one"):
        parse_engine("dask", scheduler="tcp://h:1", workers=2)


def test_shards_cover_the_skus_once() -> None:
    assert parse_shard(None) is None
    assert parse_shard("2/5") == Shard(2, 5)
    for bad in ("5/5", "1", "a/2", "-1/2", "0/0"):
        with pytest.raises(UsageError, match="--shard"):
            parse_shard(bad)
    skus = pl.Series([f"S{i:03d}" for i in range(103)]).shuffle(seed=1)
    got = [sku_ranges(skus, Shard(i, 4)) for i in range(4)]
    assert pl.concat(got).to_list() == sorted(skus.to_list())
    assert max(s.len() for s in got) - min(s.len() for s in got) <= 1


def test_sku_hash_is_stable() -> None:
    """CRC-32 (zlib), so any machine and version buckets a sku the same way."""
    import zlib

    b = sku_buckets(pl.Series(["A", "B", "A"]), 32)
    assert b.to_list() == [zlib.crc32(b"A") % 32, zlib.crc32(b"B") % 32, zlib.crc32(b"A") % 32]


def test_dask_backtest_is_the_local_backtest_bit_for_bit(
    engine: DaskEngine, small_tables: dict[str, pl.DataFrame]
) -> None:
    """scot forecast evaluate: each (model, origin) fit a task, the same metrics."""
    from scot_cli.engine.evaluate import evaluate_on
    from scot_cli.forecast import EvaluateOptions, evaluate_forecast

    options = EvaluateOptions(horizon=7, folds=2, seed=5)
    tables = {k: small_tables[k] for k in ("items", "events")}
    local = evaluate_forecast(small_tables["sales"], options=options, **tables)  # type: ignore[arg-type]
    dask = evaluate_on(engine, small_tables["sales"], options=options, **tables)  # type: ignore[arg-type]
    assert local.metrics.height > 0
    assert set(local.metrics["model"]) == {OPTIONS.model, "zero", "seasonal_naive"}
    assert dask.metrics.equals(local.metrics)
    assert dask.summary == local.summary


def _toy_decide(inputs: Mapping[str, pl.DataFrame], params: Mapping[str, Any]) -> pl.DataFrame:
    """q = demand * lead time * z - on hand per sku; a negative demand is bad data."""
    demand = inputs["demand"]
    bad = demand.filter(pl.col("units") < 0)
    if bad.height:
        raise InputDataError(f"demand: column units is negative for sku {bad['sku'][0]}")
    q = pl.col("units") * pl.col("lead_time") * float(params["z"]) - pl.col("on_hand")
    return demand.join(inputs["stock"], on="sku").with_columns(q.alias("q"))


def _toy_runs(n: int = 40, bad: str | None = None) -> tuple[Any, Any, dict[str, Any]]:
    from scot_cli.explain.drivers import Driver
    from scot_cli.explain.mixing import Scenario

    skus = [f"S{i:03d}" for i in range(n)]
    units = [float(i % 7) for i in range(n)]
    old_stock = pl.DataFrame({"sku": skus, "lead_time": [2.0] * n, "on_hand": [1.0] * n})
    new_stock = old_stock.with_columns(
        pl.when(pl.int_range(n) % 3 == 0)
        .then(5.0)
        .otherwise(pl.col("lead_time"))
        .alias("lead_time"),
        pl.when(pl.int_range(n) % 4 == 0).then(0.0).otherwise(pl.col("on_hand")).alias("on_hand"),
    )
    new_units = [u + (1.5 if i % 5 == 0 else 0.0) for i, u in enumerate(units)]
    if bad is not None:
        new_units[skus.index(bad)] = -1.0
    old = Scenario(
        {"demand": pl.DataFrame({"sku": skus, "units": units}), "stock": old_stock}, {"z": 1.0}
    )
    new = Scenario(
        {"demand": pl.DataFrame({"sku": skus, "units": new_units}), "stock": new_stock}, {"z": 1.3}
    )
    common = {
        "decide": _toy_decide,
        "drivers": (
            Driver("demand", ("demand.units",)),
            Driver("lead time", ("stock.lead_time",)),
            Driver("on hand", ("stock.on_hand",)),
            Driver("service", params=("z",)),
        ),
        "keys": {"demand": ("sku",), "stock": ("sku",)},
        "subject": lambda _f: pl.col("sku"),
        "metrics": ["q"],
    }
    return old, new, common


@pytest.mark.parametrize("separable", [None, "sku"])
def test_dask_explain_is_the_local_explain_bit_for_bit(
    engine: DaskEngine, separable: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scot explain: every re-run of the decision a task; the same attribution table. A
    separable decision's units are cut into runs of BATCH_UNITS (here 16 of 40 skus)."""
    from scot_cli.explain import partition as explain_partition
    from scot_cli.explain.engine import attribute

    monkeypatch.setattr(explain_partition, "BATCH_UNITS", 16)
    old, new, common = _toy_runs()
    local = attribute(old=old, new=new, separable=separable, **common)
    seen: list[tuple[int, int]] = []
    dask = attribute(
        old=old,
        new=new,
        separable=separable,
        engine=engine,
        progress=lambda *a: seen.append(a),
        **common,
    )
    assert local.table.height > 0
    assert dask.table.equals(local.table)
    assert dask.evaluations == local.evaluations == len(seen) == seen[-1][1]
    if separable is None:
        assert local.evaluations == 16  # 2**4 mixes of the whole catalogue
    else:
        assert local.evaluations > 16  # runs of skus, each on the mixes of its groups


def test_an_explain_re_run_with_bad_data_names_its_skus(engine: DaskEngine) -> None:
    from scot_cli.explain.engine import attribute

    old, new, common = _toy_runs(bad="S017")
    with pytest.raises(
        PartitionError, match=r"partition \d+ \(\d+ skus S0\d\d\.\.S0\d\d\).*S017"
    ) as err:
        attribute(old=old, new=new, separable="sku", engine=engine, **common)
    assert err.value.exit_code == 3


def test_workers_write_the_dataset_parts_and_the_client_the_manifest(
    engine: DaskEngine, small_tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    """10 partitions written by the workers into the temporary folder; only their manifest
    entries come back; the dataset read as one table is the local forecast."""
    import json

    from scot_cli.engine.forecast import PartSink, Written, run_partitions
    from scot_cli.forecast.schema import FORECAST
    from scot_cli.io import Run, read_metadata
    from scot_cli.io.dataset import DatasetWriter

    result = engine_forecast(
        engine,
        small_tables["sales"],
        items=None,
        events=small_tables["events"],
        options=OPTIONS,
        batch_size=BATCH,
    )
    assert result.run is not None and result.partitions == 10
    run = Run("forecast", params=OPTIONS.params(), seed=OPTIONS.seed)
    out = tmp_path / "fc"
    with DatasetWriter(str(out), run.provenance(), partition_by="sku_hash") as w:
        sink = PartSink(w.part_writer(), run, FORECAST)
        written = list(run_partitions(engine, result.run, sink=sink))
        assert all(isinstance(x, Written) for x in written)
        for x in written:
            w.add(x.files)
        w.commit()
    local = _local(small_tables, items=False)
    assert sum(x.series for x in written) == local.select("sku", "location").n_unique()
    manifest = json.loads((out / "_scot.json").read_text())
    assert manifest["rows"] == local.height
    parts = {read_metadata(str(out / f["path"]))["part"] for f in manifest["files"]}
    assert parts == set(range(10))
    got = pl.read_parquet(f"{out}/**/*.parquet", hive_partitioning=True).drop("sku_hash")
    assert got.sort("sku", "location", "date").equals(local)


def test_dask_simulate_is_the_local_simulate_bit_for_bit(engine: DaskEngine) -> None:
    """scot simulate: each replication a task on its own random streams; the same daily
    table, KPIs and summary as the local run, and progress counted in runs."""
    from scot_cli.fixtures import FixtureSpec, generate
    from scot_cli.simulate import simulate

    tb = generate(FixtureSpec(skus=8, days=90, orders=40, seed=4))
    tables: dict[str, Any] = {k: tb[k] for k in ("items", "nodes", "lanes", "inventory")}
    fields: dict[str, Any] = {
        "days": 4,
        "replications": 3,
        "policies": ("scot", "baseline"),
        "what_ifs": ("lead-time=x1.5",),
        "seed": 9,
    }
    local = simulate(tb["sales"], **tables, **fields)
    seen: list[tuple[int, int]] = []
    dask = simulate(
        tb["sales"], **tables, **fields, engine=engine, progress=lambda *a: seen.append(a)
    )
    assert local.daily.height > 0
    assert dask.daily.equals(local.daily)
    assert dask.kpis.equals(local.kpis)
    assert dask.summary_table.equals(local.summary_table)
    assert dask.totals.equals(local.totals)
    assert seen[-1] == (12, 12)  # 3 replications x 2 scenarios x 2 policies
    assert sorted(set(local.kpis["replication"].to_list())) == [0, 1, 2]
