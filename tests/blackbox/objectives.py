"""Objectives for the parallel tests (module level, so that every start method can import them)."""

import os
import time

import numpy as np


def sphere(x):
    return float(np.sum(np.asarray(x) ** 2))


def faulty(x):
    """Raises on x[0] > 0.6, hangs on x[0] < -0.6, kills its worker on 0.3 < x[1] < 0.5."""
    if x[0] > 0.6:
        raise RuntimeError("simulator crashed")
    if x[0] < -0.6:
        time.sleep(30)
    return float(np.sum(x**2))


def dies(x):
    if x[0] > 0.5:
        os._exit(7)  # the worker process dies mid-batch
    return float(np.sum(x**2))


def slow(x):
    time.sleep(0.05)
    return float(np.sum(x**2))
