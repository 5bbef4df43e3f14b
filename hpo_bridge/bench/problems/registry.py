"""The registry of benchmark problems: look a problem up by name, list them, the quick set."""

from __future__ import annotations

from collections.abc import Iterable

from hpo_bridge.bench.problems import (
    heldout,
    heldout2,
    heldout3,
    heldout4,
    heldout5,
    mf_tables,
    mixed,
    multiobjective,
    sklearn_models,
    synthetic,
    tabular,
    torch_mlp,
)
from hpo_bridge.bench.problems.base import Problem


def _build(problems: Iterable[Problem]) -> dict[str, Problem]:
    registry: dict[str, Problem] = {}
    for problem in problems:
        if problem.name in registry:
            raise ValueError(f"duplicate problem name {problem.name!r}: problem names must be unique")
        registry[problem.name] = problem
    return registry


_REGISTRY: dict[str, Problem] = _build(
    (*synthetic.PROBLEMS, *mixed.PROBLEMS, *torch_mlp.PROBLEMS, *sklearn_models.PROBLEMS, *tabular.PROBLEMS,
     *multiobjective.PROBLEMS, *mf_tables.PROBLEMS, *heldout.PROBLEMS,
     *heldout2.PROBLEMS, *heldout3.PROBLEMS, *heldout4.PROBLEMS,
     *heldout5.PROBLEMS)
)

#: Names of the problems in the ``--quick`` benchmark (filter with ``list_problems(available_only=True)``).
QUICK_PROBLEMS: tuple[str, ...] = tuple(name for name, problem in _REGISTRY.items() if problem.quick)


def get_problem(name: str) -> Problem:
    """The problem registered under ``name``.

    Raises:
        ValueError: ``name`` is not registered; the message lists the valid names.

    Example:
        >>> get_problem("hartmann6").optimum
        -3.322368011415515
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        valid = ", ".join(_REGISTRY)
        raise ValueError(f"unknown problem {name!r}; valid problem names are: {valid}") from None


def list_problems(available_only: bool = False) -> list[str]:
    """Names of all registered problems, in registry order.

    Args:
        available_only: Keep only problems whose ``requires`` packages can be imported here.

    Example:
        >>> "branin" in list_problems()
        True
    """
    return [name for name, problem in _REGISTRY.items() if not available_only or problem.available]
