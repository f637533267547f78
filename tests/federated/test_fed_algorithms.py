"""Federated algorithms: they make progress, their surrogates are right, bad options are clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zoo.federated import FZooS, Scaffold, Simulator, make_algorithm, problems
from zoo.federated.algorithms.surrogate import (
    add_noise,
    filled_prefix,
    fit_hypers,
    gp_mean_gradient,
    kernel_exp,
    kernel_matrix,
    median_distance,
    pad_identity,
    rff_basis,
    rff_fit,
    rff_gradient,
    standardize,
)
from zoo.kernels.distances import sq_dists, sq_norms


@pytest.mark.parametrize("name", ["fedzo", "fedprox", "scaffold", "scaffold1", "fzoos"])
def test_every_algorithm_decreases_F(name):
    p = problems.quadratic(dim=20, n_clients=3, heterogeneity=0.3, seed=0)
    h = Simulator(p, make_algorithm(name, local_steps=5), seed=0).run(8)
    assert h.gap()[-1] < 0.5 * h.gap()[0]


def test_gp_gradient_of_a_linear_function_in_the_data_span_and_padding_is_ignored():
    rng = np.random.default_rng(0)
    d, W = 6, 40
    a = rng.standard_normal(d)
    x = rng.standard_normal((2, d))
    Z = x[:, None, :] + 0.05 * rng.standard_normal((2, W, d))  # more points than dimensions: the span is all
    y = Z @ a + 3.0
    mask = np.ones((2, W), dtype=bool)
    mask[1, :10] = False  # client 1: 10 rows of padding, filled with junk that must not matter
    Z[1, :10], y[1, :10] = 1e3, np.nan
    g, _ = gp_mean_gradient(x, Z, np.nan_to_num(y), mask, mult=np.full(2, 50.0), noise=np.full(2, 1e-10))
    np.testing.assert_allclose(g, np.stack([a, a]), rtol=1e-3, atol=1e-3)
    g1, _ = gp_mean_gradient(
        x[1:], Z[1:, 10:], y[1:, 10:], mask[1:, 10:], np.full(1, 50.0), np.full(1, 1e-10)
    )
    np.testing.assert_allclose(g[1], g1[0], rtol=1e-8)


def test_hyper_parameters_come_from_the_window():
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((2, 30, 3)) * np.array([1.0, 10.0])[:, None, None]  # two scales
    D2 = sq_dists(Z, Z)
    med = median_distance(D2, np.ones((2, 30), dtype=bool))
    assert 8 < med[1] / med[0] < 12  # the median heuristic follows the data's scale
    smooth = np.sin(Z[..., 0] / np.array([1.0, 10.0])[:, None])
    noisy = smooth + np.array([0.0, 0.5])[:, None] * rng.standard_normal((2, 30))
    yn, _, _ = standardize(noisy, np.ones((2, 30), dtype=bool))
    _, noise = fit_hypers(D2, yn, np.ones((2, 30), dtype=bool))
    assert noise[1] > noise[0]  # the marginal likelihood finds the noise where there is noise


@pytest.mark.parametrize("masks", ["shared", "mixed"])
def test_median_distance_per_client_over_its_filled_rows(masks):
    """Clients grouped by their filled rows give each client the median of its own pairwise distances (each
    pair once), 1 with fewer than 2 points or all points equal: the same as one client at a time."""
    rng = np.random.default_rng(4)
    C, W = 7, 12
    Z = rng.standard_normal((C, W, 3))
    Z[2] = 0.5  # all points equal: median 0 -> 1
    mask = np.zeros((C, W), dtype=bool)
    if masks == "shared":
        mask[:, 5:] = True  # a window filling up, the same rows on every client
    else:
        mask[:] = rng.random((C, W)) < 0.6
        mask[0, :] = False  # empty
        mask[1, :] = False
        mask[1, 3] = True  # one point
        mask[3] = mask[4]  # two clients share a pattern
    med = median_distance(sq_dists(Z, Z), mask)
    for c in range(C):
        P = Z[c][mask[c]]
        dists = [np.linalg.norm(P[i] - P[j]) for i in range(len(P)) for j in range(i + 1, len(P))]
        want = float(np.median(dists)) if dists and np.median(dists) > 0 else 1.0
        assert med[c] == pytest.approx(want, rel=1e-12), c


def test_filled_prefix_is_the_rows_past_which_every_client_is_padding():
    mask = np.zeros((3, 8), dtype=bool)
    assert filled_prefix(mask) == 0
    mask[0, 2] = True
    mask[2, 4] = True
    assert filled_prefix(mask) == 5
    mask[1, 7] = True
    assert filled_prefix(mask) == 8


def test_gp_on_the_filled_prefix_gives_the_whole_windows_numbers():
    """While windows fill, the hyper-parameter grid choice, the median heuristic and K computed on the first n
    rows are exactly those of the whole window (its rows n.. are padding in every client)."""
    rng = np.random.default_rng(7)
    C, W, n = 6, 20, 13
    Z = rng.standard_normal((C, W, 4))
    mask = np.zeros((C, W), dtype=bool)
    mask[:, :n] = rng.random((C, n)) < 0.8  # holes inside the prefix (failed queries) stay per client
    mask[:, n - 1] = True
    Y = np.where(mask, rng.standard_normal((C, W)), 0.0)
    D2 = sq_dists(Z, Z)
    assert filled_prefix(mask) == n
    yn, _, _ = standardize(Y, mask)
    whole, prefix = fit_hypers(D2, yn, mask), fit_hypers(D2[:, :n, :n], yn[:, :n], mask[:, :n])
    np.testing.assert_array_equal(prefix[0], whole[0])
    np.testing.assert_array_equal(prefix[1], whole[1])
    ls = whole[0] * median_distance(D2, mask)
    np.testing.assert_array_equal(whole[0] * median_distance(D2[:, :n, :n], mask[:, :n]), ls)
    K = kernel_matrix(D2, mask, ls, whole[1])
    np.testing.assert_array_equal(pad_identity(kernel_matrix(D2[:, :n, :n], mask[:, :n], ls, whole[1]), W), K)


def test_sq_dists_with_kept_norms_equals_computed_norms():
    """FZooS keeps its window rows' squared norms between steps; rows' norms computed alone are the same bits."""
    rng = np.random.default_rng(2)
    Z, Xq = rng.standard_normal((5, 30, 17)), rng.standard_normal((5, 4, 17))
    zz = sq_norms(Z)
    zz[:, 3:7] = sq_norms(Xq)
    Z[:, 3:7] = Xq
    np.testing.assert_array_equal(zz, sq_norms(Z))
    np.testing.assert_array_equal(sq_dists(Xq, Z, sq_norms(Xq), zz), sq_dists(Xq, Z))


def test_kernel_matrix_from_a_shared_noise_free_kernel_is_the_same_bits():
    """fit_hypers takes the exponentials once per lengthscale and rewrites only the diagonal for each noise level
    (from the kept noise-free diagonal): each is the kernel matrix of that noise, bit for bit."""
    rng = np.random.default_rng(5)
    Z = rng.standard_normal((4, 10, 3))
    mask = rng.random((4, 10)) < 0.7
    D2, ls = sq_dists(Z, Z), np.array([0.5, 1.0, 2.0, 3.0])
    E = kernel_exp(D2, mask, ls)
    np.testing.assert_array_equal(
        add_noise(E.copy(), mask, np.full(4, 1e-3)), kernel_matrix(D2, mask, ls, np.full(4, 1e-3))
    )
    diag = E[:, np.arange(10), np.arange(10)].copy()
    for s2 in (1e-6, 1e-1, 1e-3):
        noise = np.full(4, s2)
        np.testing.assert_array_equal(add_noise(E, mask, noise, diag), kernel_matrix(D2, mask, ls, noise))
    off = ~np.eye(10, dtype=bool)
    # only the diagonal was written
    np.testing.assert_array_equal(E[:, off], kernel_exp(D2, mask, ls)[:, off])


def test_fzoos_round_zero_on_the_filled_prefix_is_bit_for_bit_the_whole_window(monkeypatch):
    """The prefix shortcut of FZooS's filling windows changes no number: the same run with it turned off (the
    GP always on the whole window) gives the same points and losses."""
    import zoo.federated.algorithms.fzoos as fzoos_module

    def run():
        p = problems.ackley(dim=8, n_clients=4, seed=1)
        with Simulator(p, make_algorithm("fzoos"), seed=3) as sim:
            h = sim.run(3)
            return np.asarray(sim.server["x"]).copy(), list(h.F)

    x_prefix, F_prefix = run()
    monkeypatch.setattr(fzoos_module, "filled_prefix", lambda mask: mask.shape[1])
    x_whole, F_whole = run()
    np.testing.assert_array_equal(x_prefix, x_whole)
    assert F_prefix == F_whole


def test_rff_gradient_is_the_derivative_of_the_rff_function():
    d, M = 5, 50
    W, b = rff_basis(3, M, d, lengthscale=1.5)
    nu = np.random.default_rng(1).standard_normal(M)
    f = lambda z: math.sqrt(2.0 / M) * np.cos(W @ z + b) @ nu  # noqa: E731
    x = np.random.default_rng(2).standard_normal(d)
    h = 1e-6
    fd = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(d)])
    np.testing.assert_allclose(rff_gradient(W, b, nu, x[None])[0], fd, rtol=1e-6, atol=1e-8)
    again = rff_basis(3, M, d, lengthscale=1.5)  # the shared seed rebuilds the same features
    assert np.array_equal(again[0], W) and np.array_equal(again[1], b)


def test_rff_fit_recovers_a_function_in_its_span():
    d, M = 3, 40
    W, b = rff_basis(0, M, d, 1.0)
    nu_true = np.random.default_rng(0).standard_normal(M)
    X = np.random.default_rng(1).standard_normal((1, 200, d))
    y = math.sqrt(2.0 / M) * np.cos(X @ W.T + b) @ nu_true + 7.0
    nu = rff_fit(W, b, X, y, np.ones((1, 200), dtype=bool), noise=1e-10)
    x = np.zeros((1, d))
    np.testing.assert_allclose(
        rff_gradient(W, b, nu, x), rff_gradient(W, b, nu_true, x), rtol=0.03, atol=0.01
    )


def test_fzoos_window_is_bounded_and_the_rff_seed_comes_from_the_run_seed():
    p = problems.quadratic(dim=8, n_clients=3, seed=0)
    sim = Simulator(p, FZooS(local_steps=4, window=12), seed=0)
    sim.run(3)
    assert all(len(s["y"]) == 12 for s in sim.engine.states.values())
    other = Simulator(p, FZooS(local_steps=4, window=12), seed=1)
    assert sim.server["rff"][1] != other.server["rff"][1]


class Diverging:
    """A client objective of huge scale: FZooS's adaptive steps keep it finite where SGD blew up."""

    def __call__(self, X):
        return 1e6 * np.sum(np.atleast_2d(X) ** 4, axis=1)


def test_fzoos_holds_up_off_the_quadratic():
    p = problems.rosenbrock(dim=10, n_clients=4, seed=3)
    # 8 rounds (6 before session 6): the default probe radius starts at 2.0 (the homotopy), which smooths this
    # Rosenbrock (|x0| = 2.8) in the first rounds: F / F0 = 0.13 after 6 rounds, 0.05 after 8 (fixed delta: 0.005
    # after 6); same assertion
    h = Simulator(p, FZooS(local_steps=5), seed=0).run(8)
    assert np.all(np.isfinite(h.F)) and h.F[-1] < 0.1 * h.F[0]
    from zoo.federated import FederatedProblem

    h = Simulator(FederatedProblem([Diverging()] * 2, x0=np.full(5, 2.0)), FZooS(local_steps=5), seed=0).run(
        4
    )
    assert np.all(np.isfinite(h.F)) and h.F[-1] < h.F[0]


def test_fzoos_sends_nu_and_corrects_after_the_lengthscale_is_shared():
    p = problems.quadratic(dim=10, n_clients=3, seed=0)
    algo = FZooS(local_steps=2, n_features=32)
    assert "rff" not in algo.broadcast(algo.init_server(p.x0, 0), 0)
    sim = Simulator(p, algo, seed=0)
    sim.run(3)
    assert sim.server["rff"][0] > 0 and np.any(sim.server["nu"] != 0)
    assert {"x", "step", "nu", "rff"} == set(algo.broadcast(sim.server, 3))


def test_fzoos_server_undoes_a_worse_round_and_switches_to_the_shared_preconditioner():
    algo = FZooS(local_steps=2, switch=0.3)
    server = algo.init_server(np.zeros(3), 0)
    server["rff"][0] = 1.0  # lengthscale already shared: the F bookkeeping is what is tested
    up = [{"x": np.ones(3), "f0": np.array([5.0]), "v": np.full(3, 4.0)}]
    first = algo.aggregate(server, up, np.ones(1), 1, 1)
    assert first["best_F"][0] == 5.0 and np.all(first["x"] == 1.0) and first["step"][0] == 1.0
    worse = [{"x": np.full(3, 2.0), "f0": np.array([7.0])}]  # F at x = 1 is 7 > 5: undone, step halved
    second = algo.aggregate(first, worse, np.ones(1), 2, 1)
    assert np.all(second["x"] == 0.0) and second["step"][0] == 0.5 and second["linear"][0] == 0
    assert "v" not in algo.broadcast(second, 3)
    # a second failure takes the step below switch = 0.3: the clients sent v, the server switches
    second["x"] = np.ones(3)
    up = [{"x": np.ones(3), "f0": np.array([6.0]), "v": np.full(3, 9.0)}]
    third = algo.aggregate(second, up, np.ones(1), 3, 1)
    assert third["linear"][0] == 1 and third["step"][0] == 1.0 and np.all(third["v"] == 9.0)
    assert np.all(algo.broadcast(third, 4)["v"] == 9.0)
    # the clients then step linearly in their gradients (sgd on g / sqrt(v)): still finite, F still decreases
    p = problems.quadratic(dim=10, n_clients=3, seed=0)
    sim = Simulator(p, FZooS(local_steps=3), seed=0)
    sim.server = {**sim.server, "linear": np.ones(1), "v": np.ones(10)}
    h = sim.run(4)
    assert np.all(np.isfinite(h.F)) and h.F[-1] < h.F[0]


class Recording:
    def __init__(self):
        self.points = []

    def __call__(self, X):
        X = np.atleast_2d(X)
        self.points.append(X.copy())
        return np.sum((X - 0.3) ** 2, axis=1)


def test_fzoos_ring_window_keeps_the_newest_points_oldest_first():
    from zoo.federated import FederatedProblem

    f = Recording()
    p = FederatedProblem([f], x0=np.zeros(4))
    sim = Simulator(p, FZooS(local_steps=3, window=10), seed=0, check_dimensions=False, evaluate=None)
    sim.run(2)  # 3 rounds of 3 steps x 6 queries: the window (10) wrapped several times
    assert np.array_equal(sim.engine.states[0]["X"], np.concatenate(f.points)[-10:])


def test_scaffold_option_1_pays_for_its_fresh_estimate():
    p = problems.quadratic(dim=10, n_clients=2, seed=0)
    one = Simulator(p, Scaffold(option=1, local_steps=2, q=3), seed=0).run(1)
    two = Simulator(p, Scaffold(option=2, local_steps=2, q=3), seed=0).run(1)
    assert one.rounds[1]["queries"] == two.rounds[1]["queries"] + 2 * (3 + 1)


@pytest.mark.parametrize(
    ("name", "options", "error", "match"),
    [
        ("fedzo", {"qq": 3}, TypeError, "unknown option"),
        ("fedzo", {"q": 0}, ValueError, "q must be"),
        ("fedzo", {"mu": -1.0}, ValueError, "mu"),
        ("fedprox", {"prox": -0.1}, ValueError, "prox"),
        ("scaffold", {"option": 3}, ValueError, "option"),
        ("fzoos", {"n_features": 0}, ValueError, "n_features"),
        ("fzoos", {"window": 3}, ValueError, "window must hold"),
        ("fzoos", {"shrink": 1.5}, ValueError, "shrink"),
        ("fzoos", {"server_shrink": 0.0}, ValueError, "server_shrink"),
        ("fzoos", {"switch": 2.0}, ValueError, "switch"),
        ("fzoos", {"clip": -1.0}, ValueError, "clip"),
        ("fzoos", {"update": "newton"}, ValueError, "unknown update rule"),
        ("fzoos", {"trust": "always"}, ValueError, "trust must be"),
        ("fzoos", {"smooth": -1.0}, ValueError, "smooth"),
        ("fzoos", {"smooth": float("nan")}, ValueError, "smooth"),
        ("fzoos", {"smooth_half": 0.0}, ValueError, "smooth_half"),
        ("fzoos", {"step_max": 0.5}, ValueError, "step_max"),
        ("fzoos", {"lr_box": -0.1}, ValueError, "lr_box"),
        ("fzoos", {"lr_box": float("nan")}, ValueError, "lr_box"),
        ("fzoos", {"step_max": float("inf")}, ValueError, "step_max"),
        ("fzoos", {"fit_points": 1}, ValueError, "fit_points"),
        ("fzoos", {"fit_points": 30.0}, ValueError, "fit_points"),
    ],
)
def test_bad_options(name, options, error, match):
    with pytest.raises(error, match=match):
        make_algorithm(name, **options)


def test_fzoos_step_control_off_does_not_read_as_divergence():
    # server_shrink=1 turns the server's step control off: the best F it never records must not make the
    # server state non-finite (it raised AlgorithmDiverged in round 0)
    p = problems.quadratic(dim=10, n_clients=3, seed=0)
    h = Simulator(p, FZooS(local_steps=2, server_shrink=1.0), seed=0).run(3)
    assert np.all(np.isfinite(h.F)) and h.F[-1] < h.F[0]


def test_fzoos_measured_trust_is_the_least_squares_factor_onto_the_measured_correction():
    d, M = 4, 16
    algo = FZooS(trust="measured", n_features=M)
    basis = rff_basis(5, M, d, 1.0)
    rng = np.random.default_rng(0)
    nu, own = rng.standard_normal(M), rng.standard_normal((3, M))
    x_t = rng.standard_normal(d)
    c = rff_gradient(*basis, nu[None, :] - own, np.repeat(x_t[None], 3, axis=0))  # the correction at x_t
    G = rng.standard_normal(d)
    # client 0's measured correction equals its model's: trust 1; client 1's is half of it: 0.5; client 2's
    # points the other way: 0
    g0 = np.stack([G - c[0], G - 0.5 * c[1], G + c[2]])
    states = [{"g0": g0[i], "x_t": x_t, "t": np.array([4.0]), "trust": np.array([0.9])} for i in range(3)]
    a = algo._trust({"G": G, "nu": nu}, states, basis, own, rnd=5)
    np.testing.assert_allclose(a, [1.0, 0.5, 0.0], atol=1e-12)
    # a state from an older round cannot be checked against this G: the client keeps its last factor
    states[1]["t"] = np.array([3.0])
    a = algo._trust({"G": G, "nu": nu}, states, basis, own, rnd=5)
    np.testing.assert_allclose(a, [1.0, 0.9, 0.0], atol=1e-12)
    assert np.all(algo._trust({"nu": nu}, states, basis, own, rnd=5) == 0.9)  # no G broadcast: last factors


def test_fzoos_measured_trust_sends_the_gradients_it_needs_and_the_default_sends_none():
    p = problems.ackley(dim=6, n_clients=3, heterogeneity=1.0, seed=0)
    measured = Simulator(p, FZooS(local_steps=3, trust="measured"), seed=0)
    h = measured.run(5)
    assert np.all(np.isfinite(h.F)) and h.F[-1] < h.F[0]
    assert "G" in measured.algorithm.broadcast(measured.server, 5)
    trusts = [float(st["trust"][0]) for st in measured.engine.states.values()]
    assert all(0.0 <= t <= 1.0 for t in trusts)
    # d floats more each way once the correction runs (rounds 2+), none in the default
    default = Simulator(p, FZooS(local_steps=3), seed=0)
    g = default.run(5)
    assert "G" not in default.algorithm.broadcast(default.server, 5)
    assert h.rounds[4]["bytes_up"] == g.rounds[4]["bytes_up"] + 3 * 6 * 8
    assert h.rounds[4]["bytes_down"] == g.rounds[4]["bytes_down"] + 3 * 6 * 8


def test_fzoos_probe_radius_shrinks_from_smooth_to_delta():
    """The active queries' radius, max(delta, smooth * 2^(-t / smooth_half)): the Gaussian-homotopy start; 0 is
    the fixed delta of the paper."""
    algo = FZooS(smooth=2.0, smooth_half=5.0, delta=0.01)
    assert algo._radius(0) == 2.0
    assert algo._radius(5) == pytest.approx(1.0)
    assert algo._radius(10) == pytest.approx(0.5)
    assert algo._radius(1000) == 0.01
    assert FZooS(smooth=0.0, delta=0.01)._radius(0) == 0.01


def test_fzoos_probes_use_the_scheduled_radius(monkeypatch):
    """Every round's active queries are drawn at that round's radius (the probe helper sees it)."""
    import zoo.federated.algorithms.fzoos as fzoos_module

    radii = []
    real = fzoos_module.probe_points

    def spy(x, rngs, q, mu, bounds=None):
        radii.append(mu)
        return real(x, rngs, q, mu, bounds)

    monkeypatch.setattr(fzoos_module, "probe_points", spy)
    algo = FZooS(local_steps=2, smooth=1.0, smooth_half=1.0, delta=0.1)
    Simulator(problems.quadratic(dim=5, n_clients=2, seed=0), algo, seed=0).run(5)
    assert radii == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.1, 0.1]


def _coarse_ackley():
    """Ackley with x in units 100 times smaller: ``f'(x) = f(x / 100)``, ``x0' = 100 x0``."""
    p = problems.ackley(dim=10, n_clients=4, heterogeneity=0.5, seed=0)
    group = p.batched

    def scaled(ids, X):
        return group(ids, X / 100.0)

    return problems.FederatedProblem(
        [problems._OneClient(scaled, i) for i in range(4)], None, x0=100.0 * p.x0, batched=scaled
    )


def test_fzoos_step_max_lets_the_server_step_grow_past_one():
    """The server's step factor is capped at 1 by default (Adam's lr is the longest step); with step_max it
    grows on improving rounds, so a problem in coarse units gets longer steps and lower F in the same rounds."""
    p = _coarse_ackley()
    runs = {}
    for cap in (1.0, 1e3):
        sim = Simulator(p, FZooS(step_max=cap), seed=0)
        runs[cap] = (sim.run(12), float(sim.server["step"][0]))
    assert runs[1.0][1] <= 1.0
    assert runs[1e3][1] > 4.0
    assert runs[1e3][0].F[-1] < runs[1.0][0].F[-1] - 0.1 * (runs[1.0][0].F[0] - runs[1.0][0].F[-1])


def test_fzoos_lr_is_capped_by_the_box(monkeypatch):
    """With bounds, the local step size is min(lr, lr_box x the narrowest positive finite side); without bounds,
    or with lr_box=0, it is lr (the built-in attack's box, 0.4 wide, leaves lr = 0.1 as it was)."""
    from zoo.federated.algorithms import fzoos as fzoos_module

    seen = []
    real = fzoos_module.make_rule

    def spy(name, lr):
        seen.append((name, lr))
        return real(name, lr)

    monkeypatch.setattr(fzoos_module, "make_rule", spy)
    p = problems.quadratic(dim=4, n_clients=2, seed=0)
    narrow = problems.FederatedProblem(
        p.objectives,
        p.weights,
        x0=np.zeros(4),
        bounds=([-0.01, -0.5, -np.inf, 0.0], [0.01, 0.5, np.inf, 0.0]),
        batched=p.batched,
    )
    Simulator(narrow, FZooS(local_steps=2), seed=0).run(2)
    assert seen and all(lr == pytest.approx(0.25 * 0.02) for _, lr in seen)  # the zero-width side is ignored
    seen.clear()
    Simulator(narrow, FZooS(local_steps=2, lr_box=0.0), seed=0).run(1)
    assert [lr for _, lr in seen] == [0.1]
    seen.clear()
    Simulator(p, FZooS(local_steps=2), seed=0).run(1)
    assert [lr for _, lr in seen] == [0.1]
    assert FZooS()._lr(problems.attack(n_clients=2, epsilon=0.2).bounds) == 0.1


def test_fit_subset_is_evenly_spaced_from_the_first_to_the_last_row():
    from zoo.federated.algorithms.fzoos import fit_subset

    np.testing.assert_array_equal(fit_subset(6, 30), np.arange(6))
    np.testing.assert_array_equal(fit_subset(30, 30), np.arange(30))
    sub = fit_subset(60, 30)
    assert len(sub) == 30 and sub[0] == 0 and sub[-1] == 59
    assert np.all(np.diff(sub) >= 2) and np.all(np.diff(sub) <= 3)
    np.testing.assert_array_equal(fit_subset(61, 2), [0, 60])


def test_fzoos_fit_on_every_window_point_is_fit_points_at_the_window():
    """fit_points >= window fits the hyper-parameters on the whole window; a smaller subset changes the run (the
    option is used), and both runs stay finite."""
    p = problems.ackley(dim=6, n_clients=3, seed=2)

    def run(**kw):
        with Simulator(p, FZooS(local_steps=4, window=24, **kw), seed=0) as sim:
            h = sim.run(5)
            return np.asarray(sim.server["x"]).copy(), np.asarray(h.F)

    whole, same = run(fit_points=24), run(fit_points=100)
    np.testing.assert_array_equal(whole[0], same[0])
    part = run(fit_points=8)
    assert np.all(np.isfinite(part[1])) and not np.array_equal(part[0], whole[0])


@pytest.mark.parametrize("P", [1, 2, 3, 10, 1770])
def test_median_sqrt_is_numpys_median_of_the_square_roots_bit_for_bit(P):
    from zoo.federated.algorithms.surrogate import median_sqrt

    rng = np.random.default_rng(P)
    sq = rng.random((6, P)) ** 3 * 10.0 ** rng.integers(-300, 300, (6, 1))
    sq[1] = sq[1, :1]  # ties
    sq[2, -1] = np.nan
    sq[3, 0] = np.inf
    if P > 1:
        sq[4, : P // 2] = 0.0
    want = np.median(np.sqrt(sq), axis=1)
    got = median_sqrt(sq.copy())
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("offset", [0.0, 3.0, 1e4])
def test_rff_features_in_float32_match_the_float64_definition_far_from_the_origin(offset):
    """The phases are taken about each window's centre, so float32 holds them even where |w . z| is large."""
    from zoo.federated.algorithms.surrogate import rff_features

    d, M = 5, 50
    W, b = rff_basis(2, M, d, lengthscale=0.3)
    X = offset + 0.2 * np.random.default_rng(4).standard_normal((3, 40, d))
    mask = np.ones((3, 40), dtype=bool)
    mask[1, :7] = False  # padding rows
    Phi = rff_features(W, b, X, mask)
    want = math.sqrt(2.0 / M) * np.cos(X @ W.T + b) * mask[:, :, None]
    assert Phi.dtype == np.float32
    np.testing.assert_allclose(Phi, want, atol=2e-6)
    assert not Phi[1, :7].any()
