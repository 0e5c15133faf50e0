"""Output tables of ``scot place``: placement, coverage and constraints.

Plain declarations (no polars import) so that ``scot --help`` stays fast.
"""

from __future__ import annotations

from scot_cli.schema import B, Column, D, F, I, S, Table

CONSTRAINT_KINDS = ("storage", "throughput", "speed")
CONSTRAINT_STATUS = ("slack", "binding", "violated", "unreachable")

#: What place reads of ``scot forecast`` output (other columns, e.g. more ``pNN``, pass through).
FORECAST_IN = Table(
    "forecast",
    "Demand forecast by sku and region node (the output of scot forecast).",
    (
        Column("sku", S, "stock-keeping unit id"),
        Column("location", S, "region node id"),
        Column("date", D, "forecast period start (days)"),
        Column("mean", F, "expected demand in the period", min=0),
        Column("p10", F, "0.1 quantile (spread of demand)", required=False, nullable=True, min=0),
        Column("p90", F, "0.9 quantile (spread of demand)", required=False, nullable=True, min=0),
    ),
    keys=("sku", "location", "date"),
    spans=("date",),
)

#: What place reads of ``scot plan-buy`` orders (its ``receipts`` input).
RECEIPTS_IN = Table(
    "receipts",
    "Buys arriving at the network (the orders output of scot plan-buy).",
    (
        Column("sku", S, "stock-keeping unit id"),
        Column(
            "arrival_date",
            D,
            "day the buy arrives (null on plan-buy's unplanned rows: ignored)",
            nullable=True,
        ),
        Column("qty", F, "units bought", min=0),
        Column(
            "status",
            S,
            "plan-buy status; skip/cancelled rows are ignored",
            required=False,
            nullable=True,
        ),
    ),
    spans=("arrival_date",),
)
#: The former name of :data:`RECEIPTS_IN` (the input was called supply).
SUPPLY_IN = RECEIPTS_IN

PLACEMENT = Table(
    "placement",
    "Target units of each sku at each FC for the planning period and the moves that reach them.",
    (
        Column("sku", S, "stock-keeping unit id"),
        Column("node", S, "fulfillment center"),
        Column("target_units", F, "units to hold at the FC for the period", min=0),
        Column("current_units", F, "units on hand plus in transit arriving in the period", min=0),
        Column("inbound_units", F, "arriving buys (receipts) received at this FC", min=0),
        Column("transfer_in", F, "units moved in from other FCs", min=0),
        Column("transfer_out", F, "units moved out to other FCs", min=0),
        Column("expected_demand", F, "expected period demand the plan serves from this FC", min=0),
        Column(
            "days_of_cover",
            F,
            "target units over expected daily demand served (null when none)",
            nullable=True,
            min=0,
        ),
        Column("fair_share", B, "true when fair share fixed this sku's receipts (scarce supply)"),
    ),
    keys=("sku", "node"),
    notes="Per sku: sum(target_units) = sum(current_units) + sum(inbound_units) and "
    "sum(transfer_in) = sum(transfer_out); target = current + inbound + transfer_in - "
    "transfer_out.",
)

COVERAGE = Table(
    "coverage",
    "Share of each region's expected demand served within 1, 2 and 3 days, before and after.",
    (
        Column("region", S, "region node, or 'ALL' for the whole network"),
        Column("days", I, "delivery days (FC processing plus path transit, rounded up)", min=1),
        Column("expected_demand", F, "expected period demand of the region", min=0),
        Column(
            "share_before", F, "share served within `days` from today's positions", min=0, max=1
        ),
        Column("share_after", F, "share served within `days` after the placement", min=0, max=1),
    ),
    keys=("region", "days"),
    notes="'Before' routes expected demand from current stock only (no transfers, no arriving "
    "buys); 'after' from the targets. Unserved demand counts as not within any day.",
)

CONSTRAINTS = Table(
    "constraints",
    "Shared constraints of the placement LP with shadow prices, slack and violations.",
    (
        Column("constraint", S, "constraint family", choices=CONSTRAINT_KINDS),
        Column("node", S, "FC (storage, throughput) or region (speed)"),
        Column(
            "limit", F, "right-hand side: volume, units in the period, or units within the target"
        ),
        Column("used", F, "left-hand side at the plan"),
        Column("slack", F, "limit minus used (negative when violated)"),
        Column("shadow_price", F, "objective decrease per unit more of the limit", min=0),
        Column("binding", B, "true when the constraint holds with equality or is violated"),
        Column("violation", F, "amount the plan misses the limit by (penalised slack)", min=0),
        Column("status", S, "slack, binding, violated or unreachable", choices=CONSTRAINT_STATUS),
    ),
    keys=("constraint", "node"),
    notes="A violated row names what cannot be met: the plan keeps it as penalised slack. "
    "'unreachable' speed rows have no FC within the target days of the region.",
)

TABLES = (PLACEMENT, COVERAGE, CONSTRAINTS)

__all__ = ["CONSTRAINTS", "COVERAGE", "PLACEMENT", "TABLES"]
