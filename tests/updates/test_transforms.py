"""Update rules as transforms: one definition for numpy and torch, chain / schedules / clipping compose."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo import updates


def test_torch_adam_step_equals_the_numpy_adam_step():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(9)
    rule = updates.make_rule("adam", 0.01)
    state = rule.init(x)
    p = torch.tensor(x.copy())
    tstate = rule.init(p)
    for _ in range(5):
        g = rng.standard_normal(9)
        x, state = rule.apply(x, g, state)
        updates.apply_in_place(rule, p, torch.tensor(g), tstate)  # the in-place form zoo.torch runs
    np.testing.assert_allclose(p.numpy(), x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tstate["0"]["v"].numpy(), state["0"]["v"], rtol=1e-12)
    assert tstate["0"]["count"] == state["0"]["count"] == 5


def test_torch_optimizer_adam_equals_numpy_cge_adam():
    """zoo.torch.ZOAdam (CGE, all coordinates) and the numpy cge method with Adam take the same steps."""
    torch = pytest.importorskip("torch")
    x0 = np.linspace(-1.0, 1.0, 5)
    theta = torch.nn.Parameter(torch.tensor(x0))
    opt = zoo.torch.ZOAdam([theta], lr=0.05, estimator="cge", mu=1e-4)
    ref = zoo.CGE(x0, mu=1e-4, update="adam", lr=0.05, seed=0)
    for _ in range(4):
        opt.step(lambda: (theta**2).sum() + theta.sum())
        X = ref.ask()
        ref.tell(X, np.sum(X**2, axis=1) + X.sum(axis=1))
    np.testing.assert_allclose(theta.detach().numpy(), ref.x, rtol=1e-7, atol=1e-9)


def test_named_rules_are_chains_of_transforms():
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal(4), rng.standard_normal(4)
    named = updates.Adam(lr=0.1)
    by_hand = updates.chain(updates.scale_by_adam(), updates.scale_by_learning_rate(0.1))
    a, _ = named.apply(x, g, named.init(x))
    b, _ = by_hand.apply(x, g, by_hand.init(x))
    np.testing.assert_array_equal(a, b)
    sgd = updates.make_rule("sgd", 0.5)
    np.testing.assert_array_equal(sgd.apply(x, g, sgd.init(x))[0], x - 0.5 * g)


def test_schedules_are_transforms_and_count_updates():
    sched = updates.ExponentialDecay(1.0, decay=0.5)
    state = sched.init(np.zeros(2))
    g = np.ones(2)
    steps = []
    for _ in range(3):
        step, state = sched.update(g, state)
        steps.append(step[0])
    assert steps == [-1.0, -0.5, -0.25]  # a schedule in a chain is the (descent) learning rate
    s = updates.scale_by_schedule(lambda t: t + 1.0)
    st = s.init(None)
    assert s.update(g, st)[0][0] == 1.0 and s.update(g, s.update(g, st)[1])[0][0] == 2.0


def test_clip_adam_schedule_chain_runs_a_method():
    f = zoo.functions.sphere
    rule = updates.chain(updates.clip_by_norm(1.0), updates.scale_by_adam(), updates.Cosine(0.1, total=300))
    res = zoo.minimize(
        f, np.ones(4), "rge", budget=1200, seed=0, vectorized=True, options={"update": rule, "q": 3}
    )
    assert res.fun < 0.1 * f(np.ones((1, 4)))[0]


def test_clipping():
    g = np.array([[3.0, 4.0], [0.3, 0.4]])
    step, _ = updates.clip_by_norm(1.0).update(g, {})
    np.testing.assert_allclose(step, [[0.6, 0.8], [0.3, 0.4]])
    np.testing.assert_allclose(updates.clip(0.5).update(g, {})[0], [[0.5, 0.5], [0.3, 0.4]])


def test_apply_in_place_on_numpy_equals_the_functional_step():
    rng = np.random.default_rng(2)
    x = rng.standard_normal(3)
    rule = updates.make_rule("momentum", 0.1, beta=0.5, nesterov=True)
    state, x_ip = rule.init(x), x.copy()
    state_ip = rule.init(x_ip)
    for _ in range(3):
        g = rng.standard_normal(3)
        x, state = rule.apply(x, g, state)
        updates.apply_in_place(rule, x_ip, g, state_ip)
    np.testing.assert_array_equal(x, x_ip)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: updates.clip(0.0), "bound of Clip"),
        (lambda: updates.clip_by_norm(-1.0), "bound of ClipByNorm"),
        (lambda: updates.scale_by_learning_rate(-1.0), "lr"),  # 0 is allowed (frozen, warm-up from 0)
        (lambda: updates.chain(updates.scale(1.0), "adam"), "transforms"),
        (lambda: updates.make_rule("adamw"), "unknown update rule"),
    ],
)
def test_bad_transform_arguments_are_clear_errors(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_step_decay_is_the_staircase_exponential_decay():
    s = updates.StepDecay(1.0, factor=0.5, every=10)
    assert [s(t) for t in (0, 9, 10, 25)] == [1.0, 1.0, 0.5, 0.25]
    assert s == updates.ExponentialDecay(1.0, 0.5, 10, staircase=True)
    with pytest.raises(ValueError, match="decay"):
        updates.StepDecay(1.0, factor=2.0)


@pytest.mark.parametrize("name", ["adam", "sgd", "sign", "momentum"])
@pytest.mark.parametrize("lr", [1.0, 0.1])
def test_update_signed_is_the_step_bit_for_bit(name, lr):
    """``update_signed`` returns ``(u, sign, state)`` with the rule's step exactly ``sign * u``: at ``lr = 1``
    (the step-size control's inner rule) the negation of the last transform is left out (sign -1), at any
    other rate the step itself comes back (sign 1); the new state is the one ``update`` returns."""
    from zoo.updates import make_rule

    rule = make_rule(name, lr)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(7)
    state_a = state_b = rule.init(x)
    for _ in range(5):
        g = rng.standard_normal(7) * 10.0 ** rng.integers(-8, 8)
        g[0] = -0.0
        step, state_a = rule.update(g, state_a, x)
        u, sign, state_b = rule.update_signed(g, state_b, x)
        assert sign == (-1.0 if lr == 1.0 else 1.0)
        assert (sign * u).tobytes() == step.tobytes()
        assert repr(state_a) == repr(state_b)


def test_exact_sign_only_for_a_rate_of_one():
    from zoo.updates.scale import scale_by_learning_rate

    assert scale_by_learning_rate(1.0).exact_sign() == -1.0
    assert scale_by_learning_rate(0.5).exact_sign() is None
    assert scale_by_learning_rate(0.0).exact_sign() is None
    assert scale_by_learning_rate(lambda t: 1.0).exact_sign() is None  # a schedule: its count changes
