"""The ranking estimate of ZO-RankSGD (Tang, Xiao, Dong, Hastie & Lee, "Zeroth-order optimization meets human
feedback: provable learning via ranking oracles", 2023), written once.

Probe points ``x + mu xi_i``, ``xi_i ~ N(0, I)`` (:func:`~zoo.estimators.formulas.probes.rank_directions`); from
the comparisons ("i beats j": lower f) with edge set ``E``::

    g = (1/|E|) * sum over edges (i beats j) of (xi_j - xi_i) = (1/|E|) * sum_i w_i xi_i

with ``w_i`` = (times i loses) - (times i wins) (:func:`zoo.core.ranking.edge_weights`). ``-g`` points towards
the better points. No edge makes the estimate unusable. Leading batch axis ``B``.
"""

from __future__ import annotations

from typing import Any


def estimate(weights: Any, n_edges: Any, xi: Any) -> tuple[Any, Any]:
    """``(g (B, d), ok (B,))`` from the edge weights ``w`` (B, m), the edge counts (B,) and ``xi`` (B, m, d)."""
    ok = n_edges > 0
    g = (weights[:, None, :] @ xi)[:, 0] / (n_edges + (~ok))[:, None]
    return g, ok
