"""Two-point random gradient estimates as methods: RGE / ZO-SGD (Nesterov & Spokoiny 2017; Ghadimi & Lan 2013),
SPSA (Spall 1992), ZO-signSGD (Liu et al., ICLR 2019), ZO-AdaMM (Chen et al., NeurIPS 2019).

The formula (forward ``g = (1/q) sum_i (f(x + mu u_i) - f(x)) / mu u_i``, central
``g = (1/q) sum_i (f(x + mu u_i) - f(x - mu u_i)) / (2 mu) u_i``) and the probes live in the estimate core,
:mod:`zoo.estimators.formulas.two_point` and :mod:`~zoo.estimators.formulas.probes`; these classes call it with a
batch of one, as the federated clients call it with one row per client and ``zoo.torch`` through its in-place form.

Directions: ``gaussian`` u ~ N(0, I); ``sphere`` u uniform on the sphere of radius sqrt(d) (the usual
"unit sphere times d" estimator, written so that E[u u^T] = I for every choice); ``rademacher`` u in {-1, +1}^d
(SPSA); ``orthogonal=True`` orthogonalizes the q directions (q <= d) and scales them to norm sqrt(d).
``g`` estimates the gradient of the Gaussian (or sphere) smoothing ``f_mu(x) = E f(x + mu u)``; its cosine
with the true gradient grows like sqrt(q/d).

Random numbers: ``noise="table"`` (default) reads Gaussian directions from a shared pre-drawn table at random
offsets (see :mod:`zoo.kernels.noise`): a direction costs one integer, not d fresh normals, and the probe batch
and the estimate are assembled by Numba kernels. ``noise="rng"`` draws fresh numbers from the optimizer's
generator; Rademacher and orthogonal directions always do.

Step and radius: by default (``lr=None``, ``mu=None``) the success-based step-size control of
:mod:`zoo.estimators.base` (:class:`zoo.updates.SuccessStep`): the rule's direction, a length adapted from the
centre values, ``mu`` following the length. ``lr=`` / ``mu=`` numbers fix them (the step then stays guarded).

Learned metric: ``rge``'s default (``metric="auto"``, d <= 200, deterministic values, no bounds) queries
``[x, x +- mu v_j]`` along ``v_j = A z_j`` and steps by the curvature's line steps in the learned factor ``A``
(:mod:`zoo.updates.metric_step`, :mod:`zoo.estimators.formulas.curvature`); ``zo-adam`` is ``rge`` without it.

Saddle escape: ``perturbation="auto"`` (or a radius) adds the isotropic perturbation of Ren, Tang & Li (ICML
2023) when the estimate is small (:mod:`zoo.estimators.perturbation`; with ``difference="central"`` and ``q = m``
this is their method with ``2m`` queries per step).

A non-finite value drops its direction from the average; a non-finite f(x) (forward form) undoes the step that
led there.
"""

from __future__ import annotations

import dataclasses

from zoo.core.method import evolve
from zoo.core.registry import register
from zoo.core.validate import check_choice, check_int
from zoo.estimators import perturbation as _perturbation
from zoo.estimators.base import GradientMethod, GradientParams, GradientState, draws_nothing
from zoo.estimators.formulas import curvature, probes, two_point
from zoo.kernels import noise as _noise
from zoo.updates.base import make_rule
from zoo.updates.metric_step import MetricStep

_DIRECTIONS = probes.DIRECTIONS
_METRICS = ("auto", "full", "diag", None)

#: ``metric="auto"`` learns a full factor up to this dimension (``O(q d^2)`` per step, ``d^2`` numbers of state)
#: and uses no metric above it (the plain rule, as before issue 16's metric)
FULL_METRIC_MAX_DIM = 200


@dataclasses.dataclass(frozen=True)
class RGEParams(GradientParams):
    q: int | None = None  # directions per step; None: 2 with the learned metric, else 1
    directions: str = "gaussian"
    difference: str = "forward"
    orthogonal: bool = False
    noise: str = "table"
    use_numba: bool = True
    perturbation: float | str | None = None  # saddle escape (zoo.estimators.perturbation): None, "auto", r
    perturbation_threshold: float | None = None
    perturbation_every: int | None = None
    metric: str | None = "auto"  # learned metric (zoo.updates.metric_step): "auto", "full", "diag", None

    def check(self, dim: int) -> None:
        super().check(dim)
        check_choice(self.metric, "metric", _METRICS)
        _perturbation.check(self.perturbation, self.perturbation_threshold, self.perturbation_every)
        if self.q is not None:
            check_int(self.q, "q (number of directions)", 1)
        check_choice(self.directions, "directions", _DIRECTIONS)
        check_choice(self.difference, "difference", ("forward", "central"))
        check_choice(self.noise, "noise", ("table", "rng"))
        if self.orthogonal and (self.q or 1) > dim:
            raise ValueError(f"orthogonal directions need q <= d; got q={self.q}, d={dim}")


@register("rge")
class RGE(GradientMethod):
    """Random gradient estimate: line steps in a learned metric (default, d <= 200), else Adam (ZO-AdaMM).

    ``metric="auto"`` (:mod:`zoo.updates.metric_step`) learns a full factor up to :data:`FULL_METRIC_MAX_DIM`
    on a deterministic problem without bounds; above it, under noise, on a stochastic objective or after the
    model check hands over, the estimate feeds an update rule (``update``, default Adam): ``zo-adam``."""

    Params = RGEParams
    _table: bool | None = (
        None  # whether the probes come from the noise table (fixed by the params), once found
    )

    def _setup(self) -> None:
        super()._setup()
        self._metric = self._metric_kind()
        # q=None is resolved here, from the options, d and the bounds (what _setup may depend on): two directions
        # a step with the metric (on Rosenbrock d = 20, 10 seeds, 1000 d queries, q = 1 ended at a median f of
        # 8e-10, q = 2 at 1e-28, q = 4 at 5e-29: benchmarks/RESULTS.md, issue 16, session 5), else one
        if self.params.q is None:
            self.params = dataclasses.replace(self.params, q=2 if self._metric is not None else 1)
        if self._metric is not None:
            self.rule = MetricStep(make_rule(self.params.update, 1.0), metric=self._metric)

    def _metric_kind(self) -> str | None:
        """The metric this run learns: ``metric="auto"`` is ``"full"`` up to :data:`FULL_METRIC_MAX_DIM`, else
        none, and none whenever an option fixes what the metric's step replaces (a learning rate, a transform
        as ``update``, ``mu``) or its probes (bounds, which clip them; central differences, other directions,
        the perturbation); an explicit ``"full"`` / ``"diag"`` with one of those is an error."""
        p = self.params
        blockers = [
            name
            for name, on in (
                ("lr", p.lr is not None),
                ("update as a transform", not isinstance(p.update, str)),
                ("mu", p.mu is not None),
                ("bounds", self.bounds is not None),
                ("difference='central'", p.difference != "forward"),
                (f"directions={p.directions!r}", p.directions != "gaussian"),
                ("orthogonal", bool(p.orthogonal)),
                ("perturbation", p.perturbation is not None),
            )
            if on
        ]
        if p.metric == "auto":
            return "full" if not blockers and self.dim <= FULL_METRIC_MAX_DIM else None
        if p.metric is not None and blockers:
            raise ValueError(
                f"metric={p.metric!r} learns the step and its own probes; it does not combine with "
                f"{', '.join(blockers)} (use metric=None for the plain rule)"
            )
        return p.metric

    def _metric_on(self, state: GradientState) -> bool:
        return self._metric is not None and not state.rule["plain"]

    def _uses_table(self) -> bool:
        table = self._table
        if table is None:  # fixed by the params: found once, not at every ask
            p = self.params
            table = self._table = p.noise == "table" and p.directions != "rademacher" and not p.orthogonal
        return table

    def _batch_size(self, state: GradientState) -> int:
        if self._metric_on(state):
            return 1 + 2 * self.params.q  # [x, x + mu v_j, x - mu v_j]
        return two_point.n_queries(self.params.q, self.params.difference)

    def _centre_row(self, state: GradientState) -> int | None:
        return 0 if self.params.difference == "forward" else None  # rows [x, x + mu u_j] / [x +- mu u_j]

    def _probe(self, x, rng):
        p = self.params
        d = x.shape[0]
        mu = self._mu(self.state)
        if self._metric_on(self.state):  # v_j = A z_j, z_j fresh normals (the factor mixes every coordinate)
            Z = rng.standard_normal((p.q, d))
            V = self.rule.directions(self.state.rule, Z)
            return curvature.points(x, V, mu), {"Z": Z, "mu": mu}
        if self._uses_table():
            offsets = _noise.draw_offsets(rng, p.q, d)
            X, scales = two_point.table_points(
                x[None, :], offsets[None, :], mu, p.difference, p.directions == "sphere", p.use_numba
            )
            return X[0], {"offsets": offsets, "scales": scales[0], "mu": mu}
        U = probes.draw(rng, p.q, d, p.directions, p.orthogonal)
        return two_point.points(x[None, :], U[None], mu, p.difference)[0], {"U": U, "mu": mu}

    @draws_nothing
    def _estimate(self, state, X, values):
        p = self.params
        probe = state.probe
        mu = float(probe["mu"])
        if "Z" in probe:  # the metric's batch: the preconditioned estimate mean_j D_j v_j, E = A A^T grad f
            first, _ = curvature.three_point(values, p.q)
            return curvature.estimate(state.rule["A"], probe["Z"], first, mu)
        finite = self.finite_values(values)  # (tell has scanned them: not again)
        if self.bounds is not None:  # clipped probes: use the displacement actually queried
            g, ok = two_point.estimate(values[None, :], mu, p.difference, X=X[None], finite=finite)
        elif "offsets" in probe:
            table = (probe["offsets"][None, :], probe["scales"][None, :], X.shape[1])
            g, ok = two_point.estimate(
                values[None, :], mu, p.difference, table=table, use_numba=p.use_numba, finite=finite
            )
        else:
            g, ok = two_point.estimate(values[None, :], mu, p.difference, U=probe["U"][None], finite=finite)
        return g[0] if ok[0] else None

    @draws_nothing  # it only hands the directions over to the rule, then the base's _tell
    def _tell(self, state, X, values, rng):
        Z = state.probe.get("Z")
        if Z is not None:  # the metric's step needs the batch's directions: handed to the rule in its state
            state = evolve(state, rule={**state.rule, "Z": Z})
        return super()._tell(state, X, values, rng)

    def outcome(self):
        out = super().outcome()
        if self._metric is not None and "step_control" in out:
            plain = bool(self.state.rule["plain"])
            out["step_control"]["metric"] = self._metric
            # metric_used False: noise was measured (or the objective is stochastic), the plain rule took over
            out["step_control"]["metric_used"] = not plain
            if plain:
                out["step_control"]["metric_handover"] = self.state.rule["handover"]
            else:
                out["step_control"]["length"] = float(self.state.rule["r"]) * self.rule.gain(self.state.rule)
        return out


def _preset(name: str, cls_name: str, doc: str, **defaults: object) -> type[RGE]:
    """An RGE with other defaults, registered as ``name``: its Params subclass only changes field defaults."""
    fields = [(k, type(v), dataclasses.field(default=v)) for k, v in defaults.items()]
    params = dataclasses.make_dataclass(f"{cls_name}Params", fields, bases=(RGEParams,), frozen=True)
    params.__module__ = __name__
    cls = type(cls_name, (RGE,), {"Params": params, "__doc__": doc, "__module__": __name__})
    return register(name)(cls)


ZOAdam = _preset(
    "zo-adam", "ZOAdam", "RGE + Adam without a metric: ZO-AdaMM (Chen et al., NeurIPS 2019).", metric=None
)
RGESGD = _preset(
    "zo-sgd", "RGESGD", "RGE + plain SGD, ZO-SGD (Ghadimi & Lan 2013).", update="sgd", metric=None
)
ZOSignSGD = _preset(
    "zo-signsgd",
    "ZOSignSGD",
    "RGE + sign descent (ZO-signSGD, Liu et al., ICLR 2019).",
    update="sign",
    q=10,
    metric=None,
)
SPSA = _preset(
    "spsa",
    "SPSA",
    "Simultaneous perturbation (Spall 1992): Rademacher directions, central differences, SGD.",
    directions="rademacher",
    difference="central",
    update="sgd",
    metric=None,
)
