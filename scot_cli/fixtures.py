"""A deterministic generator of a believable retailer for tests, the demo and benchmarks.

The network has vendors, fulfillment centers (FC), sort centers, delivery stations and
demand regions with coordinates, lanes by ground and air with transit spread, trucks
and schedules. SKUs follow smooth, seasonal, trending, intermittent and lumpy demand,
with planned events, price changes, stock-outs that censor sales, missing values and
new SKUs with no history (cold start). Everything comes from one seeded generator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

DEFAULT_END = dt.date(2026, 10, 31)

FCS = (
    ("FC-SEA", 47.45, -122.30),
    ("FC-LAX", 34.05, -117.50),
    ("FC-DFW", 32.90, -97.04),
    ("FC-EWR", 40.69, -74.17),
)
SORT_CENTERS = (("SC-WEST", 37.30, -120.50), ("SC-CENT", 39.10, -94.60), ("SC-EAST", 39.95, -76.90))
REGIONS = (
    ("NW", 47.61, -122.33, 0.08),
    ("CAN", 37.77, -122.42, 0.12),
    ("CAS", 34.05, -118.24, 0.16),
    ("SW", 33.45, -112.07, 0.08),
    ("TX", 29.76, -95.37, 0.14),
    ("MW", 41.88, -87.63, 0.14),
    ("SE", 33.75, -84.39, 0.12),
    ("NE", 40.71, -74.01, 0.16),
)
VENDORS = (
    ("V-SHZ", 22.54, 114.06),
    ("V-HCM", 10.82, 106.63),
    ("V-MEX", 25.69, -100.32),
    ("V-OHI", 39.96, -82.99),
)
#: Central distribution centres (kind ``dc``) and the FCs each feeds. They live in their own
#: tables (``nodes_central``, ``lanes_central``: the network plus this tier, the fed FCs
#: supplied through their DC instead of straight from the vendors) that only plan-buy reads,
#: so that the other commands' network stays as it is. DC-KCY feeds two FCs (a tree: the
#: guaranteed-service model), DC-RNO one (a chain: Clark-Scarf).
CENTRAL_DCS = (
    ("DC-KCY", 39.10, -94.58, ("FC-DFW", "FC-EWR")),
    ("DC-RNO", 39.53, -119.81, ("FC-SEA",)),
)
CATEGORIES = ("electronics", "home", "toys", "grocery", "apparel", "books")
PATTERNS = ("smooth", "seasonal", "trending", "intermittent", "lumpy")


@dataclass(frozen=True)
class FixtureSpec:
    """Size and seed of a generated data set."""

    skus: int = 80
    days: int = 730
    seed: int = 7
    end: dt.date = DEFAULT_END
    orders: int = 1200


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return float(6371 * 2 * np.arcsin(np.sqrt(a)))


def nodes_frame() -> pl.DataFrame:
    """Vendors, FCs, sort centers, one delivery station per region, and the regions."""
    rows: list[dict[str, object]] = []
    for name, lat, lon in VENDORS:
        rows.append(_node(name, "vendor", "VENDOR", lat, lon))
    for i, (name, lat, lon) in enumerate(FCS):
        rows.append(
            _node(
                name,
                "fc",
                _nearest_region(lat, lon),
                lat,
                lon,
                storage=2_400.0 + 600.0 * i,
                daily=900.0,
                cutoff=14,
                proc=0,
            )
        )
    for name, lat, lon in SORT_CENTERS:
        rows.append(
            _node(
                name,
                "sort_center",
                _nearest_region(lat, lon),
                lat,
                lon,
                daily=50_000.0,
                cutoff=23,
                proc=0,
            )
        )
    for code, lat, lon, _ in REGIONS:
        rows.append(
            _node(
                f"DS-{code}",
                "station",
                f"R-{code}",
                lat + 0.05,
                lon + 0.05,
                daily=8_000.0,
                cutoff=6,
                proc=0,
            )
        )
        rows.append(_node(f"R-{code}", "region", f"R-{code}", lat, lon))
    return pl.DataFrame(rows).sort("node")


def _node(
    name: str,
    kind: str,
    region: str,
    lat: float,
    lon: float,
    *,
    storage: float | None = None,
    daily: float | None = None,
    cutoff: int | None = None,
    proc: int | None = None,
) -> dict[str, object]:
    return {
        "node": name,
        "kind": kind,
        "region": region,
        "storage_capacity": storage,
        "daily_capacity": daily,
        "cutoff_hour": cutoff,
        "processing_days": proc,
        "lat": lat,
        "lon": lon,
    }


def _nearest_region(lat: float, lon: float) -> str:
    best = min(REGIONS, key=lambda r: _km(lat, lon, r[1], r[2]))
    return f"R-{best[0]}"


def lanes_frame() -> pl.DataFrame:
    """Legs: vendor->FC, FC->sort center (ground, air), sort center->station, FC->station
    (ground, when near) and station->region (last mile)."""
    rows: list[dict[str, object]] = []
    for v, vlat, vlon in VENDORS:
        for f, flat, flon in FCS:
            days = 3.0 + _km(vlat, vlon, flat, flon) / 1200.0
            rows.append(
                _lane(v, f, "ground", days, 0.25 * days, 0.40, 2600.0, 2200.0, 10, "1111100")
            )
    for f, flat, flon in FCS:
        for s, slat, slon in SORT_CENTERS:
            km = _km(flat, flon, slat, slon)
            rows.append(
                _lane(
                    f,
                    s,
                    "ground",
                    0.6 + km / 900.0,
                    0.15 + km / 9000.0,
                    0.08 + km / 20000.0,
                    2600.0,
                    900.0 + km * 0.9,
                    20,
                    "1111110",
                )
            )
            rows.append(
                _lane(
                    f,
                    s,
                    "air",
                    0.5 + km / 12000.0,
                    0.12,
                    0.45 + km / 5000.0,
                    400.0,
                    2400.0,
                    21,
                    "1111100",
                )
            )
        for code, rlat, rlon, _ in REGIONS:
            km = _km(flat, flon, rlat, rlon)
            if km < 700:
                rows.append(
                    _lane(
                        f,
                        f"DS-{code}",
                        "ground",
                        0.4 + km / 900.0,
                        0.1,
                        0.06 + km / 25000.0,
                        2600.0,
                        600.0 + km * 0.9,
                        20,
                        "1111111",
                    )
                )
    for s, slat, slon in SORT_CENTERS:
        for code, rlat, rlon, _ in REGIONS:
            km = _km(slat, slon, rlat, rlon)
            if km < 2500:
                rows.append(
                    _lane(
                        s,
                        f"DS-{code}",
                        "ground",
                        0.5 + km / 900.0,
                        0.1 + km / 12000.0,
                        0.05 + km / 30000.0,
                        2600.0,
                        700.0 + km * 0.9,
                        3,
                        "1111110",
                    )
                )
    for code, *_ in REGIONS:
        rows.append(
            _lane(f"DS-{code}", f"R-{code}", "ground", 0.45, 0.08, 0.9, 350.0, 140.0, 9, "1111110")
        )
    return pl.DataFrame(rows).sort("origin", "destination", "mode")


def central_nodes_frame() -> pl.DataFrame:
    """The nodes plus the central DCs (:data:`CENTRAL_DCS`)."""
    rows = [
        _node(name, "dc", _nearest_region(lat, lon), lat, lon, storage=20_000.0, daily=5_000.0)
        for name, lat, lon, _ in CENTRAL_DCS
    ]
    return pl.concat([nodes_frame(), pl.DataFrame(rows, schema=nodes_frame().schema)]).sort("node")


def central_lanes_frame() -> pl.DataFrame:
    """The lanes with the central tier: vendor -> DC and DC -> FC legs replace the vendor
    legs of the FCs a DC feeds."""
    fcs = {f: (lat, lon) for f, lat, lon in FCS}
    fed = [f for *_, feeds in CENTRAL_DCS for f in feeds]
    rows: list[dict[str, object]] = []
    for d, dlat, dlon, feeds in CENTRAL_DCS:
        for v, vlat, vlon in VENDORS:
            days = 3.0 + _km(vlat, vlon, dlat, dlon) / 1200.0
            rows.append(
                _lane(v, d, "ground", days, 0.25 * days, 0.35, 2600.0, 2200.0, 10, "1111100")
            )
        for f in feeds:
            km = _km(dlat, dlon, *fcs[f])
            rows.append(
                _lane(
                    d,
                    f,
                    "ground",
                    0.6 + km / 900.0,
                    0.15 + km / 9000.0,
                    0.10 + km / 10000.0,
                    2600.0,
                    900.0 + km * 0.9,
                    18,
                    "1111110",
                )
            )
    lanes = lanes_frame()
    vendors = [v for v, *_ in VENDORS]
    kept = lanes.filter(~(pl.col("origin").is_in(vendors) & pl.col("destination").is_in(fed)))
    return pl.concat([kept, pl.DataFrame(rows, schema=lanes.schema)]).sort(
        "origin", "destination", "mode"
    )


def _lane(
    o: str,
    d: str,
    mode: str,
    days: float,
    sd: float,
    cpu: float,
    cap: float,
    cpt: float,
    hour: int,
    weekdays: str,
) -> dict[str, object]:
    return {
        "origin": o,
        "destination": d,
        "mode": mode,
        "transit_days": round(days, 3),
        "transit_sd": round(sd, 3),
        "cost_per_unit": round(cpu, 3),
        "truck_capacity": cap,
        "cost_per_truck": round(cpt, 2),
        "departure_hour": hour,
        "weekdays": weekdays,
    }


def items_frame(spec: FixtureSpec, rng: np.random.Generator) -> pl.DataFrame:
    """Item master; the last ~5% of SKUs are new launches with no history (cold start)."""
    n = spec.skus
    cat_idx = rng.integers(0, len(CATEGORIES), n)
    cost_scale = np.array([80.0, 25.0, 15.0, 4.0, 20.0, 10.0])[cat_idx]
    unit_cost = np.round(cost_scale * rng.lognormal(0.0, 0.5, n), 2)
    markup = rng.uniform(1.3, 2.4, n)
    vendor_idx = rng.integers(0, len(VENDORS), n)
    lead = np.array([35.0, 30.0, 9.0, 4.0])[vendor_idx] + rng.integers(0, 5, n)
    use_sl = rng.random(n) < 0.5
    case_pack = rng.choice(np.array([1, 4, 6, 12, 24]), n)
    moq = np.where(rng.random(n) < 0.4, case_pack * rng.integers(2, 10, n), 0)
    volume = np.array([0.6, 1.2, 0.8, 0.15, 0.3, 0.08])[cat_idx] * rng.lognormal(0, 0.3, n)
    # at least one sku keeps a history, so that a tiny set still has sales
    n_new = min(max(2, round(0.05 * n)), n - 1)
    launch: list[dt.date | None] = [None] * (n - n_new)
    launch += [spec.end + dt.timedelta(days=int(d)) for d in rng.integers(-3, 10, n_new)]
    return pl.DataFrame(
        {
            "sku": [f"SKU-{i:05d}" for i in range(n)],
            "category": [CATEGORIES[i] for i in cat_idx],
            "unit_cost": unit_cost,
            "price": np.round(unit_cost * markup, 2),
            "holding_cost_rate": np.round(rng.uniform(0.18, 0.3, n), 3),
            "stockout_cost": np.where(use_sl, np.nan, np.round(unit_cost * (markup - 1) * 1.5, 2)),
            "service_level": np.where(use_sl, rng.choice(np.array([0.9, 0.95, 0.98]), n), np.nan),
            "order_cost": np.round(rng.uniform(40, 200, n), 2),
            "lead_time_days": lead,
            "lead_time_sd": np.round(lead * rng.uniform(0.08, 0.3, n), 2),
            "moq": moq.astype(np.int64),
            "case_pack": case_pack.astype(np.int64),
            "vendor": [VENDORS[i][0] for i in vendor_idx],
            "unit_volume": np.round(volume, 3),
            "launch_date": pl.Series(launch, dtype=pl.Date),
            "brand": [f"brand-{i}" for i in rng.integers(0, 12, n)],
        }
    ).with_columns(pl.col("stockout_cost", "service_level").fill_nan(None))


def events_frame(spec: FixtureSpec) -> pl.DataFrame:
    """Yearly events over the history and the next 90 days; one is category-specific."""
    rows: list[dict[str, object]] = []
    first, last = spec.end - dt.timedelta(days=spec.days), spec.end + dt.timedelta(days=90)
    for year in range(first.year, last.year + 1):
        nov1 = dt.date(year, 11, 1)
        thanksgiving = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7 + 21)
        bf = thanksgiving + dt.timedelta(days=1)
        cands = [
            ("black_friday", bf, bf + dt.timedelta(days=3), None),
            ("summer_sale", dt.date(year, 7, 8), dt.date(year, 7, 10), None),
            ("toy_fair", dt.date(year, 3, 14), dt.date(year, 3, 20), "toys"),
        ]
        for name, start, end, cat in cands:
            if first <= start <= last:
                rows.append(
                    {
                        "event": name,
                        "start": start,
                        "end": end,
                        "sku": None,
                        "category": cat,
                        "lift": None,
                    }
                )
    return pl.DataFrame(
        rows,
        schema={
            "event": pl.String,
            "start": pl.Date,
            "end": pl.Date,
            "sku": pl.String,
            "category": pl.String,
            "lift": pl.Float64,
        },
    ).sort("start", "event")


_EVENT_LIFT = {"black_friday": 2.6, "summer_sale": 1.8, "toy_fair": 2.2}


def sales_frame(
    spec: FixtureSpec, items: pl.DataFrame, events: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """Daily sales per sku and region with the five demand patterns, events, price steps,
    censoring stock-outs and a few missing values."""
    history = items.filter(pl.col("launch_date").is_null())
    n, days = history.height, spec.days
    first = np.datetime64(spec.end - dt.timedelta(days=days - 1), "D")
    dates = first + np.arange(days)
    t = np.arange(days, dtype=float)
    pattern = rng.integers(0, len(PATTERNS), n)
    level = rng.lognormal(np.log(10.0), 0.8, n)
    rate = np.repeat(level[:, None], days, axis=1)
    weekly = 1 + 0.25 * np.sin(2 * np.pi * (t[None, :] + rng.integers(0, 7, (n, 1))) / 7)
    doy = (dates - dates.astype("datetime64[Y]")).astype(float) + 1
    annual = 1 + rng.uniform(0.4, 0.8, (n, 1)) * np.cos(
        2 * np.pi * (doy - rng.integers(150, 360, (n, 1))) / 365.25
    )
    trend = np.exp(rng.uniform(0.4, 1.2, (n, 1)) * t / days)
    rate *= np.where((pattern == 1)[:, None], weekly * annual, weekly**0.5)
    rate *= np.where((pattern == 2)[:, None], trend, 1.0)
    cats = history["category"].to_numpy()
    rate *= _event_multiplier(events, dates, cats)
    price_mult = _price_path(n, days, rng)
    rate *= price_mult**-1.5
    occurs = rng.random((n, days)) < np.where(pattern == 3, 0.25, 0.08)[:, None]
    size = np.where(
        (pattern == 4)[:, None], rng.geometric(0.08, (n, days)), rng.geometric(0.6, (n, days))
    )
    sparse = (pattern >= 3)[:, None]
    shares = np.array([r[3] for r in REGIONS])
    region_w = rng.dirichlet(shares * 40, n)
    out = []
    in_stock = _stockouts(n, days, rng)
    for r, (code, *_rest) in enumerate(REGIONS):
        lam = rate * region_w[:, r : r + 1]
        dense = rng.poisson(lam)
        sparse_units = np.where(
            rng.random((n, days)) < region_w[:, r : r + 1] * 1.6,
            occurs * size * np.maximum(lam / np.maximum(level[:, None] * 0.3, 1e-9), 0.3),
            0,
        )
        units = np.where(sparse, np.round(sparse_units), dense).astype(float)
        units = np.where(in_stock, units, np.floor(units * 0.2))
        missing = rng.random((n, days)) < 0.001
        out.append(
            pl.DataFrame(
                {
                    "sku": np.repeat(history["sku"].to_numpy(), days),
                    "location": f"R-{code}",
                    "date": np.tile(dates, n),
                    "units": np.where(missing, np.nan, units).ravel(),
                    "price": np.round(history["price"].to_numpy()[:, None] * price_mult, 2).ravel(),
                    "in_stock": in_stock.ravel(),
                }
            )
        )
    sales = pl.concat(out).with_columns(pl.col("units").fill_nan(None))
    return _tag_events(sales, events, items).sort("sku", "location", "date")


def _event_multiplier(events: pl.DataFrame, dates: np.ndarray, cats: np.ndarray) -> np.ndarray:
    mult = np.ones((cats.size, dates.size))
    for ev in events.iter_rows(named=True):
        on = (dates >= np.datetime64(ev["start"], "D")) & (dates <= np.datetime64(ev["end"], "D"))
        applies = np.ones(cats.size, bool) if ev["category"] is None else cats == ev["category"]
        mult[np.ix_(applies, on)] *= _EVENT_LIFT[ev["event"]]
    return mult


def _price_path(n: int, days: int, rng: np.random.Generator) -> np.ndarray:
    """Relative price per day: one or two step changes for a third of the SKUs."""
    path = np.ones((n, days))
    changers = rng.random(n) < 0.33
    steps = rng.integers(days // 4, max(days // 4 + 1, days - 30), n)
    factor = rng.choice(np.array([0.8, 0.9, 1.1, 1.2]), n)
    cols = np.arange(days)[None, :]
    path = np.where(changers[:, None] & (cols >= steps[:, None]), factor[:, None], path)
    return path


def _stockouts(n: int, days: int, rng: np.random.Generator) -> np.ndarray:
    """True when in stock; each SKU has 0-3 stock-out spells of 2-10 days."""
    ok = np.ones((n, days), bool)
    spells = rng.integers(0, 4, n)
    for k in range(3):
        has = spells > k
        start = rng.integers(0, days - 10, n)
        length = rng.integers(2, 11, n)
        cols = np.arange(days)[None, :]
        ok &= ~(has[:, None] & (cols >= start[:, None]) & (cols < (start + length)[:, None]))
    return ok


def _tag_events(sales: pl.DataFrame, events: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    ev = events.select("event", "start", "end", pl.col("category").alias("ev_cat"))
    cats = items.select("sku", "category")
    tagged = (
        sales.select("sku", "date")
        .unique()
        .join(cats, on="sku")
        .join_where(ev, pl.col("date") >= pl.col("start"), pl.col("date") <= pl.col("end"))
        .filter(pl.col("ev_cat").is_null() | (pl.col("ev_cat") == pl.col("category")))
        .group_by("sku", "date")
        .agg(pl.col("event").first())
    )
    return sales.join(tagged, on=["sku", "date"], how="left")


def inventory_frame(
    items: pl.DataFrame, sales: pl.DataFrame, spec: FixtureSpec, rng: np.random.Generator
) -> pl.DataFrame:
    """On hand per sku and FC: two to six weeks of cover, some empty, some in transit."""
    daily = sales.group_by("sku").agg((pl.col("units").sum() / spec.days).alias("rate"))
    base = (
        items.select("sku")
        .join(daily, on="sku", how="left")
        .with_columns(pl.col("rate").fill_null(2.0))
    )
    rows = base.join(pl.DataFrame({"node": [f[0] for f in FCS]}), how="cross").sort("sku", "node")
    n = rows.height
    cover = rng.uniform(14, 42, n) / len(FCS)
    empty = rng.random(n) < 0.15
    on_hand = np.where(empty, 0.0, np.round(rows["rate"].to_numpy() * cover))
    transit = np.where(rng.random(n) < 0.2, np.round(rows["rate"].to_numpy() * 7), 0.0)
    eta = [
        spec.end + dt.timedelta(days=int(d)) if q > 0 else None
        for d, q in zip(rng.integers(1, 10, n), transit, strict=True)
    ]
    return rows.select("sku", "node").with_columns(
        pl.Series("on_hand", on_hand),
        pl.Series("in_transit", transit),
        pl.Series("eta", eta, dtype=pl.Date),
    )


def orders_frame(
    items: pl.DataFrame, sales: pl.DataFrame, spec: FixtureSpec, rng: np.random.Generator
) -> pl.DataFrame:
    """One day of multi-line orders (1-4 lines, distinct SKUs) placed the day after history."""
    pop = (
        items.select("sku")
        .join(sales.group_by("sku").agg(pl.col("units").sum().alias("w")), on="sku", how="left")
        .with_columns(pl.col("w").fill_null(20.0) + 1.0)
        .sort("sku")
    )
    weights = pop["w"].to_numpy() / pop["w"].sum()
    n_lines = np.minimum(rng.geometric(0.6, spec.orders), min(4, pop.height))
    region_p = np.array([r[3] for r in REGIONS])
    dest = rng.choice(len(REGIONS), spec.orders, p=region_p / region_p.sum())
    day = dt.datetime.combine(spec.end + dt.timedelta(days=1), dt.time())
    seconds = np.sort(rng.beta(2.5, 1.8, spec.orders) * 86_399)
    rows: list[tuple[str, int, str, float, str, dt.datetime]] = []
    skus = pop["sku"].to_list()
    for o in range(spec.orders):
        chosen = rng.choice(len(skus), int(n_lines[o]), replace=False, p=weights)
        when = day + dt.timedelta(seconds=int(seconds[o]))
        for line, s in enumerate(chosen, start=1):
            rows.append(
                (
                    f"O{o + 1:06d}",
                    line,
                    skus[s],
                    float(min(rng.geometric(0.7), 4)),
                    f"R-{REGIONS[dest[o]][0]}",
                    when,
                )
            )
    return pl.DataFrame(
        rows,
        schema={
            "order_id": pl.String,
            "line": pl.Int64,
            "sku": pl.String,
            "qty": pl.Float64,
            "destination": pl.String,
            "order_time": pl.Datetime("us"),
        },
        orient="row",
    )


def calendar_frame(spec: FixtureSpec) -> pl.DataFrame:
    """60 days from the order day: no FC pickups on Sundays, no deliveries on Sundays,
    neither on Thanksgiving and Christmas."""
    start = spec.end + dt.timedelta(days=1)
    dates = [start + dt.timedelta(days=d) for d in range(60)]
    nov1 = dt.date(start.year, 11, 1)
    holidays = {
        nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7 + 21),
        dt.date(start.year, 12, 25),
    }
    rows = []
    for node in [f[0] for f in FCS] + [f"R-{r[0]}" for r in REGIONS]:
        for d in dates:
            sunday, holiday = d.weekday() == 6, d in holidays
            rows.append(
                {
                    "node": node,
                    "date": d,
                    "pickup": not (holiday or (sunday and node.startswith("FC"))),
                    "delivery": not (holiday or sunday),
                }
            )
    return pl.DataFrame(rows).sort("node", "date")


def generate(spec: FixtureSpec | None = None) -> dict[str, pl.DataFrame]:
    """All fixture tables, keyed by table name, from one seeded generator."""
    spec = spec or FixtureSpec()
    rng = np.random.default_rng(spec.seed)
    items = items_frame(spec, rng)
    events = events_frame(spec)
    sales = sales_frame(spec, items, events, rng)
    return {
        "sales": sales,
        "items": items,
        "events": events,
        "nodes": nodes_frame(),
        "lanes": lanes_frame(),
        "inventory": inventory_frame(items, sales, spec, rng),
        "orders": orders_frame(items, sales, spec, rng),
        "calendar": calendar_frame(spec),
        "nodes_central": central_nodes_frame(),
        "lanes_central": central_lanes_frame(),
    }
