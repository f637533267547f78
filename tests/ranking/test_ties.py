"""Ties in rank feedback: a ranking item may be a list of tied indices, a pair list may hold (a, "=", b);
tied points get equal rank and no edge between them (issue #14)."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.core.feedback import normalize_comparisons
from zoo.core.ranking import edge_weights
from zoo.session import parse_answer
from zoo.session.answers import AnswerError, validate_answer


def test_tied_ranking_weights_equal_the_edges_it_implies():
    c = normalize_comparisons(6, ranking=[[3, 0], 5, [1, 4]])  # point 2 unranked
    assert c.has_ties and list(c.ranking) == [3, 0, 5, 1, 4] and list(c.groups) == [0, 0, 1, 2, 2]
    edges = {tuple(e) for e in c.pairs.tolist()}
    assert (3, 0) not in edges and (0, 3) not in edges and (1, 4) not in edges
    assert (3, 5) in edges and (0, 2) in edges and (4, 2) in edges
    assert (
        c.n_edges == len(c.pairs) == 15 - 1 - 1
    )  # the 5 ranked points' 10 + 5 vs the unranked, minus 2 ties
    w = c.weights()
    assert np.array_equal(w, edge_weights(6, c.pairs))
    assert w[3] == w[0] and w[1] == w[4] and w.sum() == 0


def test_a_ranking_without_real_ties_is_the_plain_ranking():
    a = normalize_comparisons(4, ranking=[[2], 0, [1]])
    b = normalize_comparisons(4, ranking=[2, 0, 1])
    assert (
        a.groups is None
        and np.array_equal(a.weights(), b.weights())
        and a.as_kwargs()["ranking"].tolist() == [2, 0, 1]
    )


def test_tied_pairs_add_no_edge():
    c = normalize_comparisons(4, pairs=[(0, 1), (2, "=", 3)])
    assert c.has_ties and c.pairs.tolist() == [[0, 1]] and c.ties_given.tolist() == [[2, 3]]
    assert np.array_equal(c.weights(), edge_weights(4, np.array([[0, 1]])))
    only_ties = normalize_comparisons(3, pairs=[(0, "=", 1)])
    assert only_ties.n_edges == 0 and only_ties.winner() is None
    again = normalize_comparisons(4, **c.as_kwargs())  # the kwargs form round-trips
    assert again.pairs.tolist() == [[0, 1]] and again.ties_given.tolist() == [[2, 3]]


def test_a_tie_at_the_top_keeps_the_lowest_index():
    c = normalize_comparisons(4, ranking=[[2, 0], 1])
    assert c.best() == 0 and c.winner() is None
    assert normalize_comparisons(4, **c.as_kwargs()).groups.tolist() == [0, 0, 1]


def test_rank_sgd_takes_ties_as_equal_rank():
    opt = zoo.make("rank-sgd", x0=np.zeros(3), seed=1, m=4, direction="unit")
    X = opt.ask()
    opt.tell(X, ranking=[[1, 2], 0, 3])
    ref = zoo.make("rank-sgd", x0=np.zeros(3), seed=1, m=4, direction="unit")
    Xr = ref.ask()
    g = normalize_comparisons(4, ranking=[[1, 2], 0, 3])
    xi = (Xr - np.zeros(3)) / ref.state.probe["mu"]  # the radius this probe used (mu=None follows the scale)
    expected = g.weights() @ xi / g.n_edges  # the estimate with the tie's shared rank
    assert np.allclose(opt.state.g, expected)
    ref.tell(Xr, ranking=[1, 2, 0, 3])
    assert not np.allclose(opt.state.g, ref.state.g)  # the tie changed the estimate


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"ranking": [[0, 1], 1]}, "more than once"),
        ({"ranking": [[], 1]}, "empty tie group"),
        ({"ranking": [[0, [1]], 2]}, "nested"),
        ({"ranking": [[0, 9]]}, "outside the batch"),
        ({"pairs": [(0, "~", 1)]}, "a tie is written"),
        ({"pairs": [(0, "=", 0)]}, "names one point twice"),
        ({"pairs": [(0, "=", 7)]}, "outside the batch"),
    ],
)
def test_bad_ties_are_clear_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        normalize_comparisons(4, **kw)


def test_terminal_answers_with_ties():
    assert parse_answer("3=1 4", 4) == {"ranking": [[2, 0], 3]}
    assert parse_answer("3 = 1 = 2, 4", 4) == {"ranking": [[2, 0, 1], 3]}
    assert parse_answer("3>1, 2=4", 4) == {"pairs": [(2, 0), (1, "=", 3)]}
    with pytest.raises(AnswerError, match="twice"):
        parse_answer("1=2 2", 4)
    with pytest.raises(AnswerError, match="itself"):
        parse_answer("1>2, 3=3", 4)


@pytest.mark.parametrize(
    "answer, match",
    [
        ({"rank": [0, 1]}, "one key, 'ranking' or 'pairs'"),
        ({"ranking": [0], "pairs": [[0, 1]]}, "one key"),
        ({"ranking": 3}, "must be a list"),
        ({"ranking": ["a"]}, "integer indices"),
        ({"ranking": [0.5]}, "integer indices"),
        ({"ranking": [10**30]}, "integer indices"),
        ({"pairs": [[0, 1, 2]]}, "pairs"),
        (["not", "a", "dict"], "got list"),
    ],
)
def test_dict_answers_with_a_wrong_shape_are_answer_errors(answer, match):
    # before: a dict with a wrong key reached tell(**answer) and raised a raw TypeError
    with pytest.raises(AnswerError, match=match):
        validate_answer(answer, 4)
