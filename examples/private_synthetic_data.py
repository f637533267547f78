"""A private synthetic copy of a census-like table with Private-GSD, checked against the real one.

python examples/private_synthetic_data.py
"""

from __future__ import annotations

import numpy as np

from zoo.synth import PrivateGSD, Workload, data


def main() -> None:
    dom = data.census_domain()  # the public schema, fixed in advance
    df = data.census(10_000, seed=0)  # the "private" table
    gsd = PrivateGSD(
        epsilon=1.0, delta=1e-5, queries="2way,range", domain=dom, n_records=500, rounds=4, seed=0
    )
    gsd.fit(df)
    syn = gsd.sample(2_000)
    print(syn.head())
    print(f"budget   epsilon=1, delta=1e-5 -> rho={gsd.rho:.5f}; spent rho={gsd.accountant_.spent:.5f}")
    wl = Workload.from_spec(dom, "2way,3way,range").build()
    err = np.abs(wl.answers(dom.encode(syn)) - wl.answers(dom.encode(df)))
    kinds = wl.kinds()
    for k in ("2way", "3way", "range"):
        print(f"{k:<6} mean |error| {err[kinds == k].mean():.4f}   max {err[kinds == k].max():.4f}")
    for h in gsd.history_:
        print(
            f"round {h['round']}: {h['measured_groups']}/{h['groups']} groups measured, error {h['measured_error']:.2e}"
        )


if __name__ == "__main__":
    main()
