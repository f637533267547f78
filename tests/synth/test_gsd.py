"""PrivateGSD end to end on small tables: the budget is spent as stated, never more; bad input is named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zoo.synth import PrivateGSD, Workload, data, zcdp


@pytest.fixture(scope="module")
def census():
    return data.census(1500, seed=2), data.census_domain()


def _small(**kw):
    kw = {"n_records": 120, "rounds": 3, "budget": 1500, "popsize": 16, **kw}
    return PrivateGSD(**kw)


def test_fit_sample_and_the_budget_is_never_exceeded(census):
    df, dom = census
    g = _small(epsilon=1.0, delta=1e-5, queries="2way,range", domain=dom, seed=0).fit(df)
    acc = g.accountant_
    assert acc.spent <= g.rho * (1 + 1e-12)
    assert acc.spent == pytest.approx(g.rho, rel=1e-9)  # the last round spends what is left
    assert sum(r for _, r in acc.ledger) == pytest.approx(acc.spent)
    assert g.rho == pytest.approx(zcdp.rho_from_eps(1.0, 1e-5))
    assert g.epsilon_spent <= 1.0 + 1e-9
    assert any(w.startswith("select") for w, _ in acc.ledger) and any(
        w.startswith("measure") for w, _ in acc.ledger
    )
    syn = g.sample()
    assert list(syn.columns) == list(df.columns) and len(syn) == 120
    assert set(syn["education"]) <= set(dom["education"].values)
    assert syn["age"].between(17, 90).all()
    assert len(g.sample(50)) == 50 and len(g.sample(300)) == 300
    assert len(g.history_) == 3 and g.history_[-1]["rho_spent"] == pytest.approx(acc.spent)
    # same seed, same table; another seed, another one
    again = _small(epsilon=1.0, delta=1e-5, queries="2way,range", domain=dom, seed=0).fit(df)
    np.testing.assert_array_equal(again.table_, g.table_)


def test_no_noise_fits_better_than_a_sample_of_that_size(census):
    df, dom = census
    g = _small(queries="2way", domain=dom, noise=False, rounds=1, budget=6000, n_records=100).fit(df)
    wl = g.workload_
    D = dom.encode(df)
    err = np.abs(wl.answers(g.table_) - wl.answers(D)).mean()
    rng = np.random.Generator(np.random.PCG64(0))
    floor = np.mean(
        [
            np.abs(wl.answers(D[rng.choice(len(D), 100, replace=False)]) - wl.answers(D)).mean()
            for _ in range(5)
        ]
    )
    uniform = np.abs(wl.answers(dom.uniform(100, rng)) - wl.answers(D)).mean()
    assert err < floor < uniform


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"epsilon": 0}, "epsilon must be"),
        ({"epsilon": -1.0}, "epsilon must be"),
        ({"delta": 0.0}, "delta must be in the open interval"),
        ({"delta": 1.0}, "delta must be in the open interval"),
        ({"queries": ""}, "queries is empty"),
        ({"queries": []}, "queries is empty"),
        ({"rounds": 0}, "rounds must be"),
    ],
)
def test_bad_parameters_named(census, kw, match):
    df, dom = census
    with pytest.raises(ValueError, match=match):
        _small(domain=dom, **kw).fit(df)


def test_bad_tables_and_queries_named(census):
    df, dom = census
    with pytest.raises(ValueError, match="no column 'zip'"):
        _small(domain=dom, queries=["2way", ("sex", "zip")]).fit(df)
    bad = df.copy()
    bad.loc[3, "race"] = "Martian"
    with pytest.raises(ValueError, match="column 'race': value 'Martian'"):
        _small(domain=dom).fit(bad)
    bad = df.copy()
    bad.loc[5, "hours"] = np.nan
    with pytest.raises(ValueError, match="numeric column 'hours' contains NaN"):
        _small(domain=dom).fit(bad)
    bad = df.copy().astype({"sex": object})
    bad.loc[0, "sex"] = 1
    with pytest.raises(TypeError, match="column 'sex' mixes types"):
        _small(domain=dom).fit(bad)
    with pytest.raises(ValueError, match="needs domain="):
        _small().fit(dom.encode(df))
    with pytest.raises(RuntimeError, match="call fit"):
        _small().sample(3)
    other = Workload(data.diabetes()[1]).add_marginals(attrs=[("sex",)])
    with pytest.raises(ValueError, match="another domain"):
        _small(domain=dom, queries=other).fit(df)


def test_array_input_with_domain_and_inferred_domain():
    df = pd.DataFrame({"x": np.linspace(0, 1, 200), "c": ["a", "b", "c", "d"] * 50})
    g = _small(queries="1way,range", n_records=50, rounds=2, budget=300).fit(df)
    assert g.domain_["c"].values == ("a", "b", "c", "d") and len(g.sample()) == 50


def test_numeric_table_with_ranges_and_halfspaces():
    """scikit-learn's diabetes table: ten numeric columns kept numeric, range and halfspace queries."""
    df, dom = data.diabetes()
    wl = Workload.from_spec(dom, "1way,range,halfspace", seed=0, n_per_column=4).build()
    g = _small(epsilon=3.0, queries=wl, domain=dom, n_records=100, rounds=2, budget=1500).fit(df)
    D = dom.encode(df)
    err = np.abs(wl.answers(g.table_) - wl.answers(D)).mean()
    uniform = np.abs(
        wl.answers(dom.uniform(100, np.random.Generator(np.random.PCG64(0)))) - wl.answers(D)
    ).mean()
    assert err < 0.5 * uniform
    assert g.sample()["bmi"].between(dom["bmi"].lo, dom["bmi"].hi).all()
