"""Tables of ``scot route``: the promise lines it reads, the stops of a last-mile run,
and the shipments, trucks and routes it writes.

Plain declarations (no polars import) so ``scot --help`` stays fast.
"""

from __future__ import annotations

from scot_cli.schema import DT, B, D, F, I, S, Table, _c

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
        _c("order_id", S, "order id"),
        _c("line", I, "line number within the order", min=1),
        _c("sku", S, "stock-keeping unit id"),
        _c("ship_date", D, "day the line is released to ship from an FC", nullable=True),
        _c("promise_date", D, "day the customer was promised delivery", nullable=True),
        _c("qty", F, "units ordered (else joined from --orders)", required=False, min=0),
        _c("destination", S, "region node (else joined from --orders)", required=False),
        _c("ship_node", S, "FC the promise assumed", required=False, nullable=True),
        _c(
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
        _c("stop_id", S, "stop id"),
        _c("station", S, "delivery station node the stop is served from"),
        _c("lat", F, "latitude in degrees", min=-90, max=90),
        _c("lon", F, "longitude in degrees", min=-180, max=180),
        _c("demand", F, "volume delivered (same unit as the vehicle capacity)", min=0),
        _c(
            "tw_early",
            F,
            "earliest service start, minutes after the shift starts",
            required=False,
            min=0,
        ),
        _c(
            "tw_late",
            F,
            "latest service start, minutes after the shift starts",
            required=False,
            min=0,
        ),
        _c("service_time", F, "minutes spent at the stop", required=False, min=0),
    ),
    keys=("stop_id",),
    defaults={"tw_early": 0.0, "tw_late": 1.0e6, "service_time": 0.0},
)

SHIPMENTS = Table(
    "shipments",
    "One row per order line: ship-from FC, path, leg departures and arrivals, trucks, cost, "
    "and whether the promise is kept.",
    (
        _c("order_id", S, "order id"),
        _c("line", I, "line number within the order", min=1),
        _c("sku", S, "stock-keeping unit id"),
        _c("qty", F, "units", min=0),
        _c("volume", F, "qty times the unit volume", min=0),
        _c("destination", S, "region node delivered to"),
        _c("ship_node", S, "FC the line ships from; null when unshipped", nullable=True),
        _c("path", S, "nodes of the path joined by '>'", nullable=True),
        _c("modes", S, "mode of each leg joined by '>'", nullable=True),
        _c(
            "departures",
            S,
            "departure of each leg (ISO, hour precision) joined by '|'",
            nullable=True,
        ),
        _c(
            "arrivals",
            S,
            "arrival of each leg (ISO, minute precision) joined by '|'",
            nullable=True,
        ),
        _c("depart", DT, "departure of the first leg from the FC", nullable=True),
        _c("arrive", DT, "arrival at the destination", nullable=True),
        _c("truck_id", S, "truck of the first leg (see the trucks table)", nullable=True),
        _c("truck_ids", S, "truck of each leg joined by '|'", nullable=True),
        _c("promise_date", D, "promised delivery day", nullable=True),
        _c("late_days", I, "days the arrival falls after the promise date", nullable=True, min=0),
        _c(
            "on_time",
            B,
            "arrival on or before the promise date; null when unshipped",
            nullable=True,
        ),
        _c("cost", F, "unit shipping cost plus the line's volume share of its trucks' cost", min=0),
        _c("status", S, "outcome", choices=SHIPMENT_STATUS),
        _c(
            "reason", S, "why a line is late or unshipped", nullable=True, choices=UNSHIPPED_REASONS
        ),
    ),
    keys=("order_id", "line"),
)

TRUCKS = Table(
    "trucks",
    "One row per truck dispatched on a lane departure: load, capacity and fill.",
    (
        _c("truck_id", S, "lane, departure and truck number"),
        _c("origin", S, "node the leg leaves from"),
        _c("destination", S, "node the leg arrives at"),
        _c("mode", S, "transport mode"),
        _c("departure", DT, "scheduled departure"),
        _c("load", F, "volume loaded", min=0),
        _c("capacity", F, "volume the truck carries", min=0),
        _c("fill", F, "load / capacity", min=0, max=1),
        _c("lines", I, "order lines on board", min=0),
        _c("units", F, "units on board", min=0),
        _c("cost", F, "cost of dispatching the truck", min=0),
        _c("under_min_fill", B, "fill below --min-fill"),
    ),
    keys=("truck_id",),
)

ROUTES = Table(
    "routes",
    "Last-mile routes: one row per stop with its vehicle, sequence, arrival and load, or the "
    "reason it is unassigned.",
    (
        _c("stop_id", S, "stop id"),
        _c("station", S, "delivery station the vehicle starts from"),
        _c("vehicle", S, "vehicle id (station and number); null when unassigned", nullable=True),
        _c("sequence", I, "position of the stop on its route (1 = first)", nullable=True, min=1),
        _c("arrival", F, "service start, minutes after the shift starts", nullable=True, min=0),
        _c("load", F, "volume on board when the vehicle arrives at the stop", nullable=True, min=0),
        _c("route_distance", F, "length of the vehicle's whole route in km", nullable=True, min=0),
        _c("status", S, "outcome", choices=ROUTE_STATUS),
        _c("reason", S, "why a stop is unassigned", nullable=True),
    ),
    keys=("stop_id",),
)

TABLES = (SHIPMENTS, TRUCKS, ROUTES, STOPS)
