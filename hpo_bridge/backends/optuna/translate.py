"""Pure translation between a :class:`~hpo_bridge.space.Space` and Optuna distributions.

Policy, per parameter (Optuna parameter names are the dimension names):

===========================  ===================================================================
``uniform(a, b, step)``      ``FloatDistribution(a, b, step=step)``
``loguniform(a, b)``         ``FloatDistribution(a, b, log=True)``
``integer(a, b, step, log)`` ``IntDistribution(a, b, step=step, log=log)``
``choice(options)``          ``CategoricalDistribution(options)`` when every option is ``None``,
                             ``bool``, ``int``, ``float`` or ``str`` and no two are ``==``;
                             otherwise the option indices (Optuna stores parameters as JSON and
                             finds options by ``==``)
``normal``, ``lognormal``    ``FloatDistribution(EPS, 1 - EPS)``: the quantile, mapped through
                             the inverse normal CDF (same prior)
===========================  ===================================================================

Conditional parameters are suggested only in their active branch, in the space's order.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Any, cast

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hpo_bridge.space import Choice, Dim, Integer, LogUniform, Normal, Space, Uniform
from hpo_bridge.space.transforms import EPS, from_unit, to_unit

__all__ = ["distribution", "distributions", "suggest", "to_params", "from_params",
           "native_options"]

_PLAIN = (type(None), bool, int, float, str)


def native_options(choice: Choice) -> Sequence[Any] | None:
    """The options Optuna can store as they are, or ``None`` when indices are used.

    Optuna finds a value's option with ``==`` (``choices.index``), so options that are equal
    but of different types (``True``, ``1``, ``1.0``) or not equal to themselves (NaN) would
    come back as another option: such a choice is stored by index too.
    """
    options = choice.options
    if not all(type(o) in _PLAIN for o in options):
        return None
    seen: set[Any] = set()  # plain options hash alike when equal: one pass, not n ** 2
    for option in options:
        if option != option or option in seen:  # NaN, or equal to an earlier one
            return None
        seen.add(option)
    return options


def distribution(param: Any) -> BaseDistribution:
    """The Optuna distribution of one parameter."""
    if isinstance(param, Choice):
        options = native_options(param)
        return CategoricalDistribution(options if options is not None
                                       else list(range(len(param.options))))
    if isinstance(param, Integer):
        return IntDistribution(int(param.low), int(param.high), step=param.step,
                               log=param.log)
    if isinstance(param, Uniform):
        return FloatDistribution(param.low, param.high, step=param.step)
    if isinstance(param, LogUniform):
        return FloatDistribution(param.low, param.high, log=True)
    if isinstance(param, Normal):
        return FloatDistribution(EPS, 1.0 - EPS)
    raise TypeError(f"optuna: no translation for {param!r}")


def _to_native(param: Any, value: Any) -> Any:
    if isinstance(param, Choice):
        options = native_options(param)
        return options[value] if options is not None else int(value)
    if isinstance(param, Normal):
        return to_unit(param, value)
    return value


def _from_native(param: Any, value: Any) -> Any:
    if isinstance(param, Choice):
        options = native_options(param)
        if options is None:
            return int(value)
        for i, option in enumerate(options):
            if type(option) is type(value) and option == value:
                return i
        raise ValueError(f"optuna: {value!r} is not an option of {param!r}")
    if isinstance(param, Normal):
        return from_unit(param, value)
    return param.canonical(value)


def _suggest_one(trial: Any, name: str, dist: BaseDistribution) -> Any:
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    dist = cast(FloatDistribution, dist)
    return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)


# Each space's distributions, translated once: every ask walks the same space.
_DISTRIBUTIONS: weakref.WeakKeyDictionary[Space, list[tuple[Dim, BaseDistribution]]] = (
    weakref.WeakKeyDictionary()
)


def _distributions(space: Space) -> list[tuple[Dim, BaseDistribution]]:
    dists = _DISTRIBUTIONS.get(space)
    if dists is None:
        dists = _DISTRIBUTIONS[space] = [(d, distribution(d.param)) for d in space.dims]
    return dists


def distributions(space: Space) -> dict[str, BaseDistribution]:
    """Each parameter's Optuna distribution, by name (translated once per space)."""
    return {dim.name: dist for dim, dist in _distributions(space)}


def suggest(trial: Any, space: Space) -> dict[str, Any]:
    """Walk ``space`` on an Optuna trial, suggesting only active parameters; return the point."""
    point: dict[str, Any] = {}
    for dim, dist in _distributions(space):
        if space.is_active(dim, point):
            point[dim.name] = _from_native(dim.param, _suggest_one(trial, dim.name, dist))
    return point


def to_params(space: Space, point: Mapping[str, Any]) -> dict[str, Any]:
    """Optuna ``params`` (name -> native value) of a point."""
    return {name: _to_native(space[name].param, v) for name, v in point.items()}


def from_params(space: Space, params: Mapping[str, Any]) -> dict[str, Any]:
    """The point of Optuna ``params``."""
    point: dict[str, Any] = {}
    for dim in space.dims:
        if space.is_active(dim, point) and dim.name in params:
            point[dim.name] = _from_native(dim.param, params[dim.name])
    return point
