"""Output tables of ``scot plan-buy``: purchase orders and the policy behind them.

Plain declarations (no polars import) so that ``scot --help`` stays fast.
"""

from __future__ import annotations

from scot_cli.schema import B, Column, D, F, S, Table

#: The node of a row bought over all nodes (no network), and the limit over all nodes.
ALL = "ALL"
#: Row status: an order is placed, no order is needed now, or the sku could not be planned.
STATUSES = ("order", "no_order", "unplanned")
#: Constraints that can bind in constrained buying.
CONSTRAINTS = ("budget", "storage", "seller")

SELLER_LIMITS = Table(
    "seller_limits",
    "Storage each seller may take (FBA-style), per node or over all nodes: an input of "
    "scot plan-buy --seller-limits; items name their seller in a `seller` column.",
    (
        Column("seller", S, "seller id, as in the items' seller column"),
        Column(
            "node",
            S,
            "node the limit applies to, or 'ALL' for the seller's total (the default)",
            required=False,
        ),
        Column("max_volume", F, "largest volume the seller's stock may take after ordering", min=0),
    ),
    keys=("seller", "node"),
    defaults={"node": "ALL"},
)

BUY_ORDERS = Table(
    "buy_orders",
    "Purchase orders: what to buy from which vendor, for which node, and when it arrives.",
    (
        Column("sku", S, "stock-keeping unit id"),
        Column("vendor", S, "vendor node id (null when the sku is not in items)", nullable=True),
        Column("node", S, "node the order is delivered to ('ALL' without --network)"),
        Column("order_date", D, "date the purchase order is placed (the as-of date)"),
        Column(
            "arrival_date", D, "expected arrival: order date plus the mean lead time", nullable=True
        ),
        Column(
            "qty",
            F,
            "units to order: a multiple of the case pack, at least the MOQ when > 0",
            min=0,
        ),
        Column("status", S, "order, no_order or unplanned", choices=STATUSES),
        Column("reason", S, "why: the policy trigger, or what stops the sku from being planned"),
    ),
    keys=("sku", "node"),
)

BUY_POLICY = Table(
    "buy_policy",
    "Inventory policy per sku (and node): levels, expected performance and cost components.",
    (
        Column("sku", S, "stock-keeping unit id"),
        Column("node", S, "node the policy applies to ('ALL' without --network)"),
        Column("policy", S, "policy that set the levels (see scot plan-buy --help)"),
        Column("distribution", S, "demand model over the protection interval", nullable=True),
        Column("protection_days", F, "lead time plus review period, in days", nullable=True, min=0),
        Column("demand_mean", F, "mean demand over the protection interval", nullable=True, min=0),
        Column(
            "demand_sd",
            F,
            "standard deviation of that demand (days and lead time)",
            nullable=True,
            min=0,
        ),
        Column(
            "target",
            F,
            "critical ratio or service target the levels were set for",
            nullable=True,
            min=0,
            max=1,
        ),
        Column(
            "inventory_position",
            F,
            "on hand plus in transit (summed over nodes without --network)",
            nullable=True,
        ),
        Column("reorder_point", F, "order when the position is at or below this", nullable=True),
        Column(
            "order_up_to", F, "order up to this level (reorder point + Q for (r,Q))", nullable=True
        ),
        Column("safety_stock", F, "reorder point minus mean lead-time demand", nullable=True),
        Column(
            "cycle_stock",
            F,
            "average stock from order batching (half a batch)",
            nullable=True,
            min=0,
        ),
        Column(
            "fill_rate",
            F,
            "expected fraction of demand served from stock",
            nullable=True,
            min=0,
            max=1,
        ),
        Column(
            "in_stock_prob",
            F,
            "probability of no stock-out in a cycle",
            nullable=True,
            min=0,
            max=1,
        ),
        Column("holding_cost", F, "expected holding cost per day", nullable=True, min=0),
        Column(
            "stockout_cost", F, "expected stock-out (shortage) cost per day", nullable=True, min=0
        ),
        Column("ordering_cost", F, "expected fixed ordering cost per day", nullable=True, min=0),
        Column(
            "unit_shortage_cost",
            F,
            "shortage cost per unit used (given or implied by the service target)",
            nullable=True,
            min=0,
        ),
        Column(
            "spread_floored",
            B,
            "true when the Poisson floor sqrt(mean) raised a period's spread (--spread-floor)",
            nullable=True,
        ),
        Column("raw_qty", F, "order quantity before pack/MOQ rounding", nullable=True, min=0),
        Column("rounding", S, "rounding applied: none, case_pack, moq, moq+case_pack"),
        Column("constrained", B, "true when a budget or storage limit cut this sku's order"),
        Column(
            "binding_constraint",
            S,
            "budget or storage when one binds in the run; seller when the row's seller limit binds",
            nullable=True,
            choices=CONSTRAINTS,
        ),
        Column(
            "shadow_price",
            F,
            "expected cost saved per extra unit of the binding limit (of the row's seller "
            "limit when that binds: what a larger limit is worth to the seller)",
            nullable=True,
        ),
        Column(
            "echelon_level",
            F,
            "with a central tier: the row's level plus those of every stage below it (the "
            "level its order is set against); null elsewhere",
            nullable=True,
        ),
        Column(
            "echelon_position",
            F,
            "with a central tier: the row's position plus those of every stage below it",
            nullable=True,
        ),
        Column(
            "service_days",
            F,
            "guaranteed-service model: the service time the stage commits to its customers",
            nullable=True,
            min=0,
        ),
        Column(
            "replenishment_days",
            F,
            "guaranteed-service model: net replenishment time the stage's safety stock covers",
            nullable=True,
            min=0,
        ),
        Column("status", S, "order, no_order or unplanned", choices=STATUSES),
        Column("reason", S, "why: the policy trigger, or what stops the sku from being planned"),
    ),
    keys=("sku", "node"),
    notes="Cost components are per day and add up to the expected cost of the policy; "
    "`scot explain` decomposes them.",
)

#: Kinds of quantity discount.
DISCOUNTS = ("all_units", "incremental")

PRICE_BREAKS = Table(
    "price_breaks",
    "Quantity discounts per sku: an input of scot plan-buy --price-breaks. The first break "
    "of a sku is at min_qty 0; all_units prices the whole order at its region's unit_cost, "
    "incremental prices each unit at the cost of the region it falls in.",
    (
        Column("sku", S, "stock-keeping unit id"),
        Column("min_qty", F, "smallest order quantity of this price region", min=0),
        Column("unit_cost", F, "unit cost in this region", min=0),
        Column("kind", S, "all_units or incremental (one kind per sku)", choices=DISCOUNTS),
    ),
    keys=("sku", "min_qty"),
)

TABLES = (BUY_ORDERS, BUY_POLICY, SELLER_LIMITS, PRICE_BREAKS)

__all__ = [
    "ALL",
    "BUY_ORDERS",
    "BUY_POLICY",
    "CONSTRAINTS",
    "DISCOUNTS",
    "PRICE_BREAKS",
    "SELLER_LIMITS",
    "STATUSES",
    "TABLES",
]
