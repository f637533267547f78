"""``as_values`` hands the per-step fast paths float64 values under numpy's cached dtype object, whatever object
the objective's array carries (a Numba kernel's result has its own), without copying them."""

from __future__ import annotations

import pickle

import numpy as np

import zoo
from zoo.core.arrays import F64
from zoo.core.validate import as_values


def test_float64_values_under_another_dtype_object_are_viewed_with_the_cached_dtype():
    # float64, but not numpy's cached object (as a Numba kernel may return)
    other = pickle.loads(pickle.dumps(F64))
    assert other == F64 and other is not F64
    v = np.array([14.0, 126.0, 366.0]).view(other)
    out = as_values(v, 3)
    assert out.dtype is F64 and np.shares_memory(out, v) and out.tobytes() == v.tobytes()


def test_float64_values_of_a_numba_kernel_come_out_under_the_cached_dtype():
    # whether the kernel's array carries its own dtype object depends on how Numba built it (compiled in this
    # process or loaded from its cache), so only the result is asserted
    v = zoo.functions.sphere(np.arange(12.0).reshape(3, 4))
    out = as_values(v, 3)
    assert out.dtype is F64 and np.shares_memory(out, v) and out.tolist() == [14.0, 126.0, 366.0]


def test_other_values_keep_their_conversion():
    a = np.array([1.0, 2.0])
    assert as_values(a, 2) is a  # the cached dtype: the array itself
    big = np.array([1.0, 2.0], dtype=">f8")  # float64 in the other byte order: converted, not viewed
    out = as_values(big, 2)
    assert out.dtype == F64 and out.dtype.isnative and out.tolist() == [1.0, 2.0]
    assert as_values(np.array([1, 2]), 2).dtype == F64


def test_a_run_on_a_kernel_objective_equals_the_run_on_its_numpy_twin():
    f = zoo.functions.sphere
    a = zoo.make("cge", x0=np.ones(5), seed=0)
    b = zoo.make("cge", x0=np.ones(5), seed=0)
    for _ in range(40):
        Xa, Xb = a.ask(), b.ask()
        assert Xa.tobytes() == Xb.tobytes()
        a.tell(Xa, f(Xa))
        b.tell(Xb, np.ascontiguousarray(f(Xb), dtype=np.float64).copy().view(F64))
