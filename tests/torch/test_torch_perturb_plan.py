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
