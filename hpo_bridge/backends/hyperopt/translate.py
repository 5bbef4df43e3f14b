"""Pure translation between a :class:`~hpo_bridge.space.Space` and hyperopt's ``hp.*``.

Policy, per parameter (labels are the dimension names):

================================  ===============================================================
``uniform(a, b)``                 ``hp.uniform(name, a, b)``
``loguniform(a, b)``              ``hp.loguniform(name, log(a), log(b))`` (hyperopt wants logs)
``integer(a, b)``                 ``hp.quniform(name, a - 0.5, b + 0.5, 1)``: every int equally
                                  likely (``hp.uniformint`` halves the chance of both ends)
``integer(a, b, log=True)``       ``hp.qloguniform(name, log(a - 0.5), log(b + 0.5), 1)``
``integer(a, b, step)``,          ``hp.quniform(name, -0.5, n - 0.5, 1)`` over the grid index
``uniform(a, b, step)``
``choice(options)``               ``hp.choice(name, [...])`` over option indices; parameters of
                                  an option are nested inside it (conditional natively).
                                  Without such parameters ``hp.randint(name, n)``: what
                                  ``hp.choice`` samples, without a graph node per option
``normal``, ``lognormal``         ``hp.normal``, ``hp.lognormal`` (native)
================================  ===============================================================
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from hyperopt import hp

from hpo_bridge.space import Choice, Dim, Integer, LogNormal, LogUniform, Normal, Space, Uniform

__all__ = ["to_hp", "from_vals", "to_vals"]



def _expr(dim: Dim, space: Space) -> Any:
    name, p = dim.name, dim.param
    if isinstance(p, Choice):
        blocks = [_block(space, (name, i)) for i in range(len(p.options))]
        if not any(blocks):  # hp.choice is switch(randint): the same vals, without n nodes
            return hp.randint(name, len(p.options))
        return hp.choice(name, [block or i for i, block in enumerate(blocks)])
    if p.indexed:
        return hp.quniform(name, -0.5, p.size - 0.5, 1)
    if isinstance(p, Integer):
        if p.log:
            return hp.qloguniform(name, math.log(p.low - 0.5), math.log(p.high + 0.5), 1)
        return hp.quniform(name, p.low - 0.5, p.high + 0.5, 1)
    if isinstance(p, Uniform):
        return hp.uniform(name, p.low, p.high)
    if isinstance(p, LogUniform):
        return hp.loguniform(name, math.log(p.low), math.log(p.high))
    if isinstance(p, LogNormal):
        return hp.lognormal(name, p.mu, p.sigma)
    if isinstance(p, Normal):
        return hp.normal(name, p.mu, p.sigma)
    raise TypeError(f"hyperopt: no translation for {p!r}")


def _block(space: Space, condition: tuple[str, int] | None) -> dict[str, Any]:
    return {d.name: _expr(d, space) for d in space.dims if d.condition == condition}


def to_hp(space: Space) -> dict[str, Any]:
    """The ``hp.*`` expression of ``space``: a flat dict of its unconditional dimensions."""
    return _block(space, None)


def from_vals(space: Space, vals: Mapping[str, list]) -> dict[str, Any]:
    """A point from a trial's ``misc["vals"]`` (``{label: [value]}``, ``[]`` when inactive)."""
    point: dict[str, Any] = {}
    for dim in space.dims:
        if not space.is_active(dim, point):
            continue
        raw = vals[dim.name][0]
        param = dim.param
        point[dim.name] = param.value_at(raw) if param.indexed else param.canonical(raw)
    return point


def to_vals(space: Space, point: Mapping[str, Any]) -> dict[str, list]:
    """``misc["vals"]`` of a point: every label, ``[]`` for inactive ones."""
    vals: dict[str, list] = {}
    for dim in space.dims:
        if dim.name not in point:
            vals[dim.name] = []
        elif dim.param.indexed:
            vals[dim.name] = [float(dim.param.grid_index(point[dim.name]))]
        elif isinstance(dim.param, (Choice, Integer)):
            vals[dim.name] = [int(point[dim.name])]
        else:
            vals[dim.name] = [float(point[dim.name])]
    return vals
