"""scot: composable supply-chain decision tools over Parquet.

The command line is a thin layer over these functions; an analyst can call the
same library from a notebook::

    import scot_cli
    tables = scot_cli.generate(scot_cli.FixtureSpec(skus=20))

Exports are resolved lazily so that importing the package (and ``scot --help``)
stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    "FixtureSpec": "scot_cli.fixtures",
    "generate": "scot_cli.fixtures",
    "fc_paths": "scot_cli.network",
    "fastest_paths": "scot_cli.network",
    "cheapest_paths": "scot_cli.network",
    "Run": "scot_cli.io",
    "read_metadata": "scot_cli.io",
    "sql_query": "scot_cli.io",
    "column_summary": "scot_cli.inspection",
    "validate": "scot_cli.validate",
    "check_nodes": "scot_cli.validate",
    "all_tables": "scot_cli.schema",
}

__all__ = ["__version__"]
__all__ += list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scot_cli' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
