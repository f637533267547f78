"""Private-GSD: differentially private synthetic data with the record GA, in rho-zCDP.

Liu, Tang, Vietri, Wu, "Generating Private Synthetic Data with Genetic Algorithms", ICML 2023; the adaptive
select-measure-fit loop is that of RAP / AIM (Aydore et al. 2021; McKenna et al. 2022).

Given ``(epsilon, delta)``, the run's budget is ``rho = rho_from_eps(epsilon, delta)`` (tight conversion,
:mod:`zoo.synth.zcdp`), spent as follows (add / remove one record; counts; groups of :mod:`zoo.synth.queries`)::

    rho_n   = frac_n * rho                      the number of records, n_hat = n + N(0, 1 / (2 rho_n))
    rho_t   = rho_left / (T - t)                round t of T selects and measures K_t groups:
      select   g = EM(score, rho_sel = alpha rho_t / K)   score_g = (sum_{q in g} |c_q - n_hat a_q(S)|
                                                                     - sqrt(2/pi) sigma_g |g|) / l1_g
      measure  y_g = (c_g + N(0, sigma_g^2)) / n_hat,   sigma_g = l2_g / sqrt(2 rho_meas),
                                                          rho_meas = (1 - alpha) rho_t / K
      fit      the GA minimizes sum_{measured q} w_q (a_q(S) - y_q)^2,  w_q = (sigma_min / sigma_g)^2,
               starting from the last round's table S

``score`` is the L1 error of a group on the current synthetic table ``S`` (normalized by its L1 sensitivity,
so each score has sensitivity 1), less the error its measurement noise alone would leave (AIM's correction);
a group is measured once. Defaults: ``T = 8`` rounds, ``K_t = ceil(G_left / (T - t))`` groups (so every group
is measured and the last round spends what is left), ``alpha = 0.1``, ``frac_n = 0.01``. Noise comes only from the generator seeded by ``seed``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zoo.synth import zcdp
from zoo.synth.domain import Domain
from zoo.synth.fitness import WorkloadFitness
from zoo.synth.ga import RecordGA
from zoo.synth.queries import Workload


def as_workload(queries: Any, domain: Domain, seed: int) -> Workload:
    """A :class:`Workload` from a spec string (``"2way,range"``), a list of kinds and attribute tuples
    (``["2way", ("sex", "income", "race")]``), a Workload, or a function ``domain -> Workload``."""
    if isinstance(queries, Workload):
        if queries.domain is not domain and queries.domain.to_spec() != domain.to_spec():
            raise ValueError("the workload was built on another domain than the table's")
        return queries.build()
    if callable(queries):
        return as_workload(queries(domain), domain, seed)
    if isinstance(queries, str):
        return Workload.from_spec(domain, queries, seed=seed).build()
    if isinstance(queries, Sequence):
        kinds = [q for q in queries if isinstance(q, str)]
        tuples = [tuple(q) for q in queries if not isinstance(q, str)]
        if not kinds and not tuples:
            raise ValueError("queries is empty: give kinds such as '2way,range' or attribute tuples")
        wl = Workload.from_spec(domain, kinds, seed=seed) if kinds else Workload(domain)
        if tuples:
            wl.add_marginals(attrs=tuples)
        return wl.build()
    raise TypeError(
        f"queries must be a spec string, a list, a Workload or a callable, got {type(queries).__name__}"
    )


class PrivateGSD:
    """``PrivateGSD(epsilon=1.0, delta=1e-5, queries="2way,range", seed=0).fit(df).sample(n)``.

    ``n_records`` synthetic records (default ``min(n, 2000)``), ``rounds`` T, ``per_round`` K, ``budget``
    GA child evaluations per round (default ``24 * n_records * m / rounds``, at least 20000:
    about 24 changed values per table entry over the run).
    ``noise=False`` runs the same loop with exact answers and all groups measured (a non-private sanity
    check; its output is NOT private). ``callback(info)`` is called after each round.
    """

    def __init__(
        self,
        epsilon: float = 1.0,
        delta: float = 1e-5,
        queries: Any = "2way,range",
        *,
        domain: Domain | None = None,
        n_records: int | None = None,
        rounds: int = 8,
        per_round: int | None = None,
        budget: int | None = None,
        popsize: int = 32,
        alpha: float = 0.1,
        frac_n: float = 0.01,
        noise: bool = True,
        seed: int = 0,
        callback: Callable[[dict], None] | None = None,
    ) -> None:
        self.epsilon, self.delta = zcdp._check_eps_delta(epsilon, delta)
        for name, v in (("rounds", rounds), ("popsize", popsize)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        for name, v in (("n_records", n_records), ("per_round", per_round), ("budget", budget)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
                raise ValueError(f"{name} must be an int >= 1 (or None), got {v!r}")
        for name, v in (("alpha", alpha), ("frac_n", frac_n)):
            if not 0 < v < 1:
                raise ValueError(f"{name} must be in (0, 1), got {v!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise TypeError(f"seed must be a non-negative int, got {seed!r}")
        if isinstance(queries, str) and not queries.strip(",").strip():
            raise ValueError("queries is empty: give kinds such as '2way,range'")
        self.queries, self.domain = queries, domain
        self.n_records, self.rounds, self.per_round, self.budget = n_records, int(rounds), per_round, budget
        self.popsize, self.alpha, self.frac_n, self.noise = (
            int(popsize),
            float(alpha),
            float(frac_n),
            bool(noise),
        )
        self.seed, self.callback = int(seed), callback
        self.rho = zcdp.rho_from_eps(self.epsilon, self.delta)

    # ------------------------------------------------------------------ fit
    def fit(self, data: Any) -> PrivateGSD:
        """Run the private mechanism on ``data`` (a DataFrame, or an (n, m) array with ``domain=``)."""
        if self.domain is None:
            if isinstance(data, np.ndarray):
                raise ValueError("a numpy table needs domain= (the public schema of its columns)")
            self.domain_ = Domain.infer(data)
        else:
            self.domain_ = self.domain
        D = self.domain_.encode(data)
        seeds = np.random.SeedSequence(self.seed).spawn(self.rounds + 2)
        rng = np.random.Generator(np.random.PCG64(seeds[0]))
        self._sample_rng = np.random.Generator(np.random.PCG64(seeds[1]))
        wl = self.workload_ = as_workload(self.queries, self.domain_, self.seed)
        groups = wl.groups
        n, m, G = len(D), len(self.domain_), len(groups)
        N = self.n_records or min(n, 2000)
        budget = self.budget or max(20_000, 24 * N * m // self.rounds)
        real = wl.counts(D)
        acc = self.accountant_ = zcdp.Accountant(self.rho)
        if self.noise:
            n_hat = max(1.0, float(acc.gaussian(np.array([n]), 1.0, self.frac_n * self.rho, rng, "n")[0]))
        else:
            n_hat = float(n)
        y, w = np.zeros(wl.n_queries), np.zeros(wl.n_queries)
        measured = np.zeros(G, dtype=bool)
        S = self.domain_.uniform(N, rng)
        self.history_ = []
        fit = WorkloadFitness(wl, N, y, w)
        for t in range(self.rounds):
            if measured.all():
                break
            syn = wl.counts(S) * (n_hat / N)
            left = int((~measured).sum())
            # K groups this round: what is left spread over the rounds left (or per_round), and the budget
            # left spread over the rounds left, so the last round spends the rest (nothing is wasted)
            K = min(left, self.per_round or math.ceil(left / (self.rounds - t))) if self.noise else left
            if self.noise:
                rho_t = acc.remaining / (self.rounds - t)
                rho_sel, rho_meas = self.alpha * rho_t / K, (1 - self.alpha) * rho_t / K
            for _ in range(K):
                cand = np.flatnonzero(~measured)
                if self.noise:
                    sig = [zcdp.gaussian_sigma(rho_meas, groups[g].l2) for g in cand]
                    score = [
                        (np.abs(real[groups[g].start : groups[g].stop] - syn[groups[g].start : groups[g].stop]).sum()
                         - math.sqrt(2 / math.pi) * s * (groups[g].stop - groups[g].start)) / groups[g].l1
                        for g, s in zip(cand, sig)
                    ]  # fmt: skip
                    g = int(cand[acc.exponential(np.array(score), rho_sel, rng, f"select round {t}")])
                    gr = groups[g]
                    noisy = acc.gaussian(
                        real[gr.start : gr.stop], gr.l2, rho_meas, rng, f"measure {gr.label}"
                    )
                    y[gr.start : gr.stop] = noisy / n_hat
                    w[gr.start : gr.stop] = 1.0 / gr.l2**2  # (sigma_min / sigma_g)^2, sigma_g ~ l2_g
                else:
                    g = int(cand[0])
                    gr = groups[g]
                    y[gr.start : gr.stop] = real[gr.start : gr.stop] / n
                    w[gr.start : gr.stop] = 1.0
                measured[g] = True
            fit.set_target(y, w)
            opt = RecordGA(S.reshape(-1), sizes=self.domain_.sizes, n_records=N, popsize=self.popsize,
                           seed=int(seeds[t + 2].generate_state(1)[0] >> 1), budget=budget)  # fmt: skip
            while not opt.stop():
                X = opt.ask()
                opt.tell(X, fit.incremental(opt))
            S = opt.best_table
            a = wl.counts(S) / N
            sel = w > 0
            info = {
                "round": t + 1,
                "measured_groups": int(measured.sum()),
                "groups": G,
                "rho_spent": acc.spent,
                "fitness": float(opt.best[1]),
                # error against the noisy measurements: computed from private quantities only
                "measured_error": float(np.abs(a[sel] - y[sel]).mean()),
                "generations": opt.nit,
            }
            self.history_.append(info)
            if self.callback is not None:
                self.callback(info)
        self.table_ = S
        self.n_hat_ = n_hat
        return self

    # ------------------------------------------------------------------ use
    def sample(self, n: int | None = None):
        """``n`` synthetic records as a DataFrame (default: the fitted table, ``n_records`` rows).

        Fewer rows than the table: a random subset; more: the table repeated plus a random subset.
        """
        if not hasattr(self, "table_"):
            raise RuntimeError("call fit(data) before sample()")
        N = len(self.table_)
        if n is None:
            n = N
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        idx = np.concatenate([np.tile(np.arange(N), n // N), self._sample_rng.permutation(N)[: n % N]])
        return self.domain_.decode(self.table_[idx])

    @property
    def epsilon_spent(self) -> float:
        """The epsilon (at this delta) of what the accountant actually spent (<= epsilon)."""
        return zcdp.eps_from_rho(self.accountant_.spent, self.delta) if self.accountant_.spent > 0 else 0.0
