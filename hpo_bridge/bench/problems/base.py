"""The :class:`Problem` record that every benchmark problem is described by."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hpo_bridge.fidelity import Fidelity
from hpo_bridge.objectives import Objectives, run_objectives
from hpo_bridge.space import SpaceLike

COSTS = ("cheap", "medium", "expensive")
#: (name, true_front, reference_point) -> HV
_REFERENCE_HV: dict[tuple[str, Callable[[], Any], tuple[float, ...]], float] = {}


@dataclass(frozen=True)
class Problem:
    """One benchmark problem: a search space, an objective to minimize and what is known of it.

    A multi-objective problem names its ``objectives`` (name -> ``"minimize"`` or
    ``"maximize"``, passed to ``hb.minimize(..., objectives=)``); its objective returns a mapping
    with those keys, and its ``optimum`` is ``None``. It is scored by hypervolume, against its
    ``reference_point`` and, where the front is known, ``true_front``.

    Attributes:
        name: Registry name, e.g. ``"branin"`` or ``"sklearn-svm-wine"``.
        space: A search space (nested dict/list/tuple of ``hpo_bridge.space`` parameters).
        objective: Picklable callable ``config -> float``. Multi-fidelity problems take
            ``(config, trial=None)`` and call ``trial.report(value, step)`` once per step
            when a trial is given (an exception raised by ``report`` propagates).
        optimum: The known global minimum of ``objective`` over ``space``; ``None`` if unknown.
        cost: ``"cheap"``, ``"medium"`` or ``"expensive"`` per evaluation.
        quick: Part of the ``--quick`` benchmark (finishes in minutes on 2 cores).
        description: What the problem is and where it comes from.
        requires: Import names of optional packages the objective needs, e.g. ``("torch",)``.
        objectives: Several objectives: ``{name: direction}``; ``None`` for one objective.
        reference_point: The hypervolume's reference point, one value per objective, in the
            objectives' own units (a maximized objective's is its worst acceptable value);
            empty for one objective.
        true_front: A multi-objective problem's: returns a dense sample of the known Pareto front (an ``(n, m)`` array of
            objective values); ``None`` if the front is unknown (the benchmark then uses the
            front of every run together).
        fidelity: A multi-fidelity problem's budget (``hb.fidelity(name, low, high, eta)``):
            the objective reads it as ``config[fidelity.name]``, and ``optimum`` is the
            minimum at the full budget (``fidelity.high``), the reference of its regret. Its
            objective may have ``cost(config, reached)``: the recorded seconds of that
            evaluation, replayed by ``hpo-bridge bench --simulate``.

    Example:
        >>> from hpo_bridge.bench.problems import get_problem
        >>> problem = get_problem("branin")
        >>> round(problem.objective({"x1": 3.141592653589793, "x2": 2.275}), 6)
        0.397887
    """

    name: str
    space: SpaceLike
    objective: Callable[..., Any]
    optimum: float | None
    cost: str
    quick: bool
    description: str
    requires: tuple[str, ...] = ()
    objectives: Mapping[str, str] | None = None
    reference_point: tuple[float, ...] = ()
    true_front: Callable[[], Any] | None = None
    fidelity: Fidelity | None = None

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.strip():
            raise ValueError(
                f"Problem name must be a non-empty string without surrounding spaces, got {self.name!r}"
            )
        if self.cost not in COSTS:
            raise ValueError(f"Problem {self.name!r}: cost must be one of {COSTS}, got {self.cost!r}")
        if not callable(self.objective):
            raise ValueError(f"Problem {self.name!r}: objective must be callable, got {self.objective!r}")
        if not isinstance(self.requires, tuple):
            raise ValueError(
                f"Problem {self.name!r}: requires must be a tuple of import names, got {self.requires!r}"
            )
        if self.objectives is not None:
            self._check_objectives(self.objectives)
        if self.fidelity is not None and not isinstance(self.fidelity, Fidelity):
            raise ValueError(f"Problem {self.name!r}: fidelity must be made by hb.fidelity(), "
                             f"got {self.fidelity!r}")

    def _check_objectives(self, objectives: Mapping[str, str]) -> None:
        bad = {k: v for k, v in objectives.items() if v not in ("minimize", "maximize")}
        if len(objectives) < 2 or bad:
            raise ValueError(f"Problem {self.name!r}: objectives must map two or more names to "
                             f"'minimize' or 'maximize', got {dict(objectives)!r}")
        if len(self.reference_point or ()) != len(objectives):
            raise ValueError(f"Problem {self.name!r}: reference_point needs one value per "
                             f"objective ({len(objectives)}), got {self.reference_point!r}")
        if self.optimum is not None:
            raise ValueError(f"Problem {self.name!r}: a multi-objective problem has no single "
                             f"optimum; set optimum=None (got {self.optimum!r})")

    @property
    def multi_objective(self) -> bool:
        """Whether the problem has several objectives (scored by hypervolume)."""
        return self.objectives is not None

    @property
    def spec(self) -> Objectives:
        """The run's objectives: those declared, or one unnamed objective."""
        return run_objectives(self.objectives)

    def reference_hypervolume(self) -> float | None:
        """The hypervolume of ``true_front``'s sample at ``reference_point`` (computed once per
        process); ``None`` for an unknown front (a single objective has none)."""
        if self.true_front is None:
            return None
        key = (self.name, self.true_front, self.reference_point)
        if key not in _REFERENCE_HV:
            from hpo_bridge.bench.pareto import as_losses, hypervolume

            directions = list(self.spec.directions)
            losses = as_losses(self.true_front(), directions)
            _REFERENCE_HV[key] = hypervolume(losses, as_losses(self.reference_point, directions))
        return _REFERENCE_HV[key]

    @property
    def simulatable(self) -> bool:
        """Whether the problem has a fidelity and a recorded cost (``bench --simulate``)."""
        return self.fidelity is not None and callable(getattr(self.objective, "cost", None))

    @property
    def available(self) -> bool:
        """Whether every package in ``requires`` can be imported here (nothing is imported)."""
        return all(importable(module) for module in self.requires)

    def __repr__(self) -> str:
        fields = f"name={self.name!r}, optimum={self.optimum!r}, cost={self.cost!r}, quick={self.quick!r}"
        return f"Problem({fields})"


def importable(module: str) -> bool:
    """Whether ``module`` could be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package is missing, or the module is blocked
        return False
