"""One foreign distribution to its DSL parameter, by the importer of its library.

The importers of Optuna and skopt (``backends/<library>/importer.py``), ``scipy.stats``
(:mod:`hpo_bridge.foreign.stats`) and ConfigSpace (:mod:`hpo_bridge.foreign.configspace`) are
imported only when a space holds one of their objects. The hyperopt importer uses this for the
leaves of other libraries inside an ``hp.*`` space.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable

from hpo_bridge.errors import SpaceError
from hpo_bridge.foreign.common import library
from hpo_bridge.space import Choice, Param

__all__ = ["convert_leaf", "convert_leaves"]


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
