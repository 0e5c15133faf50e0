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
    import scipy.sparse as sp

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
    lower = np.concatenate([np.full(lp.b_ub.size, -inf), lp.b_eq])
    upper = np.concatenate([lp.b_ub, lp.b_eq])
    return _passed(lp.c, lp.lb, lp.ub, lower, upper, a, options)


def _passed(
    cost: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    a: sp.csc_matrix,
    options: dict[str, Any] | None,
) -> Any:
    """A new ``highspy.Highs`` with ``options`` holding ``min cost v`` s.t. ``lower <= a v <=
    upper``, ``lb <= v <= ub``: the arrays handed over whole (a ``HighsLp``'s vector fields
    copy element by element, several times the cost of the LP's build on small models)."""
    import highspy

    inf = highspy.kHighsInf
    h = new()
    for key, value in (options or BATCH_OPTIONS).items():
        h.setOptionValue(key, value)
    n = cost.size
    f64, i32 = np.float64, np.int32
    h.passModel(
        n,
        a.shape[0],
        a.nnz,
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        np.ascontiguousarray(cost, f64),
        np.ascontiguousarray(lb, f64),
        np.ascontiguousarray(np.where(np.isinf(ub), inf, ub), f64),
        np.ascontiguousarray(lower, f64),
        np.ascontiguousarray(upper, f64),
        np.ascontiguousarray(a.indptr[:-1], i32),
        np.ascontiguousarray(a.indices, i32),
        np.ascontiguousarray(a.data, f64),
        np.zeros(n, i32),
    )
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
        h = _passed(lp.c[cols], lp.lb[cols], lp.ub[cols], lower[rows], upper[rows], part, options)
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
