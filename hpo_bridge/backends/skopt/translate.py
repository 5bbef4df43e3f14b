"""Pure translation between a :class:`~hpo_bridge.space.Space` and skopt dimensions.

Policy, per parameter, one dimension each in the space's order:

===========================  ===================================================================
``uniform(a, b)``            ``Real(a, b)``
``loguniform(a, b)``         ``Real(a, b, prior="log-uniform")``
``integer(a, b, log=...)``   ``Integer(a, b, prior="uniform" | "log-uniform")``
``integer``/``uniform`` with ``Integer(0, n - 1)`` over the grid index
a ``step`` (not 1)
``choice(options)``          ``Categorical(options)`` when the options are all ``str``, all
                             ``int`` or all ``float``; otherwise ``Categorical`` of indices (skopt
                             crashes on tuples and mixes types)
``normal``, ``lognormal``    ``Real(EPS, 1 - EPS)``: the quantile through the inverse normal CDF
===========================  ===================================================================

skopt has no conditional parameters: every branch's parameters are dimensions; a proposal's
inactive ones are dropped on decode, and a point told from outside fills them with a neutral
value (the lower bound, the first option).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from skopt.space import Categorical, Dimension, Real
from skopt.space import Integer as SkInteger

from hpo_bridge.space import Choice, Integer, LogUniform, Normal, Space, Uniform
from hpo_bridge.space.transforms import EPS, from_unit, to_unit

__all__ = ["dimensions", "from_x", "to_x", "native_options"]


def native_options(choice: Choice) -> Sequence[Any] | None:
    """The options skopt takes as they are, or ``None`` when indices are used."""
    for kind in (str, int, float):
        if all(type(o) is kind for o in choice.options):
            return choice.options
    return None



def _dimension(name: str, p: Any) -> Dimension:
    if isinstance(p, Choice):
        options = native_options(p)
        return Categorical(list(options) if options is not None else list(range(len(p.options))),
                           name=name)
    if p.indexed:
        return SkInteger(0, p.size - 1, name=name)
    if isinstance(p, Integer):
        return SkInteger(p.low, p.high, prior="log-uniform" if p.log else "uniform", name=name)
    if isinstance(p, Uniform):
        return Real(p.low, p.high, name=name)
    if isinstance(p, LogUniform):
        return Real(p.low, p.high, prior="log-uniform", name=name)
    if isinstance(p, Normal):
        return Real(EPS, 1.0 - EPS, name=name)
    raise TypeError(f"skopt: no translation for {p!r}")


def dimensions(space: Space) -> list[Dimension]:
    """One skopt dimension per dimension of ``space``, in order."""
    return [_dimension(d.name, d.param) for d in space.dims]


def _item(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _from_native(p: Any, value: Any) -> Any:
    value = _item(value)
    if isinstance(p, Choice):
        options = native_options(p)
        if options is None:
            return int(value)
        return next(i for i, o in enumerate(options) if o == value)
    if p.indexed:
        return p.value_at(value)
    if isinstance(p, Normal):
        return from_unit(p, value)
    return p.canonical(value)


def _to_native(p: Any, value: Any) -> Any:
    if isinstance(p, Choice):
        options = native_options(p)
        return options[value] if options is not None else int(value)
    if p.indexed:
        return p.grid_index(value)
    if isinstance(p, Normal):
        return to_unit(p, value)
    return value


def _neutral(p: Any) -> Any:
    if isinstance(p, Choice):
        return _to_native(p, 0)
    if p.indexed:
        return 0
    if isinstance(p, Normal):
        return 0.5
    return p.low


def from_x(space: Space, x: Sequence[Any]) -> dict[str, Any]:
    """The point of an skopt proposal (inactive dimensions dropped)."""
    point: dict[str, Any] = {}
    for dim, value in zip(space.dims, x, strict=True):
        if space.is_active(dim, point):
            point[dim.name] = _from_native(dim.param, value)
    return point


def to_x(space: Space, point: Mapping[str, Any]) -> list[Any]:
    """The skopt point of ``point``, inactive dimensions set to a neutral value."""
    return [_to_native(d.param, point[d.name]) if d.name in point else _neutral(d.param)
            for d in space.dims]
