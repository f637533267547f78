"""Tables to work on without a download: a census-like Bayesian network, and scikit-learn's bundled diabetes set.

``census(n, seed)`` draws from a fixed Bayesian network over 12 mixed attributes with known dependencies
(the graph is :data:`CENSUS_PARENTS`)::

    age -> education, marital;  sex -> marital, relationship, occupation, hours;  race -> education, region
    education -> workclass, occupation, capital_gain, income;  marital -> relationship
    occupation -> hours;  age, sex, education, hours, capital_gain -> income

Three attributes are numeric (age in [17, 90], hours in [1, 99], capital_gain in [0, 20000], a point mass at 0
plus a long tail), the others categorical. Every conditional is written below, so what a synthesizer should
recover is known exactly. The domain is fixed in advance (:func:`census_domain`), hence public.

``diabetes()`` is scikit-learn's bundled diabetes table (442 rows) with its numeric columns kept numeric
(age, bmi, bp, s1..s6, the disease progression ``target``) and ``sex`` categorical.
"""

from __future__ import annotations

import numpy as np

from zoo.synth.domain import Domain

SEX = ("Female", "Male")
RACE = ("White", "Black", "Asian", "Amer-Indian", "Other")
EDUCATION = (
    "Preschool",
    "HS-grad",
    "Some-college",
    "Assoc",
    "Bachelors",
    "Masters",
    "Prof-school",
    "Doctorate",
)
MARITAL = ("Never-married", "Married", "Divorced", "Separated", "Widowed")
RELATIONSHIP = ("Husband", "Wife", "Own-child", "Not-in-family")
WORKCLASS = ("Private", "Self-emp", "Local-gov", "Federal-gov", "Without-pay")
OCCUPATION = ("Craft", "Sales", "Exec", "Prof", "Clerical", "Service", "Transport", "Farming")
REGION = ("North-East", "South", "Mid-West", "West")
INCOME = ("<=50K", ">50K")

CENSUS_PARENTS = {
    "age": (),
    "sex": (),
    "race": (),
    "education": ("age", "race"),
    "marital": ("age", "sex"),
    "relationship": ("marital", "sex"),
    "workclass": ("education",),
    "occupation": ("education", "sex"),
    "hours": ("occupation", "sex"),
    "capital_gain": ("education",),
    "region": ("race",),
    "income": ("age", "sex", "education", "hours", "capital_gain"),
}


def census_domain() -> Domain:
    """The public domain of :func:`census` (fixed in advance, not read off the data)."""
    return Domain.from_spec(
        [
            {"name": "age", "kind": "numeric", "lo": 17, "hi": 90},
            {"name": "sex", "values": SEX},
            {"name": "race", "values": RACE},
            {"name": "education", "values": EDUCATION},
            {"name": "marital", "values": MARITAL},
            {"name": "relationship", "values": RELATIONSHIP},
            {"name": "workclass", "values": WORKCLASS},
            {"name": "occupation", "values": OCCUPATION},
            {"name": "hours", "kind": "numeric", "lo": 1, "hi": 99},
            {"name": "capital_gain", "kind": "numeric", "lo": 0, "hi": 20000},
            {"name": "region", "values": REGION},
            {"name": "income", "values": INCOME},
        ]
    )


def _draw(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of ``probs`` (n, k) (rows need not be normalized)."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cdf[:, -1]
    return np.minimum((u[:, None] >= cdf).sum(axis=1), probs.shape[1] - 1)


def census(n: int = 20_000, seed: int = 0):
    """``n`` census-like records (a pandas DataFrame) from the Bayesian network of this module."""
    import pandas as pd

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n (number of rows) must be a positive int, got {n!r}")
    rng = np.random.Generator(np.random.PCG64(seed))
    age = np.clip(np.where(rng.random(n) < 0.6, rng.normal(36, 10, n), rng.normal(58, 12, n)), 17, 90)
    age = np.round(age)
    old = (age >= 45).astype(np.int64) + (age >= 30)  # 0: < 30, 1: 30-44, 2: >= 45
    sex = _draw(rng, np.tile([0.48, 0.52], (n, 1)))
    race = _draw(rng, np.tile([0.72, 0.12, 0.08, 0.03, 0.05], (n, 1)))
    edu_base = np.array([0.03, 0.32, 0.22, 0.09, 0.19, 0.09, 0.03, 0.03])
    edu_shift = np.array(
        [[0.02, 0.1, 0.12, 0.0, -0.06, -0.08, -0.05, -0.05], [0] * 8, [0.0, 0.05, -0.02, 0, 0, 0.0, 0, 0]]
    )
    race_shift = np.array(
        [
            [0] * 8,
            [0.02, 0.06, 0.02, 0, -0.05, -0.03, -0.01, -0.01],
            [0, -0.08, -0.04, 0, 0.06, 0.04, 0.01, 0.01],
            [0.03, 0.05, 0, 0, -0.05, -0.02, -0.005, -0.005],
            [0] * 8,
        ]
    )
    education = _draw(rng, np.clip(edu_base + edu_shift[old] + race_shift[race], 0.004, None))
    marital_p = np.array(
        [
            [[0.75, 0.18, 0.04, 0.02, 0.01], [0.68, 0.25, 0.04, 0.02, 0.01]],
            [[0.25, 0.55, 0.14, 0.04, 0.02], [0.28, 0.58, 0.10, 0.03, 0.01]],
            [[0.08, 0.52, 0.18, 0.04, 0.18], [0.08, 0.68, 0.14, 0.03, 0.07]],
        ]
    )
    marital = _draw(rng, marital_p[old, sex])
    rel_p = np.zeros((5, 2, 4))
    rel_p[:, :, 2:] = [0.4, 0.6]
    rel_p[1, 0] = [0.0, 0.9, 0.02, 0.08]
    rel_p[1, 1] = [0.9, 0.0, 0.02, 0.08]
    rel_p[0] = [[0, 0, 0.6, 0.4], [0, 0, 0.65, 0.35]]
    relationship = _draw(rng, rel_p[marital, sex])
    work_p = np.array(
        [[0.85, 0.05, 0.05, 0.01, 0.04]] * 3
        + [[0.72, 0.1, 0.12, 0.05, 0.01]] * 2
        + [[0.55, 0.17, 0.18, 0.09, 0.01]] * 3
    )
    workclass = _draw(rng, work_p[education])
    occ_edu = np.array(
        [[0.3, 0.1, 0.02, 0.01, 0.1, 0.25, 0.12, 0.1]] * 2
        + [[0.2, 0.18, 0.08, 0.06, 0.2, 0.14, 0.08, 0.06]] * 2
        + [[0.05, 0.2, 0.3, 0.3, 0.1, 0.03, 0.01, 0.01]] * 4
    )
    occ_sex = np.array([[0.4, 1.2, 0.9, 1.1, 2.0, 1.4, 0.3, 0.5], [1.5, 0.9, 1.1, 0.9, 0.5, 0.7, 1.6, 1.4]])
    occupation = _draw(rng, occ_edu[education] * occ_sex[sex])
    hours_mu = np.array([42, 40, 48, 44, 38, 34, 45, 50], dtype=float)
    hours = np.clip(rng.normal(hours_mu[occupation] + 4 * sex - 2, 8.0), 1, 99)
    hours = np.round(hours, 1)
    gain_p = np.array([0.02, 0.04, 0.05, 0.06, 0.12, 0.16, 0.25, 0.25])
    has_gain = rng.random(n) < gain_p[education]
    capital_gain = np.where(has_gain, np.clip(rng.lognormal(8.3, 0.9, n), 0, 20000), 0.0).round(0)
    region = _draw(
        rng,
        np.array(
            [
                [0.2, 0.33, 0.22, 0.25],
                [0.15, 0.55, 0.2, 0.1],
                [0.25, 0.1, 0.1, 0.55],
                [0.1, 0.3, 0.3, 0.3],
                [0.25] * 4,
            ]
        )[race],
    )
    logit = (
        -6.4
        + 0.045 * np.minimum(age, 60)
        + 0.55 * sex
        + np.array([-1.5, -0.4, 0.0, 0.3, 1.1, 1.6, 2.2, 2.0])[education]
        + 0.04 * (hours - 40)
        + 2.5 * (capital_gain > 5000)
    )
    income = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pd.DataFrame(
        {
            "age": age,
            "sex": np.array(SEX, dtype=object)[sex],
            "race": np.array(RACE, dtype=object)[race],
            "education": np.array(EDUCATION, dtype=object)[education],
            "marital": np.array(MARITAL, dtype=object)[marital],
            "relationship": np.array(RELATIONSHIP, dtype=object)[relationship],
            "workclass": np.array(WORKCLASS, dtype=object)[workclass],
            "occupation": np.array(OCCUPATION, dtype=object)[occupation],
            "hours": hours,
            "capital_gain": capital_gain,
            "region": np.array(REGION, dtype=object)[region],
            "income": np.array(INCOME, dtype=object)[income],
        }
    )


def diabetes():
    """scikit-learn's bundled diabetes table (no download): 10 numeric features + target, ``sex`` categorical.

    Returns ``(df, domain)``; the bounds are the columns' min / max, so this domain is read off the data.
    """
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(scaled=False, as_frame=True)
    df = bunch.frame.copy()
    df["sex"] = np.where(df["sex"].to_numpy() > 1.5, "2", "1").astype(object)
    spec = []
    for name in df.columns:
        if name == "sex":
            spec.append({"name": name, "values": ["1", "2"]})
        else:
            x = df[name].to_numpy(dtype=np.float64)
            spec.append({"name": name, "kind": "numeric", "lo": float(x.min()), "hi": float(x.max())})
    return df, Domain.from_spec(spec)
