"""Reinforcement learning from ranked episodes: CartPole-v1 with a linear policy, where the optimizer sees
only which candidate policies did better (the ranking of their episode returns), never a return.

    python examples/rank_rl.py          # about ten seconds
"""

from __future__ import annotations

import numpy as np

import zoo
from zoo.session.rl import Episodes

env = Episodes("CartPole-v1")  # a linear policy: push right when w . obs + b > 0
rng = np.random.default_rng(0)
opt = zoo.make(
    "rank-sgd",
    x0=0.1 * rng.standard_normal(env.policy.size),
    seed=0,
    budget=2000,
    mu=0.5,
    eta=1.0,
    adapt=False,
    antithetic=True,
)
while not opt.stop():
    X = opt.ask()  # candidate policies (rows); estimation and step-size batches alternate
    returns = env.returns(X, seed=int(rng.integers(2**31)))  # all candidates play the same episode
    opt.tell(X, ranking=np.argsort(-returns, kind="stable"))  # best first; the returns stay here
    if opt.phase == "estimate" and returns.max() >= 475:
        score = env.evaluate(opt.state.x, n=20)
        if score >= 475:
            print(f"solved after {env.n_episodes} training episodes: mean return {score:.1f} (20 episodes)")
            break
print(f"final policy: mean return {env.evaluate(opt.state.x, n=20):.1f} over 20 evaluation episodes")
