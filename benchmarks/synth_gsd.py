"""Issue 17: zoo's Private-GSD beside smartnoise-synth's MST and AIM, a non-private sanity check, GA speed.

    PYTHONPATH=$PWD /work/main/.venv/bin/python benchmarks/synth_gsd.py            # all three parts
    PYTHONPATH=$PWD /work/main/.venv/bin/python benchmarks/synth_gsd.py --part speed

The anchors run in their own venv (smartnoise-synth pins an old torch through opacus; see the set-up lines in
benchmarks/synth_anchors.py), started from here as a separate process (``--anchor-python``), on the same
training rows, the same (epsilon, delta) and the same public bounds. Data: ``zoo.synth.data.census``
(20 000 rows from a known Bayesian network; 16 000 to train, 4 000 held out), nothing downloaded.

compare  epsilon in {0.3, 1, 3} x seeds {0, 1, 2}; per run: mean / max absolute error over all cells of all
         2-way and all 3-way marginals (over the 9 categorical attributes), mean absolute error of the 72 range
         queries (24 random intervals per numeric attribute), the accuracy of a logistic regression trained on the
         synthetic rows (predict income) and tested on the held-out real rows, wall time (fit + sample).
         zoo measures the workload "2-way marginals + the range queries"; MST and AIM see the table with each
         numeric column cut into 16 equal bins of its public bounds (what they need: discrete attributes), and
         their sampled bins are turned back into numbers uniformly within the bin. 3-way marginals are in
         nobody's training workload. MST and AIM are reported twice from one fit: sampled as smartnoise-synth
         does (mbi's randomized rounding) and i.i.d. from the same model ("-iid"; see synth_anchors.py).
         AIM runs with ``--aim-rounds 24`` (its default 16 * 12 = 192 rounds took too long on our machine).
sanity   no noise: the GA fits the exact answers; its error is printed beside the sampling floor, the error of
         a uniform random subset of the real rows of the same size (mean of 10 draws).
speed    records changed per second by the GA with incremental answers vs full recomputation (medians of 3).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np

from zoo.synth import PrivateGSD, RecordGA, Workload, WorkloadFitness, data

ROOT = Path(__file__).resolve().parents[1]
BINS = 16
EPSILONS = (0.3, 1.0, 3.0)
SEEDS = (0, 1, 2)
DELTA = 1e-5


def setup(n_total: int = 20_000, n_test: int = 4_000):
    dom = data.census_domain()
    df = data.census(n_total, seed=0)
    train, test = (
        df.iloc[: n_total - n_test].reset_index(drop=True),
        df.iloc[n_total - n_test :].reset_index(drop=True),
    )
    fit_wl = Workload.from_spec(dom, "2way,range", seed=0, n_per_column=24)
    eval_wl = Workload.from_spec(dom, "2way,3way,range", seed=0, n_per_column=24)
    return dom, train, test, fit_wl, eval_wl


def bin_table(X: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Numeric columns (encoded in [0, 1]) cut into BINS equal bins: every column an integer code."""
    out = X.copy()
    num = sizes == 0
    out[:, num] = np.minimum(np.floor(X[:, num] * BINS), BINS - 1)
    return out.astype(np.int64)


def unbin_table(C: np.ndarray, sizes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Back to encoded records: a bin becomes a number drawn uniformly within it."""
    out = C.astype(np.float64)
    num = sizes == 0
    out[:, num] = (C[:, num] + rng.random((len(C), int(num.sum())))) / BINS
    return out


def scores(S: np.ndarray, real: np.ndarray, eval_wl: Workload, dom, test_X: np.ndarray) -> dict:
    err = np.abs(eval_wl.answers(S) - real)
    kinds = eval_wl.kinds()
    out = {}
    for k in ("2way", "3way", "range"):
        out[f"{k}_mean"] = float(err[kinds == k].mean())
        out[f"{k}_max"] = float(err[kinds == k].max())
    out["lr_acc"], out["lr_auc"] = lr_scores(S, test_X, dom)
    return out


def features(X: np.ndarray, dom) -> tuple[np.ndarray, np.ndarray]:
    y_col = dom.index("income")
    cols = []
    for j, a in enumerate(dom.attributes):
        if j == y_col:
            continue
        if a.kind == "numeric":
            cols.append(X[:, j : j + 1])
        else:
            cols.append(np.eye(a.size)[X[:, j].astype(np.int64)])
    return np.hstack(cols), X[:, y_col].astype(np.int64)


def lr_scores(S: np.ndarray, test_X: np.ndarray, dom) -> tuple[float, float]:
    """Accuracy and ROC AUC on the held-out real rows of a logistic regression trained on ``S``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    Xs, ys = features(S, dom)
    Xt, yt = features(test_X, dom)
    if len(np.unique(ys)) < 2:  # one class only: the model predicts it everywhere
        return float(np.mean(yt == ys[0])), 0.5
    model = LogisticRegression(max_iter=2000).fit(Xs, ys)
    return float(model.score(Xt, yt)), float(roc_auc_score(yt, model.predict_proba(Xt)[:, 1]))


def _alive(pidfile: Path) -> bool:
    if not pidfile.exists():
        return False
    try:
        pid = int(pidfile.read_text())
    except ValueError:
        return False
    try:  # reap it if it is our own child: a finished child stays a zombie that os.kill still finds
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:  # not our child (started by an earlier, interrupted run)
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def run_anchors(args, train_codes_csv: Path, out_dir: Path, n: int) -> list:
    """Start MST and AIM, each in its own process (unless one from an interrupted run is still going)."""
    procs = []
    for method in ("mst", "aim"):
        pidfile = out_dir / f"{method}.pid"
        if _alive(pidfile):
            procs.append((method, pidfile))
            continue
        cmd = [args.anchor_python, str(ROOT / "benchmarks" / "synth_anchors.py"), "--train", str(train_codes_csv),
               "--out", str(out_dir), "--method", method, "--epsilons", ",".join(f"{e:g}" for e in args.epsilons),
               "--seeds", ",".join(map(str, args.seeds)), "--delta", str(DELTA), "--n", str(n)]  # fmt: skip
        if method == "aim" and args.aim_rounds:
            cmd += ["--aim-rounds", str(args.aim_rounds)]
        with open(out_dir / f"{method}.log", "a") as log:
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        pidfile.write_text(str(p.pid))
        procs.append((method, pidfile))
    return procs


def start_anchors(args) -> tuple[list, Path]:
    """Bin the training rows for MST and AIM and start them; they run while zoo does."""
    import pandas as pd

    dom, train, *_ = setup()
    D = dom.encode(train)
    tmp = Path(args.work)
    tmp.mkdir(parents=True, exist_ok=True)
    codes = tmp / "train_codes.csv"
    if not codes.exists():
        pd.DataFrame(bin_table(D, dom.sizes), columns=list(dom.names)).to_csv(codes, index=False)
    return (run_anchors(args, codes, tmp, len(D)) if args.anchors else []), tmp


def compare(args, procs: list, tmp: Path) -> dict:
    import pandas as pd

    dom, train, test, fit_wl, eval_wl = setup()
    D, T = dom.encode(train), dom.encode(test)
    real = eval_wl.answers(D)
    rows = []
    times = tmp / f"zoo_{args.records}.jsonl"
    for eps in args.epsilons:
        for seed in args.seeds:
            path = tmp / f"zoo_{args.records}_{eps:g}_{seed}.npy"
            if not path.exists():  # else: fitted by an earlier, interrupted run
                t0 = time.perf_counter()
                gsd = PrivateGSD(
                    epsilon=eps, delta=DELTA, queries=fit_wl, domain=dom, n_records=args.records, seed=seed
                )
                S = dom.encode(gsd.fit(train).sample())
                sec = time.perf_counter() - t0
                assert gsd.accountant_.spent <= gsd.rho * (1 + 1e-12)
                np.save(path, S)
                with open(times, "a") as fh:
                    fh.write(json.dumps({"epsilon": eps, "seed": seed, "seconds": sec}) + "\n")
            sec = [json.loads(x) for x in times.read_text().splitlines()]
            sec = [x["seconds"] for x in sec if x["epsilon"] == eps and x["seed"] == seed][-1]
            r = {
                "method": "zoo-gsd",
                "epsilon": eps,
                "seed": seed,
                "seconds": sec,
                **scores(np.load(path), real, eval_wl, dom, T),
            }
            rows.append(r)
            print(json.dumps(r), flush=True)
    for _, pidfile in procs:
        while _alive(pidfile):
            time.sleep(10)
    for method in ("mst", "mst-iid", "aim", "aim-iid"):
        path = tmp / f"{method}.jsonl"
        for line in path.read_text().splitlines() if path.exists() else []:
            info = json.loads(line)
            if info["epsilon"] not in args.epsilons or info["seed"] not in args.seeds:
                continue
            C = pd.read_csv(info["path"])[list(dom.names)].to_numpy()
            S = unbin_table(C, dom.sizes, np.random.Generator(np.random.PCG64(info["seed"])))
            r = {"method": method, "epsilon": info["epsilon"], "seed": info["seed"], "seconds": info["seconds"],
                 **scores(S, real, eval_wl, dom, T)}  # fmt: skip
            rows.append(r)
            print(json.dumps(r), flush=True)
    # references: the real training rows themselves, and always predicting the majority class
    rows.append(
        {
            "method": "real-train",
            "epsilon": float("inf"),
            "seed": 0,
            "seconds": 0.0,
            **scores(D, real, eval_wl, dom, T),
        }
    )
    print(f"majority class accuracy on the held-out rows: {np.mean(features(T, dom)[1] == 0):.4f}")
    report(rows, args.epsilons)
    return {"rows": rows}


def report(rows: list[dict], epsilons) -> None:
    cols = ("2way_mean", "2way_max", "3way_mean", "3way_max", "range_mean", "lr_acc", "lr_auc", "seconds")
    print("\nmean over seeds (per-seed rows above)")
    print("| epsilon | method | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 2) + "|")
    methods = sorted({r["method"] for r in rows if r["method"] != "real-train"})
    best = {}
    for eps in epsilons:
        for m in methods:
            rs = [r for r in rows if r["method"] == m and r["epsilon"] == eps]
            if not rs:
                continue
            mean = {c: float(np.mean([r[c] for r in rs])) for c in cols}
            best.setdefault(eps, {})[m] = mean
            fmt = [f"{mean[c]:.4f}" if c != "seconds" else f"{mean[c]:.0f}" for c in cols]
            print(f"| {eps:g} | {m} ({len(rs)} seeds) | " + " | ".join(fmt) + " |")
    ref = [r for r in rows if r["method"] == "real-train"]
    if ref:
        print("| - | real training rows | " + " | ".join(f"{ref[0][c]:.4f}" for c in cols[:-1]) + " | - |")
    print()
    for eps, by in best.items():
        if "zoo-gsd" not in by or len(by) < 2:
            continue
        r_best = min(v["range_mean"] for v in by.values())
        w_best = min(v["2way_mean"] for v in by.values())
        z = by["zoo-gsd"]
        print(f"epsilon {eps:g}: zoo best on range queries: {'yes' if z['range_mean'] <= r_best else 'NO'} "
              f"(zoo {z['range_mean']:.4f}, best {r_best:.4f}); zoo 2-way mean / best = {z['2way_mean'] / w_best:.3f}")  # fmt: skip


def sanity(args) -> dict:
    dom, train, _, fit_wl, _ = setup()
    D = dom.encode(train)
    real = fit_wl.answers(D)
    kinds = fit_wl.kinds()
    out = {}
    for N in args.sanity_sizes:
        t0 = time.perf_counter()
        gsd = PrivateGSD(
            queries=fit_wl, domain=dom, noise=False, rounds=1, n_records=N, budget=args.sanity_budget, seed=0
        )
        gsd.fit(train)
        err = np.abs(fit_wl.answers(gsd.table_) - real)
        rng = np.random.Generator(np.random.PCG64(1))
        floor = [np.abs(fit_wl.answers(D[rng.choice(len(D), N, replace=False)]) - real) for _ in range(10)]
        line = {"N": N, "seconds": time.perf_counter() - t0}
        for k in ("2way", "range"):
            line[f"ga_{k}"] = float(err[kinds == k].mean())
            line[f"floor_{k}"] = float(np.mean([f[kinds == k].mean() for f in floor]))
        print(json.dumps(line), flush=True)
        out[N] = line
    return out


def speed(args) -> dict:
    dom, train, _, fit_wl, _ = setup()
    D = dom.encode(train)
    N = args.records
    fit = WorkloadFitness(fit_wl, N, fit_wl.answers(D), np.ones(len(fit_wl)))

    def rate(incremental: bool, gens: int) -> float:
        opt = RecordGA(sizes=dom.sizes, n_records=N, seed=0, popsize=32)
        X = opt.ask()
        opt.tell(X, fit(X))
        t0 = time.perf_counter()
        for _ in range(gens):
            X = opt.ask()
            opt.tell(X, fit.incremental(opt) if incremental else fit(X))
        return gens * opt.params.popsize * opt.params.rows / (time.perf_counter() - t0)

    rate(True, 5)  # compile / warm up
    inc = float(np.median([rate(True, 400) for _ in range(3)]))
    full = float(np.median([rate(False, 6) for _ in range(3)]))
    res = {
        "N": N,
        "queries": len(fit_wl),
        "incremental_records_per_s": inc,
        "full_records_per_s": full,
        "ratio": inc / full,
    }
    print(json.dumps(res), flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=["compare", "sanity", "speed", "all"], default="all")
    ap.add_argument("--anchor-python", default="/work/venv-synth/bin/python")
    ap.add_argument("--no-anchors", dest="anchors", action="store_false")
    ap.add_argument(
        "--aim-rounds", type=int, default=None, help="AIM's rounds (default: its own 16 * columns)"
    )
    ap.add_argument("--epsilons", type=lambda s: [float(v) for v in s.split(",")], default=list(EPSILONS))
    ap.add_argument("--seeds", type=lambda s: [int(v) for v in s.split(",")], default=list(SEEDS))
    ap.add_argument("--records", type=int, default=1000, help="synthetic records zoo fits (default 1000)")
    ap.add_argument(
        "--work", default="/tmp/synth-bench", help="folder for the anchors' tables and finished runs"
    )
    ap.add_argument("--sanity-budget", type=int, default=300_000)
    ap.add_argument("--sanity-sizes", type=lambda s: [int(v) for v in s.split(",")], default=[1000])
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "synth_gsd.json"))
    args = ap.parse_args()
    out = {}
    procs, tmp = start_anchors(args) if args.part in ("compare", "all") else ([], None)
    if args.part in ("speed", "all"):
        out["speed"] = speed(args)
    if args.part in ("sanity", "all"):
        out["sanity"] = sanity(args)
    if args.part in ("compare", "all"):
        out["compare"] = compare(args, procs, tmp)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    prev = json.loads(Path(args.json).read_text()) if Path(args.json).exists() else {}
    prev.update({k: v for k, v in out.items()})
    Path(args.json).write_text(json.dumps(prev, indent=1, default=str))


if __name__ == "__main__":
    main()
