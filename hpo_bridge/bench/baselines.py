"""Published backend-choosing rules, as baselines for ``backend="auto"`` in the benchmark.

:func:`autosampler_rule` is optunahub's AutoSampler (``samplers/auto_sampler``, Optuna team;
described in "AutoSampler: Automatic Selection of Optimization Algorithms in Optuna", 2024),
re-stated from its description and read off its behaviour, mapped onto this project's backends.
It is a benchmark row, not a backend: its runs are those of the backend it names with the same
seed (every backend it names is blind to ``max_evals``), so ``benchmarks/auto_heldout.py``
reads them off the runs of that backend instead of running them again.

The rule, one objective:

* a categorical parameter (a ``choice``) or a conditional space: TPE (Optuna's, multivariate,
  constant liar: the settings of ``optuna:tpe`` here) for the whole run;
* otherwise a GP (``optuna:gp``) for the first 250 completed trials, then CMA-ES
  (``optuna:cmaes``; AutoSampler warm-starts it from the first 250 trials) — or TPE if the
  objective has constraints.

Several objectives: a conditional space: TPE; else, for the first 250 trials, TPE with a
categorical parameter or four or more objectives, the GP otherwise; after 250 trials NSGA-II
(NSGA-III from four objectives).

Two details differ from the sampler and do not matter at this project's budgets (at most 250
trials): AutoSampler's very first trial is random (the GP and TPE start with random trials
anyway, 10 each here), and its CMA-ES warm start is not reproduced.
"""

from __future__ import annotations

from hpo_bridge.backends.features import SpaceFeatures

__all__ = ["AUTOSAMPLER", "AUTOSAMPLER_GP_TRIALS", "autosampler_rule"]

#: The benchmark row's name.
AUTOSAMPLER = "autosampler-rule"
#: Completed trials after which AutoSampler leaves the GP (``_MAX_BUDGET_FOR_SINGLE_GP``).
AUTOSAMPLER_GP_TRIALS = 250


def autosampler_rule(features: SpaceFeatures, n_objectives: int = 1, constraints: bool = False
                     ) -> list[tuple[str, int]]:
    """AutoSampler's choice as ``[(backend, first trial), ...]`` (see the module's docstring).

    Example:
        >>> from hpo_bridge.backends.features import SpaceFeatures
        >>> autosampler_rule(SpaceFeatures(2, 2, 0, False, None))
        [('optuna:gp', 0), ('optuna:cmaes', 250)]
        >>> autosampler_rule(SpaceFeatures(2, 1, 1, False, None))
        [('optuna:tpe', 0)]
    """
    if features.conditional:
        return [("optuna:tpe", 0)]
    at = AUTOSAMPLER_GP_TRIALS
    if n_objectives == 1:
        if features.categorical:
            return [("optuna:tpe", 0)]
        return [("optuna:gp", 0), ("optuna:tpe" if constraints else "optuna:cmaes", at)]
    later = "optuna:nsga2" if n_objectives < 4 else "optuna:nsga3"
    first = "optuna:tpe" if features.categorical or n_objectives >= 4 else "optuna:gp"
    return [(first, 0), (later, at)]
