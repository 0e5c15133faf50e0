"""Tables of ``scot route``: the promise lines it reads, the stops of a last-mile run,
and the shipments, trucks and routes it writes.

Plain declarations (no polars import) so ``scot --help`` stays fast.
"""

from __future__ import annotations

from scot_cli.schema import DT, B, Column, D, F, I, S, Table

SHIPMENT_STATUS = ("on_time", "late", "unshipped")
UNSHIPPED_REASONS = (
    "no stock",
    "no lane fast enough",
    "capacity full",
    "too large for a truck",
    "not promised",
    "backorder",
)
ROUTE_STATUS = ("routed", "unassigned")

#: What route reads of ``scot promise`` output (qty and destination may come from --orders).
PROMISE_LINES = Table(
    "promises",
    "Promised order lines to fulfil (the output of scot promise).",
    (
        Column("order_id", S, "order id"),
        Column("line", I, "line number within the order", min=1),
        Column("sku", S, "stock-keeping unit id"),
        Column("ship_date", D, "day the line is released to ship from an FC", nullable=True),
        Column("promise_date", D, "day the customer was promised delivery", nullable=True),
        Column("qty", F, "units ordered (else joined from --orders)", required=False, min=0),
        Column("destination", S, "region node (else joined from --orders)", required=False),
        Column("ship_node", S, "FC the promise assumed", required=False, nullable=True),
        Column(
            "status",
            S,
            "promised, backorder or unavailable; only promised lines ship today",
            required=False,
            nullable=True,
        ),
    ),
    keys=("order_id", "line"),
)

STOPS = Table(
    "stops",
    "Last-mile stops: deliveries from a delivery station with demand and time windows.",
    (
        Column("stop_id", S, "stop id"),
        Column("station", S, "delivery station node the stop is served from"),
        Column("lat", F, "latitude in degrees", min=-90, max=90),
        Column("lon", F, "longitude in degrees", min=-180, max=180),
        Column("demand", F, "volume delivered (same unit as the vehicle capacity)", min=0),
        Column(
            "tw_early",
            F,
            "earliest service start, minutes after the shift starts",
            required=False,
            min=0,
        ),
        Column(
            "tw_late",
            F,
            "latest service start, minutes after the shift starts",
            required=False,
            min=0,
        ),
        Column("service_time", F, "minutes spent at the stop", required=False, min=0),
        Column(
            "prize",
            F,
            "km of driving the stop is worth: with a prize the stop is optional, left out "
            "when serving it costs more; null or absent: the stop must be served",
            required=False,
            nullable=True,
            min=0,
            max=1.0e6,
        ),
    ),
    keys=("stop_id",),
    defaults={"tw_early": 0.0, "tw_late": 1.0e6, "service_time": 0.0},
)

SHIPMENTS = Table(
    "shipments",
    "One row per order line: ship-from FC, path, leg departures and arrivals, trucks, cost, "
    "and whether the promise is kept.",
    (
        Column("order_id", S, "order id"),
        Column("line", I, "line number within the order", min=1),
        Column("sku", S, "stock-keeping unit id"),
        Column("qty", F, "units", min=0),
        Column("volume", F, "qty times the unit volume", min=0),
        Column("destination", S, "region node delivered to"),
        Column("ship_node", S, "FC the line ships from; null when unshipped", nullable=True),
        Column("path", S, "nodes of the path joined by '>'", nullable=True),
        Column("modes", S, "mode of each leg joined by '>'", nullable=True),
        Column(
            "departures",
            S,
            "departure of each leg (ISO, hour precision) joined by '|'",
            nullable=True,
        ),
        Column(
            "arrivals",
            S,
            "arrival of each leg (ISO, minute precision) joined by '|'",
            nullable=True,
        ),
        Column("depart", DT, "departure of the first leg from the FC", nullable=True),
        Column("arrive", DT, "arrival at the destination", nullable=True),
        Column("truck_id", S, "truck of the first leg (see the trucks table)", nullable=True),
        Column("truck_ids", S, "truck of each leg joined by '|'", nullable=True),
        Column("promise_date", D, "promised delivery day", nullable=True),
        Column(
            "late_days", I, "days the arrival falls after the promise date", nullable=True, min=0
        ),
        Column(
            "on_time",
            B,
            "arrival on or before the promise date; null when unshipped",
            nullable=True,
        ),
        Column(
            "cost", F, "unit shipping cost plus the line's volume share of its trucks' cost", min=0
        ),
        Column("status", S, "outcome", choices=SHIPMENT_STATUS),
        Column(
            "reason", S, "why a line is late or unshipped", nullable=True, choices=UNSHIPPED_REASONS
        ),
    ),
    keys=("order_id", "line"),
)

TRUCKS = Table(
    "trucks",
    "One row per truck dispatched on a lane departure: load, capacity and fill.",
    (
        Column("truck_id", S, "lane, departure and truck number"),
        Column("origin", S, "node the leg leaves from"),
        Column("destination", S, "node the leg arrives at"),
        Column("mode", S, "transport mode"),
        Column("departure", DT, "scheduled departure"),
        Column("load", F, "volume loaded", min=0),
        Column("capacity", F, "volume the truck carries", min=0),
        Column("fill", F, "load / capacity", min=0, max=1),
        Column("lines", I, "order lines on board", min=0),
        Column("units", F, "units on board", min=0),
        Column("cost", F, "cost of dispatching the truck", min=0),
        Column("under_min_fill", B, "fill below --min-fill"),
    ),
    keys=("truck_id",),
)

ROUTES = Table(
    "routes",
    "Last-mile routes: one row per stop with its vehicle, sequence, arrival and load, or the "
    "reason it is unassigned.",
    (
        Column("stop_id", S, "stop id"),
        Column("station", S, "delivery station the vehicle starts from"),
        Column(
            "vehicle", S, "vehicle id (station and number); null when unassigned", nullable=True
        ),
        Column(
            "sequence", I, "position of the stop on its route (1 = first)", nullable=True, min=1
        ),
        Column("arrival", F, "service start, minutes after the shift starts", nullable=True, min=0),
        Column(
            "load", F, "volume on board when the vehicle arrives at the stop", nullable=True, min=0
        ),
        Column(
            "route_distance", F, "length of the vehicle's whole route in km", nullable=True, min=0
        ),
        Column("status", S, "outcome", choices=ROUTE_STATUS),
        Column("reason", S, "why a stop is unassigned", nullable=True),
    ),
    keys=("stop_id",),
)

TABLES = (SHIPMENTS, TRUCKS, ROUTES, STOPS)
