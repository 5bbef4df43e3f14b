"""Spaces written for other libraries, converted to the DSL.

:func:`convert` is what :func:`hpo_bridge.as_space` calls first: it finds objects of hyperopt,
Optuna, scikit-optimize, ``scipy.stats`` and ConfigSpace by their type's module name, so a
library is imported only when the space holds one of its objects. Each library's importer
lives in its backend folder (``backends/<library>/importer.py``); ``scipy.stats`` and
ConfigSpace, which have no backend, live here.

Policy: each foreign primitive becomes the DSL parameter with the same distribution. Where
the DSL has none, the conversion either says what changes (a :class:`ConversionWarning`
naming the parameter) or refuses the parameter with a :class:`~hpo_bridge.SpaceError` that
names it and lists what is supported. Nothing is kept as a silent constant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Sequence

from hpo_bridge.errors import SpaceError
from hpo_bridge.foreign.common import ConversionWarning, library, make_space, module_of
from hpo_bridge.foreign.leaves import convert_leaf, convert_leaves
from hpo_bridge.space import Choice, Space

__all__ = [
    "ConversionWarning",
    "convert",
    "convert_leaf",
    "from_configspace",
    "from_hyperopt",
    "from_optuna",
    "from_scipy",
    "from_skopt",
]


def _is_skopt_space(obj: Any) -> bool:
    return module_of(obj).startswith("skopt.space") and type(obj).__name__ == "Space"


def _is_dimension_list(obj: Any) -> bool:
    return (isinstance(obj, (list, tuple)) and len(obj) > 0
            and all(library(d) == "skopt" for d in obj))


def _libraries(obj: Any, found: set[str]) -> set[str]:
    lib = library(obj)
    if lib is not None:
        found.add(lib)
    elif isinstance(obj, Mapping):
        for value in obj.values():
            _libraries(value, found)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            _libraries(value, found)
    elif isinstance(obj, Choice):
        _libraries(obj.options, found)
    return found


def convert(space: Any) -> Space | None:
    """The DSL space of ``space`` if it holds foreign objects, else ``None``.

    Example:
        >>> from optuna.distributions import FloatDistribution
        >>> convert({"lr": FloatDistribution(1e-4, 1e-1, log=True)}).dims[0].param
        loguniform(0.0001, 0.1)
    """
    if _is_skopt_space(space) or _is_dimension_list(space):
        return from_skopt(space)
    if module_of(space).startswith("ConfigSpace.configuration_space"):
        return from_configspace(space)
    found = _libraries(space, set())
    if not found:
        return None
    if "hyperopt" in found:
        return from_hyperopt(space)
    return make_space(convert_leaves(space, ""))


# -- the explicit entry points ---------------------------------------------------------------

def from_hyperopt(space: Any) -> Space:
    """The DSL space of a hyperopt space (an ``hp.*`` expression, or a dict/list holding them).

    Labels become the dimension names; the objective receives what ``fmin`` would pass.

    Example:
        >>> from hyperopt import hp
        >>> hb_space = from_hyperopt({"lr": hp.loguniform("lr", -9.2, -2.3)})
        >>> hb_space.names
        ['lr']
    """
    from hpo_bridge.backends.hyperopt.importer import from_hyperopt as convert_hp

    return convert_hp(space)


def from_optuna(distributions: Mapping[str, Any]) -> Space:
    """The DSL space of an Optuna ``{name: BaseDistribution}`` dict.

    Example:
        >>> from optuna.distributions import IntDistribution
        >>> from_optuna({"n": IntDistribution(1, 8)}).dims[0].param
        integer(1, 8)
    """
    if not isinstance(distributions, Mapping) or not all(
            library(d) == "optuna" for d in distributions.values()):
        raise SpaceError("from_optuna: expected a dict {name: optuna distribution}, got "
                         f"{distributions!r}")
    return make_space(convert_leaves(dict(distributions), ""))


def from_skopt(dimensions: Any, names: Sequence[str] | None = None) -> Space:
    """The DSL space of skopt dimensions (a list or a ``skopt.Space``); the objective receives a
    dict named by ``Dimension.name``, or by ``names`` when given.

    Example:
        >>> from skopt.space import Real
        >>> from_skopt([Real(0.0, 1.0)], names=["x"]).names
        ['x']
    """
    from hpo_bridge.backends.skopt.importer import structure

    return make_space(structure(dimensions, names))


def from_scipy(param_distributions: Any) -> Space:
    """The DSL space of scikit-learn style ``param_distributions``: a dict (or a list of dicts)
    of ``scipy.stats`` frozen distributions and lists, read as ``RandomizedSearchCV`` reads
    them: a list is a choice, a list of dicts a choice between them.

    Example:
        >>> from scipy.stats import loguniform
        >>> from_scipy({"C": loguniform(1e-3, 1e3), "kernel": ["rbf", "linear"]}).dims[1].param
        choice(['rbf', 'linear'])
    """
    from hpo_bridge.foreign.stats import structure

    return make_space(structure(param_distributions))


def from_configspace(configspace: Any) -> Space:
    """The DSL space of a ConfigSpace ``ConfigurationSpace``; the objective receives a flat
    dict of the active hyperparameters, like ``dict(configuration)``.

    Needs ``pip install 'hpo_bridge[configspace]'``.

    Example:
        >>> from ConfigSpace import ConfigurationSpace
        >>> from_configspace(ConfigurationSpace(space={"n": (1, 8)})).dims[0].param
        integer(1, 8)
    """
    from hpo_bridge.foreign.configspace import from_configspace as convert_cs

    return convert_cs(configspace)
