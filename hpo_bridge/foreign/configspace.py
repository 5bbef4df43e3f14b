"""Read a ConfigSpace ``ConfigurationSpace`` (``pip install 'hpo_bridge[configspace]'``).

=============================================  ================================================
``UniformFloatHyperparameter(a, b, log)``      ``uniform(a, b)`` / ``loguniform(a, b)``
``UniformIntegerHyperparameter(a, b, log)``    ``integer(a, b, log=log)``
``CategoricalHyperparameter(choices)``         ``choice(choices)`` (unequal ``weights`` refused)
``OrdinalHyperparameter(sequence)``            ``choice(sequence)`` (same draws; the order is
                                               not used)
``Constant(value)``                            the value
``EqualsCondition``/``InCondition`` on a        a branch: the child is a parameter of the
categorical or ordinal parent                  parent's option(s); under an ``InCondition``
                                               with several values, one parameter per value,
                                               named ``parent[value].child``
``ForbiddenEqualsClause``/``ForbiddenInClause`` the value is removed from the choice
on a categorical or ordinal
anything else (normal, beta, other conditions  refused by name
and forbidden clauses, conjunctions)
=============================================  ================================================

The objective receives a flat dict of the active hyperparameters, like ``dict(configuration)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ConfigSpace import (CategoricalHyperparameter, ConfigurationSpace, Constant,
                         EqualsCondition, ForbiddenEqualsClause, ForbiddenInClause,
                         InCondition, OrdinalHyperparameter, UniformFloatHyperparameter,
                         UniformIntegerHyperparameter)

from hpo_bridge.errors import SpaceError
from hpo_bridge.foreign.common import make_space
from hpo_bridge.space import Choice, Param, Space, choice, integer, loguniform, uniform

__all__ = ["from_configspace", "param"]

_CATEGORICAL = (CategoricalHyperparameter, OrdinalHyperparameter)


class _Value:
    """The key under which a branch keeps its parent's value (flattened away on decode)."""

    def __repr__(self) -> str:
        return "VALUE"

    def __reduce__(self) -> str:
        return "VALUE"


VALUE = _Value()


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 else value


def _options(hp: Any) -> list:
    if isinstance(hp, CategoricalHyperparameter):
        weights = hp.weights
        if weights is not None and max(weights) - min(weights) > 1e-12 * max(weights):
            raise SpaceError(f"ConfigSpace: parameter {hp.name!r}: unequal weights "
                             f"{list(weights)} have no DSL equivalent (every option of a "
                             "choice is equally likely)")
        return [_plain(c) for c in hp.choices]
    return [_plain(v) for v in hp.sequence]


def param(hp: Any, name: str | None = None) -> Any:
    """The DSL parameter (or constant) of one hyperparameter; ``SpaceError`` naming it if none."""
    name = name or hp.name
    try:
        if isinstance(hp, UniformFloatHyperparameter):
            kind = loguniform if hp.log else uniform
            return kind(float(hp.lower), float(hp.upper))
        if isinstance(hp, UniformIntegerHyperparameter):
            return integer(int(hp.lower), int(hp.upper), log=bool(hp.log))
        if isinstance(hp, _CATEGORICAL):
            return choice(_options(hp))
        if isinstance(hp, Constant):
            return _plain(hp.value)
    except SpaceError:
        raise
    except ValueError as exc:
        raise SpaceError(f"ConfigSpace: parameter {name!r}: {exc}") from None
    raise SpaceError(f"ConfigSpace: parameter {name!r}: {type(hp).__name__} is not supported; "
                     "convertible are UniformFloat, UniformInteger, Categorical (equal "
                     "weights), Ordinal and Constant")


def _branches(cs: Any) -> dict[str, list[tuple[str, Any]]]:
    """``{parent: [(value, child), ...]}`` from the conditions; anything else refused."""
    branches: dict[str, list[tuple[str, Any]]] = {}
    seen: set[str] = set()
    for cond in cs.conditions:
        child: Any = getattr(getattr(cond, "child", None), "name", None)
        if not isinstance(cond, (EqualsCondition, InCondition)) or not isinstance(
                cond.parent, _CATEGORICAL) or child in seen:
            raise SpaceError(
                f"ConfigSpace: condition {cond}: only one EqualsCondition or InCondition per "
                "hyperparameter, on a categorical or ordinal parent, maps to the DSL")
        seen.add(child)
        values = [cond.value] if isinstance(cond, EqualsCondition) else list(cond.values)
        branches.setdefault(cond.parent.name, []).extend((_plain(v), child) for v in values)
    return branches


def _forbidden(cs: Any) -> dict[str, list]:
    removed: dict[str, list] = {}
    for clause in cs.forbidden_clauses:
        if not isinstance(clause, (ForbiddenEqualsClause, ForbiddenInClause)) or not isinstance(
                clause.hyperparameter, _CATEGORICAL):
            raise SpaceError(
                f"ConfigSpace: forbidden clause {clause}: only ForbiddenEqualsClause and "
                "ForbiddenInClause on a categorical or ordinal hyperparameter map to the DSL "
                "(the value is removed from the choice)")
        values = [clause.value] if isinstance(clause, ForbiddenEqualsClause) else clause.values
        removed.setdefault(clause.hyperparameter.name, []).extend(_plain(v) for v in values)
    return removed


class _Builder:
    def __init__(self, cs: Any) -> None:
        self.cs = cs
        self.branches = _branches(cs)
        self.removed = _forbidden(cs)
        self.names: dict[int, str] = {}

    def node(self, name: str, qualified: str) -> Any:
        hp = self.cs[name]
        if not isinstance(hp, _CATEGORICAL):
            value = param(hp, qualified)
            if isinstance(value, Param):
                self.names[id(value)] = qualified
            return value
        values = [v for v in _options(hp) if v not in self.removed.get(name, [])]
        if not values:
            raise SpaceError(f"ConfigSpace: parameter {qualified!r}: every value is forbidden")
        options = []
        for v in values:
            children = [c for value, c in self.branches.get(name, []) if value == v]
            if not children:
                options.append(v)
                continue
            option: dict[Any, Any] = {VALUE: v}
            for child in children:
                shared = sum(c == child for _, c in self.branches[name]) > 1
                option[child] = self.node(child, f"{name}[{v}].{child}" if shared else child)
            options.append(option)
        if len(options) == 1 and not isinstance(options[0], dict):
            return options[0]
        result = choice(options)
        self.names[id(result)] = qualified
        return result

    def structure(self) -> dict[str, Any]:
        children = {c for pairs in self.branches.values() for _, c in pairs}
        return {n: self.node(n, n) for n in self.cs if n not in children}


class FlatSpace(Space):
    """A space whose objective receives a flat dict, the branches' values merged in."""

    _nested: Any  # the nested structure the flat names come from (set by ``from_configspace``)

    def decode(self, point: Mapping[str, Any]) -> Any:
        return _flatten(super().decode(point))

    def encode(self, config: Any) -> dict[str, Any]:
        if not isinstance(config, Mapping):
            raise SpaceError(f"config: expected a dict of hyperparameters, got {config!r}")
        return super().encode(_nest(self._nested, config))


def _flatten(config: Mapping) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and VALUE in value:
            flat[key] = value[VALUE]
            flat.update(_flatten({k: v for k, v in value.items() if k is not VALUE}))
        else:
            flat[key] = value
    return flat


def _nest(nested: Mapping, config: Mapping) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, node in nested.items():
        if key not in config:
            raise SpaceError(f"config: hyperparameter {key!r} is missing")
        value = config[key]
        out[key] = value
        if isinstance(node, Choice):
            for option in node.options:
                if isinstance(option, dict) and option[VALUE] == value:
                    rest = {k: v for k, v in option.items() if k is not VALUE}
                    out[key] = {VALUE: value, **_nest(rest, config)}
    return out


def from_configspace(cs: Any) -> Space:
    """The DSL space of a ``ConfigurationSpace`` (see the module's policy)."""
    if not isinstance(cs, ConfigurationSpace):
        raise SpaceError(f"from_configspace: expected a ConfigurationSpace, got {cs!r}")
    builder = _Builder(cs)
    nested = builder.structure()
    compiled = make_space(nested)
    flat = object.__new__(FlatSpace)
    flat.__dict__.update(compiled.__dict__, _nested=nested, structure=cs)  # storage re-reads cs
    return flat.renamed({d.name: builder.names.get(id(d.param), d.name) for d in flat.dims})
