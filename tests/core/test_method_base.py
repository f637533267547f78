"""The base class ``Method``: its old names (deprecated), the hooks' contract, and load_state_dict's checks."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

import zoo
from zoo.core.method import Method, Params, State


def _run_py(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-W", "always::DeprecationWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_old_base_name_warns_once_and_is_the_new_class():
    code = (
        "import warnings, zoo\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    a = zoo.Estimator; b = zoo.Estimator; c = zoo.core.Estimator\n"
        "    from zoo.core.estimator import Estimator as d\n"
        "assert a is b is c is d is zoo.Method, (a, zoo.Method)\n"
        "msgs = [str(x.message) for x in w if issubclass(x.category, DeprecationWarning)]\n"
        "print(len([m for m in msgs if 'zoo.Estimator' in m]), len([m for m in msgs if 'zoo.core.estimator ' in m]))\n"
    )
    out = _run_py(code)
    assert out.returncode == 0, out.stderr
    n_name, n_module = map(int, out.stdout.split())
    assert n_name == 1  # the attribute zoo.Estimator warns the first time only
    assert n_module == 1  # importing the old module warns once


def test_moved_oracle_names_still_import_with_a_warning():
    with pytest.warns(DeprecationWarning, match="zoo.core.rank_oracle"):
        from zoo.core import _deprecated

        _deprecated._warned.discard("zoo.core.oracle.RankOracle")
        from zoo.core.oracle import RankOracle
    from zoo.core.rank_oracle import RankOracle as New

    assert RankOracle is New


def test_unknown_attribute_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        zoo.core.oracle.nope  # noqa: B018


def test_lazy_subpackages_after_import_zoo():
    code = "import zoo\nprint(zoo.torch.ZOSGD.__name__, zoo.federated.Simulator.__name__)"
    out = _run_py(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ZOSGD", "Simulator"]


# ---------------------------------------------------------------------------------------------- hooks
@dataclasses.dataclass(frozen=True)
class _NoisyParams(Params):
    popsize: int = 4
    fail: bool = False


@dataclasses.dataclass
class _NoisyState(State):
    center: np.ndarray


class _NoisyTell(Method):
    """Draws random numbers in _tell from the generator it is given, and can fail after drawing."""

    name = "test-noisy-tell"
    Params, State = _NoisyParams, _NoisyState

    def _setup(self):
        self.scale = 2.0  # derived once, from the params only

    def _init(self, x0, rng):
        return _NoisyState(center=x0)

    def _batch_size(self, state):
        return self.params.popsize

    def _ask(self, state, rng):
        return state.center + self.scale * rng.standard_normal((self.params.popsize, self.dim))

    def _tell(self, state, X, values, rng):
        jitter = rng.standard_normal(self.dim)
        if self.params.fail and values[0] > 0:
            raise ArithmeticError("hook failed after drawing")
        return _NoisyState(center=X[int(np.argmin(values))] + 1e-3 * jitter)


def test_tell_hook_gets_the_generator_and_a_failed_hook_restores_it():
    opt = _NoisyTell(np.zeros(3), seed=5, fail=True)
    X = opt.ask()
    before = opt.rng.bit_generator.state
    with pytest.raises(ArithmeticError):
        opt.tell(X, np.ones(4))
    assert opt.rng.bit_generator.state == before
    assert opt.pending is X and opt.nfev == 0
    opt.tell(X, -np.ones(4))  # now the hook succeeds and the generator moves
    assert opt.rng.bit_generator.state != before


def test_setup_runs_before_init():
    assert _NoisyTell(np.zeros(2), seed=0).scale == 2.0


# ---------------------------------------------------------------------------------------------- load_state_dict
def test_load_state_dict_refuses_other_params():
    # before: a cbo state with 50 particles loaded silently into an optimizer built with 7 and asked 50 rows
    sd = zoo.make("cbo", x0=np.zeros(3), seed=0, popsize=50).state_dict()
    small = zoo.make("cbo", x0=np.zeros(3), seed=0, popsize=7)
    with pytest.raises(ValueError, match=r"popsize=50 \(here 7\)"):
        small.load_state_dict(sd)
    assert len(small.ask()) == 7  # unchanged


def test_load_state_dict_accepts_equal_params_after_a_checkpoint_round_trip(tmp_path):
    from zoo.core import checkpoint

    opt = zoo.make("cge", x0=np.zeros(4), seed=0, coordinates=np.array([0, 2]))
    opt.tell(opt.ask(), np.arange(len(opt.ask()), dtype=float))
    path = checkpoint.save(tmp_path / "c.npz", opt.state_dict())
    again = zoo.make("cge", x0=np.zeros(4), seed=0, coordinates=np.array([0, 2]))
    again.load_state_dict(checkpoint.load(path))
    assert np.array_equal(again.ask(), opt.ask())


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda sd: sd.pop("rng"), r"missing \['rng'\]"),
        (lambda sd: sd.update(method="ga"), "for method 'ga'"),
        (lambda sd: sd.update(dim=9), "dimension 9"),
        (lambda sd: sd["state"].update(extra=1), "does not fit"),
    ],
)
def test_load_state_dict_refuses_a_damaged_state(damage, match):
    sd = zoo.make("rge", x0=np.zeros(3), seed=0).state_dict()
    damage(sd)
    with pytest.raises(ValueError, match=match):
        zoo.make("rge", x0=np.zeros(3), seed=0).load_state_dict(sd)


def test_load_state_dict_needs_a_dict():
    with pytest.raises(TypeError, match="state_dict must be a dict"):
        zoo.make("rge", x0=np.zeros(3), seed=0).load_state_dict([1, 2])
