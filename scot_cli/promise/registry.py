"""Promise modes and split policies: one registry for behaviour, choices and help.

Plain Python (no polars) so ``scot promise --help`` builds its choices from here quickly.
"""

from __future__ import annotations

#: Promise modes: name -> what it models.
MODES = {
    "snapshot": "every line sees the same stock snapshot (what a product page shows)",
    "commit": "lines in order-time sequence consume stock and FC capacity (what checkout does)",
}

#: Multi-line order policies: name -> meaning.
SPLITS = {
    "allow": "each line from its best FC; the order's date covers every shipment",
    "avoid": "one box from one FC when any FC holds every line, else split",
}


def choices_help(registry: dict[str, str]) -> str:
    """``name: meaning; ...`` for an option's help text."""
    return "; ".join(f"{k}: {v}" for k, v in registry.items()) + "."
