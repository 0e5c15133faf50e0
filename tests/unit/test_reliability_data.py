"""Odd but valid inputs a nightly run meets: each test is a regression of issue 11's table."""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scot_cli.promise import promise
from scot_cli.promise.commit import commit_units
from scot_cli.promise.core import prepare, sequence
from scot_cli.promise.reference import sequential_commit
from scot_cli.schema import INVENTORY, LANES, NODES, ORDERS
from scot_cli.validate import validate

START = dt.datetime(2026, 11, 2, 9)
FCS = ("FC1", "FC2")
SKUS = ("K0", "K1")


def _nodes(caps: list[float | None]) -> pl.DataFrame:
    rows = [
        {"node": f, "kind": "fc", "daily_capacity": c, "cutoff_hour": 14, "processing_days": 0}
        for f, c in zip(FCS, caps, strict=True)
    ] + [{"node": "R1", "kind": "region", "daily_capacity": None}]
    df = pl.DataFrame(rows, schema_overrides={"daily_capacity": pl.Float64}).with_columns(
        region=pl.lit("R1"), storage_capacity=pl.lit(None, pl.Float64), lat=0.0, lon=0.0
    )
    return validate(NODES, df, source="nodes")


def _lanes(fcs: tuple[str, ...] = FCS) -> pl.DataFrame:
    df = pl.DataFrame(
        {
            "origin": list(fcs),
            "destination": ["R1"] * len(fcs),
            "mode": ["ground"] * len(fcs),
            "transit_days": [1.0 + i for i in range(len(fcs))],
            "transit_sd": [0.0] * len(fcs),
            "cost_per_unit": [1.0] * len(fcs),
            "truck_capacity": [10.0] * len(fcs),
            "cost_per_truck": [1.0] * len(fcs),
            "departure_hour": [18] * len(fcs),
        }
    )
    return validate(LANES, df, source="lanes")


def _orders(rows: list[tuple[str, int, str, float, int]]) -> pl.DataFrame:
    df = pl.DataFrame(
        [
            {
                "order_id": o,
                "line": ln,
                "sku": s,
                "qty": q,
                "destination": "R1",
                "order_time": START + dt.timedelta(hours=h),
            }
            for o, ln, s, q, h in rows
        ]
    )
    return validate(ORDERS, df, source="orders")


def _inventory(on_hand: dict[tuple[str, str], float]) -> pl.DataFrame:
    df = pl.DataFrame(
        [{"sku": s, "node": f, "on_hand": q} for (s, f), q in on_hand.items()],
        schema={"sku": pl.String, "node": pl.String, "on_hand": pl.Float64},
    )
    return validate(INVENTORY, df, source="inventory")


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail, instead of hanging, when the block runs longer than ``seconds``."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# --- row 1: promise --mode commit --split avoid, one sku on two lines of an order ----------


def test_commit_one_box_order_naming_a_sku_twice_returns_and_counts_both_lines() -> None:
    """Issue 11 row 1: FC1 holds 1 unit of K0; order O1 asks 1 + 1 on two lines (it hung)."""
    with deadline(10):
        out = promise(
            _orders([("O1", 1, "K0", 1.0, 0), ("O1", 2, "K0", 1.0, 0)]),
            inventory=_inventory({("K0", "FC1"): 1.0}),
            nodes=_nodes([None, None]),
            lanes=_lanes(),
            mode="commit",
            split="avoid",
        ).promises.sort("line")
    # no FC holds both units, so the order splits: the first line takes the unit
    assert out["status"].to_list() == ["promised", "unavailable"]
    assert out["reason"].to_list() == ["split", "no_stock"]


@pytest.mark.parametrize("mode", ["snapshot", "commit"])
def test_one_box_counts_a_sku_named_twice_against_one_fc(mode: str) -> None:
    """FC1 holds 1 unit, FC2 holds 2: the box of 1 + 1 units of K0 can only ship from FC2."""
    with deadline(10):
        out = promise(
            _orders([("O1", 1, "K0", 1.0, 0), ("O1", 2, "K0", 1.0, 0)]),
            inventory=_inventory({("K0", "FC1"): 1.0, ("K0", "FC2"): 2.0}),
            nodes=_nodes([None, None]),
            lanes=_lanes(),
            mode=mode,
            split="avoid",
        ).promises
    assert out["ship_node"].to_list() == ["FC2", "FC2"]
    assert out["reason"].null_count() == 2


@st.composite
def _dup_instances(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    caps = [draw(st.sampled_from([None, 1.0, 2.0, 3.0])) for _ in FCS]
    stock = {(s, f): float(draw(st.integers(0, 3))) for s in SKUS for f in FCS}
    rows = []
    for o in range(draw(st.integers(1, 8))):
        hour = draw(st.integers(0, 30))
        skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=4))
        rows += [
            (f"O{o}", i, s, float(draw(st.integers(1, 2))), hour)
            for i, s in enumerate(skus, start=1)
        ]
    return _nodes(caps), _inventory(stock), _orders(rows)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_dup_instances(), st.booleans())
def test_commit_ends_within_its_round_bound_and_equals_the_loop(
    case: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], one_box: bool
) -> None:
    """Random small cases where orders repeat skus: commit mode finishes within twice the
    lines in rounds (each round decides or splits a unit) and matches the one-at-a-time loop."""
    nodes, inventory, orders = case
    seq = sequence(orders)
    decided = []
    for decide in ("vectorised", "loop"):
        p = prepare(
            seq,
            inventory=inventory,
            nodes=nodes,
            lanes=_lanes(),
            calendar=None,
            receipts=None,
            confidence=0.9,
            one_box=one_box,
        )
        if decide == "loop":
            decided.append(
                sequential_commit(p.tables, p.state, p.lines, p.starts, p.counts, one_box=one_box)
            )
            continue
        rounds: list[int] = []

        def count(
            done: int, total: int, rounds: list[int] = rounds, bound: int = 2 * p.lines.n
        ) -> None:
            rounds.append(done)
            if len(rounds) > bound:
                raise AssertionError(f"commit took more than {bound} rounds")

        decided.append(
            commit_units(
                p.tables, p.state, p.lines, p.starts, p.counts, one_box=one_box, progress=count
            )
        )
        assert rounds and rounds[-1] == p.lines.n
    fast, slow = decided
    np.testing.assert_array_equal(fast.fc, slow.fc)
    has = fast.fc >= 0
    np.testing.assert_array_equal(fast.ship[has], slow.ship[has])
    np.testing.assert_array_equal(fast.split, slow.split)
    # stock is never promised twice: what each (sku, FC) gives is at most what it holds
    fcs = np.array((*p.tables.grid.fcs, ""))
    taken = (
        seq.with_columns(node=pl.Series(fcs[fast.fc]))
        .filter(pl.Series(has))
        .group_by("sku", "node")
        .agg(pl.col("qty").sum())
        .join(inventory, on=["sku", "node"], how="left")
    )
    assert (taken["qty"] <= taken["on_hand"].fill_null(0) + 1e-9).all()


# --- row 2: events older than the sales history -------------------------------------------


def _old_and_new_events(events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The fixture's events plus the same events a year and two years earlier (before the
    sales history starts), and the fixture's events alone."""
    earlier = [
        events.with_columns(
            pl.col("start").dt.offset_by(f"-{y}y"), pl.col("end").dt.offset_by(f"-{y}y")
        )
        for y in (1, 2)
    ]
    return pl.concat([*earlier, events]), events


def test_events_before_the_history_teach_nothing_and_do_not_wrap(
    small_tables: dict[str, pl.DataFrame],
) -> None:
    """Issue 11 row 2: a rolling window of sales and a standing calendar of events. Events
    before the first sale are ignored (they raised IndexError or, within reach, wrapped round
    onto the last days of the history); the planned one ahead still lifts the forecast."""
    from scot_cli.forecast.api import forecast

    sales = small_tables["sales"]
    full, window = _old_and_new_events(small_tables["events"])
    opts = {"horizon": 35, "model": "naive", "items": small_tables["items"]}
    result = forecast(sales, events=full, **opts)  # type: ignore[arg-type]
    got = result.forecast
    want = forecast(sales, events=window, **opts).forecast  # type: ignore[arg-type]
    assert got is not None and want is not None
    assert got.equals(want)
    notes = result.summary.warnings
    assert any("4 event(s) end before the sales history starts" in n for n in notes), notes
    plain = forecast(sales, **opts).forecast  # type: ignore[arg-type]
    assert plain is not None
    black_friday = pl.col("date").is_between(dt.date(2026, 11, 27), dt.date(2026, 11, 30))
    assert (got.filter(black_friday)["mean"] != plain.filter(black_friday)["mean"]).any()


def test_lift_sums_ignore_cells_before_the_history() -> None:
    """A cell at a negative period is outside the history: numpy would read it from the end."""
    from scot_cli.forecast.events import CELL_SCHEMA, lift_sums

    y = np.ones((1, 30))
    y[0, -1] = 50.0  # the last day, where period -1 would wrap to
    cells = pl.DataFrame(
        {"_row": [0], "_t": [-1], "event": ["old"], "planned": [None]}, schema=CELL_SCHEMA
    )
    assert lift_sums(y, cells, season=7).height == 0


# --- row 12: quantile columns are read by one parser (p05 is 0.05) ------------------------


def test_quantile_columns_read_zero_padded_names() -> None:
    from scot_cli.schema import quantile_columns

    cols = ["sku", "p95", "mean", "p05", "p50", "p0", "p100", "price"]
    assert quantile_columns(cols) == [(0.05, "p05"), (0.5, "p50"), (0.95, "p95")]


def test_place_reads_the_spread_from_p05_and_p95() -> None:
    """Issue 11 row 12: ``p05``/``p95`` raised ColumnNotFoundError 'p5'. For normal demand
    with mean 10 and sd 2 per day, p05/p95 are 10 -/+ 1.6449 x 2, so the spread is back to 2
    a day (sqrt 2 x 2 over two independent days)."""
    from scipy.special import ndtri

    from scot_cli.place.problem import period_demand

    z = float(ndtri(0.95))
    fc = pl.DataFrame(
        {
            "sku": ["A", "A"],
            "location": ["R1", "R1"],
            "date": [dt.date(2026, 11, 2), dt.date(2026, 11, 3)],
            "mean": [10.0, 10.0],
            "p05": [10 - 2 * z] * 2,
            "p95": [10 + 2 * z] * 2,
        }
    )
    out = period_demand(fc, days=2)
    assert out["mu"].to_list() == [20.0]
    assert out["sd"][0] == pytest.approx(2 * np.sqrt(2), rel=1e-12)


# --- row 8: extreme stock and solver failures in constrained buying -----------------------


def _allocate(position: list[float], budget: float) -> np.ndarray:
    from scot_cli.buy.constrained import allocate, normal_fit

    n = len(position)
    pos = np.array(position)
    out = allocate(
        normal_fit(np.full(n, 20.0), np.full(n, 5.0)),
        position=pos,
        unconstrained=np.maximum(pos, 30.0),
        over=np.full(n, 1.0),
        under=np.full(n, 9.0),
        unit_cost=np.full(n, 2.0),
        unit_volume=np.full(n, 1.0),
        budget=budget,
    )
    return out.level


def test_a_huge_position_stays_out_of_the_budget_program() -> None:
    """Issue 11 row 8: on_hand = 1e300 with --budget made HiGHS return no solution ('Cannot
    unpack invalid solution', exit 1). A row with nothing to buy keeps its position and the
    other rows share the budget as if it were absent."""
    with_huge = _allocate([0.0, 1e300, 5.0], budget=30.0)
    without = _allocate([0.0, 5.0], budget=30.0)
    assert with_huge[1] == 1e300
    np.testing.assert_allclose(with_huge[[0, 2]], without, rtol=1e-9)
    assert 2.0 * (with_huge[[0, 2]] - [0.0, 5.0]).sum() <= 30.0 + 1e-6


def test_a_solver_failure_is_an_infeasible_exit_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cvxpy

    from scot_cli.errors import InfeasibleError

    def fail(self: object, *args: object, **kwargs: object) -> None:
        raise cvxpy.error.SolverError("Solver 'HIGHS' failed.")

    monkeypatch.setattr(cvxpy.Problem, "solve", fail)
    with pytest.raises(InfeasibleError, match="solver highs found no solution"):
        _allocate([0.0, 5.0], budget=30.0)


# --- row 3: the grid guard says which input made a grid large, before allocating ------------


def test_check_grid_names_the_cause_and_the_axes() -> None:
    from scot_cli.errors import InputDataError
    from scot_cli.validate import MAX_GRID_CELLS, check_grid

    check_grid({"series": 1 << 14, "periods": 1 << 14}, cause="sales")  # exactly the limit
    with pytest.raises(InputDataError) as err:
        check_grid({"series": 3, "periods": 10**300}, cause="sales: column date spans x .. y")
    assert err.value.message == (
        "sales: column date spans x .. y: that makes a grid of 3 series x 1e+300 periods = "
        f"3e+300 cells, over the {MAX_GRID_CELLS:,} one run may hold; check the input for a "
        "typo or split the run"
    )


def test_a_lane_taking_forever_is_refused_before_the_promise_grid() -> None:
    """transit_days = 1e300 would size the delivery-day axis of the promise grid."""
    from scot_cli.errors import InputDataError

    lanes = _lanes().with_columns(pl.lit(1e300).alias("transit_days"))
    # the lanes schema bounds transit_days (or, without the bound, the path's length is checked)
    with pytest.raises(
        InputDataError, match=r"^lanes: (path FC\d>R1 takes 1e\+300 days|column 'transit_days')"
    ):
        promise(
            _orders([("O1", 1, "K0", 1.0, 0)]),
            inventory=_inventory({("K0", "FC1"): 1.0}),
            nodes=_nodes([None, None]),
            lanes=lanes,
        )


def test_the_forecast_panel_is_sized_before_it_is_allocated(
    monkeypatch: pytest.MonkeyPatch, small_tables: dict[str, pl.DataFrame]
) -> None:
    """With the limit lowered below the small set's panel, the forecast stops with the cause
    (the dates the sales span) instead of allocating."""
    from scot_cli import validate
    from scot_cli.errors import InputDataError
    from scot_cli.forecast.api import forecast

    monkeypatch.setattr(validate, "MAX_GRID_CELLS", 1000)
    with pytest.raises(InputDataError, match=r"^sales: column date spans 2026-07-04 \.\. "):
        forecast(small_tables["sales"], horizon=7, model="naive")


def test_event_cells_are_sized_before_they_are_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scot_cli import validate
    from scot_cli.errors import InputDataError
    from scot_cli.forecast.events import event_cells

    keys = pl.DataFrame({"sku": ["A", "B"], "location": ["ALL", "ALL"]})
    events = pl.DataFrame(
        {"event": ["x"], "start": [dt.date(2026, 1, 1)], "end": [dt.date(2026, 12, 31)]}
    )
    cells = event_cells(keys, start=dt.date(2026, 1, 1), freq="D", events=events, categories=None)
    assert cells.height == 2 * 365
    monkeypatch.setattr(validate, "MAX_GRID_CELLS", 2 * 365 - 1)
    with pytest.raises(InputDataError, match="that makes a grid of 730 event cells"):
        event_cells(keys, start=dt.date(2026, 1, 1), freq="D", events=events, categories=None)


def test_a_placement_solver_failure_is_an_infeasible_exit(
    monkeypatch: pytest.MonkeyPatch, small_tables: dict[str, pl.DataFrame]
) -> None:
    """cvxpy raises ValueError ('Cannot unpack invalid solution') when HiGHS returns no
    solution; place reports it as exit 4 with a hint instead of a crash."""
    import cvxpy

    from scot_cli.errors import InfeasibleError
    from scot_cli.place import place

    sales = small_tables["sales"]
    last = sales["date"].max()
    assert isinstance(last, dt.date)
    forecast = (
        sales.group_by("sku", "location")
        .agg(pl.col("units").mean().fill_null(0.0).alias("mean"))
        .join(pl.DataFrame({"h": list(range(1, 8))}), how="cross")
        .with_columns((pl.lit(last) + pl.duration(days=pl.col("h"))).cast(pl.Date).alias("date"))
        .drop("h")
    )

    def fail(self: object, *args: object, **kwargs: object) -> None:
        raise ValueError("Cannot unpack invalid solution: Solution(status=UNKNOWN)")

    monkeypatch.setattr(cvxpy.Problem, "solve", fail)
    t = small_tables
    with pytest.raises(InfeasibleError, match=r"^placement LP: solver highs found no solution"):
        place(
            forecast=forecast,
            items=t["items"],
            inventory=t["inventory"],
            nodes=t["nodes"],
            lanes=t["lanes"],
        )
