"""Exceptions that map to scot's documented exit codes.

===== =====================================================
code  meaning
===== =====================================================
0     success
1     runtime failure (a bug or an unexpected environment)
2     usage error (bad option, binary output to a terminal)
3     input data error (missing file, bad column, bad key)
4     infeasible problem (constraints that cannot all hold)
===== =====================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INFEASIBLE = 4

#: Every exit code and its meaning (docs/conventions.md is generated from it).
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_RUNTIME: "runtime failure (a bug or an unexpected environment)",
    EXIT_USAGE: "usage error (bad option, binary output to a terminal)",
    EXIT_INPUT: "input data error (missing file, bad column, bad key)",
    EXIT_INFEASIBLE: "infeasible problem (constraints that cannot all hold)",
}


class ScotError(Exception):
    """Base class: a failure the user can act on, printed as one line."""

    exit_code = EXIT_RUNTIME

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(ScotError):
    """The command line itself is wrong (exit 2)."""

    exit_code = EXIT_USAGE


class InputDataError(ScotError):
    """An input file is missing, unreadable or breaks the data contract (exit 3)."""

    exit_code = EXIT_INPUT


class InfeasibleError(ScotError):
    """The problem has no solution that meets every hard constraint (exit 4)."""

    exit_code = EXIT_INFEASIBLE
