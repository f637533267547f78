"""zoo.torch optimizers: estimates, exact restore, seeding and resume, parameter groups, bad input."""

import io
import math
import warnings

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import zoo.torch as zt  # noqa: E402
from zoo.torch.perturb import perturb, restore  # noqa: E402
from zoo.updates import Plateau  # noqa: E402

torch.set_num_threads(1)


def _mlp(seed=0, dtype=torch.float32, hidden=8):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, hidden), nn.Tanh(), nn.Linear(hidden, 3)).to(dtype)


def _batch(seed=1, dtype=torch.float32, n=16):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 6, generator=g, dtype=dtype), torch.randint(0, 3, (n,), generator=g)


def _closure(model, x, y):
    return lambda: F.cross_entropy(model(x), y)


def _snapshot(model):
    return [p.detach().clone() for p in model.parameters()]


def _same(model, snap):
    return all(torch.equal(p, s) for p, s in zip(model.parameters(), snap))


def _train(opt, model, steps, x, y, start=0):
    losses = []
    for t in range(start, start + steps):
        xb, yb = x[(t % 2) * 8 : (t % 2) * 8 + 8], y[(t % 2) * 8 : (t % 2) * 8 + 8]
        losses.append(float(opt.step(zt.ForwardLoss(model, F.cross_entropy, xb, yb))))
    return losses


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
def test_perturb_restore_is_bit_exact(dtype):
    torch.manual_seed(0)
    # small first: the scratch buffers must fit the largest chunk (no resize warnings)
    params = [torch.zeros(5, dtype=dtype), (torch.randn(300, 170) * 0.05).to(dtype), torch.randn(7).to(dtype)]
    snap = [p.clone() for p in params]
    for scale in (1e-3, -1e-3, 0.5):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            patches = perturb(params, 1234, scale)
        assert not all(torch.equal(p, s) for p, s in zip(params, snap))
        restore(params, 1234, scale, patches)
        assert all(torch.equal(p, s) for p, s in zip(params, snap))


def test_cge_central_matches_autograd_float64():
    torch.set_default_dtype(torch.float64)
    try:
        from zoo.torch.digits import load_digits, mlp

        data = load_digits(dtype=torch.float64)
        model = mlp(dtype=torch.float64)
        x, y = data.x_train[:128], data.y_train[:128]
        loss = F.cross_entropy(model(x), y)
        grads = torch.autograd.grad(loss, list(model.parameters()))
        opt = zt.ZOSGD(model.parameters(), lr=1.0, estimator="cge", difference="central", mu=1e-5)
        snap = _snapshot(model)
        opt.step(zt.ForwardLoss(model, F.cross_entropy, x, y, feature_reuse=True))
        est = torch.cat([(s - p.detach()).reshape(-1) for p, s in zip(model.parameters(), snap)])  # lr=1: g
        ref = torch.cat([g.reshape(-1) for g in grads])
        cos = float(est @ ref / (est.norm() * ref.norm()))
        assert est.numel() == 2410
        assert cos >= 0.9999, cos
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("reuse", [True, False])
def test_batched_cge_equals_loop(reuse):
    model, (x, y) = _mlp(dtype=torch.float64), _batch(dtype=torch.float64)
    grads = []
    for batched in (True, False):
        m = _mlp(dtype=torch.float64)
        opt = zt.ZOSGD(m.parameters(), lr=1.0, estimator="cge", sparsity=0.5, seed=3)
        snap = _snapshot(m)
        opt.step(zt.ForwardLoss(m, F.cross_entropy, x, y, feature_reuse=reuse, batched=batched, chunk_size=7))
        grads.append(torch.cat([(s - p.detach()).reshape(-1) for p, s in zip(m.parameters(), snap)]))
    assert (grads[0] != 0).sum() == pytest.approx(0.5 * grads[0].numel(), abs=3)
    assert torch.allclose(grads[0], grads[1], rtol=1e-7, atol=1e-9)
    del model


def test_rge_batched_equals_closure_loop():
    x, y = _batch()
    steps = []
    for closure_kind in ("forward", "plain"):
        m = _mlp(dtype=torch.float64)
        # the plain closure on the loop of single forwards (batch_closures=False), against the batched call
        opt = zt.ZOSGD(
            m.parameters(),
            lr=0.1,
            estimator="rge",
            n_directions=5,
            seed=11,
            batch_closures=closure_kind == "forward",
        )
        xx = x.double()
        c = zt.ForwardLoss(m, F.cross_entropy, xx, y) if closure_kind == "forward" else _closure(m, xx, y)
        opt.step(c)
        assert opt.queries == 6
        steps.append(torch.cat([p.detach().reshape(-1) for p in m.parameters()]))
    assert torch.allclose(steps[0], steps[1], rtol=1e-9, atol=1e-12)


def test_spsa_estimate_is_unbiased_direction():
    """Averaged over many seeds, the spsa estimate points along the true gradient."""
    model, (x, y) = _mlp(dtype=torch.float64), _batch(dtype=torch.float64)
    ref = torch.cat(
        [g.reshape(-1) for g in torch.autograd.grad(F.cross_entropy(model(x), y), list(model.parameters()))]
    )
    opt = zt.ZOSGD(
        model.parameters(), lr=1.0, estimator="spsa", n_directions=400, seed=0, batch_closures=False
    )
    snap = _snapshot(model)
    opt.step(_closure(model, x, y))
    est = torch.cat([(s - p.detach()).reshape(-1) for p, s in zip(model.parameters(), snap)])
    assert float(est @ ref / (est.norm() * ref.norm())) > 0.6
    assert opt.queries == 800


@pytest.mark.parametrize(
    "estimator,cls", [("spsa", zt.ZOSGD), ("spsa", zt.ZOAdam), ("rge", zt.ZOAdam), ("cge", zt.ZOSGD)]
)
def test_same_seed_same_numbers_and_resume_bit_identical(estimator, cls):
    x, y = _batch()
    kw = dict(lr=1e-2, estimator=estimator, seed=5)
    if estimator == "cge":
        kw.update(sparsity=0.7, mask_every=2, momentum=0.9)
    runs = []
    for _ in range(2):
        m = _mlp()
        opt = cls(m.parameters(), **kw)
        runs.append((_train(opt, m, 6, x, y), _snapshot(m)))
    assert runs[0][0] == runs[1][0] and all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))
    m = _mlp()
    other = cls(m.parameters(), **{**kw, "seed": 6})
    assert _train(other, m, 6, x, y) != runs[0][0]
    # resume: 3 steps, save, load into a fresh model + optimizer, 3 more steps == 6 straight steps
    m = _mlp()
    opt = cls(m.parameters(), **kw)
    _train(opt, m, 3, x, y)
    saved_opt, saved_model = opt.state_dict(), {k: v.clone() for k, v in m.state_dict().items()}
    buffer = io.BytesIO()
    torch.save(saved_opt, buffer)  # plain tensors / numbers / lists: loads with weights_only
    buffer.seek(0)
    saved_opt = torch.load(buffer, weights_only=True)
    m2 = _mlp(seed=99)
    m2.load_state_dict(saved_model)
    opt2 = cls(m2.parameters(), **{**kw, "seed": 0})
    opt2.load_state_dict(saved_opt)
    _train(opt2, m2, 3, x, y, start=3)
    assert all(torch.equal(a, b) for a, b in zip(_snapshot(m2), runs[0][1]))
    assert opt2.zo["step"] == 6


def test_parameter_groups_have_their_own_lr():
    x, y = _batch()
    m = _mlp()
    snap = _snapshot(m)
    groups = [{"params": m[0].parameters(), "lr": 0.0 + 1e-12}, {"params": m[2].parameters(), "lr": 0.5}]
    opt = zt.ZOSGD(groups, lr=1e-3, estimator="spsa", seed=0)
    opt.step(_closure(m, x, y))
    moved = [float((p.detach() - s).abs().max()) for p, s in zip(m.parameters(), snap)]
    assert max(moved[:2]) < 1e-6 < min(moved[2:])
    # a torch lr scheduler drives the group lr
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    sched.step()
    assert opt.param_groups[1]["lr"] == 0.25


def test_deepzero_grasp_ratios_and_training_lowers_loss():
    from zoo.torch.digits import load_digits, mlp

    data = load_digits()
    model = mlp()
    opt = zt.DeepZero(model.parameters(), lr=0.05, sparsity=0.9, mask_every=5, grasp_directions=16)
    x, y = data.x_train[:256], data.y_train[:256]
    first = float(F.cross_entropy(model(x), y).detach())
    for t in range(30):
        opt.step(
            zt.ForwardLoss(
                model, F.cross_entropy, x[(t % 4) * 64 :][:64], y[(t % 4) * 64 :][:64], feature_reuse=True
            )
        )
    ratios = opt.zo["sparsity"]
    sizes = [p.numel() for p in model.parameters()]
    mean = sum(r * n for r, n in zip(ratios, sizes)) / sum(sizes)
    assert mean == pytest.approx(0.9, abs=0.01) and all(0 <= r < 1 for r in ratios)
    assert float(F.cross_entropy(model(x), y)) < first


# ---- bad input ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("estimator", ["spsa", "rge", "cge"])
@pytest.mark.parametrize("bad", ["nan", "inf", "nan_second"])
def test_nonfinite_loss_skips_step_and_restores_exactly(estimator, bad):
    m = _mlp()
    x, y = _batch()
    calls = {"n": 0}

    def closure():
        calls["n"] += 1
        loss = F.cross_entropy(m(x), y)
        if bad == "nan" or (bad == "nan_second" and calls["n"] == 2):
            return loss * math.nan
        return loss * math.inf if bad == "inf" else loss

    opt = zt.ZOAdam(
        m.parameters(),
        lr=0.1,
        estimator=estimator,
        sparsity=0.5 if estimator == "cge" else 0.0,
        batch_closures=False,  # "the second forward" of the loop (batched: test_torch_closure_batched.py)
    )
    snap = _snapshot(m)
    loss = opt.step(closure)
    assert not math.isfinite(float(loss))
    assert opt.skipped_steps == [0] and opt.zo["updates"] == 0
    assert _same(m, snap)
    opt.step(_closure(m, x, y))  # a good step afterwards updates
    assert not _same(m, snap) and opt.zo["updates"] == 1


@pytest.mark.parametrize("estimator", ["spsa", "rge", "cge"])
@pytest.mark.parametrize("batched", [True, False])
def test_non_scalar_loss_raises_and_restores(estimator, batched):
    m = _mlp()
    x, y = _batch()
    opt = zt.ZOSGD(m.parameters(), lr=0.1, estimator=estimator)
    snap = _snapshot(m)
    per_sample = lambda out, t: F.cross_entropy(out, t, reduction="none")  # noqa: E731
    closure = (
        zt.ForwardLoss(m, per_sample, x, y) if batched else lambda: F.cross_entropy(m(x), y, reduction="none")
    )
    with pytest.raises(ValueError, match="scalar loss"):
        opt.step(closure)
    assert _same(m, snap)


def test_closure_exception_restores_bit_for_bit():
    m = _mlp()
    x, y = _batch()
    calls = {"n": 0}

    def closure():
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("black box failed")
        return F.cross_entropy(m(x), y)

    snap = _snapshot(m)
    for estimator in ("spsa", "cge"):
        calls["n"] = 0
        with pytest.raises(RuntimeError, match="black box"):
            zt.ZOSGD(m.parameters(), lr=0.1, estimator=estimator).step(closure)
        assert _same(m, snap)


def test_mixed_devices_raise():
    a = nn.Parameter(torch.zeros(3))
    b = nn.Parameter(torch.zeros(3, device="meta"))
    with pytest.raises(ValueError, match="one device"):
        zt.ZOSGD([a, b], lr=0.1)
    opt = zt.ZOSGD([a], lr=0.1)
    with pytest.raises(ValueError, match="one device"):
        opt.add_param_group({"params": [b]})


@pytest.mark.parametrize("sparsity", [-0.1, 1.0, 1.5, float("nan")])
def test_sparsity_outside_range_raises(sparsity):
    m = _mlp()
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        zt.ZOSGD(m.parameters(), lr=0.1, estimator="cge", sparsity=sparsity)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        zt.DeepZero(m.parameters(), sparsity=sparsity)


def test_other_bad_options_raise():
    m = _mlp()
    with pytest.raises(ValueError, match="estimator"):
        zt.ZOSGD(m.parameters(), estimator="backprop")
    with pytest.raises(ValueError, match="mu"):
        zt.ZOSGD(m.parameters(), mu=0.0)
    with pytest.raises(ValueError, match="lr"):
        zt.ZOSGD(m.parameters(), lr=-1.0)
    with pytest.raises(ValueError, match="unsupported option.*betas"):
        zt.ZOSGD(m.parameters(), betas=(0.9, 0.9))
    with pytest.raises(TypeError, match="unknown option"):
        zt.ZOSGD(m.parameters(), lrr=0.1)
    with pytest.raises(TypeError, match=r"lambda: loss_fn\(model\(x\), y\)"):
        zt.ZOSGD(m.parameters()).step()


class _Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(6, 3), nn.Linear(6, 3)

    def forward(self, x):
        return self.a(x) + self.b(x)


def test_feature_reuse_needs_stages():
    m, (x, y) = _Branchy(), _batch()
    with pytest.raises(TypeError, match="sequence of stages"):
        zt.ForwardLoss(m, F.cross_entropy, x, y, feature_reuse=True)
    with pytest.raises(ValueError, match="do not reproduce"):
        zt.ForwardLoss(m, F.cross_entropy, x, y, stages=[m.a, m.b])
    # without feature reuse the same model trains through the batched evaluator
    opt = zt.ZOSGD(m.parameters(), lr=0.1, estimator="cge")
    snap = _snapshot(m)
    opt.step(zt.ForwardLoss(m, F.cross_entropy, x, y))
    assert not _same(m, snap)


def test_explicit_stages_give_the_same_estimate():
    m, (x, y) = _mlp(dtype=torch.float64), _batch(dtype=torch.float64)
    stages = [nn.Sequential(m[0], m[1]), m[2]]
    out = []
    for kw in ({"stages": stages}, {"feature_reuse": False}):
        mm = _mlp(dtype=torch.float64)
        st = [nn.Sequential(mm[0], mm[1]), mm[2]] if "stages" in kw else None
        opt = zt.ZOSGD(mm.parameters(), lr=1.0, estimator="cge")
        opt.step(zt.ForwardLoss(mm, F.cross_entropy, x, y, **({"stages": st} if st else kw)))
        out.append(torch.cat([p.detach().reshape(-1) for p in mm.parameters()]))
    assert torch.allclose(out[0], out[1], atol=1e-12)
    del stages


@pytest.mark.parametrize(
    "name,options",
    [
        ("sgd", {}),
        ("momentum", {"beta": 0.8}),
        ("momentum", {"beta": 0.8, "nesterov": True}),
        ("adam", {}),
        ("sign", {}),
    ],
)
def test_torch_rules_equal_the_numpy_rules(name, options):
    import numpy as np

    from zoo.updates import apply_in_place, make_rule

    rule = make_rule(name, 0.05, **options)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(7)
    state = rule.init(x)
    p = torch.tensor(x)
    tstate = rule.init(p)
    for _ in range(4):
        g = rng.standard_normal(7)
        x, state = rule.apply(x, g, state)
        apply_in_place(rule, p, torch.tensor(g), tstate)
    assert np.allclose(p.numpy(), x, rtol=1e-12, atol=1e-14)


def test_plateau_factor_scales_the_step_and_resumes():
    """A loss that stops falling halves the rate (zoo.updates.plateau); the factor is in state_dict; the
    step then equals a plateau=False step at lr * factor; plateau=False never changes the rate."""
    x, y = _batch()
    rule = Plateau(window=2, patience=0)
    m = _mlp()
    opt = zt.ZOSGD(m.parameters(), lr=0.1, plateau=rule, seed=3)
    flat = lambda: (m(x) * 0.0).sum() + 1.0  # noqa: E731  (a loss that does not move)
    for _ in range(4):
        opt.step(flat)
    assert opt.lr_factor == 0.5 and opt.param_groups[0]["lr"] == 0.1  # the group's lr is left to schedulers
    m_off = _mlp()
    m_off.load_state_dict(m.state_dict())
    off = zt.ZOSGD(m_off.parameters(), lr=0.1, plateau=False, seed=3)
    off.load_state_dict(opt.state_dict())
    off.param_groups[0]["lr"] = 0.05
    assert off.lr_factor == 1.0
    for o, model in ((opt, m), (off, m_off)):
        o.step(_closure(model, x, y))
    assert all(torch.equal(a, b) for a, b in zip(m.parameters(), m_off.parameters()))
    resumed = zt.ZOSGD(_mlp().parameters(), lr=0.1, plateau=rule)
    resumed.load_state_dict(opt.state_dict())
    assert resumed.zo["plateau"] == opt.zo["plateau"] and resumed.lr_factor == 0.5
    with pytest.raises(TypeError, match="plateau"):
        zt.ZOSGD(m.parameters(), plateau="yes")


def test_plateau_growth_raises_the_directions_then_the_rate_and_resumes_bit_exact():
    """Plateau(max_growth=4): each stall doubles the spsa directions (q, 2q, 4q), then halves the rate; a
    step at growth g equals a plain step with g * n_directions (the same seeds); queries count 2 q per step;
    state_dict resumes bit-identically (the growth is in it)."""
    x, y = _batch()
    rule = Plateau(window=1, patience=0, max_growth=4)
    m = _mlp()
    kw = dict(estimator="spsa", plateau=rule, seed=5, batch_closures=False)  # the in-place loop's 2q forwards
    opt = zt.ZOAdam(m.parameters(), n_directions=2, **kw)
    flat = lambda: (m(x) * 0.0).sum() + 1.0  # noqa: E731  (a loss that does not move)
    seen = []
    for _ in range(4):
        before = opt.queries
        opt.step(flat)
        seen.append((opt.queries - before, opt.directions, opt.lr_factor))
    # step 1 sets best; steps 2, 3 stall (q 2 -> 4 -> 8); step 4 stalls at max growth: the rate halves
    assert seen == [(4, 2, 1.0), (4, 4, 1.0), (8, 8, 1.0), (16, 8, 0.5)]
    # a step at growth 4 is a step with 4 * n_directions directions (the same seeds), bit for bit
    for grown in (True, False):
        model = _mlp()
        if grown:
            o = zt.ZOAdam(model.parameters(), n_directions=2, **kw)
            o.zo["plateau"][5] = 4.0
        else:
            o = zt.ZOAdam(model.parameters(), n_directions=8, **{**kw, "plateau": False})
        assert o.directions == 8
        o.step(_closure(model, x, y))
        if grown:
            after_grown = _snapshot(model)
    assert _same(model, after_grown)
    # resume: a fresh optimizer from the state_dict continues bit for bit
    saved, snap = opt.state_dict(), _snapshot(m)
    buf = io.BytesIO()
    torch.save(saved, buf)
    ref = [float(opt.step(_closure(m, x, y))) for _ in range(3)] + _snapshot(m)
    m2 = _mlp()
    with torch.no_grad():
        for p, s in zip(m2.parameters(), snap):
            p.copy_(s)
    opt2 = zt.ZOAdam(m2.parameters(), n_directions=2, **kw)
    buf.seek(0)
    opt2.load_state_dict(torch.load(buf, weights_only=False))
    assert opt2.directions == 8 and opt2.lr_factor == 0.5
    got = [float(opt2.step(_closure(m2, x, y))) for _ in range(3)] + _snapshot(m2)
    assert got[:3] == ref[:3] and all(torch.equal(a, b) for a, b in zip(got[3:], ref[3:]))


def test_plateau_growth_leaves_cge_and_bad_growth_refused():
    """cge has no directions to add: with max_growth > 1 a stall halves its rate as before."""
    x, _ = _batch()
    m = _mlp()
    opt = zt.ZOAdam(m.parameters(), estimator="cge", plateau=Plateau(window=1, patience=0, max_growth=4))
    flat = lambda: (m(x) * 0.0).sum() + 1.0  # noqa: E731
    for _ in range(2):
        opt.step(flat)
    assert opt.lr_factor == 0.5
    with pytest.raises(ValueError, match="max_growth"):
        zt.ZOAdam(m.parameters(), plateau=Plateau(max_growth=6))


def test_default_plateau_has_the_rise_test_for_spsa_and_rge_not_cge():
    """plateau=True: spsa / rge get the rise test (DEFAULT_RISE standard errors), cge the plain rule; a
    loss that jumps up halves the rate at the end of that window, not patience windows later."""
    from zoo.torch.optim import DEFAULT_RISE

    m = _mlp()
    for estimator, rise in (("spsa", DEFAULT_RISE), ("rge", DEFAULT_RISE), ("cge", math.inf)):
        assert zt.ZOAdam(m.parameters(), estimator=estimator)._plateau.rise == rise
    x, _ = _batch()
    opt = zt.ZOSGD(m.parameters(), lr=0.1, seed=1)
    level = {"v": 1.0, "k": 0}

    def loss():
        level["k"] += 1
        return (m(x) * 0.0).sum() + level["v"] + 1e-3 * (level["k"] % 3)  # scatter ~1e-3 per value

    for _ in range(20):  # the first window (20 steps) sets the best
        opt.step(loss)
    level["v"] = 1.5
    for _ in range(20):
        opt.step(loss)
    assert opt.lr_factor == 0.5
    plain = zt.ZOSGD(m.parameters(), lr=0.1, seed=1, plateau=Plateau())
    level.update(v=1.0, k=0)
    for i in range(40):
        level["v"] = 1.0 if i < 20 else 1.5
        plain.step(loss)
    assert plain.lr_factor == 1.0  # without the rise test: one bad window, patience 5


def test_batched_spsa_is_the_two_point_formula_on_its_direction_block():
    """With a batched ForwardLoss spsa draws its q directions as one (q, d) block from (seed, step), evaluates
    the 2q sets theta +- mu z_j in batched calls (one unperturbed forward more, counted) and steps along
    (1/q) sum_j (L+ - L-) / (2 mu) z_j: checked against that formula by hand, and against the in-place loop
    in expectation (both unbiased: the averaged estimates point the same way)."""
    from torch.func import functional_call

    from zoo.torch.optim import _STACK_KEY
    from zoo.torch.perturb import derive_seed

    x, y = _batch()
    x = x.double()
    m = _mlp(dtype=torch.float64)
    names, params = zip(*m.named_parameters())
    theta = [p.detach().clone() for p in params]
    q, mu, lr = 5, 1e-3, 0.1
    opt = zt.ZOSGD(m.parameters(), lr=lr, estimator="spsa", n_directions=q, mu=mu, seed=11)
    opt.step(zt.ForwardLoss(m, F.cross_entropy, x, y))
    assert opt.queries == 2 * q + 1
    gen = torch.Generator().manual_seed(derive_seed(11, _STACK_KEY, 0))
    sizes = [p.numel() for p in theta]
    Z = torch.randn(q, sum(sizes), generator=gen, dtype=torch.float64)

    def loss_at(shift):
        ws = [t + s.view(t.shape) for t, s in zip(theta, shift.split(sizes))]
        return float(F.cross_entropy(functional_call(m, dict(zip(names, ws)), (x,)), y))

    g = sum((loss_at(mu * z) - loss_at(-mu * z)) / (2 * mu) * z for z in Z) / q
    expected = [t - lr * gp.view(t.shape) for t, gp in zip(theta, g.split(sizes))]
    assert all(torch.allclose(p.detach(), e, rtol=0, atol=1e-9) for p, e in zip(params, expected))
    # against the loop: 400 directions each, the two estimates agree in direction
    ests = []
    for closure_kind in ("forward", "plain"):
        mm = _mlp(dtype=torch.float64)
        snap = _snapshot(mm)
        o = zt.ZOSGD(mm.parameters(), lr=1.0, estimator="spsa", n_directions=400, seed=3)
        o.step(zt.ForwardLoss(mm, F.cross_entropy, x, y) if closure_kind == "forward" else _closure(mm, x, y))
        ests.append(torch.cat([(s - p.detach()).reshape(-1) for p, s in zip(mm.parameters(), snap)]))
    assert float(ests[0] @ ests[1] / (ests[0].norm() * ests[1].norm())) > 0.5


def test_zoadam_default_directions_with_a_batched_closure():
    """n_directions left to ZOAdam's default: 8 with a closure on the loop, the batched default (as many as the
    closure's memory_limit holds, up to 128) with a batched ForwardLoss; a given n_directions, ZOSGD's one
    direction and a model too large for memory_limit keep the plain count (spsa then perturbs in place)."""
    from zoo.torch.groups import BATCHED_DIRECTIONS, batched_directions

    x, y = _batch()
    m = _mlp()
    nbytes = sum(p.numel() * p.element_size() for p in m.parameters())
    adam = zt.ZOAdam(m.parameters(), estimator="spsa", seed=0)
    assert zt.ZOAdam(m.parameters(), batch_closures=False).directions_for(_closure(m, x, y)) == 8
    assert zt.ZOAdam(m.parameters()).directions_for(_closure(m, x, y)) == BATCHED_DIRECTIONS  # batched lambda
    assert adam.directions_for(zt.ForwardLoss(m, F.cross_entropy, x, y)) == BATCHED_DIRECTIONS
    assert adam.directions_for(zt.ForwardLoss(m, F.cross_entropy, x, y, batched=False)) == 8
    small = zt.ForwardLoss(m, F.cross_entropy, x, y, memory_limit=30 * nbytes)
    assert adam.directions_for(small) == 10 == batched_directions(8, nbytes, 30 * nbytes, 3)
    tiny = zt.ForwardLoss(m, F.cross_entropy, x, y, memory_limit=20 * nbytes)  # 3 x 8 copies do not fit
    assert adam.directions_for(tiny) == 8
    adam.step(tiny)
    assert adam.queries == 16  # the in-place loop: 2q forwards, no stacked sets
    adam.step(zt.ForwardLoss(m, F.cross_entropy, x, y))
    assert adam.queries == 16 + 2 * BATCHED_DIRECTIONS + 1
    assert zt.ZOAdam(m.parameters(), estimator="rge").directions_for(small) == 30
    given = zt.ZOAdam(m.parameters(), estimator="spsa", n_directions=8)
    assert given.directions_for(zt.ForwardLoss(m, F.cross_entropy, x, y)) == 8
    sgd = zt.ZOSGD(m.parameters(), estimator="spsa")
    assert sgd.directions_for(zt.ForwardLoss(m, F.cross_entropy, x, y)) == 1
    grown = zt.ZOAdam(m.parameters(), estimator="spsa", plateau=Plateau(max_growth=2))
    grown.zo["plateau"][5] = 2.0
    assert (
        grown.directions_for(small) == 20
        and grown.directions_for(_closure(m, x, y)) == 2 * BATCHED_DIRECTIONS
    )
    loop = zt.ZOAdam(m.parameters(), estimator="spsa", plateau=Plateau(max_growth=2), batch_closures=False)
    loop.zo["plateau"][5] = 2.0
    assert loop.directions_for(_closure(m, x, y)) == 16
    with pytest.raises(TypeError, match="batch_closures"):
        zt.ZOAdam(m.parameters(), batch_closures="no")


def test_suite_fit_refuses_an_unknown_closure_kind():
    from zoo.torch.suite import fit

    with pytest.raises(ValueError, match="closure must be"):
        fit("iris", "spsa", 0, epochs=1, closure="lambda")
