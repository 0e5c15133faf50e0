"""Output tables of ``scot explain``: the attribution and the data-quality flags.

Plain declarations (no polars import) so that ``scot --help`` stays fast.
"""

from __future__ import annotations

from scot_cli.schema import Column, F, S, Table

ATTRIBUTION = Table(
    "attribution",
    "Change of each subject's decision between two runs, split into driver contributions "
    "(exact Shapley values over driver groups; they add up to delta).",
    (
        Column("subject", S, "sku, category, node or order; '(all)' for the whole run"),
        Column("metric", S, "decision column explained (e.g. order quantity)"),
        Column("before", F, "value in the BEFORE run (0 when the subject is absent)"),
        Column("after", F, "value in the AFTER run (0 when the subject is absent)"),
        Column("delta", F, "after - before"),
        Column("driver", S, "driver group (forecast level, lead time, ...)"),
        Column("contribution", F, "part of delta due to the driver; contributions add up to delta"),
        Column("share", F, "contribution / delta; null when delta is 0", nullable=True),
    ),
    keys=("subject", "metric", "driver"),
    notes="The driver `not reproduced by re-run` carries any gap between a file and the "
    "decision re-computed from its own recorded inputs and parameters.",
)

FLAGS = Table(
    "explain_flags",
    "Driver inputs that look wrong: jumps, cold-start forecasts, missing or negative values.",
    (
        Column("role", S, "input role (items, forecast, ...)"),
        Column("key", S, "row key, e.g. sku=SKU-00001"),
        Column("column", S, "column of the input"),
        Column("before", S, "value in the BEFORE run", nullable=True),
        Column("after", S, "value in the AFTER run", nullable=True),
        Column("flag", S, "what looks wrong"),
    ),
    keys=("role", "key", "column", "flag"),
)

TABLES = (ATTRIBUTION, FLAGS)

__all__ = ["ATTRIBUTION", "FLAGS", "TABLES"]
