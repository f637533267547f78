"""The estimate core: every gradient-estimate formula of zoo, written once, batched over a leading axis.

Each function takes arrays whose first axis ``B`` indexes independent problems: the single run of a numpy
method (``B = 1``), the clients of a federated stack (``B = C``, vectorized, no loop per client), or anything
else that estimates many gradients at once. The arithmetic runs on numpy arrays or torch tensors alike
(:func:`zoo.core.arrays.namespace`); ``zoo.torch``, whose directions are regenerated from seeds and never
stored, uses the coefficients of the same formula and the in-place form of the same sum
(:func:`two_point.accumulate`).

- :mod:`.probes`: where to query -- directions (Gaussian, sphere, Rademacher, orthogonal, table offsets),
  coordinate subsets, rank probes.
- :mod:`.two_point`: the forward and central two-point estimate (RGE / SPSA / ZO-SGD).
- :mod:`.coordinate`: the coordinatewise estimate (CGE).
- :mod:`.rank`: the ranking estimate of ZO-RankSGD.
"""

from zoo.estimators.formulas import coordinate, probes, rank, two_point

__all__ = ["coordinate", "probes", "rank", "two_point"]
