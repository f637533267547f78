"""The pycma and nevergrad bridges: seeding, exact resume by replay, bad input, lazy imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import zoo

pytest.importorskip("cma", reason="the cma bridge needs the bench extra (pycma)")


def sphere(X):
    return np.sum((np.asarray(X) - 0.5) ** 2, axis=1)


def _run(opt, steps):
    out = []
    for _ in range(steps):
        X = opt.ask()
        out.append(np.array(X))
        opt.tell(X, sphere(X))
    return out


def test_import_zoo_does_not_import_cma_or_nevergrad():
    code = "import sys, zoo; zoo.methods(); print('cma' in sys.modules, 'nevergrad' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_cma_seeded_and_never_touches_the_global_rng():
    before = np.random.get_state()[1].copy()  # noqa: NPY002 - checking it is untouched
    a = _run(zoo.make("cma", x0=np.zeros(4), seed=5), 5)
    b = _run(zoo.make("cma", x0=np.zeros(4), seed=5), 5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    after = np.random.get_state()[1]  # noqa: NPY002
    assert np.array_equal(before, after), "pycma must not read numpy's global RNG"


def test_cma_defaults_and_sigma_from_bounds():
    opt = zoo.make("cma", x0=np.zeros(10), seed=0, bounds=(-5, 5))
    assert opt.popsize == 4 + int(3 * np.log(10)) and opt.initial_sigma == pytest.approx(2.0)
    assert len(opt.ask()) == opt.popsize
    X = opt.ask()
    assert np.all(X >= -5) and np.all(X <= 5)
    assert zoo.make("cma", x0=np.zeros(3), seed=0).initial_sigma == 0.5


def test_mirror_into_box_reflects_and_keeps_inside_points():
    from zoo.population.bridges import mirror_into_box

    lo, hi = np.full(6, -5.0), np.full(6, 5.0)
    X = np.array([[0.0, 6.0, -7.0, 16.0, 5.0, -5.0]])
    assert np.array_equal(mirror_into_box(X, lo, hi), [[0.0, 4.0, -3.0, -4.0, 5.0, -5.0]])
    one_sided = mirror_into_box(
        np.array([[-3.0, 3.0, 7.0]]), np.array([0, -np.inf, -np.inf]), np.array([np.inf, 1.0, np.inf])
    )
    assert np.array_equal(one_sided, [[3.0, -1.0, 7.0]])
    rng = np.random.default_rng(0)
    Y = mirror_into_box(rng.normal(0, 20, (200, 6)), lo, hi)
    assert np.all((Y >= lo) & (Y <= hi))


@pytest.mark.parametrize("handling", ["penalty", "mirror", "clip", "pycma"])
def test_cma_bound_handlings_stay_in_the_box_and_make_progress(handling):
    res = zoo.minimize(
        sphere,
        np.zeros(3),
        "cma",
        budget=600,
        seed=0,
        vectorized=True,
        bounds=(-1, 0.2),
        options={"bound_handling": handling},
    )
    # the optimum 0.5 lies outside the box: the best point is the corner 0.2, f = 3 * 0.3^2
    assert res.fun == pytest.approx(0.27, abs=1e-6)
    assert res.nfev <= 600
    with pytest.raises(ValueError, match="bound_handling"):
        zoo.make("cma", x0=np.zeros(2), bound_handling="wrap")


def test_cma_solves_a_sphere_and_stops_on_its_own():
    res = zoo.minimize(sphere, np.zeros(5), "cma", budget=20_000, seed=0, vectorized=True)
    assert res.fun < 1e-10
    assert any(k.startswith("cma_") for k in res.stop), res.stop  # pycma's tolfun / tolx ended it


def test_cma_resume_with_bounds_and_pending_batch_is_exact():
    opt = zoo.make("cma", x0=np.ones(3), seed=2, bounds=(-2, 2), popsize=6)
    _run(opt, 4)
    opt.ask()
    sd = opt.state_dict()
    rest = _run(opt, 5)
    opt2 = zoo.make("cma", x0=np.ones(3), seed=0, bounds=(-2, 2), popsize=6)
    opt2.load_state_dict(sd)
    assert all(np.array_equal(x, y) for x, y in zip(rest, _run(opt2, 5)))


def test_cma_bad_input():
    with pytest.raises(ValueError, match="popsize must be >= 2"):
        zoo.make("cma", x0=np.zeros(3), popsize=1)
    with pytest.raises(ValueError, match="dimension 0"):
        zoo.make("cma", x0=np.zeros(0))
    with pytest.raises(ValueError, match="outside bounds"):
        zoo.make("cma", x0=np.full(3, 4.0), bounds=(-1, 1))
    with pytest.raises(ValueError, match="sigma0"):
        zoo.make("cma", x0=np.zeros(3), sigma0=-1.0)
    with pytest.raises(ValueError, match="set by zoo"):
        zoo.make("cma", x0=np.zeros(3), cma_options={"seed": 3})


ng = pytest.importorskip("nevergrad", reason="the ng: bridge needs the bench extra (nevergrad)")


@pytest.mark.parametrize("name", ["OnePlusOne", "DE", "CMA", "PSO"])
def test_nevergrad_seeded_and_resumes_exactly(name):
    a = _run(zoo.make(f"ng:{name}", x0=np.zeros(3), seed=4, num_workers=4, budget=200), 4)
    b = _run(zoo.make(f"ng:{name}", x0=np.zeros(3), seed=4, num_workers=4, budget=200), 4)
    assert all(x.shape == (4, 3) for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    opt = zoo.make(f"ng:{name}", x0=np.zeros(3), seed=4, num_workers=4, budget=200)
    _run(opt, 3)
    sd = opt.state_dict()
    rest = _run(opt, 3)
    opt2 = zoo.make(f"ng:{name}", x0=np.zeros(3), seed=9, num_workers=4, budget=200)
    opt2.load_state_dict(sd)
    assert all(np.array_equal(x, y) for x, y in zip(rest, _run(opt2, 3)))


def test_nevergrad_minimize_and_bounds():
    res = zoo.minimize(
        sphere, np.zeros(4), "ng:OnePlusOne", budget=400, seed=0, vectorized=True, bounds=(-1, 1)
    )
    assert res.fun < sphere(np.zeros((1, 4)))[0] and res.nfev <= 400
    assert res.method == "ng:OnePlusOne"


def test_nevergrad_unknown_name_says_how_to_list_names():
    with pytest.raises(ValueError, match=r"ng\.optimizers\.registry") as info:
        zoo.make("ng:NoSuchOptimizer", x0=np.zeros(2))
    assert "unknown nevergrad optimizer" in str(info.value)
    with pytest.raises(ValueError, match="Close names"):
        zoo.make("ng:oneplus", x0=np.zeros(2))


def test_nevergrad_bad_input():
    with pytest.raises(ValueError, match="num_workers"):
        zoo.make("ng:OnePlusOne", x0=np.zeros(2), num_workers=0)
    with pytest.raises(ValueError, match="dimension 0"):
        zoo.make("ng:OnePlusOne", x0=np.zeros(0))
    with pytest.raises(ValueError, match="outside bounds"):
        zoo.make("ng:OnePlusOne", x0=np.full(2, 3.0), bounds=(-1, 1))
    with pytest.raises(TypeError, match="unknown option"):
        zoo.make("ng:OnePlusOne", x0=np.zeros(2), popsize_factor=3)
