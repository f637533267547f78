"""CGE's full-coordinate probe batch, ``x + E`` (E: +-mu on its diagonals, -0.0 elsewhere) up to d = 32 and copies
of ``x`` above, is the copy of ``x`` per row with ``mu`` added or subtracted at the row's coordinate, bit for bit,
whatever ``x`` holds."""

from __future__ import annotations

import numpy as np
import pytest

import zoo


def _rows_by_copy(x: np.ndarray, mu: float, central: bool) -> np.ndarray:
    """The probe by its definition: each row a copy of x, mu added (subtracted) at one coordinate."""
    d = x.size
    X = np.repeat(x[None, :], 2 * d if central else d + 1, axis=0)
    for i in range(d):
        if central:
            X[i, i] = x[i] + mu
            X[d + i, i] = x[i] - mu
        else:
            X[1 + i, i] = x[i] + mu
    return X


X0S = [
    np.array([-0.0, 0.0, 1.0, -3.5, 1e300, -1e-310, 5e-324, 2.0]),  # -0.0, subnormals, huge entries
    np.linspace(-1.0, 1.0, 10),
    np.array([7.0]),
    np.concatenate([[-0.0, 1e300, -1e-310], np.linspace(-1.0, 1.0, 97)]),  # d = 100: the copies of x
]


@pytest.mark.parametrize("difference", ["forward", "central"])
@pytest.mark.parametrize("x0", X0S, ids=["signed-zero", "linspace", "d1", "d100"])
def test_probe_rows_are_copies_of_x_with_mu_at_one_coordinate(difference, x0):
    opt = zoo.make("cge", x0=x0, seed=0, difference=difference)
    f = zoo.functions.sphere
    for _ in range(6):  # mu changes with the step length: the step matrix is refilled at every ask
        X = opt.ask()
        mu = opt.state.probe["mu"]
        want = _rows_by_copy(opt.state.x, mu, difference == "central")
        assert X.shape == want.shape
        assert X.tobytes() == want.tobytes()  # bit for bit, the sign of zero included
        opt.tell(X, f(X))


def test_two_runs_do_not_share_a_step_matrix():
    a = zoo.make("cge", x0=np.ones(4), seed=0)
    b = zoo.make("cge", x0=np.ones(6), seed=0, mu=0.25)
    Xa = a.ask()
    Xb = b.ask()
    assert Xb.shape == (7, 6) and np.array_equal(np.diag(Xb[1:] - 1.0), np.full(6, 0.25))
    assert np.array_equal(a.ask(), Xa) and Xa.shape == (5, 4)  # a's pending batch is untouched by b's ask
    assert a._steps[0] is not b._steps[0]
