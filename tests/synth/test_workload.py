"""Statistical queries: the Numba kernels equal their numpy twins, incremental answers equal a full recount."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.kernels import workload as k
from zoo.synth import Domain, RecordGA, Workload, WorkloadFitness, data


@pytest.fixture(scope="module")
def census():
    dom = data.census_domain()
    return dom, dom.encode(data.census(1500, seed=0))


def _workload(dom):
    wl = Workload.from_spec(dom, "2way,3way,range,prefix,halfspace", seed=1, n_per_column=6)
    wl.add_user("young_rich", lambda X: (X[:, 0] < 0.3) * (X[:, 11] == 1), columns=["age", "income"])
    return wl.build()


def test_counts_kernel_equals_numpy_twin(census):
    dom, D = census
    wl = _workload(dom)
    a, b = wl.counts(D), wl.counts(D, use_numba=False)
    np.testing.assert_array_equal(a, b)
    # marginal blocks sum to n; a prefix up to the upper bound holds every record
    for g in wl.groups:
        if g.kind in ("2way", "3way"):
            assert a[g.start : g.stop].sum() == len(D)
    wl2 = Workload(dom).add_ranges("age", [(17, 90), (17, 40)]).build()
    c = wl2.counts(D)
    assert c[0] == len(D) and c[1] == np.sum(data.census(1500, seed=0)["age"] <= 40)


def test_sensitivities(census):
    dom, _ = census
    wl = Workload(dom).add_ranges("age", [(20, 30), (25, 35), (28, 29), (50, 60)]).add_marginals(2).build()
    rng_group = [g for g in wl.groups if g.kind == "range"][0]
    assert rng_group.l1 == 3 and rng_group.l2 == pytest.approx(np.sqrt(3))
    assert all(g.l2 == 1 for g in wl.groups if g.kind == "2way")


@pytest.mark.parametrize("use_numba", [True, False])
def test_incremental_fitness_equals_full_recomputation(census, use_numba):
    dom, D = census
    wl = _workload(dom)
    N = 200
    y = wl.answers(D)
    w = np.random.Generator(np.random.PCG64(0)).random(len(wl))
    fit = WorkloadFitness(wl, N, y, w, use_numba=use_numba)
    opt = RecordGA(sizes=dom.sizes, n_records=N, seed=3, popsize=12, elite=3, rows=3, p_crossover=0.3)
    for gen in range(20 if use_numba else 4):
        X = opt.ask()
        inc = fit.incremental(opt)
        full = fit(X)
        np.testing.assert_allclose(inc, full, rtol=1e-10, atol=1e-13)
        if gen:
            # the sparse count changes the incremental path keeps are exact
            for i, cid in enumerate(opt.pending_edits()["child_ids"].tolist()):
                pid, idx, val = fit._children[cid]
                parent = opt.state.parents[list(opt.state.parent_ids).index(pid)]
                dense = np.zeros(len(wl))
                np.add.at(dense, idx, val)
                np.testing.assert_array_equal(fit.table_counts(parent) + dense, fit.table_counts(X[i]))
        opt.tell(X, inc)


def test_children_fitness_kernel_equals_twin(census):
    dom, D = census
    wl = _workload(dom)
    rng = np.random.Generator(np.random.PCG64(5))
    N, P, rows = 100, 7, 2
    parents = np.stack([dom.uniform(N, rng) for _ in range(2)])
    pc = np.stack([wl.counts(p) for p in parents])
    y, w = wl.answers(D), rng.random(len(wl))
    pf = np.array([k.fitness(c, y, w, 1 / N) for c in pc])
    slot = rng.integers(0, 2, P)
    old = parents[slot][:, :rows]
    new = np.stack([dom.uniform(rows, rng) for _ in range(P)])
    ud = rng.integers(-2, 3, size=(P, 1)).astype(float)
    f_twin, dense = k.children_fitness_numpy(
        pc, pf, slot, old, new, ud, wl.user_offset, wl.layout, y, w, 1 / N
    )
    width = 2 * rows * wl.m_attrs.shape[0] + len(wl) - wl.m_offset[-1]
    ti, tv, nt, f = np.empty((P, width), np.int64), np.empty((P, width)), np.empty(P, np.int64), np.empty(P)
    scratch, mark = np.zeros(len(wl)), np.zeros(len(wl), np.bool_)
    k.children_fitness(
        pc, pf, slot, old, new, ud, wl.user_offset, *wl.layout, y, w, 1 / N, scratch, mark, ti, tv, nt, f
    )
    np.testing.assert_allclose(f, f_twin, rtol=1e-12)
    for i in range(P):
        d = np.zeros(len(wl))
        np.add.at(d, ti[i, : nt[i]], tv[i, : nt[i]])
        np.testing.assert_array_equal(d, dense[i])
    assert not scratch.any() and not mark.any()


def test_empty_workload_and_missing_column():
    dom = data.census_domain()
    with pytest.raises(ValueError, match="workload is empty"):
        Workload(dom).build()
    with pytest.raises(ValueError, match="workload is empty"):
        Workload.from_spec(dom, "")
    with pytest.raises(ValueError, match="no column 'height'"):
        Workload(dom).add_marginals(attrs=[("sex", "height")])
    with pytest.raises(ValueError, match="no column 'height'"):
        Workload(dom).add_ranges("height", [(0, 1)])
    with pytest.raises(ValueError, match="no column 'zip'"):
        Workload(dom).add_user("q", lambda X: X[:, 0], columns=["zip"])
    with pytest.raises(ValueError, match="'sex' is categorical"):
        Workload(dom).add_ranges("sex", [(0, 1)])
    with pytest.raises(ValueError, match="unknown query kind '4way'"):
        Workload.from_spec(dom, "2way,4way")
    num_only = Domain.from_spec([{"name": "x", "kind": "numeric", "lo": 0, "hi": 1}])
    with pytest.raises(ValueError, match="2-way marginals need 2 categorical"):
        Workload.from_spec(num_only, "2way")


def test_user_query_must_return_fractions(census):
    dom, D = census
    wl = Workload(dom).add_user("bad", lambda X: X[:, 0] * 5).build()
    with pytest.raises(ValueError, match="user query 'bad' must return values in"):
        wl.counts(D)
