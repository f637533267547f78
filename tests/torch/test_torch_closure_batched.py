"""The one-line closure ``opt.step(lambda: loss_fn(model(x), y))`` on the batched path (ForwardLoss.from_closure)."""

import warnings

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import zoo.torch as zt  # noqa: E402
from zoo.torch.suite import TinyTransformer  # noqa: E402

torch.set_num_threads(1)

X = torch.randn(32, 8, generator=torch.Generator().manual_seed(1))
Y = torch.randint(0, 3, (32,), generator=torch.Generator().manual_seed(2))


def _mlp(extra: bool = False) -> nn.Module:
    torch.manual_seed(0)
    layers = [nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)]
    if extra:  # train-mode Dropout and BatchNorm
        layers = [nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3)]
    return nn.Sequential(*layers)


def _same(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def _warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [
        str(w.message) for w in caught if "zoo.torch" in str(w.message) or "ForwardLoss" in str(w.message)
    ]


@pytest.mark.parametrize("estimator", ["spsa", "rge", "cge"])
@pytest.mark.parametrize("extra", [False, True])
def test_lambda_step_equals_forward_loss_step(estimator, extra):
    """Bit for bit: the runner module calls the same ops as ForwardLoss's functional_call of the model (train
    mode: the same dropout masks and the same BatchNorm statistics and running-stat update)."""
    a, b = _mlp(extra), _mlp(extra)
    a.train(), b.train()
    oa = zt.ZOAdam(a.parameters(), estimator=estimator, seed=3)
    ob = zt.ZOAdam(b.parameters(), estimator=estimator, seed=3)
    torch.manual_seed(5)
    for _ in range(3):
        rng = torch.get_rng_state()
        la = oa.step(lambda: F.cross_entropy(a(X), Y))
        torch.set_rng_state(rng)
        lb = ob.step(zt.ForwardLoss(b, F.cross_entropy, X, Y))
        assert la.item() == lb.item()
    assert _same(a, b)  # parameters and BatchNorm's running statistics
    if extra:
        assert b[1].num_batches_tracked.item() == 3  # one running-stat update per step
    assert oa.queries == ob.queries + 3  # the discovery forward and the trial's two sets, once


def test_lambda_on_the_transformer_equals_forward_loss():
    """A module that owns a parameter and has children (the position table of TinyTransformer)."""
    x, y = torch.randint(0, 8, (8, 12)), torch.randint(0, 2, (8,))
    torch.manual_seed(0)
    a = TinyTransformer()
    torch.manual_seed(0)
    b = TinyTransformer()
    oa, ob = zt.ZOAdam(a.parameters(), seed=1), zt.ZOAdam(b.parameters(), seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.func's "no batching rule" performance note on CPU attention
        for _ in range(2):
            oa.step(lambda: F.cross_entropy(a(x), y))
            ob.step(zt.ForwardLoss(b, F.cross_entropy, x, y))
    assert _same(a, b)


def test_directions_for_a_lambda():
    m = _mlp()
    adam = zt.ZOAdam(m.parameters())
    closure = lambda: F.cross_entropy(m(X), Y)  # noqa: E731
    assert adam.directions_for(closure) == adam.directions_for(zt.ForwardLoss(m, F.cross_entropy, X, Y)) > 8
    sgd = zt.ZOSGD(m.parameters())  # MeZO's one direction: the in-place path, no discovery
    assert sgd.directions_for(closure) == 1 and sgd.queries == 0
    given = zt.ZOAdam(m.parameters(), n_directions=4)
    assert given.directions_for(closure) == 4


def test_new_lambda_every_step_discovers_once():
    m = _mlp()
    opt = zt.ZOAdam(m.parameters())
    calls = []
    hook = nn.modules.module.register_module_forward_pre_hook(lambda mod, _a: calls.append(mod))
    try:
        opt.step(lambda: F.cross_entropy(m(X), Y))
        first = opt.queries
        n_first = len(calls)
        opt.step(lambda: F.cross_entropy(m(X), Y))
    finally:
        hook.remove()
    assert len(opt._closures) == 1
    assert all(found.fn is None for found in opt._closures.values())  # no minibatch kept between steps
    assert opt.queries - first == first - 3  # the second step: no discovery forward, no trial
    assert len(calls) - n_first < n_first  # ... and fewer module calls


def _loop_reference(model: nn.Module, steps: int) -> nn.Module:
    """The loop of single forwards with the plain default q: a non-batched ForwardLoss."""
    opt = zt.ZOAdam(model.parameters(), seed=3)
    for _ in range(steps):
        opt.step(zt.ForwardLoss(model, F.cross_entropy, X, Y, batched=False))
    assert opt.directions_for(zt.ForwardLoss(model, F.cross_entropy, X, Y, batched=False)) == 8
    return model


def _item(m):
    return lambda: F.cross_entropy(m(X), Y) * (1.0 if F.cross_entropy(m(X), Y).item() > 0 else 2.0)


def _control_flow(m):
    def closure():
        loss = F.cross_entropy(m(X), Y)
        return loss if loss > 0 else -loss

    return closure


def _numpy(m):
    return lambda: F.cross_entropy(m(X), Y) + 0.0 * torch.as_tensor(m(X).numpy().mean())


@pytest.mark.parametrize(
    "make, why", [(_item, ".item()"), (_control_flow, "control flow"), (_numpy, "torch.func cannot batch")]
)
def test_unbatchable_lambda_warns_once_and_loops(make, why):
    m = _mlp()
    opt = zt.ZOAdam(m.parameters(), seed=3)
    closure = make(m)
    messages = _warnings(lambda: [opt.step(make(m)) for _ in range(3)])
    assert len(messages) == 1 and why in messages[0] and "n_directions default 8" in messages[0]
    assert opt.directions_for(closure) == 8
    assert _same(m, _loop_reference(_mlp(), 3))  # the loop's numbers (the closures' losses are the plain one)


def test_parameters_outside_modules_fall_back():
    w = nn.Parameter(torch.randn(8, 3, generator=torch.Generator().manual_seed(0)))
    opt = zt.ZOAdam([w])
    messages = _warnings(lambda: [opt.step(lambda: F.cross_entropy(X @ w, Y)) for _ in range(2)])
    assert len(messages) == 1 and "not parameters of a module the closure calls" in messages[0]
    assert opt.directions_for(lambda: F.cross_entropy(X @ w, Y)) == 8


def test_parameters_not_reached_fall_back():
    torch.manual_seed(0)
    used, unused = nn.Linear(8, 3), nn.Linear(8, 3)
    model = nn.ModuleList([used, unused])
    opt = zt.ZOAdam(model.parameters())
    messages = _warnings(lambda: opt.step(lambda: F.cross_entropy(used(X), Y)))
    assert len(messages) == 1 and "2 of the optimizer's 4 parameter tensors" in messages[0]
    assert opt.directions_for(lambda: F.cross_entropy(used(X), Y)) == 8


def test_a_later_lambda_that_bypasses_the_modules_loops():
    """The cached module set is checked by each step's unperturbed forward."""
    m = _mlp()
    opt = zt.ZOAdam(m.parameters())
    opt.step(lambda: F.cross_entropy(m(X), Y))
    bypass = lambda: F.cross_entropy(m[2](F.relu(F.linear(X, m[0].weight, m[0].bias))), Y)  # noqa: E731
    messages = _warnings(lambda: opt.step(bypass))
    assert len(messages) == 1 and "not parameters of a module the closure calls; looping" in messages[0]
    assert opt.directions_for(bypass) == 8


def test_closure_with_backward_batches_as_a_no_op_backward():
    """A torch-style closure's ``loss.backward()`` is muted inside a step (no_grad): vmap runs it."""
    a, b = _mlp(), _mlp()
    oa, ob = zt.ZOAdam(a.parameters(), seed=3), zt.ZOAdam(b.parameters(), seed=3)

    def with_backward():
        loss = F.cross_entropy(a(X), Y)
        loss.backward()
        return loss

    assert _warnings(lambda: [oa.step(with_backward) for _ in range(2)]) == []
    for _ in range(2):
        ob.step(lambda: F.cross_entropy(b(X), Y))
    assert oa.directions_for(with_backward) > 8 and _same(a, b)


def test_exception_in_the_batched_lambda_restores_bit_for_bit():
    m = _mlp(extra=True)
    m.train()
    opt = zt.ZOAdam(m.parameters())
    opt.step(lambda: F.cross_entropy(m(X), Y))
    before_model = {k: v.clone() for k, v in m.named_parameters()}
    before_opt = opt.state_dict()
    calls = [0]

    def closure():
        calls[0] += 1
        if calls[0] == 2:  # the first batched call, after the unperturbed forward
            raise ValueError("boom")
        return F.cross_entropy(m(X), Y)

    with pytest.raises(ValueError, match="boom"):
        opt.step(closure)
    assert all(torch.equal(v, before_model[k]) for k, v in m.named_parameters())
    after = opt.state_dict()
    assert after["zo"] == before_opt["zo"]
    for k, s in before_opt["state"].items():
        for n, v in s.items():
            assert torch.equal(v, after["state"][k][n]) if torch.is_tensor(v) else v == after["state"][k][n]
    assert opt.directions_for(closure) > 8  # not a batching failure: the closure stays batched


@pytest.mark.parametrize("estimator", ["spsa", "rge", "cge"])
def test_nan_in_the_batched_call_skips_the_step(estimator):
    m = _mlp()
    opt = zt.ZOAdam(m.parameters(), estimator=estimator, sparsity=0.5 if estimator == "cge" else 0.0)
    opt.step(lambda: F.cross_entropy(m(X), Y))
    before = [p.clone() for p in m.parameters()]
    calls = [0]

    def closure():
        calls[0] += 1
        loss = F.cross_entropy(m(X), Y)
        return loss * float("nan") if calls[0] == 2 else loss  # the batched call's sets

    assert not torch.isfinite(opt.step(closure))
    assert opt.skipped_steps == [1] and all(torch.equal(p, q) for p, q in zip(m.parameters(), before))


def test_batch_closures_false_keeps_the_loop():
    m = _mlp()
    opt = zt.ZOAdam(m.parameters(), batch_closures=False)
    opt.step(lambda: F.cross_entropy(m(X), Y))
    assert opt.queries == 16 and opt.directions_for(lambda: F.cross_entropy(m(X), Y)) == 8


def _unreached(m):
    torch.manual_seed(0)
    other = nn.Linear(8, 3)
    m.add_module("other", other)  # its parameters are the optimizer's, the closure never calls it
    return lambda: F.cross_entropy(m[2](F.relu(m[0](X))), Y)


def _number(m):
    return lambda: F.cross_entropy(m(X), Y).item()  # a float: vmap needs a tensor


def _plain(m):
    return lambda: F.cross_entropy(m(X), Y)


@pytest.mark.parametrize(
    "make, forwards, trial, why",
    [
        (_plain, 3, True, None),
        (_item, 3, True, "torch.func cannot batch it"),
        (_control_flow, 3, True, "torch.func cannot batch it"),
        (_numpy, 3, True, "torch.func cannot batch it"),
        (_unreached, 1, False, "2 of the optimizer's 6 parameter tensors"),
        (_number, 1, False, "it returns a float, not a tensor"),
    ],
)
def test_discovery_reports_the_forwards_it_ran(make, forwards, trial, why):
    """from_closure's ``forwards``: the discovery forward, and the trial's two sets when it ran; the optimizer
    counts exactly that in ``queries`` (its step's own forwards are those of the loop, or of ForwardLoss)."""
    from zoo.torch import trainmode
    from zoo.torch.groups import mute_backward

    m = _mlp()
    closure = make(m)
    calls = [0]

    def counted():
        calls[0] += 1
        return closure()

    params = list(m.parameters())
    scope = trainmode.EstimateScope(params[0].device)
    with trainmode.rng_kept(scope.devices), torch.no_grad(), scope, mute_backward():
        found = zt.ForwardLoss.from_closure(counted, params)
    assert found.forwards == forwards
    assert calls[0] == (2 if trial else 1)  # one Python call of the closure runs the trial's two sets (vmap)
    assert (found.loss is not None) == (why is None)
    assert why is None or why in found.why
    # the optimizer's first step counts those forwards on top of the step's own
    opt = zt.ZOAdam(m.parameters(), seed=3)
    _warnings(lambda: opt.step(make(m)))
    m2 = _mlp()
    if make is _unreached:
        _unreached(m2)
    ref = zt.ZOAdam(m2.parameters(), seed=3, batch_closures=why is None)  # the fallbacks: the loop
    ref.step(zt.ForwardLoss(m2, F.cross_entropy, X, Y) if why is None else make(m2))
    assert opt.queries == ref.queries + forwards
    assert _same(m, m2)
    opt.step(make(m))  # a later step finds nothing anew: no discovery forward counted
    ref.step(zt.ForwardLoss(m2, F.cross_entropy, X, Y) if why is None else make(m2))
    assert opt.queries == ref.queries + forwards


def test_a_closure_returning_a_number_is_found_once():
    """Not every step: before, a float closure ran an uncounted discovery forward at each step."""
    m = _mlp()
    opt = zt.ZOAdam(m.parameters())
    calls = [0]

    def closure():
        calls[0] += 1
        return F.cross_entropy(m(X), Y).item()

    messages = _warnings(lambda: [opt.step(closure) for _ in range(3)])
    assert len(messages) == 1 and "returns a float, not a tensor" in messages[0]
    assert calls[0] == opt.queries == 1 + 3 * 16  # the discovery forward once, then 2 x 8 per step
