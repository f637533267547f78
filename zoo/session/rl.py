"""Reinforcement learning from ranked episodes: policies, episode returns, and a training loop in which the
optimizer sees only the ranking of the returns (gymnasium classic control; extra ``gymnasium``).

Each batch of candidate policies is played on the same episode seeds (common random numbers), so the ranking
compares policies, not luck. ``train`` runs ``rank-sgd`` from rankings, zoo's value-based ``rge`` from
returns, or CMA-ES (pycma) told only rank positions, under one episode budget; the current policy (rank-sgd
and RGE: the iterate; CMA-ES: the mean) is evaluated on ``eval_episodes`` fresh seeds whenever a training
batch reaches the evaluation threshold. Evaluation episodes are not counted in the budget.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Policy:
    """A linear (``hidden=0``) or one-hidden-layer tanh policy over a flat parameter vector.

    Discrete actions (CartPole): linear scores per action, argmax (2 actions: one score, action = score > 0).
    Continuous (Pendulum): ``a = high * tanh(out)``.
    """

    obs_dim: int
    act_dim: int
    discrete: bool
    hidden: int = 0
    high: float = 1.0

    @property
    def n_out(self) -> int:
        return 1 if self.discrete and self.act_dim == 2 else self.act_dim

    @property
    def size(self) -> int:
        if self.hidden == 0:
            return (self.obs_dim + 1) * self.n_out
        return (self.obs_dim + 1) * self.hidden + (self.hidden + 1) * self.n_out

    def act(self, theta: np.ndarray, obs: np.ndarray) -> Any:
        o = np.append(np.asarray(obs, dtype=np.float64), 1.0)
        if self.hidden == 0:
            out = theta.reshape(self.n_out, self.obs_dim + 1) @ o
        else:
            k = (self.obs_dim + 1) * self.hidden
            h = np.append(np.tanh(theta[:k].reshape(self.hidden, self.obs_dim + 1) @ o), 1.0)
            out = theta[k:].reshape(self.n_out, self.hidden + 1) @ h
        if self.discrete:
            return int(out[0] > 0) if self.act_dim == 2 else int(np.argmax(out))
        return self.high * np.tanh(out)


TASKS: dict[str, dict[str, Any]] = {
    "CartPole-v1": {"hidden": 0, "solved": 475.0},
    "Pendulum-v1": {"hidden": 8, "solved": -400.0},
}


class Episodes:
    """Plays policies on one gymnasium environment; counts the training episodes."""

    def __init__(self, env_id: str, hidden: int | None = None) -> None:
        import gymnasium as gym

        self.env = gym.make(env_id)
        space = self.env.action_space
        discrete = hasattr(space, "n")
        self.policy = Policy(
            obs_dim=int(self.env.observation_space.shape[0]),
            act_dim=int(space.n) if discrete else int(space.shape[0]),
            discrete=discrete,
            hidden=TASKS.get(env_id, {}).get("hidden", 0) if hidden is None else hidden,
            high=1.0 if discrete else float(space.high[0]),
        )
        self.n_episodes = 0

    def play(self, theta: np.ndarray, seed: int) -> float:
        obs, _ = self.env.reset(seed=int(seed))
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = self.env.step(self.policy.act(theta, obs))
            total += float(reward)
            done = terminated or truncated
        return total

    def returns(self, thetas: np.ndarray, seed: int, repeats: int = 1) -> np.ndarray:
        """Mean return of each row of ``thetas`` over ``repeats`` episodes seeded ``seed, seed+1, ...``, the
        same for every row (each episode counted as training)."""
        self.n_episodes += len(thetas) * repeats
        return np.array([np.mean([self.play(t, seed + r) for r in range(repeats)]) for t in thetas])

    def evaluate(self, theta: np.ndarray, n: int = 20, seed: int = 10**6) -> float:
        """Mean return over ``n`` fresh evaluation episodes (not counted)."""
        return float(np.mean([self.play(theta, seed + i) for i in range(n)]))


def train(
    env_id: str,
    method: str,
    *,
    budget: int,
    seed: int = 0,
    options: dict[str, Any] | None = None,
    eval_episodes: int = 20,
    eval_threshold: float | None = None,
    stop_when_solved: bool = True,
    repeats: int = 1,
    eval_every: int | None = None,
    callback: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """Train a policy within ``budget`` training episodes. ``method``: ``"rank-sgd"`` (rankings only),
    ``"rge"`` (returns as values) or ``"cma"`` (pycma told rank positions only).

    Returns a dict: ``solved_at`` (training episodes when the evaluated policy first reached the task's
    ``solved`` return, or None), ``final`` (evaluation of the final policy), ``curve`` [(episodes, eval)].
    ``repeats``: each candidate's return is the mean over that many episodes (all counted). Evaluations
    happen when a training batch's best return reaches ``eval_threshold`` (default: the solved return),
    at most once per ``eval_every`` training episodes when given."""
    import zoo

    ep = Episodes(env_id)
    solved = TASKS.get(env_id, {}).get("solved", np.inf)
    threshold = solved if eval_threshold is None else eval_threshold
    rng = np.random.default_rng(seed)
    x0 = 0.1 * rng.standard_normal(ep.policy.size)  # the same start for every method (breaks MLP symmetry)
    curve: list[tuple[int, float]] = []
    solved_at = None

    next_eval = [0 if eval_every is None else int(eval_every)]

    def check(theta: np.ndarray, batch_best: float) -> bool:
        nonlocal solved_at
        if batch_best < threshold or ep.n_episodes < next_eval[0]:
            return False
        if eval_every is not None:
            next_eval[0] = (ep.n_episodes // eval_every + 1) * eval_every
        score = ep.evaluate(theta, eval_episodes)
        curve.append((ep.n_episodes, score))
        if callback is not None:
            callback(ep.n_episodes, score)
        if score >= solved and solved_at is None:
            solved_at = ep.n_episodes
        return solved_at is not None and stop_when_solved

    if method == "cma":
        import cma

        opts = {"popsize": 10, "seed": seed + 1, "verbose": -9, **(options or {})}
        sigma0 = opts.pop("sigma0", 0.5)
        es = cma.CMAEvolutionStrategy(x0, sigma0, opts)
        while ep.n_episodes + es.popsize * repeats <= budget:
            X = np.asarray(es.ask())
            ret = ep.returns(X, int(rng.integers(2**31)), repeats)
            es.tell(list(X), list(np.argsort(np.argsort(-ret, kind="stable")).astype(float)))  # ranks only
            if check(es.mean, float(ret.max())):
                break
        theta = np.asarray(es.mean)
    else:
        opt = zoo.make(method, x0=x0, seed=seed, budget=budget // repeats, **(options or {}))
        while not opt.stop():
            X = opt.ask()
            ret = ep.returns(X, int(rng.integers(2**31)), repeats)
            if method == "rank-sgd":
                opt.tell(X, ranking=np.argsort(-ret, kind="stable"))  # the optimizer sees the ranking only
            else:
                opt.tell(X, -ret)
            searched = method != "rank-sgd" or opt.phase == "estimate"  # a search batch was just told
            if searched and check(opt.state.x, float(ret.max())):
                break
        theta = opt.state.x
    return {
        "solved_at": solved_at,
        "final": ep.evaluate(theta, eval_episodes),
        "episodes": ep.n_episodes,
        "curve": curve,
        "theta": theta,
    }
