"""Output table of ``scot promise`` and the view of plan-buy's orders it reads as receipts.

Plain declarations (no polars import) so that ``scot --help`` stays fast.
"""

from __future__ import annotations

from scot_cli.schema import Column, D, F, I, S, Table

#: Line statuses: shipped from stock, waiting for a receipt, or not promisable.
STATUSES = ("promised", "backorder", "unavailable")

#: Reasons a line carries (null for a plain promise).
REASONS = {
    "receipt": "backorder: ships once the receipt on waits_for arrives at ship_node",
    "split": "the order could not ship in one box (split avoid), so its lines ship apart",
    "no_stock": "no FC holds the quantity, counting on hand, in transit and receipts",
    "no_path": "no FC with the sku has a path of lanes to the destination",
    "no_ship_day": "no pickup day (with a departing lane) within the planning horizon",
    "capacity": "the FC's daily capacity is used up over the planning horizon",
}

PROMISES = Table(
    "promises",
    "Delivery promise per order line: ship node and day, promised date and its probability.",
    (
        Column("order_id", S, "order id"),
        Column("line", I, "line number within the order", min=1),
        Column("sku", S, "stock-keeping unit id"),
        Column("qty", F, "units ordered", min=0),
        Column("destination", S, "region (or station) the order is delivered to"),
        Column("ship_node", S, "FC the line ships from", nullable=True),
        Column("ship_date", D, "day the line leaves ship_node", nullable=True),
        Column(
            "promise_date",
            D,
            "delivery date promised for the whole order (the latest shipment)",
            nullable=True,
        ),
        Column(
            "promise_days", I, "promise_date minus the order date, in days", nullable=True, min=0
        ),
        Column(
            "on_time_prob",
            F,
            "probability that every shipment of the order arrives by promise_date",
            nullable=True,
            min=0,
            max=1,
        ),
        Column(
            "status",
            S,
            "promised, backorder (waits for a receipt) or unavailable",
            choices=STATUSES,
        ),
        Column(
            "reason",
            S,
            "why a line is a backorder, split or unavailable; null otherwise",
            nullable=True,
            choices=tuple(REASONS),
        ),
        Column("waits_for", D, "arrival date of the receipt a backorder waits for", nullable=True),
        Column("path", S, "lane path of the shipment (node ids joined by '>')", nullable=True),
        Column("modes", S, "mode of each leg of path (joined by '>')", nullable=True),
    ),
    keys=("order_id", "line"),
    notes="Reasons: " + "; ".join(f"`{k}`: {v}" for k, v in REASONS.items()) + ".",
)

#: The columns of plan-buy's orders output that promise reads as ``--receipts``.
RECEIPTS = Table(
    "receipts",
    "Purchase orders arriving at nodes (plan-buy's orders output), promise's receipts input.",
    (
        Column("sku", S, "stock-keeping unit id"),
        Column("node", S, "node the units arrive at"),
        Column(
            "arrival_date",
            D,
            "day the units arrive and become promisable (null: ignored)",
            nullable=True,
        ),
        Column("qty", F, "units arriving", min=0),
    ),
    # one row per sku, node and day, as plan-buy writes them: a repeated row is a file
    # appended twice, and counting it twice would promise stock that never arrives
    keys=("sku", "node", "arrival_date"),
    spans=("arrival_date",),
)

TABLES = (PROMISES,)

__all__ = ["PROMISES", "REASONS", "RECEIPTS", "STATUSES", "TABLES"]
