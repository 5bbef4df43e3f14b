"""What a search space looks like to a backend chooser: its size and kinds of parameter.

Used by ``backend="auto"`` (:mod:`hpo_bridge.backends.auto`) to pick a backend and by the
benchmark report to group its problems, so that the report's recommendation and the rule speak
of the same classes of space. Imports no backend library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from hpo_bridge.convert import as_space
from hpo_bridge.space import Space, SpaceLike
from hpo_bridge.space.params import Choice

__all__ = ["SpaceFeatures", "space_features", "LOW_DIM"]

#: Numeric spaces of at most this many dimensions count as low-dimensional.
LOW_DIM = 3


@dataclass(frozen=True)
class SpaceFeatures:
    """Counts that describe a space.

    Attributes:
        dims: Number of parameters (every branch's).
        numeric: Floats and integers (bounded or not).
        categorical: ``choice`` parameters.
        conditional: Some parameter is active only under some option of a ``choice``.
        grid_size: Number of configurations when every parameter is discrete, else ``None``:
            the product over independent parameters, where a ``choice`` counts the sum over
            its options of each option's own configurations (``choice(["a", {"k":
            integer(1, 8)}])`` is 1 + 8 = 9, not 2 × 8).
        max_options: The number of options of the largest ``choice`` (0 without any).
        continuous: Floats without a step (``uniform``, ``loguniform``, ``normal`` ...): the
            numeric parameters that are not discrete.
    """

    dims: int
    numeric: int
    categorical: int
    conditional: bool
    grid_size: int | None
    max_options: int = 0
    continuous: int = 0

    @property
    def kind(self) -> str:
        """The class of space, in words: the groups the report and ``auto`` use."""
        if self.conditional:
            return "conditional"
        if self.categorical and self.numeric:
            return "mixed numeric and categorical"
        if self.categorical:
            return "all-categorical"
        if self.dims <= LOW_DIM:
            return f"numeric, 1–{LOW_DIM}-D"
        return "numeric, 4–10-D" if self.dims <= 10 else "numeric, >10-D"


def _size(param: Any) -> int | None:
    if isinstance(param, Choice):
        return len(param.options)
    return getattr(param, "size", None) if param.discrete else None


def _configurations(space: Space) -> int | None:
    """Configurations of a discrete space, counted on its tree (``None`` if some parameter
    is continuous): dimensions under one condition multiply; a choice adds its options."""
    below: dict[tuple[str, int] | None, list[Any]] = {}
    for dim in space.dims:
        below.setdefault(dim.condition, []).append(dim)

    def count(condition: tuple[str, int] | None) -> int | None:
        total = 1
        for dim in below.get(condition, []):
            if isinstance(dim.param, Choice):
                options = [count((dim.name, i)) for i in range(len(dim.param.options))]
                if None in options:
                    return None
                size: int | None = sum(cast(list[int], options))
            else:
                size = _size(dim.param)
            if size is None:
                return None
            total *= size
        return total

    return count(None) if space.dims else None


def space_features(space: SpaceLike) -> SpaceFeatures:
    """The :class:`SpaceFeatures` of ``space`` (a nested structure or a compiled space).

    Example:
        >>> import hpo_bridge as hb
        >>> f = space_features({"x": hb.uniform(0, 1), "k": hb.choice(["a", "b"])})
        >>> (f.dims, f.numeric, f.categorical, f.conditional, f.grid_size, f.kind)
        (2, 1, 1, False, None, 'mixed numeric and categorical')
    """
    space = as_space(space)
    params = [d.param for d in space.dims]
    categorical = sum(isinstance(p, Choice) for p in params)
    options = [len(p.options) for p in params if isinstance(p, Choice)]
    return SpaceFeatures(dims=len(params), numeric=len(params) - categorical,
                         categorical=categorical, conditional=space.is_conditional,
                         grid_size=_configurations(space), max_options=max(options, default=0),
                         continuous=sum(not isinstance(p, Choice) and not p.discrete
                                        for p in params))
