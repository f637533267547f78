"""The anchors of benchmarks/synth_gsd.py: smartnoise-synth's MST and AIM, run in their OWN virtual env.

smartnoise-synth 1.0.8 pins opacus 0.14 (and through it an old torch), so it must never be installed in the
project's environment (torch==2.13.0). MST and AIM need none of that; set up their env once with::

    python3 -m venv /work/venv-synth
    /work/venv-synth/bin/pip install --no-deps smartnoise-synth==1.0.8
    /work/venv-synth/bin/pip install "smartnoise-sql>=1.0.10" "faker>=17" "mbi>=1.1,<2" \
        "disjoint-set>=0.9,<0.10" networkx scipy pandas numpy scikit-learn

(``pip install --dry-run`` of the second line shows no torch and no opacus.) smartnoise-synth 1.0.8 has no
GSD synthesizer, so MST and AIM are the anchors. This script is started by benchmarks/synth_gsd.py::

    /work/venv-synth/bin/python benchmarks/synth_anchors.py --train T.csv --out DIR --method mst \
        --epsilons 0.3,1,3 --seeds 0,1,2 --delta 1e-5 --n 16000

It reads an integer-coded table (every column categorical; numeric columns already binned on public bounds by
the driver), writes ``DIR/METHOD_EPS_SEED.csv`` and one JSON line per run (its wall time) to ``DIR/METHOD.jsonl``; a run
whose CSV is already there is skipped, so an interrupted benchmark resumes.
Noise in smartnoise-synth comes from OpenDP's samplers, which take no seed: ``--seeds`` seeds numpy's global
generator (their other draws) and labels the repeats.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--method", choices=["mst", "aim"], required=True)
    ap.add_argument("--epsilons", default="0.3,1,3")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--delta", type=float, default=1e-5)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument(
        "--aim-rounds", type=int, default=None, help="AIM's rounds (default: its own, 16 * columns)"
    )
    args = ap.parse_args()
    from mbi import MarkovRandomField
    from snsynth.aim import AIMSynthesizer
    from snsynth.mst import MSTSynthesizer

    # smartnoise-synth samples with mbi's default "randomized rounding": within each group of parent values it
    # assigns children by the rows' rank, so two children of one parent come out comonotone (a spurious
    # dependence between attributes the model keeps apart). Each fitted model is therefore also sampled
    # i.i.d. (mbi's method="sample"), written as METHOD-iid; fitting is done once for both.
    round_sample = MarkovRandomField.synthetic_data
    sampling = {"method": "round"}

    def synthetic_data(self, rows=None, method="round"):
        return round_sample(self, rows, method=sampling["method"])

    MarkovRandomField.synthetic_data = synthetic_data

    df = pd.read_csv(args.train)
    cols = list(df.columns)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # seed-major, in the order given: a run cut short still has every epsilon for its first seeds
    for seed in [int(s) for s in args.seeds.split(",")]:
        for eps in [float(e) for e in args.epsilons.split(",")]:
            path = out / f"{args.method}_{eps:g}_{seed}.csv"
            iid = out / f"{args.method}-iid_{eps:g}_{seed}.csv"
            if iid.exists():  # done by an earlier, interrupted run of the driver: keep it
                continue
            np.random.seed(seed)  # noqa: NPY002 - smartnoise-synth draws from numpy's global generator
            t0 = time.perf_counter()
            cls = MSTSynthesizer if args.method == "mst" else AIMSynthesizer
            kw = {"rounds": args.aim_rounds} if args.method == "aim" and args.aim_rounds else {}
            synth = cls(epsilon=eps, delta=args.delta, **kw)
            synth.fit(df, categorical_columns=cols, preprocessor_eps=0.0)
            fit_seconds = time.perf_counter() - t0
            for name, where, method in ((args.method, path, "round"), (f"{args.method}-iid", iid, "sample")):
                if where.exists():
                    continue
                t1 = time.perf_counter()
                sampling["method"] = method
                syn = synth.sample(args.n)
                seconds = fit_seconds + time.perf_counter() - t1
                line = json.dumps(
                    {"method": name, "epsilon": eps, "seed": seed, "seconds": seconds, "path": str(where)}
                )
                syn[cols].to_csv(where, index=False)
                with open(out / f"{name}.jsonl", "a") as fh:
                    fh.write(line + "\n")
                print(line, flush=True)


if __name__ == "__main__":
    main()
