"""Pure translation between a :class:`~hpo_bridge.space.Space` and Optuna distributions.

Policy, per parameter (Optuna parameter names are the dimension names):

===========================  ===================================================================
``uniform(a, b, step)``      ``FloatDistribution(a, b, step=step)``
``loguniform(a, b)``         ``FloatDistribution(a, b, log=True)``
``integer(a, b, step, log)`` ``IntDistribution(a, b, step=step, log=log)``
``choice(options)``          ``CategoricalDistribution(options)`` when every option is ``None``,
                             ``bool``, ``int``, ``float`` or ``str`` and no two are ``==``;
                             otherwise the options' labels (:func:`choice_labels`: unique,
                             stable strings; Optuna stores parameters as JSON and finds options
                             by ``==``), or, for a study stored before labels
                             (``labelled=False``), the option indices
``normal``, ``lognormal``    ``FloatDistribution(EPS, 1 - EPS)``: the quantile, mapped through
                             the inverse normal CDF (same prior)
===========================  ===================================================================

Conditional parameters are suggested only in their active branch, in the space's order.

Labels or indices change no proposal: Optuna keeps a categorical parameter as its option's index
(``CategoricalDistribution.to_internal_repr``) and its samplers draw indices from
``len(choices)``, so a labelled study and an indexed one propose the same. Reading takes both: a
label (a ``str``) of a choice stored by label, an index (an ``int``) of one stored by index.
"""

from __future__ import annotations

import weakref
from collections import Counter
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
from hpo_bridge.space.tree import option_label

__all__ = ["distribution", "distributions", "suggest", "to_params", "from_params",
           "native_options", "choice_labels"]

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


def choice_labels(choice: Choice) -> tuple[str, ...]:
    """The labels a choice whose options Optuna cannot store is stored by: each option's
    label as the library shows it (its ``name``, class or function name, a plain value as
    text, else its index; :func:`hpo_bridge.space.tree.option_label`), made unique: a label
    that several options share gets `` #<index>``, and if that still collides every label is
    ``[<index>] <label>``. Stable: the same options give the same labels in every process,
    also when the space is rebuilt from its stored description (an object comes back as its
    label)."""
    labels = [option_label(o, i) for i, o in enumerate(choice.options)]
    counts = Counter(labels)
    if len(counts) == len(labels):
        return tuple(labels)
    marked = [f"{lab} #{i}" if counts[lab] > 1 else lab for i, lab in enumerate(labels)]
    if len(set(marked)) == len(marked):
        return tuple(marked)
    return tuple(f"[{i}] {lab}" for i, lab in enumerate(labels))


def _stored_options(choice: Choice, labelled: bool) -> Sequence[Any]:
    options = native_options(choice)
    if options is not None:
        return options
    return choice_labels(choice) if labelled else list(range(len(choice.options)))


def distribution(param: Any, labelled: bool = True) -> BaseDistribution:
    """The Optuna distribution of one parameter (``labelled=False``: a choice of objects by
    its option indices, as studies stored before labels hold it)."""
    if isinstance(param, Choice):
        return CategoricalDistribution(_stored_options(param, labelled))
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


def _to_native(param: Any, value: Any, labels: Sequence[str] | None) -> Any:
    if isinstance(param, Choice):
        options = native_options(param)
        if options is not None:
            return options[value]
        return labels[value] if labels is not None else int(value)
    if isinstance(param, Normal):
        return to_unit(param, value)
    return value


def _from_native(param: Any, value: Any, index: Mapping[str, int] | None) -> Any:
    if isinstance(param, Choice):
        options = native_options(param)
        if options is None:
            if isinstance(value, str):  # stored by label
                if index is None or value not in index:
                    raise ValueError(f"optuna: {value!r} is not a label of {param!r}")
                return index[value]
            return int(value)  # stored by index
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


class _Tables:
    """A space's translation, made once: every ask walks the same space (a large choice
    takes a while to translate)."""

    def __init__(self, space: Space) -> None:
        self.dists: dict[bool, list[tuple[Dim, BaseDistribution]]] = {}
        #: name -> labels, of each choice stored by label
        self.labels = {d.name: choice_labels(d.param) for d in space.dims
                       if isinstance(d.param, Choice) and native_options(d.param) is None}
        #: name -> {label: index}
        self.index = {name: {lab: i for i, lab in enumerate(labels)}
                      for name, labels in self.labels.items()}

    def distributions(self, space: Space, labelled: bool) -> list[tuple[Dim, BaseDistribution]]:
        dists = self.dists.get(labelled)
        if dists is None:
            dists = self.dists[labelled] = [(d, distribution(d.param, labelled))
                                            for d in space.dims]
        return dists


_TABLES: weakref.WeakKeyDictionary[Space, _Tables] = weakref.WeakKeyDictionary()


def _tables(space: Space) -> _Tables:
    tables = _TABLES.get(space)
    if tables is None:
        tables = _TABLES[space] = _Tables(space)
    return tables


def distributions(space: Space, labelled: bool = True) -> dict[str, BaseDistribution]:
    """Each parameter's Optuna distribution, by name (translated once per space)."""
    return {dim.name: dist for dim, dist in _tables(space).distributions(space, labelled)}


def suggest(trial: Any, space: Space, labelled: bool = True) -> dict[str, Any]:
    """Walk ``space`` on an Optuna trial, suggesting only active parameters; return the point."""
    tables = _tables(space)
    point: dict[str, Any] = {}
    for dim, dist in tables.distributions(space, labelled):
        if space.is_active(dim, point):
            point[dim.name] = _from_native(dim.param, _suggest_one(trial, dim.name, dist),
                                           tables.index.get(dim.name))
    return point


def to_params(space: Space, point: Mapping[str, Any], labelled: bool = True
              ) -> dict[str, Any]:
    """Optuna ``params`` (name -> native value) of a point (``labelled=False``: a choice of
    objects by its option index, as studies stored before labels hold it)."""
    labels = _tables(space).labels if labelled else {}
    return {name: _to_native(space[name].param, v, labels.get(name))
            for name, v in point.items()}


def from_params(space: Space, params: Mapping[str, Any]) -> dict[str, Any]:
    """The point of Optuna ``params`` (a choice of objects by its label or, as studies
    stored before labels hold it, its option index)."""
    index = _tables(space).index
    point: dict[str, Any] = {}
    for dim in space.dims:
        if space.is_active(dim, point) and dim.name in params:
            point[dim.name] = _from_native(dim.param, params[dim.name], index.get(dim.name))
    return point
