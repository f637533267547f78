"""A step that raises or is skipped leaves train-mode BatchNorm's running statistics, the parameters and the
generators as they were before it (zoo.torch.trainmode.EstimateScope), on every closure path."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import zoo.torch as zt  # noqa: E402

torch.set_num_threads(1)

X1 = torch.randn(32, 6, generator=torch.Generator().manual_seed(1))
X2 = torch.randn(32, 6, generator=torch.Generator().manual_seed(2)) + 0.5
Y = torch.randint(0, 3, (32,), generator=torch.Generator().manual_seed(3))
PATHS = ["forward_loss", "lambda", "loop"]
ESTIMATORS = ["spsa", "rge", "cge"]


class Bomb(nn.Module):
    """Identity that, once armed, raises on the ``at``-th call counted from the arming (or returns NaN from
    that call on)."""

    def __init__(self) -> None:
        super().__init__()
        self.at, self.mode, self.calls, self.fired = None, "raise", 0, False

    def arm(self, at: int, mode: str) -> None:
        self.at, self.mode, self.calls, self.fired = at, mode, 0, False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.at is None or self.calls < self.at:
            return x
        self.fired = True
        if self.mode == "nan":
            return x * float("nan")
        self.at = None
        if self.mode == "interrupt":
            raise KeyboardInterrupt
        raise RuntimeError(f"boom on call {self.calls}")


def _setup(path: str, estimator: str):
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2), Bomb(), nn.Linear(8, 3)
    )
    model.train()
    if path == "mezo":  # ZOSGD's one spsa direction: in place, the last restore deferred into the update
        return model, zt.ZOSGD(model.parameters(), lr=1e-2, estimator="spsa", n_directions=1, seed=3)
    opt = zt.ZOAdam(
        model.parameters(),
        estimator=estimator,
        n_directions=4,
        sparsity=0.5 if estimator == "cge" else 0.0,
        seed=3,
        batch_closures=path != "loop",
    )
    return model, opt


def _step(model, opt, path: str, x: torch.Tensor) -> float:
    if path == "forward_loss":
        return opt.step(zt.ForwardLoss(model, F.cross_entropy, x, Y)).item()
    return opt.step(lambda: F.cross_entropy(model(x), Y)).item()


def _state(model, opt) -> dict:
    """Parameters and buffers (BatchNorm's running statistics), the optimizer's state, the generator."""
    out = {f"model.{k}": v.clone() for k, v in model.state_dict().items()}
    sd = opt.state_dict()
    for i, s in sd["state"].items():
        out.update({f"opt.{i}.{n}": (v.clone() if torch.is_tensor(v) else v) for n, v in s.items()})
    out["zo"] = repr(sd["zo"])
    out["rng"] = torch.get_rng_state()
    return out


def _equal(a, b) -> bool:
    if torch.is_tensor(a):
        return torch.is_tensor(b) and torch.equal(a, b)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_equal, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a == b


def _same(a: dict, b: dict) -> bool:
    assert a.keys() == b.keys()
    return all(_equal(a[k], b[k]) for k in a)


def _reference(path, estimator, skipped: bool = False):
    """Two successful steps (with ``skipped``: step 1 skipped in between without running a forward)."""
    torch.manual_seed(5)
    model, opt = _setup(path, estimator)
    losses = [_step(model, opt, path, X1)]
    if skipped:
        opt.zo["step"] += 1  # the seeds of step 1 consumed, as a skipped step does
        opt.zo["skipped_steps"].append(1)
    losses.append(_step(model, opt, path, X2))
    return losses, _state(model, opt)


@pytest.mark.parametrize("path, estimator", [(p, e) for p in PATHS for e in ESTIMATORS] + [("mezo", "spsa")])
@pytest.mark.parametrize("at, mode", [(1, "raise"), (2, "raise"), (2, "interrupt")])
def test_a_step_that_raises_leaves_statistics_parameters_and_generators_as_before(path, estimator, at, mode):
    losses, ref = _reference(path, estimator)
    torch.manual_seed(5)
    model, opt = _setup(path, estimator)
    first = _step(model, opt, path, X1)
    before = _state(model, opt)
    model[4].arm(at, mode)
    with pytest.raises(KeyboardInterrupt if mode == "interrupt" else RuntimeError):
        _step(model, opt, path, X2)
    assert model[4].fired  # it raised on the at-th forward of the step
    assert _same(_state(model, opt), before)
    # the next step is the one of a run that never saw the failure, bit for bit (queries included)
    assert [first, _step(model, opt, path, X2)] == losses
    assert _same(_state(model, opt), ref)
    assert int(model[1].num_batches_tracked) == 2


@pytest.mark.parametrize("path", ["lambda", "loop"])
@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("at", [1, 2, 3])
def test_a_first_step_that_raises_rediscovers_the_closure(path, estimator, at):
    """A failure in the step that found the batched closure (its discovery forward, its trial, or later):
    the next step finds it again and counts those forwards, as a run that never failed."""
    torch.manual_seed(5)
    model, opt = _setup(path, estimator)
    ref = _step(model, opt, path, X1), _state(model, opt)
    torch.manual_seed(5)
    model, opt = _setup(path, estimator)
    before = _state(model, opt)
    model[4].arm(at, "raise")
    with pytest.raises(RuntimeError, match="boom"):
        _step(model, opt, path, X1)
    assert model[4].fired and _same(_state(model, opt), before) and opt._closures == {}
    assert _step(model, opt, path, X1) == ref[0] and _same(_state(model, opt), ref[1])


@pytest.mark.parametrize("path, estimator", [(p, e) for p in PATHS for e in ESTIMATORS] + [("mezo", "spsa")])
@pytest.mark.parametrize("at", [1, 2])
def test_a_non_finite_loss_skips_the_step_and_leaves_the_statistics(path, estimator, at):
    losses, ref = _reference(path, estimator, skipped=True)
    torch.manual_seed(5)
    model, opt = _setup(path, estimator)
    first = _step(model, opt, path, X1)
    before = _state(model, opt)
    model[4].arm(at, "nan")
    loss = _step(model, opt, path, X2)
    fired = model[4].fired
    model[4].arm(None, "nan")
    assert fired and loss != loss and opt.skipped_steps == [1]
    after = _state(model, opt)
    del before["zo"], after["zo"]  # the step counter and skipped_steps moved, as documented
    assert _same(after, before)  # the running statistics too: no NaN written into them
    assert [first, _step(model, opt, path, X2)] == losses
    after, ref = _state(model, opt), dict(ref)
    del after["zo"], ref["zo"]  # queries: the skipped step's forwards are counted
    assert _same(after, ref)


def test_the_statistics_do_move_on_a_step_that_succeeds():
    """The rollback is on failure only: a step writes its one running-stat update (not a no-op test)."""
    torch.manual_seed(5)
    model, opt = _setup("lambda", "rge")
    mean = model[1].running_mean.clone()
    _step(model, opt, "lambda", X1)
    assert int(model[1].num_batches_tracked) == 1 and not torch.equal(model[1].running_mean, mean)
