"""Read scikit-optimize dimensions as DSL parameters.

=====================================================  =========================================
``Real(a, b)``                                         ``uniform(a, b)``
``Real(a, b, prior="log-uniform", base=any)``          ``loguniform(a, b)`` (the base does not
                                                       change the distribution)
``Integer(a, b)``                                      ``integer(a, b)``
``Integer(a, b, prior="log-uniform")``                 ``integer(a, b, log=True)``: skopt draws
                                                       the log between the end points, the DSL
                                                       half a step beyond them, so the end points
                                                       get their full share (the reverse of the
                                                       translator)
``Categorical(categories)``                            ``choice(categories)``; a ``prior`` with
                                                       unequal weights is refused
=====================================================  =========================================

The objective receives a dict named by ``Dimension.name`` (or by ``names``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from skopt.space import Categorical, Integer, Real, Space

from hpo_bridge.errors import SpaceError
from hpo_bridge.space import Param, choice, integer, loguniform, uniform

__all__ = ["param", "structure"]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 else value


def param(dim: Any, name: str) -> Param:
    """The DSL parameter of one skopt dimension; ``SpaceError`` naming ``name`` if none."""
    try:
        if isinstance(dim, Real):
            kind = loguniform if dim.prior == "log-uniform" else uniform
            return kind(float(dim.low), float(dim.high))
        if isinstance(dim, Integer):
            return integer(int(dim.low), int(dim.high), log=dim.prior == "log-uniform")
        if isinstance(dim, Categorical):
            prior = dim.prior
            if prior is not None and max(prior) - min(prior) > 1e-12:
                raise SpaceError(f"skopt: parameter {name!r}: Categorical with unequal prior "
                                 f"{list(prior)} has no DSL equivalent (every option of a "
                                 "choice is equally likely)")
            return choice([_plain(c) for c in dim.categories])
    except SpaceError:
        raise
    except ValueError as exc:
        raise SpaceError(f"skopt: parameter {name!r}: {exc}") from None
    raise SpaceError(f"skopt: parameter {name!r}: {type(dim).__name__} is not supported; "
                     "convertible are Real, Integer and Categorical")


def structure(dimensions: Any, names: Sequence[str] | None = None) -> dict[str, Param]:
    """``{name: parameter}`` of skopt dimensions (a list or a ``Space``), names from
    ``Dimension.name`` or ``names``."""
    dims = list(dimensions.dimensions if isinstance(dimensions, Space) else dimensions)
    if not all(isinstance(d, (Real, Integer, Categorical)) for d in dims):
        raise SpaceError(f"from_skopt: expected a list of skopt Real, Integer or Categorical, "
                         f"got {dimensions!r}")
    if names is None:
        missing = [i for i, d in enumerate(dims) if not d.name]
        if missing:
            raise SpaceError(f"skopt: dimensions {missing} have no name; give each one "
                             "name=... or call hb.from_skopt(dims, names=[...])")
        names = [d.name for d in dims]
    names = list(names)
    if len(names) != len(dims) or len(set(names)) != len(names):
        raise SpaceError(f"from_skopt: names must be {len(dims)} distinct strings, got {names}")
    return {n: param(d, n) for n, d in zip(names, dims, strict=True)}
