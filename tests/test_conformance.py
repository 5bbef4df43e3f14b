"""The conformance kit (``hpo_bridge.testing``), parametrized over every available backend.

A backend registered in ``hpo_bridge.backends.registry`` or through the entry-point group
``hpo_bridge.backends`` gets every test here for free.
"""

from __future__ import annotations

import pytest

from conftest import AVAILABLE
from hpo_bridge.testing import BackendSuite


class TestEveryBackend(BackendSuite):
    @pytest.fixture(params=AVAILABLE)
    def backend(self, request: pytest.FixtureRequest) -> str:
        return request.param
