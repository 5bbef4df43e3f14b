"""Pure translation between a :class:`~hpo_bridge.space.Space` and hyperopt's ``hp.*``.

Policy, per parameter (labels are the dimension names):

================================  ===============================================================
``uniform(a, b)``                 ``hp.uniform(name, a, b)``
``loguniform(a, b)``              ``hp.loguniform(name, log(a), log(b))`` (hyperopt wants logs)
``integer(a, b)``                 ``int(hp.quniform(name, a - 0.5, b + 0.5, 1))``: every int
                                  equally likely (``hp.uniformint`` halves both ends' chance)
``integer(a, b, log=True)``       ``int(hp.qloguniform(name, log(a - 0.5), log(b + 0.5), 1))``
``integer(a, b, step)``,          ``int(hp.quniform(name, -0.5, n - 0.5, 1))`` over the grid
``uniform(a, b, step)``           index
``choice(options)``               ``hp.choice(name, [...])``: plain options (``None``, ``bool``,
                                  ``int``, ``float``, ``str``) as they are, other options as
                                  their index; parameters of an option are nested inside it
                                  (conditional natively). hyperopt's draws depend on the
                                  labels only, so ``fmin`` on this space proposes what the
                                  adapter proposes. A choice of more than ``LARGE_CHOICE``
                                  options without parameters is ``hp.randint(name, n)``: what
                                  ``hp.choice`` samples, without a graph node per option
``normal``, ``lognormal``         ``hp.normal``, ``hp.lognormal`` (native)
================================  ===============================================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

from hyperopt import hp
from hyperopt.pyll import scope

from hpo_bridge.space import (
    Choice,
    Dim,
    Grid,
    Integer,
    LogNormal,
    LogUniform,
    Normal,
    Space,
    Uniform,
)

__all__ = ["to_hp", "from_vals", "to_vals"]


#: Above this many options (and no parameters inside them), a choice is sampled with
#: ``hp.randint``: ``hp.choice`` builds a graph node per option (100,000 options took 30 s).
LARGE_CHOICE = 1000


def _expr(dim: Dim, space: Space) -> Any:
    name, p = dim.name, dim.param
    if isinstance(p, Choice):
        blocks = [_block(space, (name, i)) for i in range(len(p.options))]
        if len(blocks) > LARGE_CHOICE and not any(blocks):  # hp.choice is switch(randint)
            return hp.randint(name, len(p.options))
        return hp.choice(name, [block or _option(p, i) for i, block in enumerate(blocks)])
    if isinstance(p, Grid) and p.indexed:
        return scope.int(hp.quniform(name, -0.5, cast(int, p.size) - 0.5, 1))
    if isinstance(p, Integer):
        if p.log:
            return scope.int(
                hp.qloguniform(name, math.log(p.low - 0.5), math.log(p.high + 0.5), 1))
        return scope.int(hp.quniform(name, p.low - 0.5, p.high + 0.5, 1))
    if isinstance(p, Uniform):
        return hp.uniform(name, p.low, p.high)
    if isinstance(p, LogUniform):
        return hp.loguniform(name, math.log(p.low), math.log(p.high))
    if isinstance(p, LogNormal):
        return hp.lognormal(name, p.mu, p.sigma)
    if isinstance(p, Normal):
        return hp.normal(name, p.mu, p.sigma)
    raise TypeError(f"hyperopt: no translation for {p!r}")


def _option(choice: Choice, i: int) -> Any:
    option = choice.options[i]
    return option if type(option) in (type(None), bool, int, float, str) else i


def _block(space: Space, condition: tuple[str, int] | None) -> dict[str, Any]:
    return {d.name: _expr(d, space) for d in space.dims if d.condition == condition}


def to_hp(space: Space) -> dict[str, Any]:
    """The ``hp.*`` expression of ``space``: a flat dict of its unconditional dimensions."""
    return _block(space, None)


def from_vals(space: Space, vals: Mapping[str, list[Any]]) -> dict[str, Any]:
    """A point from a trial's ``misc["vals"]`` (``{label: [value]}``, ``[]`` when inactive)."""
    point: dict[str, Any] = {}
    for dim in space.dims:
        if not space.is_active(dim, point):
            continue
        raw = vals[dim.name][0]
        param = dim.param
        if isinstance(param, Grid) and param.indexed:
            point[dim.name] = param.value_at(raw)
        else:
            point[dim.name] = param.canonical(raw)
    return point


def to_vals(space: Space, point: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``misc["vals"]`` of a point: every label, ``[]`` for inactive ones."""
    vals: dict[str, list[Any]] = {}
    for dim in space.dims:
        if dim.name not in point:
            vals[dim.name] = []
        elif isinstance(dim.param, Grid) and dim.param.indexed:
            vals[dim.name] = [float(dim.param.grid_index(point[dim.name]))]
        elif isinstance(dim.param, (Choice, Integer)):
            vals[dim.name] = [int(point[dim.name])]
        else:
            vals[dim.name] = [float(point[dim.name])]
    return vals
