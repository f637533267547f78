"""Rank weights (one code path), cycle counting, and the rank oracles built from value objectives."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.core.feedback import Comparisons, normalize_comparisons
from zoo.core.oracle import BudgetExhausted
from zoo.core.rank_oracle import RankOracle
from zoo.core.ranking import (
    cycle_rank,
    edge_weights,
    n_ranking_edges,
    rank_weights,
    strongly_connected_components,
)


@pytest.mark.parametrize("m", [2, 5, 10])
def test_rank_weights_equal_the_edge_sum_of_the_implied_pairs(m):
    rng = np.random.default_rng(m)
    for k in range(1, m + 1):
        ranking = rng.permutation(m)[:k]
        c = Comparisons(n=m, ranking=ranking)
        assert np.array_equal(rank_weights(m, ranking), edge_weights(m, c.pairs))
        assert c.n_edges == len(c.pairs) == n_ranking_edges(m, k)


def test_full_ranking_weights_are_centred_linear_ranks():
    w = rank_weights(5, np.array([2, 0, 4, 1, 3]))
    assert w.sum() == 0
    assert list(w[[2, 0, 4, 1, 3]]) == [-4, -2, 0, 2, 4]


def test_top_k_weights_follow_the_closed_form():
    w = rank_weights(6, np.array([4, 1]))  # k = 2: rank r gets 2r - m + 1, unranked +k
    assert w[4] == -5 and w[1] == -3
    assert all(w[i] == 2 for i in (0, 2, 3, 5))


def test_cycles_are_counted_not_fatal():
    assert cycle_rank(3, np.array([[0, 1], [1, 2]])) == 0
    assert cycle_rank(3, np.array([[0, 1], [1, 2], [2, 0]])) == 1
    assert cycle_rank(2, np.array([[0, 1], [1, 0]])) == 1
    assert cycle_rank(5, np.array([[0, 1], [1, 0], [2, 3], [3, 4], [4, 2]])) == 2
    comp = strongly_connected_components(4, np.array([[0, 1], [1, 2], [2, 0], [2, 3]]))
    assert comp[0] == comp[1] == comp[2] != comp[3]
    c = normalize_comparisons(3, pairs=[(0, 1), (1, 2), (2, 0)])
    assert c.n_cycles == 1 and np.all(c.weights() == 0)


def test_best_of_comparisons():
    assert normalize_comparisons(4, ranking=[2, 0]).best() == 2
    assert normalize_comparisons(4, pairs=[(3, 0), (3, 1), (1, 2)]).best() == 3
    assert normalize_comparisons(3, pairs=[(0, 1), (1, 2), (2, 0)]).best() == 0  # a tie goes to the lowest


def sphere(X):
    return np.sum(np.asarray(X) ** 2, axis=1)


def test_rank_oracle_kinds_answer_the_true_order():
    X = np.arange(6.0)[::-1, None] * np.ones((1, 2))  # values decrease with the row index
    full = RankOracle(sphere, dim=2, kind="full")(X)
    assert list(full.ranking) == [5, 4, 3, 2, 1, 0]
    top = RankOracle(sphere, dim=2, kind="topk", k=2)(X)
    assert list(top.ranking) == [5, 4]
    pairs = RankOracle(sphere, dim=2, kind="pairs", seed=1)(X)
    assert pairs.pairs.shape == (3, 2)
    assert sorted(pairs.pairs.ravel()) == list(range(6))  # m/2 disjoint pairs: each point once
    assert all(w > loser for w, loser in pairs.pairs)
    some = RankOracle(sphere, dim=2, kind="pairs", n_pairs=20, seed=2)(X)
    assert len(some.pairs) == 20 and np.all(some.pairs[:, 0] > some.pairs[:, 1])


def test_rank_oracle_counts_queries_and_enforces_budget():
    oracle = RankOracle(sphere, dim=2, budget=5)
    oracle(np.zeros((3, 2)))
    assert oracle.nfev == 3
    with pytest.raises(BudgetExhausted):
        oracle(np.zeros((3, 2)))


def test_noise_flips_only_close_pairs_and_is_seeded():
    X = np.array([[0.0], [1.0], [1.05], [3.0]])

    def f(Z):
        return Z[:, 0]

    noisy = RankOracle(f, dim=1, kind="full", flip_prob=1.0, close=0.1, seed=0)
    assert list(noisy(X).ranking) == [0, 2, 1, 3]  # only the close pair (1, 2) is swapped
    a = RankOracle(f, dim=1, kind="pairs", n_pairs="all", flip_prob=0.4, seed=3)(X).pairs
    b = RankOracle(f, dim=1, kind="pairs", n_pairs="all", flip_prob=0.4, seed=3)(X).pairs
    assert np.array_equal(a, b)
    cycles = [
        RankOracle(f, dim=1, kind="pairs", n_pairs="all", flip_prob=0.5, seed=s)(X).n_cycles
        for s in range(20)
    ]
    assert max(cycles) > 0  # noisy all-pairs answers can be cyclic, like a person's


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "best"}, "kind"),
        ({"kind": "topk"}, "k >= 1"),
        ({"flip_prob": 1.5}, "flip_prob"),
        ({"kind": "pairs", "n_pairs": "some"}, "n_pairs"),
    ],
)
def test_rank_oracle_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RankOracle(sphere, dim=2, **kwargs)
