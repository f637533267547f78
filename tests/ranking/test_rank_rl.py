"""Reinforcement learning from ranked episodes: policies, shared-seed episodes, and short training runs."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gymnasium")

from zoo.session.rl import Episodes, Policy, train  # noqa: E402


def test_policy_shapes_and_actions():
    lin = Policy(obs_dim=4, act_dim=2, discrete=True)
    assert lin.size == 5
    assert lin.act(np.array([0, 0, 0, 0, 1.0]), np.zeros(4)) == 1  # bias > 0: push right
    mlp = Policy(obs_dim=3, act_dim=1, discrete=False, hidden=8, high=2.0)
    assert mlp.size == 4 * 8 + 9
    a = mlp.act(np.full(mlp.size, 5.0), np.ones(3))
    assert a.shape == (1,) and abs(a[0]) <= 2.0


def test_candidates_share_the_episode_seed():
    ep = Episodes("CartPole-v1")
    theta = np.array([0.0, 0.0, 1.0, 1.0, 0.0])
    r = ep.returns(np.stack([theta, theta]), seed=3)
    assert r[0] == r[1] and ep.n_episodes == 2
    assert ep.returns(theta[None], seed=3, repeats=2)[0] == np.mean([ep.play(theta, 3), ep.play(theta, 4)])


def test_rankings_of_returns_improve_a_cartpole_policy():
    out = train(
        "CartPole-v1",
        "rank-sgd",
        budget=300,
        seed=0,
        stop_when_solved=False,
        eval_episodes=5,
        options={"mu": 0.5, "eta": 1.0, "adapt": False},
    )
    start = Episodes("CartPole-v1").evaluate(0.1 * np.random.default_rng(0).standard_normal(5), 5)
    assert out["episodes"] <= 300
    assert out["final"] > max(2 * start, 100.0)


@pytest.mark.parametrize("method", ["rge", "cma"])
def test_baselines_run_under_the_same_budget(method):
    out = train("CartPole-v1", method, budget=40, seed=0, eval_episodes=2)
    assert out["episodes"] <= 40 and np.isfinite(out["final"])


def test_example_solves_cartpole_from_rankings():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, str(root / "examples/rank_rl.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "solved after" in out.stdout
