"""A MIP solve that overruns its time limit is given up on (HiGHS can spend minutes past
its limit inside one root cut round: highspy 1.16, measured on the demo's promised lines)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from test_route_assign import instance, inventory, network, promises

from scot_cli.route import bounded
from scot_cli.route import model as m
from scot_cli.route.assign import RouteOptions

pytestmark = pytest.mark.skipif(not bounded.forkable(), reason="needs fork")


def _stall(seconds: float) -> str:
    time.sleep(seconds)
    return "late"


def _fail() -> None:
    raise ValueError("bad model")


def test_answer_in_time_is_returned() -> None:
    assert bounded.call_with_deadline(np.add, 2, 3, seconds=5.0) == (True, 5)


def test_overrun_is_killed_soon_after_the_limit() -> None:
    start = time.monotonic()
    answered, value = bounded.call_with_deadline(_stall, 60.0, seconds=0.5)
    took = time.monotonic() - start
    assert (answered, value) == (False, None)
    # killed soon after the limit and its grace, far from the child's 60 s
    assert took < 0.5 * (1 + bounded.GRACE_SHARE) + bounded.GRACE + 5.0


def test_failure_in_the_child_is_raised() -> None:
    with pytest.raises(RuntimeError, match="bad model"):
        bounded.call_with_deadline(_fail, seconds=5.0)


def _small() -> m.Instance:
    rows = [("A", 3.0, "R-1", 3), ("B", 2.0, "R-2", 4), ("A", 4.0, "R-2", 3), ("B", 1.0, "R-1", 5)]
    pr = promises([(f"O{i // 2}", i % 2 + 1, s, q, d, p) for i, (s, q, d, p) in enumerate(rows)])
    inv = inventory({("A", "FC-A"): 5, ("A", "FC-B"): 4, ("B", "FC-B"): 3})
    nodes, lanes = network()
    inst: m.Instance = instance(pr, inv, nodes, lanes, RouteOptions())[0]
    return inst


def test_mip_solved_in_the_child_equals_in_process() -> None:
    inst = _small()
    child = m.solve_model(inst, integer=True, time_limit=10.0, mip_rel_gap=1e-6)
    here = m._solve_model(
        inst,
        integer=True,
        time_limit=10.0,
        mip_rel_gap=1e-6,
        split=True,
        strong_max_rows=m.STRONG_MAX_ROWS,
        cuts=None,
    )
    assert child[1:] == here[1:]
    assert child[0] is not None and here[0] is not None
    assert np.array_equal(child[0], here[0])


def test_mip_overrun_gives_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(*args: object, **kwargs: object) -> None:
        time.sleep(60.0)

    inst = _small()
    monkeypatch.setattr(m, "_solve_model", slow)
    start = time.monotonic()
    xval, value, bound, status = m.solve_model(inst, integer=True, time_limit=1.0)
    assert time.monotonic() - start < 1.0 * (1 + bounded.GRACE_SHARE) + bounded.GRACE + 5.0
    assert (xval, value, bound, status) == (None, np.inf, -np.inf, "overrun")
