"""Odd inputs through the commands: exit codes and the one error line (issue 11's table)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from conftest import forecast_from_sales, parquet_bytes
from scot_cli.commands.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def forecast_file(small_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reliability") / "forecast.parquet"
    forecast_from_sales(pl.read_parquet(small_dir / "sales.parquet")).write_parquet(path)
    return path


def _promises(small_dir: Path) -> pl.DataFrame:
    """The small set's orders, shipped on the order day and promised three days later."""
    day = pl.col("order_time").dt.date()
    return (
        pl.read_parquet(small_dir / "orders.parquet")
        .with_columns(
            day.alias("ship_date"),
            (day + pl.duration(days=3)).alias("promise_date"),
            pl.lit("promised").alias("status"),
        )
        .drop("order_time")
    )


def _write(df: pl.DataFrame, folder: Path, name: str) -> str:
    path = folder / name
    df.write_parquet(path)
    return str(path)


def _first_row(
    df: pl.DataFrame, column: str, value: object, dtype: pl.DataType | None = None
) -> pl.DataFrame:
    first = pl.int_range(pl.len()) == 0
    return df.with_columns(
        pl.when(first).then(pl.lit(value, dtype)).otherwise(pl.col(column)).alias(column)
    )


def _error(result: Result) -> str:
    stderr = result.stderr
    lines = [ln for ln in stderr.splitlines() if ln.startswith("scot: error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- row 3: a date typo is refused on read, before any large allocation -------------------


def test_event_ending_in_year_9999_is_refused_with_the_accepted_dates(
    small_dir: Path, tmp_path: Path
) -> None:
    events = pl.read_parquet(small_dir / "events.parquet")
    bad = _write(_first_row(events, "end", dt.date(9999, 12, 31)), tmp_path, "events.parquet")
    result = runner.invoke(
        app, ["forecast", str(small_dir / "sales.parquet"), "-H", "7", "--events", bad]
    )
    assert result.exit_code == 3
    assert _error(result) == (
        f"scot: error: {bad}: column end: 9999-12-31 is outside the accepted dates "
        "1900-01-01 .. 2199-12-31; fix the date"
    )


def test_event_lasting_longer_than_a_year_is_refused(small_dir: Path, tmp_path: Path) -> None:
    events = pl.read_parquet(small_dir / "events.parquet")
    bad = _write(_first_row(events, "end", dt.date(2199, 12, 31)), tmp_path, "events.parquet")
    result = runner.invoke(
        app, ["forecast", str(small_dir / "sales.parquet"), "-H", "7", "--events", bad]
    )
    assert result.exit_code == 3
    start = events["start"][0]
    assert _error(result) == (
        f"scot: error: {bad}: column end event={events['event'][0]!r}: 2199-12-31 is not "
        f"within 366 days on or after start {start}; accepted dates {start} .. "
        f"{start + dt.timedelta(days=365)}; fix the date"
    )


def _promise_args(small_dir: Path, orders: str) -> list[str]:
    args = ["promise", orders, "--mode", "commit"]
    for role in ("inventory", "nodes", "lanes"):
        args += [f"--{role}", str(small_dir / f"{role}.parquet")]
    return args


def test_order_in_year_9999_is_refused_in_commit_mode(small_dir: Path, tmp_path: Path) -> None:
    orders = pl.read_parquet(small_dir / "orders.parquet").sort("order_time")
    bad = _write(
        _first_row(orders, "order_time", dt.datetime(9999, 12, 31)), tmp_path, "orders.parquet"
    )
    result = runner.invoke(app, _promise_args(small_dir, bad))
    assert result.exit_code == 3
    row = orders.row(0, named=True)
    assert _error(result) == (
        f"scot: error: {bad}: column order_time order_id={row['order_id']!r}, "
        f"line={row['line']}: 9999-12-31 00:00:00 is outside the accepted dates "
        "1900-01-01 .. 2199-12-31; fix the date"
    )


def test_orders_spread_over_more_than_a_century_are_refused(
    small_dir: Path, tmp_path: Path
) -> None:
    orders = pl.read_parquet(small_dir / "orders.parquet").sort("order_time")
    bad = _write(
        _first_row(orders, "order_time", dt.datetime(2199, 12, 31)), tmp_path, "orders.parquet"
    )
    result = runner.invoke(app, _promise_args(small_dir, bad))
    assert result.exit_code == 3
    first = orders["order_time"][1].date()
    assert f"{bad}: column order_time order_id=" in _error(result)
    assert "2199-12-31 is " in _error(result)
    assert f"accepted dates {first} .. {first + dt.timedelta(days=36_524)}" in _error(result)


@pytest.mark.parametrize("typo", [dt.date(2999, 12, 31), dt.date(2150, 1, 1)])
def test_sale_far_in_the_future_is_refused_by_evaluate(
    small_dir: Path, tmp_path: Path, typo: dt.date
) -> None:
    sales = pl.read_parquet(small_dir / "sales.parquet")
    bad = _write(_first_row(sales, "date", typo), tmp_path, "sales.parquet")
    result = runner.invoke(app, ["forecast", "evaluate", bad, "-H", "7"])
    assert result.exit_code == 3
    assert f"{bad}: column date sku=" in _error(result)
    assert f"{typo} is " in _error(result)
    assert "accepted dates" in _error(result)


# --- row 7: inf is refused wherever NaN is ------------------------------------------------


@pytest.mark.parametrize(
    ("column", "what"),
    [("transit_sd", "above its maximum 365"), ("cost_per_unit", "(not a finite number)")],
)
def test_infinite_lane_values_are_an_input_error(
    small_dir: Path, tmp_path: Path, column: str, what: str
) -> None:
    """Issue 11 row 7: transit_sd = inf raised OverflowError in promise (exit 1)."""
    lanes = pl.read_parquet(small_dir / "lanes.parquet")
    bad = _write(_first_row(lanes, column, float("inf")), tmp_path, "lanes.parquet")
    args = ["promise", str(small_dir / "orders.parquet"), "--lanes", bad]
    for role in ("inventory", "nodes"):
        args += [f"--{role}", str(small_dir / f"{role}.parquet")]
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    row = lanes.row(0, named=True)
    assert _error(result) == (
        f"scot: error: {bad}: column {column!r} has value inf {what}, first "
        f"at origin={row['origin']!r}, destination={row['destination']!r}, mode={row['mode']!r}"
    )


# --- row 10: nodes named in lanes or inventory must exist -----------------------------------


def _unknown_node(small_dir: Path, tmp_path: Path, table: str) -> dict[str, str]:
    """The small set's paths with one row of ``table`` moved to node 'FC-NOWHERE'."""
    paths = {t: str(small_dir / f"{t}.parquet") for t in ("items", "inventory", "nodes", "lanes")}
    df = pl.read_parquet(small_dir / f"{table}.parquet")
    column = "origin" if table == "lanes" else "node"
    paths[table] = _write(_first_row(df, column, "FC-NOWHERE"), tmp_path, f"{table}.parquet")
    return paths


@pytest.mark.parametrize("table", ["lanes", "inventory"])
def test_place_refuses_a_node_missing_from_nodes(
    small_dir: Path, tmp_path: Path, forecast_file: Path, table: str
) -> None:
    p = _unknown_node(small_dir, tmp_path, table)
    args = ["place", str(forecast_file)]
    for role in ("items", "inventory", "nodes", "lanes"):
        args += [f"--{role}", p[role]]
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    column = "origin" if table == "lanes" else "node"
    assert _error(result).startswith(
        f"scot: error: {p[table]}: node 'FC-NOWHERE' in column {column} is not in "
        f"{p['nodes']} (known: "
    )


@pytest.mark.parametrize("table", ["lanes", "inventory"])
def test_plan_buy_network_refuses_a_node_missing_from_nodes(
    small_dir: Path, tmp_path: Path, forecast_file: Path, table: str
) -> None:
    p = _unknown_node(small_dir, tmp_path, table)
    args = ["plan-buy", str(forecast_file), "--network", p["nodes"], "--lanes", p["lanes"]]
    args += ["--items", p["items"], "--inventory", p["inventory"]]
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert "node 'FC-NOWHERE' in column" in _error(result)


@pytest.mark.parametrize("table", ["lanes", "inventory"])
def test_route_refuses_a_node_missing_from_nodes(
    small_dir: Path, tmp_path: Path, table: str
) -> None:
    p = _unknown_node(small_dir, tmp_path, table)
    promises = _promises(small_dir)
    args = ["route", "-", "--time-limit", "5"]
    for role in ("items", "inventory", "nodes", "lanes"):
        args += [f"--{role}", p[role]]
    result = runner.invoke(app, args, input=parquet_bytes(promises))
    assert result.exit_code == 3
    assert "node 'FC-NOWHERE' in column" in _error(result)
    assert io.BytesIO(result.stdout_bytes).getvalue() == b""


# --- row 9: empty and one-row inputs give a plan or one error line, never a crash -----------


def _command(name: str, small_dir: Path, forecast: Path, promises: Path) -> list[str]:
    """The command line of ``name`` on the small set (``TABLE`` placeholders by role)."""
    role = {t: str(small_dir / f"{t}.parquet") for t in ("items", "inventory", "nodes", "lanes")}
    role.update(
        orders=str(small_dir / "orders.parquet"), forecast=str(forecast), promises=str(promises)
    )
    lines = {
        "plan-buy rq": ["plan-buy", "forecast", "--items", "items", "--inventory", "inventory",
                        "--policy", "rq"],
        "plan-buy network": ["plan-buy", "forecast", "--items", "items", "--inventory",
                             "inventory", "--network", "nodes", "--lanes", "lanes",
                             "--budget", "5000"],
        "place": ["place", "forecast", "--items", "items", "--inventory", "inventory",
                  "--nodes", "nodes", "--lanes", "lanes"],
        "promise commit": ["promise", "orders", "--inventory", "inventory", "--nodes", "nodes",
                           "--lanes", "lanes", "--mode", "commit", "--split", "avoid"],
        "route": ["route", "promises", "--inventory", "inventory", "--nodes", "nodes",
                  "--lanes", "lanes", "--items", "items", "--time-limit", "2"],
    }  # fmt: skip
    return [role.get(a, a) for a in lines[name]]


TABLE_OF = {
    "plan-buy rq": ("forecast", "items", "inventory"),
    "plan-buy network": ("forecast", "items", "inventory", "nodes", "lanes"),
    "place": ("forecast", "items", "inventory", "nodes", "lanes"),
    "promise commit": ("orders", "inventory", "nodes", "lanes"),
    "route": ("promises", "inventory", "nodes", "lanes", "items"),
}


@pytest.mark.parametrize(
    ("command", "table"), [(c, t) for c, tables in TABLE_OF.items() for t in tables]
)
@pytest.mark.parametrize("rows", [0, 1])
def test_empty_and_one_row_inputs(
    small_dir: Path, forecast_file: Path, tmp_path: Path, command: str, table: str, rows: int
) -> None:
    """Issue 11 row 9 (0-row items with --policy rq raised ColumnNotFoundError): every table
    of every decision command cut to no rows or one row gives exit 0 with a valid output,
    or one error line with exit 3 (input) or 4 (infeasible)."""
    promises = tmp_path / "promises.parquet"
    _promises(small_dir).write_parquet(promises)
    args = _command(command, small_dir, forecast_file, promises)
    source = {"forecast": forecast_file, "promises": promises}.get(
        table, small_dir / f"{table}.parquet"
    )
    cut = _write(pl.read_parquet(source).head(rows), tmp_path, f"cut_{table}.parquet")
    args = [cut if a == str(source) else a for a in args]
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, [*args, "-o", str(out)])
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert result.exit_code in (0, 3, 4), result.stderr
    if result.exit_code:
        _error(result)
    else:
        pl.read_parquet(out)


# --- row 13: a receipt repeated in --receipts --------------------------------------------


def test_duplicate_receipts_are_an_input_error(small_dir: Path, tmp_path: Path) -> None:
    """Issue 11 row 13: the same receipt twice was counted twice (exit 0)."""
    receipt = pl.DataFrame(
        {"sku": ["SKU-00001"], "node": ["FC-EWR"], "arrival_date": [dt.date(2026, 11, 9)]}
    ).with_columns(qty=pl.lit(40.0))
    bad = _write(pl.concat([receipt, receipt]), tmp_path, "receipts.parquet")
    args = ["promise", str(small_dir / "orders.parquet"), "--receipts", bad]
    for role in ("inventory", "nodes", "lanes"):
        args += [f"--{role}", str(small_dir / f"{role}.parquet")]
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert _error(result) == (
        f"scot: error: {bad}: duplicate key (sku, node, arrival_date) at sku='SKU-00001', "
        "node='FC-EWR', arrival_date=datetime.date(2026, 11, 9); each key must appear once"
    )


# --- row 16: nothing feasible at all is exit 4; a partial plan stays exit 0 ------------------


def _stops(demand: list[float]) -> pl.DataFrame:
    n = len(demand)
    return pl.DataFrame(
        {
            "stop_id": [f"S{i:02d}" for i in range(n)],
            "station": ["DS-NE"] * n,
            "lat": [40.76 + 0.01 * i for i in range(n)],
            "lon": [-73.96] * n,
            "demand": demand,
        }
    )


def _last_mile(small_dir: Path, stops: pl.DataFrame) -> Result:
    args = ["route", "last-mile", "-", "--nodes", str(small_dir / "nodes.parquet")]
    args += ["--vehicles", "2", "--capacity", "10", "--time-limit", "0.5"]
    return runner.invoke(app, args, input=parquet_bytes(stops))


def test_last_mile_with_no_servable_stop_is_infeasible(small_dir: Path) -> None:
    """Issue 11 row 16: every stop above the vehicle capacity was exit 0."""
    result = _last_mile(small_dir, _stops([25.0, 30.0]))
    assert result.exit_code == 4
    assert _error(result) == (
        "scot: error: route last-mile: none of the 2 stops can be served (first: 'S00', "
        "demand above vehicle capacity); check --capacity, --vehicles, --shift and the "
        "stops' time windows"
    )
    assert result.stdout_bytes == b""


def test_last_mile_partial_plan_stays_exit_0_with_reasons(small_dir: Path) -> None:
    result = _last_mile(small_dir, _stops([25.0, 3.0]))
    assert result.exit_code == 0, result.stderr
    routes = pl.read_parquet(io.BytesIO(result.stdout_bytes)).sort("stop_id")
    assert routes["status"].to_list() == ["unassigned", "routed"]
    assert routes["reason"].to_list() == ["demand above vehicle capacity", None]
    assert "1 stop(s) unassigned; see the reason column" in result.stderr


def _place(small_dir: Path, forecast: Path, **files: str) -> Result:
    args = ["place", str(forecast)]
    for role in ("items", "inventory", "nodes", "lanes"):
        args += [f"--{role}", files.get(role, str(small_dir / f"{role}.parquet"))]
    return runner.invoke(app, args)


def test_place_with_no_stock_anywhere_is_infeasible(
    small_dir: Path, tmp_path: Path, forecast_file: Path
) -> None:
    inventory = pl.read_parquet(small_dir / "inventory.parquet").with_columns(
        on_hand=0.0, in_transit=None
    )
    result = _place(
        small_dir, forecast_file, inventory=_write(inventory, tmp_path, "inventory.parquet")
    )
    assert result.exit_code == 4
    assert _error(result) == (
        "scot: error: place: nothing can be placed: no sku has stock on hand, in transit or "
        "arriving (receipts); check the inventory, receipts and lanes"
    )


def test_place_with_no_path_from_an_fc_is_infeasible(
    small_dir: Path, tmp_path: Path, forecast_file: Path
) -> None:
    nodes = pl.read_parquet(small_dir / "nodes.parquet")
    fcs = nodes.filter(pl.col("kind") == "fc")["node"].implode()
    lanes = pl.read_parquet(small_dir / "lanes.parquet").filter(~pl.col("origin").is_in(fcs))
    result = _place(small_dir, forecast_file, lanes=_write(lanes, tmp_path, "lanes.parquet"))
    assert result.exit_code == 4
    assert "no lane path leads from an FC to a region" in _error(result)


def test_place_with_stock_for_one_sku_is_a_plan(
    small_dir: Path, tmp_path: Path, forecast_file: Path
) -> None:
    inventory = pl.read_parquet(small_dir / "inventory.parquet")
    first = inventory["sku"].min()
    inventory = inventory.with_columns(
        pl.when(pl.col("sku") == first).then(pl.col("on_hand")).otherwise(0.0).alias("on_hand"),
        in_transit=None,
    )
    result = _place(
        small_dir, forecast_file, inventory=_write(inventory, tmp_path, "inventory.parquet")
    )
    assert result.exit_code == 0, result.stderr


# --- determinism: an events-heavy forecast, run again and on other thread counts -----------


def _many_events(sales: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Forty overlapping events: all-sku, category and sku scoped, past, present and ahead,
    some with planned lifts, some starting before the history."""
    first, last = sales["date"].min(), sales["date"].max()
    assert isinstance(first, dt.date) and isinstance(last, dt.date)
    skus, cats = items["sku"].to_list(), items["category"].unique().sort().to_list()
    rows = []
    for i in range(40):
        start = first + dt.timedelta(days=(i * 37) % 150 - 20)
        rows.append(
            {
                "event": f"e{i % 9}",
                "start": start,
                "end": start + dt.timedelta(days=i % 5),
                "sku": skus[i % len(skus)] if i % 3 == 1 else None,
                "category": cats[i % len(cats)] if i % 3 == 2 else None,
                "lift": 1.5 if i % 7 == 0 else None,
            }
        )
    return pl.DataFrame(rows)


def test_events_heavy_forecast_is_identical_across_runs_and_threads(
    small_dir: Path, tmp_path: Path
) -> None:
    """The same inputs give the same forecast bit for bit, whatever the thread count (a
    parallel group-by once changed the last bits of event-day forecasts)."""
    import os
    import subprocess

    from conftest import scot_exe

    sales = pl.read_parquet(small_dir / "sales.parquet")
    items = pl.read_parquet(small_dir / "items.parquet")
    events = _write(_many_events(sales, items), tmp_path, "events.parquet")
    frames = []
    for k, threads in enumerate(("1", "4", "4")):
        out = tmp_path / f"forecast{k}.parquet"
        env = {**os.environ, "POLARS_MAX_THREADS": threads, "NO_COLOR": "1"}
        args = ["forecast", str(small_dir / "sales.parquet"), "-H", "21", "--events", events]
        args += ["--items", str(small_dir / "items.parquet"), "-o", str(out)]
        done = subprocess.run(
            [*scot_exe(), *args], env=env, capture_output=True, check=False, timeout=600
        )
        assert done.returncode == 0, done.stderr.decode()
        frames.append(pl.read_parquet(out))
    assert frames[0].height >= 21 * sales.select("sku", "location").n_unique()
    for other in frames[1:]:
        assert other.equals(frames[0])


# --- lane weekdays: route and promise read them alike, so their format is checked -----------


@pytest.mark.parametrize("weekdays", ["1", "0000000", "11111110", "1x11111"])
def test_lane_weekdays_must_be_seven_flags_with_a_departure(
    small_dir: Path, tmp_path: Path, weekdays: str
) -> None:
    """'0000000' meant never in promise and every day in route; '1' raised IndexError."""
    lanes = pl.read_parquet(small_dir / "lanes.parquet")
    bad = _write(_first_row(lanes, "weekdays", weekdays), tmp_path, "lanes.parquet")
    result = runner.invoke(app, ["check", "lanes", bad])
    assert result.exit_code == 3
    row = lanes.row(0, named=True)
    assert _error(result) == (
        f"scot: error: {bad}: column 'weekdays' has value {weekdays!r} (not seven 0/1 flags "
        f"with at least one 1), first at origin={row['origin']!r}, "
        f"destination={row['destination']!r}, mode={row['mode']!r}"
    )


@pytest.mark.parametrize("column", ["transit_days", "transit_sd"])
@pytest.mark.parametrize("command", ["promise", "place", "route"])
def test_a_lane_of_1e300_days_is_an_input_error(
    small_dir: Path, tmp_path: Path, forecast_file: Path, column: str, command: str
) -> None:
    """It overflowed converting days to integers (exit 1) in promise, place and route."""
    lanes = pl.read_parquet(small_dir / "lanes.parquet")
    bad = _write(_first_row(lanes, column, 1e300), tmp_path, "lanes.parquet")
    first = {"promise": str(small_dir / "orders.parquet"), "place": str(forecast_file)}
    args = [command, first.get(command, "-"), "--lanes", bad]
    for role in ("inventory", "nodes", "items"):
        if not (command == "promise" and role == "items"):
            args += [f"--{role}", str(small_dir / f"{role}.parquet")]
    result = runner.invoke(app, args, input=parquet_bytes(_promises(small_dir)))
    assert result.exit_code == 3
    assert _error(result).startswith(
        f"scot: error: {bad}: column {column!r} has value 1e+300 above its maximum 365"
    )


def test_a_vendor_lead_time_past_year_9999_is_an_input_error(
    small_dir: Path, tmp_path: Path, forecast_file: Path
) -> None:
    """lead_time_days = 1e15 put the arrival date in year 227160 (ValueError, exit 1)."""
    items = pl.read_parquet(small_dir / "items.parquet")
    bad = _write(_first_row(items, "lead_time_days", 1e15), tmp_path, "items.parquet")
    args = ["plan-buy", str(forecast_file), "--items", bad]
    args += ["--inventory", str(small_dir / "inventory.parquet")]
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert _error(result) == (
        f"scot: error: {bad}: column 'lead_time_days' has value 1000000000000000.0 above its "
        f"maximum 3650, first at sku={items['sku'][0]!r}"
    )


@pytest.mark.parametrize("command", [[], ["evaluate"]])
def test_a_horizon_beyond_the_limit_is_refused_before_reading(command: list[str]) -> None:
    """-H 100000000 grew memory until the kernel stepped in (a fit per period ahead)."""
    result = runner.invoke(app, ["forecast", *command, "missing.parquet", "-H", "100000000"])
    assert result.exit_code == 2
    assert _error(result) == "scot: error: --horizon: at most 3,660 periods, got 100,000,000"


def test_place_reads_plan_buy_orders_with_unplanned_rows_as_supply(
    small_dir: Path, tmp_path: Path, forecast_file: Path
) -> None:
    """plan-buy writes unplanned rows without an arrival date; place refused the file (exit 3,
    'arrival_date has null values'). They arrive nowhere, so they are ignored."""
    arriving = pl.DataFrame(
        {
            "sku": ["SKU-00001", "SKU-00002"],
            "arrival_date": [dt.date(2026, 11, 2), None],
            "qty": [40.0, 0.0],
            "status": ["order", "unplanned"],
        },
        schema_overrides={"arrival_date": pl.Date},
    )
    outs = []
    for k, supply in enumerate((arriving, arriving.head(1))):
        out = tmp_path / f"placement{k}.parquet"
        args = ["--supply", _write(supply, tmp_path, f"supply{k}.parquet"), "-o", str(out)]
        result = runner.invoke(app, [*_place_args(small_dir, forecast_file), *args])
        assert result.exit_code == 0, result.stderr
        outs.append(pl.read_parquet(out))
    assert outs[0].equals(outs[1])


def _place_args(small_dir: Path, forecast: Path) -> list[str]:
    args = ["place", str(forecast)]
    for role in ("items", "inventory", "nodes", "lanes"):
        args += [f"--{role}", str(small_dir / f"{role}.parquet")]
    return args
