"""HiGHS called directly on the placement LP's arrays (no modelling layer in between).

The batched solve re-solves the same sku batches many times with new prices; handing the
sparse matrices straight to ``highspy`` skips cvxpy's canonicalisation, and keeping each
batch's ``Highs`` object lets every re-solve start from the previous optimal basis.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from scot_cli.errors import InfeasibleError

if TYPE_CHECKING:
    from scot_cli.place.model import LinearProgram

#: Solver options of every batch model: no presolve (the batch LPs are small and re-solved
#: warm, where presolve would discard the basis) and devex pricing (fewer dual simplex
#: iterations than the default on these transportation-like LPs, measured).
BATCH_OPTIONS: dict[str, Any] = {
    "output_flag": False,
    "presolve": "off",
    "simplex_dual_edge_weight_strategy": 1,
}


#: Serialises :func:`new`: the stdout redirect is process-wide, and two overlapping ones
#: could restore the null device instead of the real stdout.
_NEW = threading.Lock()


def new() -> Any:
    """An empty ``highspy.Highs``, made with stdout silenced: HiGHS prints its banner to file
    descriptor 1 when the first one in a process is made, which would corrupt Parquet
    written to stdout."""
    import highspy

    from scot_cli.quiet import native_stdout_silenced

    with _NEW, native_stdout_silenced():
        return highspy.Highs()  # type: ignore[no-untyped-call]


def model(lp: LinearProgram, options: dict[str, Any] | None = None) -> Any:
    """A ``highspy.Highs`` holding ``lp`` (``A_ub v <= b_ub``, ``A_eq v = b_eq``, bounds)."""
    import highspy
    import scipy.sparse as sp

    inf = highspy.kHighsInf
    a = sp.vstack([lp.a_ub, lp.a_eq]).tocsc()
    h = new()
    for key, value in (options or BATCH_OPTIONS).items():
        h.setOptionValue(key, value)
    m = highspy.HighsLp()
    m.num_col_, m.num_row_ = lp.c.size, a.shape[0]
    m.col_cost_ = lp.c
    m.col_lower_ = lp.lb
    m.col_upper_ = np.where(np.isinf(lp.ub), inf, lp.ub)
    m.row_lower_ = np.concatenate([np.full(lp.b_ub.size, -inf), lp.b_eq])
    m.row_upper_ = np.concatenate([lp.b_ub, lp.b_eq])
    m.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    m.a_matrix_.start_ = a.indptr
    m.a_matrix_.index_ = a.indices
    m.a_matrix_.value_ = a.data
    h.passModel(m)
    return h


def pieces(
    lp: LinearProgram, sku: np.ndarray, size: int, options: dict[str, Any] | None = None
) -> list[tuple[np.ndarray, Any]]:
    """``lp`` as independent models of at most ``size`` consecutive skus each: (columns of
    ``lp`` in the piece, its ``highspy.Highs``), when no row of ``lp`` holds variables of
    two pieces (``sku`` (n,): the sku of each variable); otherwise one model of all of it.

    The dual simplex's work per iteration grows with the LP, so a separable LP costs less
    from a cold start as small models than as one (measured at 10,000 skus: LPs of 20
    skus take about 35% less CPU than the same skus in LPs of 100, the same iterations).
    Rows without a variable are left out when their bounds allow 0 (they hold nothing)."""
    import highspy
    import scipy.sparse as sp

    inf = highspy.kHighsInf
    n = lp.c.size
    a = sp.vstack([lp.a_ub, lp.a_eq]).tocsr()
    lower = np.concatenate([np.full(lp.b_ub.size, -inf), lp.b_eq])
    upper = np.concatenate([lp.b_ub, lp.b_eq])
    piece = np.asarray(sku, np.int64) // max(size, 1)
    counts = np.diff(a.indptr)
    row_piece = np.full(a.shape[0], -1, dtype=np.int64)
    held = counts > 0
    row_piece[held] = piece[a.indices[a.indptr[:-1][held]]]
    separable = bool(np.all(piece[a.indices] == np.repeat(row_piece, counts)))
    if not separable or np.any(~held & ((lower > 0) | (upper < 0))) or piece.max(initial=0) == 0:
        return [(np.arange(n), model(lp, options))]
    col_order = np.argsort(piece, kind="stable")
    col_start = np.searchsorted(piece[col_order], np.arange(piece.max() + 2))
    row_order = np.argsort(row_piece, kind="stable")
    row_start = np.searchsorted(row_piece[row_order], np.arange(piece.max() + 2))
    out = []
    for j in range(piece.max() + 1):
        cols = col_order[col_start[j] : col_start[j + 1]]
        rows = row_order[row_start[j] : row_start[j + 1]]
        if cols.size == 0:
            continue
        part = a[rows][:, cols].tocsc()
        h = new()
        for key, value in (options or BATCH_OPTIONS).items():
            h.setOptionValue(key, value)
        m = highspy.HighsLp()
        m.num_col_, m.num_row_ = cols.size, rows.size
        m.col_cost_ = lp.c[cols]
        m.col_lower_ = lp.lb[cols]
        m.col_upper_ = np.where(np.isinf(lp.ub[cols]), inf, lp.ub[cols])
        m.row_lower_ = lower[rows]
        m.row_upper_ = upper[rows]
        m.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        m.a_matrix_.start_ = part.indptr
        m.a_matrix_.index_ = part.indices
        m.a_matrix_.value_ = part.data
        h.passModel(m)
        out.append((cols, h))
    return out


def run(h: Any, what: str, fallback: dict[str, Any] | None = None) -> np.ndarray:
    """Solve ``h`` and return its primal values; raise when HiGHS finds no optimum. With
    ``fallback`` options, a solve that stops short of an optimum is run again with them
    (they stay set for later solves of ``h``)."""
    h.run()
    if fallback and h.modelStatusToString(h.getModelStatus()) != "Optimal":
        for key, value in fallback.items():
            h.setOptionValue(key, value)
        h.run()
    status = h.modelStatusToString(h.getModelStatus())
    if status != "Optimal":
        raise InfeasibleError(
            f"{what}: HiGHS stopped with status {status!r}; look for extreme costs, "
            "volumes or stock in the inputs"
        )
    return np.asarray(h.getSolution().col_value, float)


def set_costs(h: Any, c: np.ndarray) -> None:
    """Replace the objective of ``h`` by ``c`` (the basis is kept for a warm start)."""
    h.changeColsCost(c.size, np.arange(c.size, dtype=np.int32), c)
