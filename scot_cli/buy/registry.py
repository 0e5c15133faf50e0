"""The one registry of plan-buy names: policies, demand models, service targets, solvers.

Plain data (no numpy or polars import) so that building ``scot --help`` stays fast; the
library dispatches on these names and the command builds its choices and help from them.
"""

from __future__ import annotations

from scot_cli.registry import Registry

#: Policy name -> help text; feeds ``--policy``.
POLICIES: Registry[str] = Registry(
    "policy",
    {
        "auto": "ss (exact) for Poisson demand with an order cost where its search window is "
        "at most 60 units; else base_stock when batching does not pay (EOQ at most 1.5 review "
        "periods of demand), ss_power when it does; ss_heuristic for skus with price breaks",
        "base_stock": "periodic review order-up-to S: critical fractile of lead-time + review "
        "demand (newsvendor with lead time; Snyder & Shen 4.3.3)",
        "ss": "(s,S) optimal for integer demand (Zheng & Federgruen 1991; Snyder & Shen 4.6), "
        "the power approximation (Ehrhardt & Mosier 1984) for wide search windows",
        "ss_power": "(s,S) by the revised power approximation (Ehrhardt & Mosier 1984) for "
        "every sku: closed form in the demand's mean and variance",
        "ss_heuristic": "(s,S): s as base_stock, order up to s + EOQ when at or below s "
        "(EOQ + safety stock heuristic)",
        "rq": "continuous review (r,Q), exact expected cost minimised, stock-out cost per unit "
        "short: integer levels for Poisson demand (Snyder & Shen 5.5), normal otherwise (5.2)",
        "rq_eil": "(r,Q) by the expected-inventory-level approximation (Snyder & Shen 5.2.3)",
        "lot_size": "Wagner-Whitin lot sizing on the forecast means taken as known (Snyder & "
        "Shen 3.7): order now the plan's first lot when it is needed before the next review",
        "newsvendor": "one buy covering the whole forecast horizon at the critical fractile "
        "(underage = stockout_cost or margin, overage = unit_cost)",
    },
)

#: Demand model name -> help text; feeds ``--distribution``.
DISTRIBUTIONS: Registry[str] = Registry(
    "distribution",
    {
        "auto": "empirical when the forecast has quantile spread, poisson for small flat "
        "forecasts, normal otherwise",
        "normal": "normal with the summed mean and variance",
        "poisson": "Poisson with the summed mean (integer demand, ignores lead-time spread)",
        "empirical": "shape of the forecast quantiles (interpolated in normal scores) "
        "rescaled to the summed variance",
    },
)

#: Service target type -> help text; feeds ``--service-type``.
SERVICE_TYPES: Registry[str] = Registry(
    "service_type",
    {
        "cycle": "cycle service level: probability of no stock-out in a replenishment cycle",
        "fill": "fill rate: expected fraction of demand served from stock",
    },
)

#: When a period's spread is raised to the Poisson sqrt(mean); feeds ``--spread-floor``.
SPREAD_FLOORS: Registry[str] = Registry(
    "spread_floor",
    {
        "auto": "the forecast's own spread; sqrt(mean) only where it gives none (no quantile "
        "columns, or equal outer quantiles)",
        "poisson": "at least sqrt(mean) everywhere (count demand is at least as variable as "
        "Poisson; for lumpy forecasts whose quantiles understate it)",
        "none": "the forecast's spread as given, even zero",
    },
)

#: Solver name -> help text; feeds ``--solver`` (cvxpy solver of the same name, upper case).
SOLVERS: Registry[str] = Registry(
    "solver",
    {
        "highs": "HiGHS linear programming (default)",
        "clarabel": "Clarabel interior point",
        "scs": "SCS first-order conic solver (approximate duals)",
    },
)


#: Every model of the package -> (library function, what it is): the textbook building
#: blocks behind the policies, for analysts (docs/commands/plan-buy.md lists them).
MODELS: dict[str, tuple[str, str]] = {
    "newsvendor": (
        "scot_cli.buy.policies:newsvendor_cost",
        "critical fractile, normal / Poisson / quantile-shaped demand",
    ),
    "base_stock": ("scot_cli.buy.policies:periodic_levels", "order-up-to with lead time"),
    "rq": ("scot_cli.buy.policies:rq_exact", "(r,Q), exact normal cost"),
    "rq_eil": ("scot_cli.buy.policies:rq_eil", "(r,Q), expected-inventory-level approximation"),
    "rq_poisson": ("scot_cli.buy.classic:rq_poisson_exact", "(r,Q), exact for Poisson demand"),
    "rq_poisson_unit_short": (
        "scot_cli.buy.rq_poisson:rq_poisson",
        "(r,Q), Poisson demand, cost per unit short, many skus at once",
    ),
    "ss": ("scot_cli.buy.ss_exact:ss_levels", "(s,S), exact Zheng-Federgruen, vectorised"),
    "ss_zheng_federgruen": (
        "scot_cli.buy.classic:ss_zheng_federgruen",
        "(s,S), Zheng-Federgruen's search for one sku",
    ),
    "ss_power": (
        "scot_cli.buy.ss_exact:power_approximation",
        "(s,S), revised power approximation (Ehrhardt & Mosier 1984)",
    ),
    "ss_heuristic": ("scot_cli.buy.policies:periodic_levels", "(s,S), EOQ + safety stock"),
    "eoq": ("scot_cli.buy.classic:eoq", "economic order quantity"),
    "eoq_backorders": ("scot_cli.buy.classic:eoq_backorders", "EOQ with planned backorders"),
    "eoq_all_units": ("scot_cli.buy.classic:eoq_all_units_discount", "EOQ, all-units discounts"),
    "eoq_incremental": (
        "scot_cli.buy.classic:eoq_incremental_discount",
        "EOQ, incremental discounts",
    ),
    "wagner_whitin": ("scot_cli.buy.classic:wagner_whitin", "lot sizing, known varying demand"),
    "lot_size": (
        "scot_cli.buy.lot_size:wagner_whitin_batch",
        "Wagner-Whitin for many skus at once",
    ),
    "clark_scarf": (
        "scot_cli.buy.echelon:clark_scarf_serial",
        "serial multi-echelon, stochastic service",
    ),
    "gsm": (
        "scot_cli.buy.echelon:gsm_tree",
        "tree multi-echelon, guaranteed service (vendor -> central FC -> regional FCs)",
    ),
    "constrained": (
        "scot_cli.buy.constrained:allocate",
        "budget / storage allocation LP with shadow price",
    ),
}
