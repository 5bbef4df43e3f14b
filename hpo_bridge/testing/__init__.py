"""The conformance kit: every test a backend must pass, for any backend, in or out of the package.

A backend runs it with a few lines in its own tests (pytest and hypothesis needed, e.g.
``pip install 'hpo_bridge[dev]'``)::

    # tests/test_mylib_conformance.py
    import pytest
    from hpo_bridge import BackendInfo
    from hpo_bridge.backends.base import Capabilities
    from hpo_bridge.testing import BackendSuite
    from mylib_hpo.adapter import MyAdapter

    class TestMyLib(BackendSuite):
        @pytest.fixture
        def backend(self):
            return BackendInfo.for_adapter(MyAdapter, "mylib:algo",
                                           capabilities=Capabilities(batch=False))

The fixture returns a :class:`~hpo_bridge.BackendInfo` (the class itself, installed and
registered nowhere: :meth:`BackendInfo.for_adapter`, or the package's own declaration) or the
name of a registered backend (``@pytest.fixture(params=["mylib:algo"])``, once an entry point
in the group ``hpo_bridge.backends`` declares it, see :mod:`hpo_bridge.backends.registry`). The suite checks values and types, records, failures and
infinities, pending trials, warm starts, seeds, the round trip of the translator
(``Adapter.to_native``/``from_native``) on random spaces, and every refusal the backend's
:class:`~hpo_bridge.backends.base.Capabilities` imply: a continuous parameter under
``discrete_only``, a normal prior under ``unbounded="refused"``, a second pending trial without
``batch`` (or beyond ``num_workers`` when ``planned``), ``remaining`` exactly when ``finite``,
several objectives under ``objectives="refused"`` and constraints under
``constraints="refused"``. Where they are taken, several objectives and constraints must give
the feasible non-dominated front (checked against the definition), the best feasible trial with
one objective, the same trials for the same seed, and values and constraints that survive a
storage round trip and a resume. With ``fidelity=``, Hyperband runs exactly its rungs within
``max_budget`` and promotes the best (a grid, or a backend without ``batch``, is refused).

``import hpo_bridge`` does not import this module (nor pytest).
"""

from hpo_bridge.testing.spaces import (
    Adam,
    cond_objective,
    conditional_space,
    discrete_conditional_space,
    flat_space,
    grid_space,
    quadratic,
    space_for,
)
from hpo_bridge.testing.suite import Backend, BackendSuite, optimizer

__all__ = ["Adam", "Backend", "BackendSuite", "cond_objective", "conditional_space",
           "discrete_conditional_space", "flat_space", "grid_space", "optimizer", "quadratic",
           "space_for"]
