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
from typing import Any, Callable, Sequence

from hpo_bridge.errors import SpaceError
from hpo_bridge.space import Choice, Param, Space

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


class ConversionWarning(UserWarning):
    """A foreign parameter was converted to a DSL parameter whose distribution differs a little
    (the message names the parameter and says what changes)."""


def _module(obj: Any) -> str:
    return type(obj).__module__ or ""


def library(obj: Any) -> str | None:
    """The library a distribution-like ``obj`` comes from, or ``None`` for anything else."""
    module = _module(obj)
    root = module.split(".")[0]
    if root == "hyperopt" and type(obj).__name__ == "Apply":
        return "hyperopt"
    if root == "optuna" and module.startswith("optuna.distributions"):
        return "optuna"
    if root == "skopt" and module.startswith("skopt.space"):
        return "skopt"
    if root == "ConfigSpace" and module.startswith(("ConfigSpace.hyperparameters",
                                                    "ConfigSpace.configuration_space")):
        return "ConfigSpace"
    if root == "scipy" and hasattr(obj, "rvs"):
        return "scipy"
    return None


def _is_skopt_space(obj: Any) -> bool:
    return _module(obj).startswith("skopt.space") and type(obj).__name__ == "Space"


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
    if _module(space).startswith("ConfigSpace.configuration_space"):
        return from_configspace(space)
    found = _libraries(space, set())
    if not found:
        return None
    if "hyperopt" in found:
        return from_hyperopt(space)
    return make_space(convert_leaves(space, ""))


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def convert_leaves(obj: Any, path: str) -> Any:
    """``obj`` with every foreign leaf replaced by its DSL parameter (hyperopt excepted)."""
    if library(obj) is not None:
        return convert_leaf(obj, path or "x")
    if isinstance(obj, Mapping):
        items = {k: convert_leaves(v, _join(path, k)) for k, v in obj.items()}
        return items if type(obj) is dict else _rebuild(obj, items)
    if isinstance(obj, (list, tuple)):
        seq = [convert_leaves(v, _join(path, i)) for i, v in enumerate(obj)]
        return seq if type(obj) is list else _rebuild(obj, seq)
    if isinstance(obj, Choice):
        return Choice(tuple(convert_leaves(o, f"{path or 'x'}[{i}]")
                            for i, o in enumerate(obj.options)))
    return obj


def _rebuild(like: Any, items: Any) -> Any:
    if hasattr(like, "_fields"):  # namedtuple
        return type(like)(*items)
    try:
        return type(like)(items)
    except TypeError:
        return type(items)(items)


def convert_leaf(obj: Any, name: str) -> Param:
    """The DSL parameter of one foreign distribution; ``SpaceError`` naming ``name`` if none."""
    lib = library(obj)
    param: Callable[[Any, str], Param]
    if lib == "optuna":
        from hpo_bridge.backends.optuna.importer import param
    elif lib == "skopt":
        from hpo_bridge.backends.skopt.importer import param
    elif lib == "scipy":
        from hpo_bridge.foreign.stats import param
    elif lib == "ConfigSpace":
        from hpo_bridge.foreign.configspace import param
    else:
        raise SpaceError(f"parameter {name!r}: {obj!r} is not a distribution hpo_bridge reads")
    return param(obj, name)


def make_space(structure: Any, names: Mapping[str, str] | None = None,
               original: Any = None) -> Space:
    """Compile a converted structure; rename its dimensions; keep ``original`` as its
    ``structure`` (what storage saves) when the conversion cannot be redone from the DSL."""
    try:
        space = Space(structure)
    except SpaceError:
        raise
    except ValueError as exc:
        raise SpaceError(str(exc)) from None
    if not space.dims:
        raise SpaceError("space: it holds no parameter (uniform, integer, choice, ...)")
    if names:
        space = space.renamed(names)
    if original is not None:
        space.structure = original
    return space


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
