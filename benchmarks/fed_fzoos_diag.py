"""Per-round diagnosis of one FZooS run against FedZO on the same problem and seed (issue 12, session 5).

    .venv/bin/python benchmarks/fed_fzoos_diag.py levy-h0.5 110 [--fzoos k=v,...]

Prints, per round: FedZO's F, FZooS's reported F, the best F the server measured at a broadcast point,
the step factor S, the shared-preconditioner flag, and the means over the round's local steps and the clients of
|grad mu_i| (the GP gradient), |c| = |grad F_hat - grad f_hat_i| (the RFF correction before gamma_t), their
cosine, the own surrogate's relative gradient error |grad f_hat_i - grad mu_i| / |grad mu_i|, and the trust
max(0, 1 - |grad f_hat_i - grad mu_i|^2 / |c|^2) (a shrinkage factor from the own error, tried in session 5 and dropped), and the
mean trust ``trust="measured"`` gave it (the clients' state), and the cosine of the server's mean of the clients'
GP gradients at the broadcast point with F's true gradient there (central differences, uncounted).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import fed_suite  # noqa: E402

from zoo.federated import Simulator, make_algorithm  # noqa: E402
from zoo.federated.algorithms import fzoos as fz  # noqa: E402

LOG: list[dict] = []
_gp, _rff = fz.gp_gradient, fz.rff_gradient


def gp_gradient(*a, **k):
    g = _gp(*a, **k)
    LOG.append({"gp": np.linalg.norm(g, axis=1), "g": g.copy()})
    return g


GLOB: dict = {}  # the averaged RFF weights nu the server broadcasts this round


def rff_gradient(W, b, nu, x):
    """FZooS calls it with nu - nu_i (the correction; its last call in a step) and, with trust="measured", once
    at the last broadcast point first; the client's own surrogate's gradient is recomputed from nu - nu_i."""
    c = _rff(W, b, nu, x)
    LOG[-1]["c"] = c
    if "nu" in GLOB:
        LOG[-1]["own"] = _rff(W, b, GLOB["nu"][None, :] - nu, x)
    return c


fz.gp_gradient, fz.rff_gradient = gp_gradient, rff_gradient


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("problem")
    ap.add_argument("seed", type=int)
    ap.add_argument("--fzoos", default="")
    args = ap.parse_args()
    opts = {}
    for item in filter(None, args.fzoos.split(",")):
        k, v = item.split("=")
        opts[k] = fed_suite._value(v)
    make, rounds = {**fed_suite.PROBLEMS, **fed_suite.HELDOUT}[args.problem]
    problem = make(args.seed)
    base = fed_suite.run_one(problem, "fedzo", args.seed, rounds)
    target = base["F"][-1]
    sim = Simulator(problem, make_algorithm("fzoos", **opts), seed=args.seed, budget=int(base["queries"][-1]))
    print(f"{args.problem} seed {args.seed}: FedZO final {target:.5g}")
    print(
        "rnd  FedZO_F   FZooS_F   best_F     S     lin  |gp|     |c|      cos(gp,c) relerr_own shrink measured cos(G,gradF)"
    )
    for r in range(3 * rounds):
        LOG.clear()
        srv_before = {k: np.copy(v) for k, v in sim.server.items()}
        x_t = sim.algorithm.broadcast(sim.server, r)["x"].copy()
        if sim.budget_left() is not None and sim.budget_left() <= 0:
            break
        GLOB.clear()
        if sim.server["mixed"][0] > 0:
            GLOB["nu"] = sim.server["nu"].copy()
        rec = sim.step()
        s = sim.server
        st = [stats(e) for e in LOG]
        keys = {k for t in st for k in t}
        m = {k: float(np.mean([t[k] for t in st if k in t])) for k in keys}
        print(
            f"{r:3d}  {base['F'][min(r + 1, len(base['F']) - 1)]:9.4g} {rec['F']:9.4g} {s['best_F'][0]:9.4g} "
            f"{s['step'][0]:6.3f} {int(s['linear'][0])}  {m.get('gp', np.nan):8.3g} {m.get('c', 0):8.3g} "
            f"{m.get('cos', 0):6.2f} {m.get('relerr', 0):6.2f} {m.get('a', 0):5.2f} {measured(sim):5.2f} "
            f"{true_cos(problem, x_t, s.get('G')) if int(s.get('G_t', [-1])[0]) == r else np.nan:6.2f}"
            f"{'  UNDO' if np.array_equal(s['x'], srv_before['best_x']) and r > 0 else ''}"
        )
    print(
        f"final FZooS {sim.history.F[-1]:.5g} vs FedZO {target:.5g}: {'reached' if np.min(sim.history.F) <= target else 'MISSED'}"
    )
    return 0


def stats(e):
    """Means over the clients of one step: |grad mu_i|, |c| = |grad F_hat - grad f_hat_i|, cos(grad mu_i, c),
    |grad f_hat_i - grad mu_i| / |grad mu_i| and the trust max(0, 1 - |grad f_hat_i - grad mu_i|^2 / |c|^2)."""
    g = e["g"]
    out = {"gp": float(np.mean(np.linalg.norm(g, axis=1)))}
    if "c" in e and "own" in e:
        own, c = e["own"], e["c"]
        err2 = np.sum((own - g) ** 2, axis=1)
        out.update(
            c=float(np.mean(np.linalg.norm(c, axis=1))),
            cos=cosine(g, c),
            relerr=float(np.mean(np.sqrt(err2) / np.linalg.norm(g, axis=1))),
            a=float(np.mean(np.clip(1 - err2 / np.maximum(np.sum(c * c, axis=1), 1e-300), 0, 1))),
        )
    return out


def measured(sim):
    """The mean over the clients of the trust ``trust="measured"`` gave their correction this round."""
    states = getattr(sim.engine, "states", {})
    t = [float(st["trust"][0]) for st in states.values() if "trust" in st]
    return float(np.mean(t)) if t else float("nan")


def true_cos(problem, x, G, h=1e-5):
    """cos(G_t, grad F(x_t)): the server's mean of the clients' GP gradients at the broadcast point against
    F's gradient there by central differences on the problem's evaluator (uncounted: a diagnosis only)."""
    if G is None:
        return float("nan")
    F = problem.evaluator
    E = np.eye(len(x)) * h
    grad = np.array([(F(x + e) - F(x - e)) / (2 * h) for e in E])
    return float(G @ grad / (np.linalg.norm(G) * np.linalg.norm(grad)))


def cosine(a, b):
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    return float(np.mean(np.sum(a * b, axis=1) / np.maximum(na * nb, 1e-300)))


if __name__ == "__main__":
    raise SystemExit(main())
