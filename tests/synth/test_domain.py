"""Domain, encoding and the bad-input cases of issue 17 (each names the column or parameter)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zoo.synth import Domain, data


def _dom():
    return Domain.from_spec(
        [{"name": "age", "kind": "numeric", "lo": 0, "hi": 100}, {"name": "sex", "values": ["F", "M"]}]
    )


def test_encode_decode_roundtrip():
    dom = data.census_domain()
    df = data.census(300, seed=1)
    X = dom.encode(df)
    assert X.shape == (300, 12) and X.min() >= 0
    assert np.all(X[:, dom.sizes > 0] < dom.sizes[dom.sizes > 0])
    back = dom.decode(X)
    for c in df.columns:
        if dom[c].kind == "numeric":
            np.testing.assert_allclose(back[c].to_numpy(), df[c].to_numpy(), rtol=1e-12, atol=1e-9)
        else:
            assert list(back[c]) == list(df[c])


def test_census_is_seeded_and_has_its_dependencies():
    a, b = data.census(4000, seed=3), data.census(4000, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(data.census(4000, seed=4))
    # education -> income: the top degrees earn > 50K far more often than high-school graduates
    rich = (a["income"] == ">50K").groupby(a["education"]).mean()
    assert rich["Doctorate"] > 2 * rich["HS-grad"]


def test_diabetes_keeps_numeric_columns_numeric():
    df, dom = data.diabetes()
    assert len(df) == 442 and dom["sex"].kind == "categorical"
    assert dom["bmi"].kind == "numeric" and dom["target"].kind == "numeric"
    X = dom.encode(df)
    assert 0 <= X.min() and X.max() <= 1


def test_infer_reads_kinds():
    df = pd.DataFrame({"x": np.linspace(0, 1, 50), "c": ["a", "b"] * 25, "k": [1, 2, 3, 4, 5] * 10})
    dom = Domain.infer(df)
    assert dom["x"].kind == "numeric" and dom["c"].values == ("a", "b") and dom["k"].kind == "categorical"


def test_value_outside_domain_names_column():
    dom = _dom()
    with pytest.raises(ValueError, match="'sex'.*'X'"):
        dom.encode(pd.DataFrame({"age": [30.0], "sex": ["X"]}))
    with pytest.raises(ValueError, match="'age'.*outside the domain"):
        dom.encode(pd.DataFrame({"age": [130.0], "sex": ["F"]}))


def test_numeric_nan_names_column():
    with pytest.raises(ValueError, match="numeric column 'age' contains NaN"):
        _dom().encode(pd.DataFrame({"age": [30.0, np.nan], "sex": ["F", "M"]}))
    with pytest.raises(ValueError, match="'age' contains NaN"):
        Domain.infer(pd.DataFrame({"age": [30.5, np.nan], "sex": ["F", "M"]}))


def test_mixed_types_name_column():
    df = pd.DataFrame({"age": [30.0, 40.0], "sex": ["F", 3]})
    with pytest.raises(TypeError, match="column 'sex' mixes types"):
        _dom().encode(df)
    with pytest.raises(TypeError, match="column 'sex' mixes types"):
        Domain.infer(df)
    with pytest.raises(TypeError, match="numeric column 'age' holds non-numbers"):
        _dom().encode(pd.DataFrame({"age": ["old", "young"], "sex": ["F", "M"]}))


def test_missing_column_and_bad_spec():
    with pytest.raises(ValueError, match=r"lacks the domain's column\(s\) \['sex'\]"):
        _dom().encode(pd.DataFrame({"age": [3.0]}))
    with pytest.raises(ValueError, match="no column 'height'"):
        _dom().index("height")
    with pytest.raises(ValueError, match="'age' needs finite bounds"):
        Domain.from_spec([{"name": "age", "kind": "numeric", "lo": 5, "hi": 5}])
    with pytest.raises(ValueError, match="unique"):
        Domain.from_spec([{"name": "a", "values": [1]}, {"name": "a", "values": [2]}])
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        _dom().encode(np.zeros((3, 5)))
