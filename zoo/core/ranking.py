"""Rank weights: the one code path shared by the rank-oracle estimator and rank-shaped updates.

A comparison graph on ``n`` points has edges ``(i, j)`` meaning "i beats j" (i is better, i.e. lower f).
ZO-RankSGD (Tang, Xiao, Dong, Hastie & Lee, "Zeroth-order optimization meets human feedback: provable
learning via ranking oracles", 2023) estimates a descent direction as::

    g = (1/|E|) * sum over edges (i beats j) of (xi_j - xi_i) = (1/|E|) * sum_i w_i xi_i,
    w_i = (#times i loses) - (#times i wins).

For a top-k ranking of m points every ranked point beats each lower-ranked and each unranked point, so the
weight has a closed form: the point of rank r (0-based) gets ``2r - m + 1``, every unranked point gets ``+k``,
and ``|E| = k(k-1)/2 + k(m-k)``. With a full ranking (k = m) these are exactly the **centred linear rank
weights** of rank-shaped evolution strategies (utility linear in the rank, summing to zero): the best point
gets the most negative weight, so ``x - eta * g`` moves towards the good points. Population methods that
rank-shape their update call :func:`rank_weights` too, so both share one code path.
"""

from __future__ import annotations

import numpy as np


def rank_weights(n: int, ranking: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Per-point weights of a top-k ranking (indices into ``n`` points, best first).

    Rank ``r`` (0-based) gets ``2r - n + 1``; each unranked point gets ``+k``. For ``k = n`` these are the
    centred linear rank weights of rank-shaped ES (sum zero, best point ``-(n-1)``, worst ``n-1``). Equal to
    :func:`edge_weights` of the edges the ranking implies (tests hold them equal).

    Ties: ``groups[r]`` labels the tie group of rank ``r`` (non-decreasing). Tied points share one rank, the
    mean of their positions: a group at positions ``a..b-1`` gets ``a + b - n`` each, which is again losses
    minus wins when tied points are not compared with each other (no edge inside a group).
    """
    ranking = np.asarray(ranking, dtype=np.int64)
    k = len(ranking)
    w = np.full(n, float(k))
    per_rank = 2.0 * np.arange(k) - n + 1.0
    if groups is not None and k:
        groups = np.asarray(groups, dtype=np.int64)
        per_rank = (np.bincount(groups, weights=per_rank) / np.bincount(groups))[groups]
    w[ranking] = per_rank
    return w


def n_ranking_edges(n: int, k: int, groups: np.ndarray | None = None) -> int:
    """``|E| = k(k-1)/2 + k(n-k)``: the comparisons a top-k ranking of ``n`` points implies; minus
    ``s(s-1)/2`` for each group of ``s`` tied points (they are not compared with each other)."""
    tied = 0
    if groups is not None and k:
        sizes = np.bincount(np.asarray(groups, dtype=np.int64))
        tied = int((sizes * (sizes - 1) // 2).sum())
    return k * (k - 1) // 2 + k * (n - k) - tied


def edge_weights(n: int, pairs: np.ndarray) -> np.ndarray:
    """Per-point weights of a list of edges ``(winner, loser)``: losses minus wins (cycles allowed)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return (np.bincount(pairs[:, 1], minlength=n) - np.bincount(pairs[:, 0], minlength=n)).astype(np.float64)


def cycle_rank(n: int, pairs: np.ndarray) -> int:
    """How many independent inconsistencies (cycles) a list of "i beats j" edges holds.

    The circuit rank of the strongly connected part of the graph: sum over strongly connected components with
    more than one point of ``(edges inside - points + 1)``. ``a>b, b>a`` counts 1; ``a>b, b>c, c>a`` counts 1;
    a consistent answer (a DAG) counts 0.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return 0
    comp = strongly_connected_components(n, pairs)
    total = 0
    for c in np.unique(comp):
        members = comp == c
        size = int(members.sum())
        if size < 2:
            continue
        inside = int(np.count_nonzero(members[pairs[:, 0]] & members[pairs[:, 1]]))
        total += inside - size + 1
    return total


def strongly_connected_components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Component label of each point (iterative Tarjan; small graphs, plain Python)."""
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in np.asarray(pairs, dtype=np.int64).reshape(-1, 2):
        adj[int(a)].append(int(b))
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    comp = np.full(n, -1, dtype=np.int64)
    counter = 0
    n_comp = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            if i < len(adj[v]):
                work.append((v, i + 1))
                u = adj[v][i]
                if index[u] == -1:
                    work.append((u, 0))
                elif on_stack[u]:
                    low[v] = min(low[v], index[u])
                continue
            if low[v] == index[v]:
                while True:
                    u = stack.pop()
                    on_stack[u] = False
                    comp[u] = n_comp
                    if u == v:
                        break
                n_comp += 1
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return comp


def copeland_scores(n: int, pairs: np.ndarray) -> np.ndarray:
    """Wins minus losses of each point (the negative of :func:`edge_weights`); higher is better."""
    return -edge_weights(n, pairs)
