"""The 24 noiseless ``bbob`` functions (Hansen et al. 2009, "Real-parameter black-box optimization benchmarking
2009: noiseless functions definitions"; COCO: Hansen et al. 2021, Optimization Methods and Software 36) through
``cocoex``, without its observer unless asked."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

#: the dimensions of the bbob suite (cocoex builds no other)
DIMENSIONS = (2, 3, 5, 10, 20, 40)
#: BBOB's five function groups (Hansen et al. 2009)
GROUPS = {
    "separable (f1-5)": range(1, 6),
    "moderate conditioning (f6-9)": range(6, 10),
    "high conditioning, unimodal (f10-14)": range(10, 15),
    "multimodal, adequate structure (f15-19)": range(15, 20),
    "multimodal, weak structure (f20-24)": range(20, 25),
}


def check_dimension(dim: int) -> None:
    """A clear error for a dimension the bbob suite does not have."""
    if dim not in DIMENSIONS:
        raise ValueError(f"--dim {dim}: the bbob suite has dimensions {', '.join(map(str, DIMENSIONS))}")


def open_problem(function: int, instance: int, dim: int) -> tuple[Any, Any]:
    """``(suite, problem)``: the cocoex problem f``function``, instance ``instance``, dimension ``dim``, and
    the suite that owns it (keep it alive while the problem is observed: cocoex crashes otherwise)."""
    import cocoex

    check_dimension(dim)
    suite = cocoex.Suite(
        "bbob", "", f"dimensions:{dim} instance_indices:{instance} function_indices:{function}"
    )
    return suite, suite.get_problem_by_function_dimension_instance(function, dim, instance)


def problem(function: int, instance: int, dim: int) -> Any:
    """The cocoex problem f``function``, instance ``instance``, dimension ``dim`` (not observed)."""
    return open_problem(function, instance, dim)[1]


def optimal_value(function: int, instance: int, dim: int) -> float:
    """``f_opt`` of a bbob problem: cocoex writes x_opt into the working directory; read it in a temp dir."""
    _suite, p = open_problem(function, instance, dim)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            p._best_parameter("print")
            x_opt = np.loadtxt("._bbob_problem_best_parameter.txt").reshape(dim)
        finally:
            os.chdir(cwd)
    return float(p(x_opt))
