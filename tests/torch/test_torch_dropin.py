"""zoo.torch as a drop-in for torch.optim: schedulers and group keys, lr 0, weight decay, frozen parameters,
low precision, train-mode Dropout / BatchNorm, torch-style closures; every failed step leaves no trace."""

import copy
import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import zoo.torch as zt  # noqa: E402

torch.set_num_threads(1)


def _mlp(seed=0, dtype=torch.float32, layers=()):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), *layers, nn.Tanh(), nn.Linear(8, 3)).to(dtype)


def _batch(seed=1, dtype=torch.float32, n=16):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 6, generator=g, dtype=dtype), torch.randint(0, 3, (n,), generator=g)


def _snap(model, opt):
    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    return [p.detach().clone() for p in model.state_dict().values()], buf.getvalue()


def _unchanged(model, opt, snap):
    params, state = snap
    now = _snap(model, opt)
    return all(torch.equal(a, b) for a, b in zip(params, now[0])) and state == now[1]


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: zt.ZOAdam(ps, estimator="spsa"),
        lambda ps: zt.ZOSGD(ps, lr=1e-2, momentum=0.9, estimator="rge", n_directions=2),
    ],
)
@pytest.mark.parametrize("which", ["onecycle", "cyclic", "cosine0"])
def test_torch_schedulers_drive_the_zoo_optimizers(make, which):
    model, (x, y) = _mlp(), _batch()
    opt = make(model.parameters())
    sched = {
        "onecycle": lambda: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=6),
        "cyclic": lambda: torch.optim.lr_scheduler.CyclicLR(opt, 1e-4, 1e-2, step_size_up=2),
        "cosine0": lambda: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.0),
    }[which]()
    key = "betas" if "betas" in opt.defaults else "momentum"
    seen_lr, seen_m = set(), set()
    for _ in range(4):
        opt.step(lambda: F.cross_entropy(model(x), y))
        sched.step()
        g = opt.param_groups[0]
        seen_lr.add(round(g["lr"], 12))
        seen_m.add(str(g[key]))
    assert len(seen_lr) > 2
    if which != "cosine0":
        assert len(seen_m) > 1  # the scheduler cycled momentum / betas[0], and the rule follows it
    else:
        assert 0.0 in seen_lr  # lr 0 at the end of the cosine: allowed, the step moves nothing
        before = [p.detach().clone() for p in model.parameters()]
        assert opt.param_groups[0]["lr"] == 0.0
        opt.step(lambda: F.cross_entropy(model(x), y))
        if isinstance(opt, zt.ZOSGD):  # momentum's velocity still moves the weights: compare zero lr only
            assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_lr_zero_group_is_frozen_and_others_train():
    model, (x, y) = _mlp(), _batch()
    opt = zt.ZOAdam([{"params": model[0].parameters(), "lr": 0.0}, {"params": model[2].parameters()}])
    before = [p.detach().clone() for p in model.parameters()]
    opt.step(lambda: F.cross_entropy(model(x), y))
    now = list(model.parameters())
    assert torch.equal(now[0], before[0]) and torch.equal(now[1], before[1])
    assert not torch.equal(now[2], before[2])


def test_requires_grad_false_is_left_alone_and_keeps_the_others_streams():
    (x, y) = _batch()
    runs = []
    for freeze in (False, True):
        model = _mlp()
        model[0].bias.requires_grad_(not freeze)
        opt = zt.ZOSGD(model.parameters(), lr=0.1, estimator="spsa", seed=3)
        b0 = model[0].bias.detach().clone()
        opt.step(lambda m=model: F.cross_entropy(m(x), y))
        if freeze:
            assert torch.equal(model[0].bias, b0)
        runs.append(model)
    assert not torch.equal(runs[0][2].weight, _mlp()[2].weight)  # trained
    assert not torch.equal(runs[1][2].weight, _mlp()[2].weight)


@pytest.mark.parametrize(
    "group,match",
    [
        ({"amsgrad": True}, "amsgrad"),
        ({"dampening": 0.1}, "dampening"),
        ({"betas": (0.9, 0.99)}, "betas"),  # a torch option of Adam on an SGD optimizer
        ({"lr": -1.0}, "lr"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"momentum": 1.5}, "momentum"),
    ],
)
def test_unknown_or_bad_group_option_raises_and_moves_nothing(group, match):
    model, (x, y) = _mlp(), _batch()
    with pytest.raises(ValueError, match=match):
        zt.ZOSGD([{"params": model[0].parameters()}, {"params": model[2].parameters(), **group}], lr=0.1)
    opt = zt.ZOSGD([{"params": model[0].parameters()}, {"params": model[2].parameters()}], lr=0.1)
    opt.step(lambda: F.cross_entropy(model(x), y))
    opt.param_groups[1].update(group)  # set after construction: the next step raises before anything moves
    snap = _snap(model, opt)
    with pytest.raises(ValueError, match=match):
        opt.step(lambda: F.cross_entropy(model(x), y))
    assert _unchanged(model, opt, snap)


@pytest.mark.parametrize("estimator", ["spsa", "cge"])
def test_a_closure_that_raises_leaves_params_and_state_bit_identical(estimator):
    model, (x, y) = _mlp(), _batch()
    opt = zt.ZOAdam(model.parameters(), estimator=estimator, sparsity=0.5 if estimator == "cge" else 0.0)
    opt.step(lambda: F.cross_entropy(model(x), y))
    snap = _snap(model, opt)
    calls = []

    def failing():
        calls.append(1)
        if len(calls) == 2:  # the second forward of the step
            raise RuntimeError("data loader died")
        return F.cross_entropy(model(x), y)

    with pytest.raises(RuntimeError, match="data loader"):
        opt.step(failing)
    assert _unchanged(model, opt, snap)


def test_torch_style_closure_with_backward_equals_the_one_liner():
    (x, y) = _batch()
    out = []
    for style in ("lambda", "torch"):
        model = _mlp()
        opt = zt.ZOAdam(model.parameters(), estimator="spsa", seed=1)

        def closure(model=model, opt=opt):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            return loss

        opt.step(closure if style == "torch" else (lambda m=model: F.cross_entropy(m(x), y)))
        out.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*out))
    z = torch.ones(2, requires_grad=True)  # backward outside a step is torch's own again
    (z * 2).sum().backward()
    assert torch.equal(z.grad, torch.full((2,), 2.0))


def test_sparsity_as_numpy_scalar_or_array():
    model = _mlp()
    a = zt.ZOSGD(model.parameters(), estimator="cge", sparsity=np.float32(0.5))
    b = zt.ZOSGD(model.parameters(), estimator="cge", sparsity=0.5)
    assert all((m is None and n is None) or torch.equal(m, n) for m, n in zip(a.masks(0), b.masks(0)))
    c = zt.ZOSGD(model.parameters(), estimator="cge", sparsity=np.full(4, 0.5))
    assert c.zo["sparsity"] == [0.5] * 4
    with pytest.raises(ValueError, match="sparsity"):
        zt.ZOSGD(model.parameters(), estimator="cge", sparsity=np.bool_(True))


def test_weight_decay_is_decoupled():
    (x, y) = _batch()
    res = []
    for wd in (0.0, 0.1):
        model = _mlp()
        opt = zt.ZOSGD(model.parameters(), lr=0.05, estimator="spsa", seed=2, weight_decay=wd)
        opt.step(lambda m=model: F.cross_entropy(m(x), y))
        res.append([p.detach().clone() for p in model.parameters()])
    for p0, a, b in zip(_mlp().parameters(), *res):  # p(1 - lr wd) - lr g  vs  p - lr g
        assert torch.allclose(b - a, -0.05 * 0.1 * p0.detach(), atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
@pytest.mark.parametrize("estimator", ["spsa", "rge", "cge"])
def test_low_precision_trains_without_nan(dtype, estimator):
    model, (x, y) = _mlp(dtype=dtype), _batch(dtype=dtype)
    opt = zt.ZOAdam(model.parameters(), lr=1e-2, estimator=estimator, n_directions=4)
    start = [p.detach().clone() for p in model.parameters()]
    first = float(F.cross_entropy(model(x).float(), y))
    for _ in range(15):
        opt.step(lambda: F.cross_entropy(model(x).float(), y))
    moved = [not torch.equal(a, b) for a, b in zip(start, model.parameters())]
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
    assert all(moved)
    assert float(F.cross_entropy(model(x).float(), y)) < first
    if dtype in (torch.float16, torch.bfloat16):
        assert opt.mu_for(list(model.parameters())) >= 8 * torch.finfo(dtype).eps
        state = opt.state[next(model.parameters())]
        assert all(v.dtype == torch.float32 for v in state.values() if isinstance(v, torch.Tensor))


# ---- train-mode Dropout and BatchNorm ----------------------------------------------------------------------
def _dropbn(seed=0, dtype=torch.float64):
    return _mlp(seed, dtype, layers=(nn.BatchNorm1d(8), nn.Dropout(0.2)))


def test_central_cge_with_dropout_and_batchnorm_matches_autograd_with_the_masks_fixed():
    model, (x, y) = _dropbn(), _batch(dtype=torch.float64, n=32)
    model.train()
    state = torch.get_rng_state()
    loss = F.cross_entropy(model(x), y)
    ref = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(model.parameters()))])
    torch.set_rng_state(state)  # the step starts from the same generator state: the same masks
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.reset_running_stats()
    snap = [p.detach().clone() for p in model.parameters()]
    opt = zt.ZOSGD(model.parameters(), lr=1.0, estimator="cge", difference="central", mu=1e-5)
    opt.step(zt.ForwardLoss(model, F.cross_entropy, x, y, feature_reuse=True))
    est = torch.cat([(s - p.detach()).reshape(-1) for p, s in zip(model.parameters(), snap)])
    cos = float(est @ ref / (est.norm() * ref.norm()))
    assert cos >= 0.999
    bn = model[1]
    assert int(bn.num_batches_tracked) == 1  # the running stats moved once, from the unperturbed forward


@pytest.mark.parametrize("estimator,q", [("spsa", 2), ("rge", 8), ("cge", 1)])
def test_batchnorm_running_stats_update_once_per_step(estimator, q):
    model, (x, y) = _dropbn(dtype=torch.float32), _batch(n=32)
    ref = copy.deepcopy(model)
    ref.train()
    with torch.no_grad():
        ref(x)  # one unperturbed forward: the expected running statistics
    opt = zt.ZOSGD(model.parameters(), lr=0.0, estimator=estimator, n_directions=q, sparsity=0.5)
    opt.step(zt.ForwardLoss(model, F.cross_entropy, x, y))
    assert int(model[1].num_batches_tracked) == 1
    tol = 1e-6 if estimator != "spsa" else 1e-4  # spsa: the mean of the +mu / -mu statistics, O(mu^2)
    assert torch.allclose(model[1].running_mean, ref[1].running_mean, atol=tol)
    assert torch.allclose(model[1].running_var, ref[1].running_var, atol=tol)


def test_batched_rge_with_dropout_equals_the_loop_and_keeps_the_masks():
    (x, y) = _batch(n=32)
    out = []
    for batched in (True, False):
        model = _dropbn(dtype=torch.float32)
        torch.manual_seed(5)
        opt = zt.ZOSGD(model.parameters(), lr=0.1, estimator="rge", n_directions=8, seed=4)
        opt.step(zt.ForwardLoss(model, F.cross_entropy, x, y, batched=batched))
        out.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(*out))


def test_spsa_with_dropout_sees_one_mask_per_estimate():
    model, (x, y) = _mlp(layers=(nn.Dropout(0.5),)), _batch()
    model.train()
    masks = []
    model[1].register_forward_hook(lambda m, i, o: masks.append((o != 0).clone()))
    opt = zt.ZOSGD(model.parameters(), lr=0.01, estimator="spsa", n_directions=3, batch_closures=False)
    opt.step(lambda: F.cross_entropy(model(x), y))
    assert len(masks) == 6 and all(torch.equal(m, masks[0]) for m in masks)
    opt.step(lambda: F.cross_entropy(model(x), y))
    assert not torch.equal(masks[6], masks[0])  # the next step draws fresh masks


@pytest.mark.parametrize("layers", [(), (nn.Dropout(0.5),), (nn.BatchNorm1d(8),)])
def test_train_mode_hooks_leave_after_a_first_forward_without_train_mode_layers(layers, monkeypatch):
    from torch.nn.modules import module as torch_module

    model, (x, y) = _mlp(layers=layers), _batch()
    model.train()
    hooked = []  # per forward of the step: are zoo's global module hooks installed?

    def closure():
        hooked.append(len(torch_module._global_forward_pre_hooks) > 0)
        return F.cross_entropy(model(x), y)

    start = copy.deepcopy(model.state_dict())
    # the in-place loop's forwards
    loop = dict(estimator="spsa", n_directions=2, seed=3, batch_closures=False)
    opt = zt.ZOSGD(model.parameters(), lr=0.01, **loop)
    opt.step(closure)
    assert len(hooked) == 4 and hooked[0]
    assert hooked[1:] == ([True] * 3 if layers else [False] * 3)
    assert not torch_module._global_forward_pre_hooks  # none left after the step either
    # the same step with the hooks forced on all forwards: the same parameters, bit for bit
    twin = _mlp(layers=copy.deepcopy(layers))
    twin.load_state_dict(start)
    twin.train()
    keep = zt.ZOSGD(twin.parameters(), lr=0.01, **loop)
    from zoo.torch import trainmode

    monkeypatch.setattr(trainmode.EstimateScope, "_hooks_needed", lambda self: True)
    keep.step(lambda: F.cross_entropy(twin(x), y))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), twin.state_dict().values()))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_fused_passes_equal_the_separate_operations_bit_for_bit(dtype):
    from zoo.torch.perturb import add_direction, flip, perturb, restore, restore_and_add

    torch.manual_seed(0)
    fused = [(torch.randn(300, 170) * 0.05).to(dtype), torch.randn(7).to(dtype)]
    plain = [p.clone() for p in fused]
    patches = perturb(fused, 9, 1e-3)
    ref = perturb(plain, 9, 1e-3)
    patches = flip(fused, 9, 1e-3, patches)
    restore(plain, 9, 1e-3, ref)
    ref = perturb(plain, 9, -1e-3)
    assert all(torch.equal(a, b) for a, b in zip(fused, plain))
    restore_and_add(fused, 9, -1e-3, patches, 0.25)
    restore(plain, 9, -1e-3, ref)
    add_direction(plain, 9, 0.25)
    assert all(torch.equal(a, b) for a, b in zip(fused, plain))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_perturb_flip_restore_return_every_dtype_bit_for_bit(dtype):
    """The round-trip check (numpy's on CPU integer views; torch's ops for bf16) over several chunks, a partial
    last chunk, mixed magnitudes and a signed zero: the parameters come back bit for bit."""
    from zoo.torch.perturb import CHUNK, flip, perturb, restore

    torch.manual_seed(1)
    big = torch.randn(2 * CHUNK + 123) * torch.logspace(-4, 1, 2 * CHUNK + 123)
    params = [big.to(dtype), torch.tensor([-0.0, 0.0, 1.0, -3.5]).to(dtype), torch.randn(5, 3, dtype=dtype)]
    before = [p.clone() for p in params]
    patches = perturb(params, 3, 1e-2)
    assert patches  # some elements do not round-trip: the check found them
    assert not torch.equal(params[0], before[0])
    patches = flip(params, 3, 1e-2, patches)
    restore(params, 3, -1e-2, patches)
    for p, b in zip(params, before):
        assert p.view(-1).view(_int_dtype(dtype)).tolist() == b.view(-1).view(_int_dtype(dtype)).tolist()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_patches_keep_int8_bit_offsets_and_values_where_they_do_not_fit(dtype):
    """On the CPU a patched element is kept as the int8 difference of its bit pattern from its round trip's;
    where that does not fit (tiny values next to a large step: the round trip changes sign or lands on zero)
    its value is kept. Both kinds occur here, and flip / restore_and_add / restore return bit for bit."""
    from zoo.torch.perturb import CHUNK, flip, perturb, restore, restore_and_add

    torch.manual_seed(4)
    n = CHUNK + 77
    mags = torch.where(torch.arange(n) % 3 == 0, torch.tensor(1e-4), torch.tensor(0.05))
    params = [(torch.randn(n) * mags).to(dtype), (torch.randn(9000) * 0.05).to(dtype)]
    before = [p.clone() for p in params]
    patches = perturb(params, 8, 1e-2)
    kinds = {str(vals.dtype) for _, _, idx, vals in patches if idx is not None}
    assert kinds == {"int8", str(params[0].numpy().dtype)}
    small = sum(len(v) for _, _, idx, v in patches if idx is not None and v.dtype == np.int8)
    assert small > sum(len(v) for _, _, idx, v in patches if idx is not None and v.dtype != np.int8)
    patches = flip(params, 8, 1e-2, patches)
    restore(params, 8, -1e-2, patches)
    for p, b in zip(params, before):
        assert p.view(_int_dtype(dtype)).tolist() == b.view(_int_dtype(dtype)).tolist()
    patches = perturb(params, 9, 1e-2)
    restore_and_add(params, 9, 1e-2, patches, 0.0)
    assert all(
        torch.equal(p.view(_int_dtype(dtype)), b.view(_int_dtype(dtype))) for p, b in zip(params, before)
    )


def _int_dtype(dtype):
    return {8: torch.int64, 4: torch.int32, 2: torch.int16}[torch.empty((), dtype=dtype).element_size()]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_small_tensors_saved_whole_give_the_checked_path_numbers(dtype, monkeypatch):
    """Small tensors are copied whole instead of round-trip checked, up to SAVE_BUDGET elements per walk (the
    rest take the check): perturb, flip, restore_and_add and restore give the checked path's numbers bit for
    bit, and the parameters come back exactly."""
    from zoo.torch import perturb as pt

    torch.manual_seed(2)
    n_small = pt.SAVE_BUDGET // pt.SMALL + 2  # more small tensors than the budget takes
    base = [torch.randn(pt.SMALL).to(dtype) for _ in range(n_small)]
    base.append(torch.randn(3 * pt.CHUNK + 5).to(dtype))
    runs = []
    for small in (pt.SMALL, 0):  # 0: every tensor through the round-trip check
        monkeypatch.setattr(pt, "SMALL", small)
        params, stages = [p.clone() for p in base], []
        patches = pt.perturb(params, 5, 1e-2)
        whole = [k for k, (_, _, idx, _) in enumerate(patches) if idx is None]
        assert len(whole) == (pt.SAVE_BUDGET // pt.SMALL if small else 0)
        stages.append([p.clone() for p in params])
        patches = pt.flip(params, 5, 1e-2, patches)
        stages.append([p.clone() for p in params])
        pt.restore_and_add(params, 5, -1e-2, patches, 0.5)
        stages.append([p.clone() for p in params])
        patches = pt.perturb(params, 6, 1e-2)
        pt.restore(params, 6, 1e-2, patches)
        assert all(torch.equal(a, b) for a, b in zip(params, stages[-1]))
        runs.append(stages)
    for saved, checked in zip(*runs):
        assert all(torch.equal(a, b) for a, b in zip(saved, checked))


def test_zosgd_spsa_equals_a_hand_written_mezo_step_bit_for_bit():
    """MeZO (Malladi et al. 2023) written out for the same directions: L(theta +- mu z), then
    theta <- theta - lr (L+ - L-) / (2 mu) z. ZOSGD's spsa step (q = 1) gives the same losses and parameters."""
    from torch.func import functional_call

    from zoo.torch.perturb import derive_seed, direction

    model, (x, y) = _mlp(layers=(nn.LayerNorm(8),)), _batch()
    names = [n for n, _ in model.named_parameters()]
    theta = [p.detach().clone() for p in model.parameters()]
    mu, lr = 1e-3, 0.05
    z = direction(theta, derive_seed(7, 0, 0))  # step 0, direction 0 of seed 7

    def loss_at(scale):
        ps = {n: torch.add(t, d, alpha=scale) for n, t, d in zip(names, theta, z)}
        return float(F.cross_entropy(functional_call(model, ps, (x,)), y))

    lp, lm = loss_at(mu), loss_at(-mu)
    expected = [torch.add(t, d, alpha=-lr * ((lp - lm) / (2 * mu))) for t, d in zip(theta, z)]
    opt = zt.ZOSGD(model.parameters(), lr=lr, mu=mu, estimator="spsa", n_directions=1, seed=7)
    loss = opt.step(lambda: F.cross_entropy(model(x), y))
    assert float(loss) == float(torch.tensor(0.5 * (lp + lm)))  # the step returns the mean as a tensor
    assert all(torch.equal(p.detach(), e) for p, e in zip(model.parameters(), expected))


def test_patch_blocks_are_reused_and_never_shared_by_live_patch_lists():
    """CPU patch memory comes from reused blocks (no allocation per walk once they have their size); a block
    goes back only when the last patch list using it is dropped, so lists alive together (a spsa pair; two
    perturbations held at once) never overwrite each other, and each restores bit for bit."""
    from zoo.torch import perturb as pt

    torch.manual_seed(3)
    a = [torch.randn(2 * pt.CHUNK) * 0.05, torch.randn(64)]
    b = [torch.randn(pt.CHUNK + 9) * 0.05, torch.randn(16)]
    before = [p.clone() for p in a + b]
    for _ in range(3):
        pa = pt.perturb(a, 1, 1e-3)
        pb = pt.perturb(b, 2, 1e-3)  # while pa is alive: other blocks
        assert pa.blocks and not set(map(id, pa.blocks)) & set(map(id, pb.blocks))
        pa = pt.flip(a, 1, 1e-3, pa)  # copies pa's saved copy into its own block: pa's go back
        pt.restore(b, 2, 1e-3, pb)
        pt.restore(a, 1, -1e-3, pa)
        assert all(torch.equal(p, q) for p, q in zip(a + b, before))
        del pa, pb
    # the blocks returned, of values and of int8 offsets (and any from earlier tests)
    free = {id(blk) for blocks in pt._FREE.values() for blk in blocks}
    again = pt.perturb(a, 1, 1e-3)
    assert {id(blk) for blk in again.blocks} <= free
    pt.restore(a, 1, 1e-3, again)
    assert all(torch.equal(p, q) for p, q in zip(a, before))
