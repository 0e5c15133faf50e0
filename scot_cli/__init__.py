"""scot: composable supply-chain decision tools over Parquet.

The command line is a thin layer over these functions; an analyst can call the
same library from a notebook.
"""

from __future__ import annotations

__version__ = "0.1.0"
