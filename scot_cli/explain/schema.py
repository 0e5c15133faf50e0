"""Output tables of ``scot explain``: the attribution and the data-quality flags.

Plain declarations (no polars import) so that ``scot --help`` stays fast.
"""

from __future__ import annotations

from scot_cli.schema import F, S, Table, _c

ATTRIBUTION = Table(
    "attribution",
    "Change of each subject's decision between two runs, split into driver contributions "
    "(exact Shapley values over driver groups; they add up to delta).",
    (
        _c("subject", S, "sku, category, node or order; '(all)' for the whole run"),
        _c("metric", S, "decision column explained (e.g. order quantity)"),
        _c("before", F, "value in the BEFORE run (0 when the subject is absent)"),
        _c("after", F, "value in the AFTER run (0 when the subject is absent)"),
        _c("delta", F, "after - before"),
        _c("driver", S, "driver group (forecast level, lead time, ...)"),
        _c("contribution", F, "part of delta due to the driver; contributions add up to delta"),
        _c("share", F, "contribution / delta; null when delta is 0", nullable=True),
    ),
    keys=("subject", "metric", "driver"),
    notes="The driver `not reproduced by re-run` carries any gap between a file and the "
    "decision re-computed from its own recorded inputs and parameters.",
)

FLAGS = Table(
    "explain_flags",
    "Driver inputs that look wrong: jumps, cold-start forecasts, missing or negative values.",
    (
        _c("role", S, "input role (items, forecast, ...)"),
        _c("key", S, "row key, e.g. sku=SKU-00001"),
        _c("column", S, "column of the input"),
        _c("before", S, "value in the BEFORE run", nullable=True),
        _c("after", S, "value in the AFTER run", nullable=True),
        _c("flag", S, "what looks wrong"),
    ),
    keys=("role", "key", "column", "flag"),
)

TABLES = (ATTRIBUTION, FLAGS)

__all__ = ["ATTRIBUTION", "FLAGS", "TABLES"]
