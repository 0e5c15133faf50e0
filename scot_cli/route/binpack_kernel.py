"""Compiled kernel of the truck loader's improvement step (:func:`scot_cli.route.binpack.improve`).

Imported only from inside :mod:`scot_cli.route.binpack` functions, so that numba (and its
compile cache) is loaded by the first load that first fit and best fit leave above the lower
bound, never by ``scot --help``.

The search keeps the number of bins fixed and the overflow as *free items* (Fleszar &
Charalambous (2011), "Average-weight-controlled bin-oriented heuristics for the
one-dimensional bin-packing problem", EJOR 210(2)): an attempt empties the least-filled bin
(on later attempts one or two random bins with it) and exchanges free items with packed ones,
up to two each way, whenever a bin gets fuller (the moves of Levine & Ducatelle (2004),
"Ant colony optimization and local search for bin packing and cutting stock problems", JORS
55(7)); when none does, an exchange between one of the emptiest bins and another that raises
the sum of squared loads gathers free room, and a few exchanges of equal size let the search
cross flat ground. The attempt succeeds when the free items fit in the bins emptied but one.

Bins are rows of ``members`` (item indices, ``cnt`` of them) with their ``load``; free items
the first ``nf`` entries of ``free``. Random choices come from a xorshift generator whose
state is an array, so a search split into chunks is reproducible.
"""

from __future__ import annotations

import numpy as np

from scot_cli.forecast import jit

jit.load()  # before numba is imported: see jit.import_numba

import numba  # noqa: E402

EPS = 1e-9
#: Pairs of items move together only from bins (or free lists) of at most this many items.
PAIRS_MAX_ITEMS = 16
#: Exchanges between bins start from one of this many emptiest bins.
PAIR_ROWS = 8
#: Exchanges of equal size allowed per attempt.
PLATEAU = 20


@numba.njit(cache=True)
def rand(state):  # type: ignore[no-untyped-def]
    """Uniform in [0, 1) from the xorshift64* generator whose state is ``state[0]``."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return float((x * np.uint64(2685821657736338717)) >> np.uint64(11)) / 9007199254740992.0


@numba.njit(cache=True)
def ffd_count(sizes, items, n, cap):  # type: ignore[no-untyped-def]
    """Bins first-fit decreasing uses for ``items[:n]``."""
    w = np.sort(sizes[items[:n]])[::-1]
    res = np.empty(n)
    nb = 0
    for v in w:
        for b in range(nb):
            if res[b] >= v - EPS:
                res[b] -= v
                break
        else:
            res[nb] = cap - v
            nb += 1
    return nb


@numba.njit(cache=True)
def subset_sum(sizes, row, a, b):  # type: ignore[no-untyped-def]
    """Size of the subset ``{row[a], row[b]}`` (``a < 0``: empty; ``b == a``: one item)."""
    if a < 0:
        return 0.0
    s = sizes[row[a]]
    if b > a:
        s += sizes[row[b]]
    return s


@numba.njit(cache=True)
def take(row, count, a, b):  # type: ignore[no-untyped-def]
    """Remove positions ``a`` (and ``b > a``) from ``row[:count]``; the new count."""
    if a < 0:
        return count
    if b > a:
        row[b] = row[count - 1]
        count -= 1
    row[a] = row[count - 1]
    return count - 1


@numba.njit(cache=True)
def exchange(members, cnt, load, b, sa, sb, free, nf, ta, tb, sizes):  # type: ignore[no-untyped-def]
    """Swap the bin's subset (sa, sb) with the free subset (ta, tb); the new free count."""
    out0 = members[b, sa] if sa >= 0 else -1
    out1 = members[b, sb] if sb > sa else -1
    in0 = free[ta]
    in1 = free[tb] if tb > ta else -1
    cnt[b] = take(members[b], cnt[b], sa, sb)
    nf = take(free, nf, ta, tb)
    for i in (in0, in1):
        if i >= 0:
            members[b, cnt[b]] = i
            cnt[b] += 1
            load[b] += sizes[i]
    for i in (out0, out1):
        if i >= 0:
            free[nf] = i
            nf += 1
            load[b] -= sizes[i]
    return nf


@numba.njit(cache=True)
def bin_subsets(sizes, members, cnt, nb):  # type: ignore[no-untyped-def]
    """Every bin's subsets of up to two items (pairs only from bins of at most
    :data:`PAIRS_MAX_ITEMS`), the empty one first, laid end to end: sums and positions, and
    where each bin's start."""
    start = np.zeros(nb + 1, dtype=np.int64)
    for b in range(nb):
        c = cnt[b]
        start[b + 1] = start[b] + 1 + c + (c * (c - 1) // 2 if c <= PAIRS_MAX_ITEMS else 0)
    sums = np.empty(start[nb])
    pa, pb = np.empty(start[nb], np.int64), np.empty(start[nb], np.int64)
    for b in range(nb):
        k, c = start[b], cnt[b]
        for a in range(-1, c):
            for e in range(a, c if (c <= PAIRS_MAX_ITEMS and a >= 0) else a + 1):
                sums[k], pa[k], pb[k] = subset_sum(sizes, members[b], a, e), a, e
                k += 1
    return sums, pa, pb, start


@numba.njit(cache=True)
def pair_move(sizes, cap, members, cnt, load, nb, rng):  # type: ignore[no-untyped-def]
    """The exchange (up to two items each way) between one of the :data:`PAIR_ROWS`
    emptiest bins and another bin that most raises the sum of squared loads; False when
    none raises it."""
    rows = np.argsort(load[:nb])[:PAIR_ROWS]
    sums, pa, pb, start = bin_subsets(sizes, members, cnt, nb)
    best, ties = 1e-6, 0
    k1, k2 = -1, -1
    for b1 in rows:
        l1 = load[b1]
        for i in range(start[b1], start[b1 + 1]):
            s1 = sums[i]
            for b2 in range(nb):
                if b2 == b1:
                    continue
                l2 = load[b2]
                # b1 gains d = s2 - s1: within capacity both ways
                lo, hi = s1 + l2 - cap - EPS, s1 + cap - l1 + EPS
                for j in range(start[b2], start[b2 + 1]):
                    s2 = sums[j]
                    if s2 < lo or s2 > hi:
                        continue
                    d = s2 - s1
                    g = d * (l1 - l2 + d)
                    if g > best + 1e-6:
                        best, ties, k1, k2 = g, 1, i, j
                    elif g >= best - 1e-6 and ties > 0:
                        ties += 1
                        if rand(rng) * ties < 1.0:
                            k1, k2 = i, j
    if ties == 0:
        return False
    c1 = np.searchsorted(start, k1, side="right") - 1
    c2 = np.searchsorted(start, k2, side="right") - 1
    a1, e1, a2, e2 = pa[k1], pb[k1], pa[k2], pb[k2]
    moved1 = np.array([members[c1, a1] if a1 >= 0 else -1, members[c1, e1] if e1 > a1 else -1])
    moved2 = np.array([members[c2, a2] if a2 >= 0 else -1, members[c2, e2] if e2 > a2 else -1])
    cnt[c1] = take(members[c1], cnt[c1], a1, e1)
    cnt[c2] = take(members[c2], cnt[c2], a2, e2)
    for i in moved2:
        if i >= 0:
            members[c1, cnt[c1]] = i
            cnt[c1] += 1
            load[c1] += sizes[i]
            load[c2] -= sizes[i]
    for i in moved1:
        if i >= 0:
            members[c2, cnt[c2]] = i
            cnt[c2] += 1
            load[c2] += sizes[i]
            load[c1] -= sizes[i]
    return True


@numba.njit(cache=True)
def drain(sizes, cap, members, cnt, load, nb, free, nf, spare, steps, rng):  # type: ignore[no-untyped-def]
    """Exchange free items with packed ones while a bin gets fuller (see the module
    docstring) until the free items fit in ``spare`` bins or ``steps`` run out; returns the
    free count and the steps used."""
    used, flat = 0, 0
    while nf > 0 and used < steps:
        used += 1
        if spare > 0:
            total = sizes[free[:nf]].sum()
            if total <= spare * cap + EPS and ffd_count(sizes, free, nf, cap) <= spare:
                break
        # the free subsets by size: per bin subset, the largest that fits is the best
        fp = nf <= PAIRS_MAX_ITEMS
        n_in = nf + (nf * (nf - 1) // 2 if fp else 0)
        isum, ia, ib = np.empty(n_in), np.empty(n_in, np.int64), np.empty(n_in, np.int64)
        k = 0
        for ta in range(nf):
            for tb in range(ta, nf if fp else ta + 1):
                isum[k], ia[k], ib[k] = subset_sum(sizes, free, ta, tb), ta, tb
                k += 1
        order = np.argsort(isum, kind="mergesort")
        isum, ia, ib = isum[order], ia[order], ib[order]
        top, ties, nflat = -np.inf, 0, 0
        mv = np.full(5, -1)
        fv = np.full(5, -1)
        for b in range(nb):
            c, room = cnt[b], cap - load[b]
            pairs = c <= PAIRS_MAX_ITEMS
            for sa in range(-1, c):
                for sb in range(sa, c if (pairs and sa >= 0) else sa + 1):
                    so = subset_sum(sizes, members[b], sa, sb)
                    hi = np.searchsorted(isum, room + so + EPS, side="right")
                    if hi == 0:
                        continue
                    g = isum[hi - 1] - so
                    lo = np.searchsorted(isum, isum[hi - 1] - EPS)
                    m = hi - lo
                    if g > top + EPS:
                        top, ties = g, m
                    elif g >= top - EPS:
                        ties += m
                        if rand(rng) * ties >= m:
                            m = 0
                    else:
                        m = 0
                    if m > 0:
                        j = lo + int(rand(rng) * m)
                        mv[0], mv[1], mv[2], mv[3], mv[4] = b, sa, sb, ia[j], ib[j]
                    if so > 0:
                        lo = np.searchsorted(isum, so - EPS)
                        m = np.searchsorted(isum, so + EPS, side="right") - lo
                        nflat += m
                        if m > 0 and rand(rng) * nflat < m:
                            j = lo + int(rand(rng) * m)
                            fv[0], fv[1], fv[2], fv[3], fv[4] = b, sa, sb, ia[j], ib[j]
        if top <= EPS and pair_move(sizes, cap, members, cnt, load, nb, rng):
            continue
        if top > EPS:
            nf = exchange(members, cnt, load, mv[0], mv[1], mv[2], free, nf, mv[3], mv[4], sizes)
        elif nflat > 0 and flat < PLATEAU:
            flat += 1
            nf = exchange(members, cnt, load, fv[0], fv[1], fv[2], free, nf, fv[3], fv[4], sizes)
        else:
            break
    return nf, used


@numba.njit(cache=True)
def search(sizes, cap, assign, target, steps, rng, attempt, width):  # type: ignore[no-untyped-def]
    """Attempts to pack the items of ``assign`` (bin per item) into one bin fewer while more
    than ``target`` bins are used and steps are left.

    ``assign`` is updated in place to the current packing (never more bins than it had);
    ``attempt[0]`` counts the attempts since the last success (the first empties the
    least-filled bin alone); ``width`` bounds the items a bin can hold. Returns the steps
    used.
    """
    n = sizes.shape[0]
    nb = assign.max() + 1
    members = np.empty((nb + 1, width), dtype=np.int64)
    cnt = np.zeros(nb + 1, dtype=np.int64)
    load = np.zeros(nb + 1)
    for i in range(n):
        b = assign[i]
        members[b, cnt[b]] = i
        cnt[b] += 1
        load[b] += sizes[i]
    free = np.empty(n, dtype=np.int64)
    used = 0
    while nb > target and used < steps:
        picks = np.zeros(nb, dtype=np.bool_)
        picks[np.argmin(load[:nb])] = True
        extra = 0 if attempt[0] == 0 else 1 + int(rand(rng) * 2)
        k = 0
        while k < extra and k < nb - 1:
            b = int(rand(rng) * nb)
            if not picks[b]:
                picks[b] = True
                k += 1
        attempt[0] += 1
        w_members = np.empty_like(members)
        w_cnt = np.zeros_like(cnt)
        w_load = np.zeros_like(load)
        nf, wb = 0, 0
        for b in range(nb):
            if picks[b]:
                free[nf : nf + cnt[b]] = members[b, : cnt[b]]
                nf += cnt[b]
            else:
                w_members[wb, : cnt[b]] = members[b, : cnt[b]]
                w_cnt[wb], w_load[wb] = cnt[b], load[b]
                wb += 1
        spare = nb - wb - 1
        nf, spent = drain(
            sizes, cap, w_members, w_cnt, w_load, wb, free, nf, spare, steps - used, rng
        )
        used += spent
        if wb + ffd_count(sizes, free, nf, cap) > nb:
            continue
        # keep the rearranged bins, the free items packed first fit decreasing after them
        order = free[:nf][np.argsort(-sizes[free[:nf]], kind="mergesort")]
        top = wb
        for i in order:
            b = wb
            while b < top and w_load[b] + sizes[i] > cap + EPS:
                b += 1
            if b == top:
                top += 1
            w_members[b, w_cnt[b]] = i
            w_cnt[b] += 1
            w_load[b] += sizes[i]
        # bins a move emptied are dropped
        new_nb = 0
        for b in range(top):
            if w_cnt[b] > 0:
                members[new_nb, : w_cnt[b]] = w_members[b, : w_cnt[b]]
                cnt[new_nb], load[new_nb] = w_cnt[b], w_load[b]
                new_nb += 1
        if new_nb < nb:
            attempt[0] = 0
        nb = new_nb
        for b in range(nb):
            for j in range(cnt[b]):
                assign[members[b, j]] = b
    return used
