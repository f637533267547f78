"""One spelling for the population size (``popsize``); the old option names warn once and still work."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import zoo
from zoo.core import _deprecated


@pytest.mark.parametrize(
    "method, old",
    [
        ("cbo", "n_particles"),
        ("consensus-hopping", "n_particles"),
        ("rank-sgd", "m"),
        ("ng:OnePlusOne", "num_workers"),
    ],
)
def test_old_popsize_names_warn_once_and_work(method, old, monkeypatch):
    if method.startswith("ng:"):
        pytest.importorskip("nevergrad")
    monkeypatch.setattr(_deprecated, "_warned", set())
    with pytest.warns(DeprecationWarning, match=f"{old}= .* use popsize="):
        opt = zoo.make(method, x0=np.zeros(3), seed=0, **{old: 6})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second use is silent
        again = zoo.make(method, x0=np.zeros(3), seed=0, **{old: 6})
    new = zoo.make(method, x0=np.zeros(3), seed=0, popsize=6)
    assert opt.params == again.params == new.params
    assert len(opt.ask()) == len(new.ask())


def test_old_and_new_name_together_is_a_clear_error():
    with pytest.raises(TypeError, match="n_particles= and popsize= are one option"):
        zoo.make("cbo", x0=np.zeros(3), n_particles=4, popsize=4)


def test_every_population_method_spells_popsize():
    for name in ("cbo", "consensus-hopping", "rank-sgd", "ga", "cma", "random-search"):
        try:
            cls = zoo.get(name)
        except ValueError:
            continue
        assert "popsize" in {f.name for f in __import__("dataclasses").fields(cls.Params)}, name


def test_numpy_zosgd_is_renamed_rgesgd_and_the_old_name_warns(monkeypatch):
    monkeypatch.setattr(_deprecated, "_warned", set())
    with pytest.warns(DeprecationWarning, match="zoo.ZOSGD .* use zoo.estimators.two_point.RGESGD"):
        old = zoo.ZOSGD
    assert old is zoo.RGESGD and zoo.get("zo-sgd") is zoo.RGESGD
