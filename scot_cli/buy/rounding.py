"""Pack and minimum-order rounding of purchase quantities, vectorised."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .distributions import Array

#: Labels of the rounding applied to an order.
ROUNDINGS = ("none", "case_pack", "moq", "moq+case_pack")


def round_orders(
    raw: Array, *, case_pack: Array, moq: Array, down: bool = False
) -> tuple[Array, NDArray[np.str_]]:
    """Round quantities to whole case packs and lift positive ones to the MOQ.

    Parameters
    ----------
    raw
        Quantities before rounding (negative values count as zero).
    case_pack
        Units per case (>= 1); results are multiples of it.
    moq
        Minimum order quantity in units (0 for none); a positive result is at least this,
        rounded up to a whole case.
    down
        Round down instead of up (used under a budget or storage limit, so that rounding
        never breaks the limit); a quantity below the MOQ then becomes zero.

    Returns
    -------
    qty, rounding
        Rounded quantities and a label per row: ``none``, ``case_pack``, ``moq`` or
        ``moq+case_pack``.

    Examples
    --------
    >>> q, how = round_orders(np.array([0.0, 7.0, 3.0]), case_pack=np.array([6, 6, 6]),
    ...                       moq=np.array([0, 0, 10]))
    >>> q.tolist(), how.tolist()
    ([0.0, 12.0, 12.0], ['none', 'case_pack', 'moq+case_pack'])
    """
    qty, codes = round_order_codes(raw, case_pack=case_pack, moq=moq, down=down)
    return qty, np.array(ROUNDINGS)[codes].astype(np.str_)


def round_order_codes(
    raw: Array, *, case_pack: Array, moq: Array, down: bool | NDArray[np.bool_] = False
) -> tuple[Array, NDArray[np.uint8]]:
    """:func:`round_orders` with the rounding label as a code into :data:`ROUNDINGS`;
    ``down`` may be given per row."""
    pack = np.maximum(case_pack.astype(np.float64), 1.0)
    raw = np.maximum(raw, 0.0)
    lower = np.broadcast_to(np.asarray(down, dtype=bool), raw.shape)
    # a hair of tolerance so that 12.0000000001 units of a 6-pack is two cases, not three
    cases = raw / pack
    cases = np.where(lower, np.floor(cases + 1e-9), np.ceil(cases - 1e-9))
    packed = cases * pack
    moq_packs = np.ceil(moq.astype(np.float64) / pack - 1e-9) * pack
    below = (packed > 0) & (packed < moq_packs)
    qty = np.where(below, np.where(lower, 0.0, moq_packs), packed)
    qty = np.where(~lower & (raw > 0) & (qty == 0), np.maximum(pack, moq_packs), qty)
    changed_pack = np.abs(packed - raw) > 1e-9
    moq_hit = below & ~lower
    # none 0, case_pack 1, moq 2, moq+case_pack 3 (the order of ROUNDINGS)
    codes = np.where(changed_pack & (raw > 0), 1, 0).astype(np.uint8)
    codes[moq_hit] = 2
    codes[moq_hit & changed_pack] = 3
    return qty, codes
