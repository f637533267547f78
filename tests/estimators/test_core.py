"""The estimate core is one definition: numpy methods (batch of one), federated clients (one row per client)
and zoo.torch (directions regenerated from seeds) give the same estimate for the same directions."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.estimators.formulas import coordinate, probes, rank, two_point
from zoo.federated import FederatedProblem
from zoo.federated.algorithms.base import client_estimates
from zoo.federated.clients import ClientBatch

D, Q, MU = 6, 4, 1e-3


def f_np(X):
    X = np.atleast_2d(X)
    return 0.25 * np.sum(X**4, axis=1) + np.sum(np.sin(X), axis=1)


def test_numpy_torch_and_core_rge_agree_on_the_same_directions(monkeypatch):
    torch = pytest.importorskip("torch")
    from zoo.torch.perturb import derive_seed, direction

    x0 = np.linspace(-1.0, 1.5, D)
    theta = torch.nn.Parameter(torch.tensor(x0))
    opt = zoo.torch.ZOSGD([theta], lr=1.0, estimator="rge", n_directions=Q, mu=MU, seed=3)
    # the directions zoo.torch regenerates from its seeds at step 0
    U = np.stack([direction([theta], derive_seed(3, 0, k))[0].numpy() for k in range(Q)])

    def closure():
        return 0.25 * (theta**4).sum() + torch.sin(theta).sum()

    opt.step(closure)
    g_torch = x0 - theta.detach().numpy()  # SGD with lr = 1: the step is the estimate

    # the numpy method, handed the same directions
    monkeypatch.setattr(probes, "draw", lambda rng, q, d, kind="gaussian", orthogonal=False: U.copy())
    rge = zoo.RGE(x0, q=Q, mu=MU, noise="rng", update="sgd", lr=1.0, seed=0)
    X = rge.ask()
    rge.tell(X, f_np(X))
    # the core called directly with a stack of three identical rows (the federated shape)
    Xs = two_point.points(np.repeat(x0[None], 3, axis=0), np.repeat(U[None], 3, axis=0), MU, "forward")
    values = f_np(Xs.reshape(-1, D)).reshape(3, Q + 1)
    g_core, ok = two_point.estimate(values, MU, "forward", U=np.repeat(U[None], 3, axis=0))
    assert ok.all()
    np.testing.assert_allclose(rge.gradient, g_torch, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(g_core, np.repeat(rge.gradient[None], 3, axis=0), rtol=1e-12)


def test_federated_rows_are_the_numpy_method_with_a_batch_of_one():
    """Three clients, each at its own point with its own generator, in one vectorized call: each row equals
    zoo.RGE (table directions) run alone with that generator's seed."""
    shifts = [0.0, 0.5, -1.0]
    objectives = [lambda X, s=s: f_np(np.atleast_2d(X) - s) for s in shifts]
    problem = FederatedProblem(objectives, dim=D)
    x = np.stack([np.linspace(-1, 1, D) * (c + 1) for c in range(3)])
    seeds = [11, 12, 13]
    batch = ClientBatch(problem, np.arange(3))
    g, ok = client_estimates(batch, x, [np.random.Generator(np.random.PCG64(s)) for s in seeds], Q, MU)
    assert ok.all()
    for c, s in enumerate(seeds):
        opt = zoo.RGE(x[c], q=Q, mu=MU, seed=s)
        X = opt.ask()
        opt.tell(X, objectives[c](X))
        np.testing.assert_array_equal(g[c], opt.gradient)  # one code path: bit for bit


@pytest.mark.parametrize("difference", ["forward", "central"])
def test_core_runs_on_torch_tensors_as_on_numpy(difference):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    n = Q + 1 if difference == "forward" else 2 * Q
    values = rng.standard_normal((3, n))
    values[1, 2] = np.inf  # a dropped direction
    U = rng.standard_normal((3, Q, D))
    g, ok = two_point.estimate(values, MU, difference, U=U)
    gt, okt = two_point.estimate(torch.tensor(values), MU, difference, U=torch.tensor(U))
    np.testing.assert_allclose(gt.numpy(), g, rtol=1e-12)
    assert okt.numpy().tolist() == ok.tolist()
    h = np.full((3, Q), MU)
    c, okc = coordinate.estimate(values, h, difference)
    ct, okct = coordinate.estimate(torch.tensor(values), torch.tensor(h), difference)
    np.testing.assert_allclose(ct.numpy(), c, rtol=1e-12)
    assert okct.numpy().tolist() == okc.tolist()


@pytest.mark.parametrize("difference", ["forward", "central"])
@pytest.mark.parametrize("finite", [True, False])
def test_coordinate_estimate_of_one_row_is_that_row_of_a_batch(difference, finite):
    """cge calls the formula on its one row without a batch axis: the same numbers and the same verdict as that
    row as a batch of one (what cge passed before), bit for bit, on rows with NaN / inf values, a zero or
    subnormal displacement and huge values."""
    rng = np.random.default_rng(3)
    k = 5
    n = k + 1 if difference == "forward" else 2 * k
    values = rng.standard_normal((6, n)) * np.array([[1.0], [1e300], [1e-300], [1.0], [1.0], [1.0]])
    h = rng.uniform(1e-8, 1e-2, (6, k))
    h[1, 3] = 5e-324  # subnormal: a huge quotient
    if not finite:
        values[3, 2] = np.nan  # one coordinate dropped
        values[4, 0] = np.inf  # forward: f(x) non-finite, the row unusable
        values[5, :] = np.nan  # nothing usable
        h[0, 1] = 0.0  # a zero displacement: its coordinate dropped
    with np.errstate(over="ignore"):
        verdicts = []
        for b in range(values.shape[0]):
            g, ok = coordinate.estimate(values[b : b + 1].copy(), h[b : b + 1].copy(), difference, finite)
            g1, ok1 = coordinate.estimate(values[b].copy(), h[b].copy(), difference, finite)
            assert g1.shape == (k,) and np.shape(ok1) == ()
            assert g1.tobytes() == g[0].tobytes()
            assert bool(ok1) == bool(ok[0])
            verdicts.append(bool(ok1))
    if not finite:
        assert verdicts[3:] == [True, difference == "central", False]


def test_two_point_drops_non_finite_directions_and_flags_unusable_rows():
    values = np.array([[1.0, 2.0, np.nan, 3.0], [np.inf, 1.0, 2.0, 3.0], [1.0, np.nan, np.inf, np.nan]])
    coef, ok = two_point.coefficients(values, 0.5, "forward")
    np.testing.assert_allclose(coef[0], [2.0 / 2, 0.0, 4.0 / 2])  # k = 2 finite directions
    assert ok.tolist() == [True, False, False]  # f(x) = inf; no finite direction


def test_rank_estimate_is_the_weighted_mean_of_the_edges():
    xi = np.arange(12.0).reshape(1, 3, 4)
    w = np.array([[-2.0, 0.0, 2.0]])  # ranking 0 > 1 > 2: three edges
    g, ok = rank.estimate(w, np.array([3]), xi)
    np.testing.assert_allclose(g[0], (w[0] @ xi[0]) / 3)
    g, ok = rank.estimate(np.zeros((1, 3)), np.array([0]), xi)
    assert not ok[0]


@pytest.mark.parametrize("sphere", [False, True])
@pytest.mark.parametrize("central", [False, True])
def test_batched_table_kernels_equal_their_numpy_twins(sphere, central):
    from zoo.kernels import noise

    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 9))
    offsets = probes.table_offsets([np.random.default_rng(i) for i in range(5)], 3, 9)
    Xk, sk = noise.perturb_batch(x, offsets, 0.01, sphere, central, use_numba=True)
    Xn, sn = noise.perturb_batch(x, offsets, 0.01, sphere, central, use_numba=False)
    np.testing.assert_allclose(Xk, Xn, rtol=1e-14, atol=1e-15)
    coef = rng.standard_normal((5, 3))
    coef[2, 1] = 0.0
    np.testing.assert_allclose(
        noise.assemble_batch(offsets, coef, 9, True),
        noise.assemble_batch(offsets, coef, 9, False),
        rtol=1e-10,
    )
