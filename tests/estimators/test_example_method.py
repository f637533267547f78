"""The example method of docs/architecture.md: the block registers it, and it passes the conformance suite."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest
import test_conformance as conformance

from zoo.core import registry

PAGE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
NAME = "example-antithetic-es"


def _example_block() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```", PAGE.read_text(), flags=re.S | re.M)
    (block,) = [b for b in blocks if NAME in b]
    return block


@pytest.fixture
def example(monkeypatch):
    monkeypatch.setattr(registry, "_METHODS", dict(registry._METHODS))  # registered for this test only
    module = types.ModuleType("architecture_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(_example_block(), str(PAGE), "exec"), module.__dict__)  # noqa: S102 - the doc is the code
    return NAME


def test_the_example_is_about_thirty_lines_in_one_file():
    code = [line for line in _example_block().splitlines() if line.strip() and not line.startswith("res")]
    assert len(code) <= 40


def test_the_example_method_passes_the_conformance_suite(example):
    conformance.test_ask_returns_read_only_batch(example)
    conformance.test_same_seed_same_numbers(example)
    for mid_step in (False, True):
        conformance.test_state_dict_round_trip_is_bit_identical(example, mid_step)
    conformance.test_non_finite_values_are_counted_and_rank_worst(example)
    conformance.test_bad_tell_leaves_state_unchanged(example)
    conformance.test_tell_without_ask_and_unknown_option(example)
    for budget in (1, 7, 150):
        conformance.test_budget_is_a_hard_limit(example, budget)
    conformance.test_minimize_improves_on_a_sphere(example)


def test_the_example_rejects_a_bad_option(example):
    import numpy as np

    import zoo

    with pytest.raises(ValueError, match="q"):
        zoo.make(NAME, x0=np.zeros(3), q=0)
