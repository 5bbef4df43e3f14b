"""``optuna:grid``: every configuration of a discrete space exactly once, warm starts included.

``GridSampler`` numbers its grid by trial number and does not count enqueued trials: a warm
start (``points_to_evaluate``, ``opt.tell(config, value)``) ran twice while another point never
ran, and ``GridSampler.after_trial`` raised ``KeyError: 'grid_id'`` on it. So the adapter keeps
the grid itself and enqueues each configuration not yet in the study, in a seeded order:

- a flat space: ``GridSampler``'s own order (the product of the sorted parameters' values,
  shuffled by ``numpy.random.RandomState(seed or 0)``), so a run without warm starts visits
  what ``study.optimize`` with ``GridSampler(grid, seed=seed)`` visits;
- a conditional space: each configuration of the tree once (``GridSampler`` would enumerate
  inactive parameters too), shuffled by ``random.Random(seed)``.

Every trial of the study counts, whatever its state and however it got there (asked,
enqueued, resumed from storage).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution

from hpo_bridge.backends.optuna.translate import distribution, to_params
from hpo_bridge.space import Choice, Grid, Param, Space

__all__ = ["GridPlan", "enumerate_points"]


#: A configuration as a hashable value: its ``(name, value)`` pairs, sorted by name.
_Key = tuple[tuple[str, Any], ...]


def _key(params: dict[str, Any]) -> _Key:
    return tuple(sorted(params.items()))


class GridPlan:
    """The grid of ``space`` in its seeded order, and what a study has not visited yet."""

    def __init__(self, space: Space, seed: int | None, labelled: bool = True) -> None:
        if space.is_conditional:
            points = enumerate_points(space)
            random.Random(seed).shuffle(points)
            self.order = [to_params(space, p, labelled) for p in points]
        else:
            grid = {d.name: _values(d.param, labelled) for d in space.dims}
            names = sorted(grid)
            combos = list(itertools.product(*(grid[n] for n in names)))
            np.random.RandomState(seed or 0).shuffle(combos)  # as GridSampler shuffles
            self.order = [dict(zip(names, combo, strict=True)) for combo in combos]
        self._keys = {_key(p) for p in self.order}
        self._seen: set[_Key] = set()  # grid points the study holds
        self._scanned = 0  # trials of the study looked at
        self._next = 0  # first index of ``order`` that may be unseen

    def _scan(self, study: optuna.Study) -> None:
        trials = study.get_trials(deepcopy=False)
        for trial in trials[self._scanned:]:
            key = _key(trial.params)
            if key in self._keys:
                self._seen.add(key)
        self._scanned = len(trials)

    def remaining(self, study: optuna.Study) -> int:
        self._scan(study)
        return len(self._keys) - len(self._seen)

    def next_params(self, study: optuna.Study) -> dict[str, Any]:
        """The first configuration in order that the study has not seen (a repeat, in order,
        once the grid is exhausted)."""
        self._scan(study)
        while self._next < len(self.order) and _key(self.order[self._next]) in self._seen:
            self._next += 1
        if self._next < len(self.order):
            return self.order[self._next]
        return self.order[(self._scanned - len(self.order)) % len(self.order)]


def enumerate_points(space: Space) -> list[dict[str, Any]]:
    """Every point of a discrete space, conditional branches expanded, each exactly once."""
    points: list[dict[str, Any]] = [{}]
    for dim in space.dims:
        values = (range(len(dim.param.options)) if isinstance(dim.param, Choice)
                  else cast(Grid, dim.param).values())
        grown: list[dict[str, Any]] = []
        for point in points:
            if space.is_active(dim, point):
                grown.extend({**point, dim.name: v} for v in values)
            else:
                grown.append(point)
        points = grown
    return points


def _values(param: Param, labelled: bool = True) -> Sequence[Any]:
    """A discrete parameter's values as Optuna's grid holds them."""
    if isinstance(param, Choice):
        return cast(CategoricalDistribution, distribution(param, labelled)).choices
    return cast(Grid, param).values()
