"""zoo.space: variables, encodings, every method through the same space, res.x in the user's types."""

import json

import numpy as np
import pytest

import zoo
from zoo.space import Categorical, Integer, Real, Space

SPACE = {
    "lr": Real(1e-4, 1.0, log=True),
    "n": Integer(-3, 4),
    "act": Categorical(["relu", "tanh", "gelu"]),
    "inner": {"w": Real(-1.0, 1.0)},
}


def objective(p):
    return (
        (np.log10(p["lr"]) + 2) ** 2
        + (p["n"] - 2) ** 2
        + (p["act"] != "gelu")
        + (p["inner"]["w"] - 0.25) ** 2
    )


@pytest.mark.parametrize("method", ["ga", "cma", "random-search", "ng:NGOpt", "cbo"])
def test_every_method_through_one_space_returns_user_types(method):
    res = zoo.minimize(objective, method=method, space=SPACE, budget=500, seed=0)
    x = res.x
    assert set(x) == {"lr", "n", "act", "inner"} and set(x["inner"]) == {"w"}
    assert isinstance(x["n"], int) and x["act"] in ("relu", "tanh", "gelu") and isinstance(x["lr"], float)
    assert 1e-4 <= x["lr"] <= 1.0 and -3 <= x["n"] <= 4
    assert res.fun == pytest.approx(objective(x))
    if method != "random-search":
        assert x["n"] == 2 and x["act"] == "gelu"


def test_positional_space_returns_a_list_and_round_trips():
    sp = Space([Real(0, 10), Integer(0, 5), Categorical(["a", "b"])])
    pt = [2.5, 3, "b"]
    assert sp.decode(sp.encode(pt)) == pt
    assert sp.decode(sp.encode(pt, "index"), "index") == pt
    # popsize 20: 15 generations in 300 evaluations (the default 100 leaves 3, too few for a scale-aware
    # width of 5 % of the box to travel; benchmarks/ga_scale.py part 3)
    res = zoo.minimize(lambda p: (p[0] - 1) ** 2 + abs(p[1] - 4) + (p[2] == "a"), method="ga", space=sp,
                       budget=300, seed=1, options={"popsize": 20})  # fmt: skip
    assert isinstance(res.x, list) and res.x[1:] == [4, "b"]


def test_spec_round_trip_through_json():
    sp = Space(SPACE)
    again = Space.from_spec(json.loads(json.dumps(sp.spec())))
    assert again.spec() == sp.spec() and again.names == sp.names


def test_ga_mutates_discrete_genes_on_their_bins():
    sp = Space([Integer(0, 9), Categorical(list("abcd")), Real(0, 1)])
    opt = zoo.make("ga", x0=sp.center(), bounds=sp.bounds(), seed=0, genes=tuple(map(tuple, sp.discrete())))
    for _ in range(3):
        X = opt.ask()
        for col, n in ((0, 10), (1, 4)):
            assert np.allclose((X[:, col] * n - 0.5) % 1.0, 0.0)  # every discrete gene sits on a bin centre
        opt.tell(X, np.asarray(X[:, 2]))
    assert len(np.unique(X[:, 1])) > 1  # categories do change


def test_cma_gets_pycma_integer_handling():
    sp = Space([Integer(0, 20), Real(0, 1)])
    res = zoo.minimize(lambda p: (p[0] - 13) ** 2 + p[1], method="cma", space=sp, budget=400, seed=0)
    opts = res.optimizer.params.cma_options
    assert opts["integer_variables"] == [0] and res.x[0] == 13


def test_nevergrad_bridge_uses_nevergrad_parametrization():
    import nevergrad as ng

    from zoo.core.space import nevergrad_parametrization

    p = nevergrad_parametrization(Space(SPACE))
    assert isinstance(p, ng.p.Dict) and isinstance(p["act"], ng.p.Choice) and isinstance(p["lr"], ng.p.Log)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Categorical([]), "at least one choice"),
        (lambda: Real(2.0, 1.0), "lower <= upper"),
        (lambda: Integer(5, 1), "lower <= upper"),
        (lambda: Real(0.0, 1.0, log=True), "positive lower bound"),
        (lambda: Real(-1.0, 1.0, log=True), "positive lower bound"),
        (lambda: Real(0.0, float("nan")), "finite number"),
        (lambda: Integer(0.5, 3), "must be an int"),
        (lambda: Space({}), "empty group"),
        (lambda: Space({"a": {}}), "empty group"),
        (lambda: Space.from_spec([{"type": "float", "lower": 0}]), "type must be one of"),
    ],
)
def test_bad_spaces_are_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_space_values_and_kinds():
    with pytest.raises(TypeError, match="Real, Integer or Categorical"):
        Space({"a": (0, 1)})
    sp = Space(SPACE)
    with pytest.raises(ValueError, match="not one of the choices"):
        sp.encode({"lr": 0.1, "n": 0, "act": "elu", "inner": {"w": 0}})
    with pytest.raises(TypeError, match="bounds inside the space"):
        zoo.minimize(objective, method="ga", space=SPACE, bounds=(0, 1), budget=50)


def test_every_registered_method_takes_a_space():
    sp = {"a": Real(-2, 2), "n": Integer(0, 5), "c": Categorical(["x", "y"])}
    for name in zoo.methods():
        res = zoo.minimize(lambda p: p["a"] ** 2 + (p["n"] - 2) ** 2 + (p["c"] == "x"), method=name, space=sp,
                           budget=120, seed=0)  # fmt: skip
        assert set(res.x) == {"a", "n", "c"} and isinstance(res.x["n"], int) and res.nfev <= 120, name
