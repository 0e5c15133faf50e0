"""Multi-echelon known answers: Clark-Scarf (Snyder & Shen Example 6.1) and the
guaranteed-service model (Examples 6.3 and 6.5).

Data as in the examples, reproduced from stockpyl's instances (MIT). For Clark-Scarf the
test asserts the *true* optimum: the cost at two fine grids agrees to 1e-6, and the levels
round to the book's 6.49 / 5.53 / 10.69 (local). The book's 47.65 comes from a coarser
computation; the converged optimum is 47.660. For the GSM the optimum is checked against
brute-force enumeration of every integer service-time vector.
"""

from __future__ import annotations

import itertools
import math

import pytest

from scot_cli.buy.echelon import GsmNode, clark_scarf_serial, gsm_tree

EX61 = {
    "echelon_holding": [3, 2, 2],
    "stockout_cost": 37.12,
    "lead_times": [1, 1, 2],
    "mean": 5.0,
    "sd": 1.0,
}


def test_clark_scarf_snyder_shen_example_6_1() -> None:
    fine = clark_scarf_serial(**EX61, step=0.0025)  # type: ignore[arg-type]
    finer = clark_scarf_serial(**EX61, step=0.001)  # type: ignore[arg-type]
    assert fine.cost == pytest.approx(finer.cost, rel=1e-6)
    assert finer.cost == pytest.approx(47.66015, rel=1e-5)
    assert [round(x, 2) for x in finer.local] == [6.49, 5.53, 10.69]
    assert [round(x, 2) for x in finer.echelon] == [6.49, 12.02, 22.71]


def test_clark_scarf_single_stage_is_the_newsvendor() -> None:
    """One stage: S = mu L + sd sqrt(L) z with Phi(z) = p / (p + h) (Example 4.4 data)."""
    from scipy.stats import norm

    one = clark_scarf_serial(
        echelon_holding=[0.18], stockout_cost=0.70, lead_times=[5], mean=50, sd=8
    )
    z = norm.ppf(0.70 / 0.88)
    assert one.echelon[0] == pytest.approx(250 + 8 * math.sqrt(5) * z, rel=1e-4)
    assert one.cost == pytest.approx(4.466781004149578, rel=1e-4)


def _enumerate(nodes: dict[str, GsmNode], edges: list[tuple[str, str]], z: float) -> float:
    names = list(nodes)
    top = sum(n.processing_time for n in nodes.values()) + max(
        n.inbound_service for n in nodes.values()
    )
    var = {k: nodes[k].demand_sd ** 2 for k in names}
    for _ in names:  # propagate variances upstream along the tree
        for u, _ in edges:
            var[u] = nodes[u].demand_sd ** 2 + sum(var[w] for x, w in edges if x == u)
    best = math.inf
    for s in itertools.product(range(top + 1), repeat=len(names)):
        svc = dict(zip(names, s, strict=True))
        cost = 0.0
        for k in names:
            sups = [u for u, v in edges if v == k]
            si = max([svc[u] for u in sups] or [nodes[k].inbound_service])
            nrt = si + nodes[k].processing_time - svc[k]
            cap = nodes[k].max_service_time
            if nrt < 0 or (cap is not None and svc[k] > cap):
                cost = math.inf
                break
            cost += nodes[k].holding_cost * z * math.sqrt(var[k]) * math.sqrt(nrt)
        best = min(best, cost)
    return best


def test_gsm_serial_snyder_shen_example_6_3() -> None:
    """Three stages 3 -> 2 -> 1, T = (1, 0, 1), h = (7, 4, 2), z = 1, sd 1, external inbound
    service 1 at stage 3, outbound service 1 at stage 1: cost 2 sqrt(2), S = (1, 0, 0)."""
    nodes = {
        "1": GsmNode(1, 7, demand_sd=1, max_service_time=1),
        "2": GsmNode(0, 4),
        "3": GsmNode(1, 2, inbound_service=1),
    }
    edges = [("3", "2"), ("2", "1")]
    sol = gsm_tree(nodes, edges, z=1)
    assert sol.cost == pytest.approx(2 * math.sqrt(2), rel=1e-12)
    assert sol.service == {"1": 1, "2": 0, "3": 0}
    assert sol.cost == pytest.approx(_enumerate(nodes, edges, 1), rel=1e-12)


def test_gsm_tree_snyder_shen_example_6_5() -> None:
    """Tree 1 -> 3 -> {2, 4}: cost 2 sqrt(2) + sqrt(6) + 3 with S = (0, 0, 0, 1)."""
    nodes = {
        "1": GsmNode(2, 1, inbound_service=1),
        "2": GsmNode(1, 3, demand_sd=1, max_service_time=0),
        "3": GsmNode(1, 2),
        "4": GsmNode(1, 3, demand_sd=1, max_service_time=1),
    }
    edges = [("1", "3"), ("3", "2"), ("3", "4")]
    sol = gsm_tree(nodes, edges, z=1)
    assert sol.cost == pytest.approx(2 * math.sqrt(2) + math.sqrt(6) + 3, rel=1e-12)
    assert sol.service == {"1": 0, "2": 0, "3": 0, "4": 1}
    assert sol.cost == pytest.approx(_enumerate(nodes, edges, 1), rel=1e-12)


def test_gsm_vendor_central_regional_matches_enumeration() -> None:
    """vendor -> central FC -> three regional FCs, with an assembly-free tree of 5 stages."""
    nodes = {
        "vendor": GsmNode(3, 0.5, inbound_service=1),
        "central": GsmNode(2, 1.0),
        "east": GsmNode(1, 2.0, demand_sd=4, max_service_time=0),
        "west": GsmNode(2, 2.5, demand_sd=3, max_service_time=1),
        "south": GsmNode(1, 2.0, demand_sd=5, max_service_time=0),
    }
    edges = [("vendor", "central"), ("central", "east"), ("central", "west"), ("central", "south")]
    sol = gsm_tree(nodes, edges, z=1.645)
    assert sol.cost == pytest.approx(_enumerate(nodes, edges, 1.645), rel=1e-9)
