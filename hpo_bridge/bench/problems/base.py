"""The :class:`Problem` record that every benchmark problem is described by."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

COSTS = ("cheap", "medium", "expensive")


@dataclass(frozen=True)
class Problem:
    """One benchmark problem: a search space, an objective to minimize and what is known of it.

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

    Example:
        >>> from hpo_bridge.bench.problems import get_problem
        >>> problem = get_problem("branin")
        >>> round(problem.objective({"x1": 3.141592653589793, "x2": 2.275}), 6)
        0.397887
    """

    name: str
    space: Any
    objective: Callable[..., float]
    optimum: float | None
    cost: str
    quick: bool
    description: str
    requires: tuple[str, ...] = ()

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
