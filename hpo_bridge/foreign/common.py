"""What every importer of a foreign space shares: :class:`ConversionWarning`, which library an
object comes from (by its type's module name, importing nothing) and :func:`make_space`.

It imports no importer, so that the importers import it without a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hpo_bridge.errors import SpaceError
from hpo_bridge.space import Space

__all__ = ["ConversionWarning", "library", "make_space", "module_of"]


class ConversionWarning(UserWarning):
    """A foreign parameter was converted to a DSL parameter whose distribution differs a little
    (the message names the parameter and says what changes)."""


def module_of(obj: Any) -> str:
    """The module name of ``obj``'s type (``""`` if it has none)."""
    return type(obj).__module__ or ""


def library(obj: Any) -> str | None:
    """The library a distribution-like ``obj`` comes from, or ``None`` for anything else."""
    module = module_of(obj)
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
