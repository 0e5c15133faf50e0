"""Solvers of the placement LP: one registry for behaviour, choices and help.

Plain Python (no numpy) so ``scot place --help`` builds its choices from here quickly.
"""

from __future__ import annotations

from scot_cli.registry import Registry

#: Solvers ``scot place --solver`` accepts: name -> (cvxpy solver name, help text).
SOLVERS: Registry[tuple[str, str]] = Registry(
    "solver",
    {
        "highs": ("HIGHS", "HiGHS dual simplex / IPM (default; exact LP vertex, fastest)"),
        "clarabel": ("CLARABEL", "Clarabel interior point (accurate duals, slower on big models)"),
        "scs": ("SCS", "SCS first-order conic solver (approximate; for very large models)"),
    },
)

__all__ = ["SOLVERS"]
