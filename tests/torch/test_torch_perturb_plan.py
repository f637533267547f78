"""zoo.torch.perturb's cached walk plans and its two CPU check paths (Numba kernels, numpy twins)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from zoo.torch import perturb as pt  # noqa: E402


def _bits(ps):
    ints = {8: torch.int64, 4: torch.int32, 2: torch.int16}
    return [p.detach().reshape(-1).view(ints[p.element_size()]).tolist() for p in ps]


def _model(dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    n = 2 * pt.CHUNK + 77
    mags = torch.where(torch.arange(n) % 3 == 0, torch.tensor(1e-4), torch.tensor(0.05))
    return [
        (torch.randn(n, generator=g) * mags).to(dtype),  # checked, several chunks, offsets that do not fit
        torch.randn(130, generator=g).to(dtype),  # saved whole
        (torch.randn(pt.SMALL + 1, generator=g) * 0.05).to(dtype),  # checked, one chunk
        torch.randn(7, generator=g).to(dtype),  # saved whole
    ]


def _walks(params):
    """perturb, flip, restore_and_add, then perturb + restore: the states after each, and the patches."""
    states, kept = [], []
    p = pt.perturb(params, 11, 1e-2)
    kept.append(p)
    states.append(_bits(params))
    p = pt.flip(params, 11, 1e-2, p)
    kept.append(p)
    states.append(_bits(params))
    pt.restore_and_add(params, 11, -1e-2, p, 0.3)
    states.append(_bits(params))
    p = pt.perturb(params, 12, 1e-2)
    pt.restore(params, 12, 1e-2, p)
    states.append(_bits(params))
    return states, kept


def _patch_key(patches):
    out = []
    for i, start, idx, vals in patches:
        if isinstance(vals, torch.Tensor) and vals.dtype == torch.bfloat16:  # numpy has no bfloat16
            vals = vals.view(torch.int16)
        v = np.asarray(vals) if not isinstance(vals, torch.Tensor) else vals.numpy()
        out.append((i, start, None if idx is None else np.asarray(idx).tolist(), str(v.dtype), v.tobytes()))
    return sorted(out, key=lambda t: (t[0], t[1], t[3]))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16])
def test_numba_kernels_and_numpy_twins_give_the_same_patches_and_parameters(dtype, monkeypatch):
    base = _model(dtype)
    runs = []
    for numba in (True, False):
        monkeypatch.setattr(pt, "use_numba", numba)
        params = [p.clone() for p in base]
        states, kept = _walks(params)
        runs.append((states, [_patch_key(k) for k in kept]))
        assert states[-1] == states[-2]  # the last perturb + restore returned exactly
    assert runs[0] == runs[1]
    kinds = {k[3] for k in runs[0][1][0]}
    assert "int8" in kinds and str(base[0].numpy().dtype) in kinds  # offsets and values both occur


def test_the_plan_follows_a_parameter_whose_storage_changed():
    """The per-list plan (flat views of the parameters) is cached between walks; a tensor given new storage
    (``p.data = ...``, ``model.to(...)``) gets a new plan: the walk acts on the new storage, exactly."""
    params = [torch.nn.Parameter(t) for t in _model(torch.float32)]
    before = _bits(params)
    p = pt.perturb(params, 3, 1e-3)
    pt.restore(params, 3, 1e-3, p)
    assert _bits(params) == before
    old = params[0].data
    params[0].data = old.clone() * 2  # new storage, same shape
    twice = _bits(params)
    p = pt.perturb(params, 3, 1e-3)
    assert torch.equal(old, torch.tensor(np.array(before[0], np.int32)).view(torch.float32))  # untouched
    assert not torch.equal(params[0].data, old * 2)
    pt.restore(params, 3, 1e-3, p)
    assert _bits(params) == twice


def test_a_plan_leaves_with_its_first_tensor():
    """A plan holds views of the parameters' storage: it is dropped when the list's first tensor is."""
    import gc

    params = _model(torch.float32, seed=5)
    key = id(params[0])
    pt.restore(params, 1, 1e-3, pt.perturb(params, 1, 1e-3))
    assert key in pt._PLANS
    del params
    gc.collect()
    assert key not in pt._PLANS or pt._PLANS[key][0]() is not None


# ---- the direction kept between the walks of a seed (KEEP_BYTES) ------------------------------------------
def _runs(base, keeps, monkeypatch):
    runs = []
    for keep in keeps:
        monkeypatch.setattr(pt, "KEEP_BYTES", keep)
        params = [p.clone() for p in base]
        states, kept = _walks(params)
        runs.append((states, [_patch_key(k) for k in kept]))
    return runs


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_a_kept_direction_gives_the_regenerated_numbers_bit_for_bit(dtype, monkeypatch):
    """perturb, flip, restore_and_add, perturb + restore with z kept (the list's direction fits in KEEP_BYTES)
    and not (one byte short: all or nothing; 0: never): the same parameters after every walk and the same
    patches, bit for bit."""
    base = _model(dtype)
    size = sum(p.numel() * p.element_size() for p in base)
    monkeypatch.setattr(pt, "KEEP_BYTES", size)
    assert set(pt._Plan(base, None).kept) == {0, 1, 2, 3}
    monkeypatch.setattr(pt, "KEEP_BYTES", size - 1)
    assert not pt._Plan(base, None).kept
    runs = _runs(base, (0, size - 1, size), monkeypatch)
    assert runs[0] == runs[1] == runs[2]
    assert runs[0][0][-1] == runs[0][0][-2]  # the last perturb + restore returned exactly


def test_the_kept_direction_is_read_only_for_its_own_list_and_seed(monkeypatch):
    """A walk reads the kept z only when the last completed walk of this thread drew it for the same list and
    seed: another list walked in between (even with the same seed), or a walk that raised, makes the next walk
    draw again; the numbers stay those of the regenerated direction."""
    monkeypatch.setattr(pt, "KEEP_BYTES", 1 << 30)
    a, b = _model(torch.float32, seed=1), _model(torch.float32, seed=2)
    a0, b0 = _bits(a), _bits(b)
    pa = pt.perturb(a, 4, 1e-2)
    assert pt._SCRATCH.kept.seed == 4 and pt._SCRATCH.kept.plan() is pt._plan(a, None)
    pb = pt.perturb(b, 4, 1e-2)  # same seed, other list: b's own z
    pa = pt.flip(a, 4, 1e-2, pa)  # draws a's z again
    pt.restore(a, 4, -1e-2, pa)
    pt.restore(b, 4, 1e-2, pb)
    assert _bits(a) == a0 and _bits(b) == b0

    def fail(*args):
        raise RuntimeError("stop")

    p = pt.perturb(a, 5, 1e-2)
    pt.restore(a, 5, 1e-2, p)
    assert pt._SCRATCH.kept.seed == 5
    clean = [p.clone() for p in a]
    with monkeypatch.context() as m:
        m.setattr(pt._rt, "check", fail)
        with pytest.raises(RuntimeError, match="stop"):
            pt.perturb(a, 6, 1e-2)  # draws seed 6 into the buffer, raises before it completes
    assert pt._SCRATCH.kept.seed is None
    for p, q in zip(a, clean):  # undo the partial walk
        p.copy_(q)
    p = pt.perturb(a, 6, 1e-2)
    kept = _bits(a)
    pt.restore(a, 6, 1e-2, p)
    monkeypatch.setattr(pt, "KEEP_BYTES", 0)
    p = pt.perturb(a, 6, 1e-2)
    assert _bits(a) == kept
    pt.restore(a, 6, 1e-2, p)
    assert _bits(a) == a0
