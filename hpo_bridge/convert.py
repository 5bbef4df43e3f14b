"""A space from any form, and to each library's own form: the layer above the translators.

:func:`as_space` reads the DSL and spaces written for hyperopt, Optuna, scikit-optimize,
``scipy.stats`` and ConfigSpace (:mod:`hpo_bridge.foreign`); :func:`to_hyperopt`,
:func:`to_optuna` and :func:`to_skopt` write a space in the form the backends sample (the
translators, ``backends/<library>/translate.py``). ``Space.to_hyperopt()`` and the like are the
same functions: this module registers them in :data:`hpo_bridge.space.tree.VIEWS`, so that
``space/`` imports no backend (docs/ARCHITECTURE.md, "One direction of imports").

A library is imported only when it is needed: a foreign space's library when the space holds its
objects, a translator's library when its view is asked for.
"""

from __future__ import annotations

from typing import Any

from hpo_bridge.foreign import convert
from hpo_bridge.space.tree import VIEWS, Space, SpaceLike, compile_space, warn_option_lists

__all__ = ["as_space", "to_hyperopt", "to_optuna", "to_skopt"]


def as_space(space: SpaceLike) -> Space:
    """Compile ``space`` once: a nesting of dict/list/tuple with parameters as leaves, or a
    space written for hyperopt, Optuna, skopt, ``scipy.stats`` or ConfigSpace.

    Example:
        >>> import hpo_bridge as hb
        >>> hb.as_space({"lr": hb.loguniform(1e-4, 1e-1), "act": hb.choice(["a", "b"])}).names
        ['lr', 'act']

    Raises:
        SpaceError: if the space has no parameter, two parameters share a name, or a foreign
            parameter has no DSL equivalent (the message names it).
    """
    if isinstance(space, Space):
        return space
    warn_option_lists(space)
    converted = convert(space)
    return converted if converted is not None else compile_space(space)


def to_hyperopt(space: SpaceLike) -> dict[str, Any]:
    """The ``hp.*`` space the hyperopt backends sample (labels are the dimension names).

    See the hyperopt translator (``hpo_bridge/backends/hyperopt/translate.py``) and
    docs/spaces.md for the policy: integers as a widened ``quniform``, stepped parameters over their grid
    index, choices of objects over option indices.
    """
    from hpo_bridge.backends.hyperopt.translate import to_hp

    return to_hp(as_space(space))


def to_optuna(space: SpaceLike) -> dict[str, Any]:
    """``{name: optuna distribution}`` for every dimension (conditional ones included)."""
    from hpo_bridge.backends.optuna.translate import distribution

    return {d.name: distribution(d.param) for d in as_space(space).dims}


def to_skopt(space: SpaceLike) -> list[Any]:
    """One named skopt dimension per dimension, in order (conditionals encoded)."""
    from hpo_bridge.backends.skopt.translate import dimensions

    return dimensions(as_space(space))


VIEWS.update(hyperopt=to_hyperopt, optuna=to_optuna, skopt=to_skopt)
