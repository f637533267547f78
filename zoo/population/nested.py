"""Methods that run another registered method inside them: ``auto`` and the IPOP / BIPOP restart wrappers.

The inner optimizer is rebuilt from the outer State by ``_build_inner(state)``, the outer ``ask`` is the
inner's, and the inner ``state_dict`` nests in the outer one, so a round trip resumes both bit for bit.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from zoo.core.method import Method, State


class NestedMethod(Method):
    """Base of a method that delegates its batches to an inner optimizer (``self.inner``)."""

    _inner: Method

    @abc.abstractmethod
    def _build_inner(self, state: State) -> Method:
        """The inner optimizer that ``state`` describes (fresh; its own state is loaded separately)."""

    @property
    def inner(self) -> Method:
        """The inner optimizer now running."""
        return self._inner

    def _ask(self, state: State, rng: np.random.Generator) -> np.ndarray:
        return self._inner.ask()

    def _batch_size(self, state: State) -> int:
        return self._inner._batch_size(self._inner.state)

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        sd["inner"] = self._inner.state_dict()
        return sd

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        super().load_state_dict(sd)
        self._inner = self._build_inner(self.state)
        self._inner.load_state_dict(sd["inner"])
