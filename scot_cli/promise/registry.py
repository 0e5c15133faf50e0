"""Promise modes and split policies: one registry each for behaviour, choices and help.

Plain Python (no polars) so ``scot promise --help`` builds its choices from here quickly.
"""

from __future__ import annotations

from scot_cli.registry import Registry

__all__ = ["MODES", "SPLITS"]

#: Promise modes: name -> what it models.
MODES: Registry[str] = Registry(
    "mode",
    {
        "snapshot": "every line sees the same stock snapshot (what a product page shows)",
        "commit": "lines in order-time sequence consume stock and FC capacity (what checkout does)",
    },
)

#: Multi-line order policies: name -> meaning.
SPLITS: Registry[str] = Registry(
    "split",
    {
        "allow": "each line from its best FC; the order's date covers every shipment",
        "avoid": "one box from one FC when any FC holds every line, else split",
    },
)
