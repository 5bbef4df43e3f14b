"""Pure translation between a :class:`~hpo_bridge.space.Space` and a nevergrad parametrization.

Policy, per parameter, one entry of an ``ng.p.Dict`` keyed by the parameter's name:

===========================  ===================================================================
``uniform(a, b)``            ``ng.p.Scalar(lower=a, upper=b)``
``loguniform(a, b)``         ``ng.p.Log(lower=a, upper=b)``
``integer(a, b)``            ``ng.p.Scalar(lower=a - 0.5, upper=b + 0.5)``, rounded ¹
``integer(a, b, log=True)``  ``ng.p.Log(lower=a - 0.5, upper=b + 0.5)``, rounded ¹
a ``step`` grid of n values  ``ng.p.Scalar(lower=-0.5, upper=n - 0.5)`` on the grid index, rounded
``choice(options)``          ``ng.p.Choice(range(n))``: the option's index (the same draws as
                             ``ng.p.Choice(options)``, for options of any type); above 1,000
                             options, ``ng.p.Scalar(lower=-0.5, upper=n - 0.5)``, rounded ³
``normal``, ``lognormal``    ``ng.p.Scalar(lower=EPS, upper=1 - EPS)``: the quantile through the
                             inverse normal CDF ²
===========================  ===================================================================

¹ ``set_integer_casting`` rounds a scalar on ``[a, b]``, which gives both ends half the
probability of the others; widening by half a step on each side keeps every integer equally
likely (as for hyperopt), and a value on a widened bound is clipped to the range.

² An unbounded ``ng.p.Scalar(init=mu).set_mutation(sigma=sigma)`` is not a normal prior:
``RandomSearch`` samples it with a standard deviation of about ``2.5 * sigma``.

³ ``ng.p.Choice`` gives each option a weight that the optimizer moves: a choice of 100,000
options is 100,000 dimensions (CMA's covariance alone would take 75 GiB). Above 1,000 options
the index is one rounded scalar, which gives the options an order they may not have (as
hyperopt's ``randint`` does for sampling, without the order).

Conditional parameters are encoded, as for skopt: every branch's parameters are entries; a
proposal's inactive ones are dropped on decode, and a point told from outside fills them with
a neutral value (the lower bound, the first option, the prior's centre).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import nevergrad as ng

from hpo_bridge.space import Choice, Integer, LogUniform, Normal, Space, Uniform
from hpo_bridge.space.transforms import EPS, from_unit, to_unit

__all__ = ["from_value", "parametrization", "to_value"]


#: Above this many options a choice is one rounded scalar index (see note 3).
LARGE_CHOICE = 1000


def _large(p: Any) -> bool:
    return isinstance(p, Choice) and len(p.options) > LARGE_CHOICE


def _parameter(p: Any) -> ng.p.Parameter:
    if _large(p):
        return ng.p.Scalar(lower=-0.5, upper=len(p.options) - 0.5)
    if isinstance(p, Choice):
        return ng.p.Choice(list(range(len(p.options))))
    if p.indexed:
        return ng.p.Scalar(lower=-0.5, upper=p.size - 0.5)
    if isinstance(p, Integer):
        wide = {"lower": p.low - 0.5, "upper": p.high + 0.5}
        return ng.p.Log(**wide) if p.log else ng.p.Scalar(**wide)
    if isinstance(p, Uniform):
        return ng.p.Scalar(lower=p.low, upper=p.high)
    if isinstance(p, LogUniform):
        return ng.p.Log(lower=p.low, upper=p.high)
    if isinstance(p, Normal):
        return ng.p.Scalar(lower=EPS, upper=1.0 - EPS)
    raise TypeError(f"nevergrad: no translation for {p!r}")


def parametrization(space: Space) -> ng.p.Dict:
    """An ``ng.p.Dict`` with one entry per dimension of ``space`` (every branch's)."""
    return ng.p.Dict(**{d.name: _parameter(d.param) for d in space.dims})


def _rounded(value: float, low: float, high: float) -> int:
    return int(min(max(math.floor(value + 0.5), low), high))


def _from_native(p: Any, value: Any) -> Any:
    value = float(value) if not isinstance(value, int) else value
    if _large(p):
        return _rounded(value, 0, len(p.options) - 1)
    if isinstance(p, Choice):
        return int(value)
    if p.indexed:
        return p.value_at(_rounded(value, 0, p.size - 1))
    if isinstance(p, Integer):
        return _rounded(value, p.low, p.high)
    if isinstance(p, Normal):
        return from_unit(p, value)
    return p.canonical(min(max(value, p.low), p.high))


def _to_native(p: Any, value: Any) -> Any:
    if _large(p):
        return float(value)
    if isinstance(p, Choice):
        return int(value)
    if p.indexed:
        return float(p.grid_index(value))
    if isinstance(p, Normal):
        return to_unit(p, value)
    return float(value)


def _neutral(p: Any) -> Any:
    if isinstance(p, Choice) and not _large(p):
        return 0
    if isinstance(p, Choice) or p.indexed:
        return 0.0
    if isinstance(p, Normal):
        return 0.5
    return float(p.low)


def from_value(space: Space, value: Mapping[str, Any]) -> dict[str, Any]:
    """The point of a nevergrad candidate's ``value`` (inactive entries dropped)."""
    point: dict[str, Any] = {}
    for dim in space.dims:
        if space.is_active(dim, point):
            point[dim.name] = _from_native(dim.param, value[dim.name])
    return point


def to_value(space: Space, point: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ng.p.Dict`` value of ``point``, inactive entries set to a neutral value."""
    return {d.name: _to_native(d.param, point[d.name]) if d.name in point else _neutral(d.param)
            for d in space.dims}
