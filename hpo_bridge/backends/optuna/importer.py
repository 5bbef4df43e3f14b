"""Read Optuna distributions as DSL parameters; every mapping keeps the distribution.

=====================================================  =========================================
``FloatDistribution(a, b)``                            ``uniform(a, b)``
``FloatDistribution(a, b, step=s)``                    ``uniform(a, b, step=s)``
``FloatDistribution(a, b, log=True)``                  ``loguniform(a, b)``
``IntDistribution(a, b, step=s, log=...)``             ``integer(a, b, step=s, log=...)``
``CategoricalDistribution(choices)``                   ``choice(choices)``
=====================================================  =========================================

The deprecated ``UniformDistribution`` family are subclasses of these and read the same way.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpo_bridge.errors import SpaceError
from hpo_bridge.space import Param, choice, integer, loguniform, uniform

__all__ = ["param"]


def param(dist: Any, name: str) -> Param:
    """The DSL parameter of one Optuna distribution; ``SpaceError`` naming ``name`` if none."""
    try:
        if isinstance(dist, FloatDistribution):
            if dist.log:
                return loguniform(float(dist.low), float(dist.high))
            return uniform(float(dist.low), float(dist.high), dist.step)
        if isinstance(dist, IntDistribution):
            return integer(int(dist.low), int(dist.high), int(dist.step), bool(dist.log))
        if isinstance(dist, CategoricalDistribution):
            return choice(list(dist.choices))
    except ValueError as exc:
        raise SpaceError(f"optuna: parameter {name!r}: {exc}") from None
    raise SpaceError(f"optuna: parameter {name!r}: {type(dist).__name__} is not supported; "
                     "convertible are FloatDistribution, IntDistribution and "
                     "CategoricalDistribution")
